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
