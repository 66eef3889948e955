//! Integration tests of socketio-parser, in one test binary.

mod common;
mod differential;
mod msgpack_args;
mod msgpack_diff;
mod msgpack_roundtrip;
mod roundtrip;
mod serde_args;
mod vectors;
