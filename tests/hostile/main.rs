//! The bad-input table of the README ("Hostile input"), over real loopback sockets.
//!
//! Each row is one hostile behaviour. For each:
//! - the offender gets the answer the row states (a status, a close code, an Engine.IO or
//!   Socket.IO error, or its connection closed), checked here;
//! - a bystander Socket.IO client, connected over WebSocket to the same server, keeps getting
//!   acks while the offence runs; its round trips are counted (at least one must complete
//!   during the row, none may fail) and their latency printed;
//! - once the offender is gone, the heap's live bytes come back to within 5% of what they were
//!   before the row (the whole process is counted, by a counting global allocator).
//!
//! The rows of one table share a server and run one after the other; the tables take turns,
//! since the heap is counted for the whole process. Waits are for events (an answer, a close,
//! the heap going down); each has a bound that turns a hang into a failure. The server runs
//! with short timeouts (see `harness::start`), so that rows whose answer is a timeout end in
//! about a second.
//!
//! Run with `--nocapture` to see each row's line as it appears in the README table.

use std::alloc::System;

use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static HEAP: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

mod engineio;
mod harness;
mod http;
mod socketio;
mod websocket;
