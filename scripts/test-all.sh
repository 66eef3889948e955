#!/usr/bin/env bash
# Runs every test of the workspace. This is the README's test command and what CI runs.
# It installs what the tests need (the npm packages from committed lockfiles) by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "npm packages for the interop tests (from tests/node/package-lock.json)"
npm ci --prefix tests/node --no-audit --no-fund --loglevel=error

step "cargo test: unit, simulation, proptest, integration and interop tests"
cargo test --workspace --all-targets
cargo test --workspace --doc

step "benchmarks build (timings are run by scripts/bench-*.sh, not here)"
cargo build --workspace --bins
node --check benches/node/parser-bench.js

step "fuzz targets build on stable, and replay their committed seed corpora"
cargo build --manifest-path fuzz/Cargo.toml
for target in fuzz/fuzz_targets/*.rs; do
  name=$(basename "$target" .rs)
  if [ -d "fuzz/corpus/$name" ]; then
    "fuzz/target/debug/$name" -runs=0 "fuzz/corpus/$name" 2>&1 | tail -n 1
  fi
done
