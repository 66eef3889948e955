//! Running the client programs: the official npm clients from Node scripts under
//! `tests/node/`, and python-socketio from scripts under `tests/python/`.

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
    let mut node = tokio::process::Command::new("node");
    node.envs(env.iter().copied());
    run_client(
        node,
        "`node` (Node.js 20) must be on the PATH",
        &dir,
        script,
        args,
        limit,
    )
    .await
}

/// The repository's `tests/python` directory.
fn python_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/python")
}

/// Runs `<venv>/bin/python <script> <args...>` from `tests/python`, as [`run_script`] runs
/// Node. The virtual environment is `target/pyenv`, which the test command makes from
/// `tests/python/requirements.txt` (or `$PYTHON_VENV`).
pub(crate) async fn run_python(script: &str, args: &[String], limit: Duration) -> String {
    let venv = std::env::var_os("PYTHON_VENV").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/pyenv"),
        PathBuf::from,
    );
    let python = venv.join("bin/python");
    assert!(
        python.is_file(),
        "no Python virtual environment at {}: make it with `python3 -m venv target/pyenv && \
         target/pyenv/bin/pip install -r tests/python/requirements.txt` (the test command does)",
        venv.display()
    );
    let command = tokio::process::Command::new(python);
    run_client(
        command,
        "the venv's python runs",
        &python_dir(),
        script,
        args,
        limit,
    )
    .await
}

/// Runs a client program on `script` in `dir`, bounded by `limit`; its standard output, or a
/// panic saying how it failed.
async fn run_client(
    mut command: tokio::process::Command,
    missing: &str,
    dir: &std::path::Path,
    script: &str,
    args: &[String],
    limit: Duration,
) -> String {
    let mut child = command
        .arg(script)
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect(missing);
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let read = async {
        use tokio::io::AsyncReadExt;
        let (mut out, mut err) = (String::new(), String::new());
        let (mut so, mut se) = (stdout, stderr);
        let _ = tokio::join!(so.read_to_string(&mut out), se.read_to_string(&mut err));
        let status = child.wait().await.expect("the client program runs");
        (status, out, err)
    };
    let (status, out, err) = tokio::time::timeout(limit, read)
        .await
        .unwrap_or_else(|_| panic!("{script} {args:?} ran longer than {limit:?}"));
    assert!(
        status.success(),
        "{script} {args:?} failed ({status}):\n--- stdout\n{out}\n--- stderr\n{err}"
    );
    out
}
