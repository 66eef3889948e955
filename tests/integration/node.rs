//! Running the official npm clients from Node scripts under `tests/node/`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

/// The repository's `tests/node` directory.
pub(crate) fn node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/node")
}

/// Runs `node <script> <args...>` from `tests/node`, bounded by `limit`, and
/// returns its standard output. Panics (failing the test) if Node or the npm
/// packages are missing, if the script fails, or if it runs too long.
pub(crate) async fn run_script(script: &str, args: &[String], limit: Duration) -> String {
    run_script_with_env(script, args, &[], limit).await
}

/// [`run_script`] with environment variables set for Node (`NODE_EXTRA_CA_CERTS`, say).
pub(crate) async fn run_script_with_env(
    script: &str,
    args: &[String],
    env: &[(&str, &std::path::Path)],
    limit: Duration,
) -> String {
    let dir = node_dir();
    assert!(
        dir.join("node_modules/engine.io-client").is_dir(),
        "the npm packages are not installed: run `npm ci --prefix tests/node` (the test command does)"
    );
    let mut child = tokio::process::Command::new("node")
        .arg(script)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("`node` (Node.js 20) must be on the PATH");
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let read = async {
        use tokio::io::AsyncReadExt;
        let (mut out, mut err) = (String::new(), String::new());
        let (mut so, mut se) = (stdout, stderr);
        let _ = tokio::join!(so.read_to_string(&mut out), se.read_to_string(&mut err));
        let status = child.wait().await.expect("node runs");
        (status, out, err)
    };
    let (status, out, err) = tokio::time::timeout(limit, read)
        .await
        .unwrap_or_else(|_| panic!("node {script} {args:?} ran longer than {limit:?}"));
    assert!(
        status.success(),
        "node {script} {args:?} failed ({status}):\n--- stdout\n{out}\n--- stderr\n{err}"
    );
    out
}
