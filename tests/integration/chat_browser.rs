//! The chat page in a real browser: headless Chromium (Debian's `chromium`
//! package) driven by `playwright-core` from `tests/node/chat-browser.js`
//! opens the page twice, both pages join one room, and a message sent from one
//! appears in the other; a page whose connection drops shows as retrying, and
//! when it is back (connection state recovery) shows the messages sent to its room
//! meanwhile, once and in order, and says it reconnected.
//! The receiving page's screenshot is saved as `test-artifacts/chat-browser.png`
//! (`axum-chat-browser.png` for the chat served through axum, which runs the same test).
//!
//! A missing Chromium fails the test: `./scripts/test-all.sh` installs it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::chat::start_chat;
use super::node::{node_dir, run_script};
use super::Stack;

/// Where Chromium is expected (`CHROMIUM` overrides it).
fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_pages_chat_in_one_room_in_chromium() {
    two_pages_on(Stack::Native, "chat-browser.png").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_pages_chat_in_one_room_in_chromium_through_axum() {
    two_pages_on(Stack::Axum, "axum-chat-browser.png").await;
}

async fn two_pages_on(stack: Stack, screenshot: &str) {
    let chromium = chromium();
    assert!(
        Path::new(&chromium).is_file(),
        "Chromium is not installed at {chromium}: the browser test needs Debian's `chromium` \
         package (`apt-get install -y chromium`; ./scripts/test-all.sh installs it when missing)"
    );
    assert!(
        node_dir().join("node_modules/playwright-core").is_dir(),
        "playwright-core is not installed: run `npm ci --prefix tests/node` (the test command does)"
    );
    let screenshot: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../test-artifacts")
        .join(screenshot)
        .components()
        .collect();
    let _ = std::fs::remove_file(&screenshot);

    let addr = start_chat(stack).await;
    let args = [
        format!("http://{addr}/"),
        screenshot.to_string_lossy().into_owned(),
    ];
    let out = run_script("chat-browser.js", &args, Duration::from_secs(90)).await;
    for step in [
        "launch",
        "online",
        "join",
        "deliver",
        "reply",
        "reconnect",
        "escape",
        "screenshot",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(&format!("ok {step} "))),
            "the browser test's step `{step}` did not pass:\n{out}"
        );
    }
    let png = std::fs::read(&screenshot).expect("the screenshot was saved");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "{} is not a screenshot ({} bytes)",
        screenshot.display(),
        png.len()
    );
}
