//! Integration tests of socketio-parser, in one test binary.

mod common;
mod differential;
mod roundtrip;
mod serde_args;
mod vectors;
