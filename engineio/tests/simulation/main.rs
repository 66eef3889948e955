//! Deterministic simulations of the Engine.IO state machine on a virtual
//! clock: no sockets, no sleeps. Each module pins the rules of one area.

mod close;
mod cors;
mod handshake;
mod heartbeat;
mod invariants;
mod late;
mod limits;
mod polling;
mod upgrade;

use std::time::Duration;

use engineio::sim::Sim;
use engineio::Config;

/// The timings of the official protocol test suites.
pub(crate) fn config() -> Config {
    Config {
        ping_interval: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(200),
        upgrade_timeout: Duration::from_millis(1000),
        ..Config::default()
    }
}

pub(crate) fn sim() -> Sim {
    Sim::new(config())
}

/// The JSON body of an error answer.
pub(crate) fn error_body(code: u8, message: &str) -> String {
    format!(r#"{{"code":{code},"message":"{message}"}}"#)
}
