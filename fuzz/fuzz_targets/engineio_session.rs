//! Fuzzes the Engine.IO state machine with arbitrary sequences of requests,
//! WebSocket messages and closes, aborted requests, application sends and
//! closes, and time jumps (on a virtual clock).
//!
//! The input is a script read by `engineio::sim::run_script`; besides "no
//! panic" it checks, after every step: no request answered twice, at most one
//! parked long-poll GET per session, no sid given out twice, and deadlines
//! never behind (after a session processes time `t`, its next deadline is
//! after `t`); at the end every session is closed and every request was
//! answered exactly once (those the client aborted: at most once).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = engineio::sim::run_script(data) {
        panic!("invariant broken: {violation}");
    }
});
