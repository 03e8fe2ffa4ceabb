//! Stock-client acceptance suites (issue 4).
//!
//! Every directory `compat/<suite>/` with a `run.sh` is one test below. Each test starts its own
//! `novakeys serve` (free ports, fresh SQLite file, default fixtures, Keystone auth), runs
//! `bash compat/<suite>/run.sh` against it with the environment described in [`run_suite`], and
//! fails with the suite's whole output when the script exits non-zero. Suites are independent
//! (own server, own work directory), so cargo runs them in parallel.
//!
//! `COMPAT=0 cargo test` skips the suites (and says so). A suite whose prerequisite is missing
//! fails and names what to install; nothing is skipped silently.
//!
//! With `--nocapture` the output of passing suites is shown as well.
//!
//! `osc` and `tempest` also run behind a load balancer, against several processes on one
//! PostgreSQL database: [`load_balancer`].

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[path = "compat/load_balancer.rs"]
mod load_balancer;
// The PostgreSQL tests in tests/it use the rest of the shared harness.
#[allow(dead_code)]
#[path = "support/pg/mod.rs"]
mod pg;

/// How long a server may take to print its two listening lines.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one suite may run (the first run includes installing the cached venv);
/// `COMPAT_TIMEOUT` (seconds) overrides it.
const DEFAULT_SUITE_TIMEOUT: Duration = Duration::from_secs(25 * 60);

/// One `#[test]` per suite, listed explicitly; `SUITES` is the same list, so
/// [`every_suite_has_a_test`] can tell when a new `compat/*/run.sh` was left out.
macro_rules! suites {
    ($($name:ident),* $(,)?) => {
        const SUITES: &[&str] = &[$(stringify!($name)),*];
        $(
            #[test]
            fn $name() {
                run_suite(stringify!($name));
            }
        )*
    };
}

suites!(
    osc,
    workflows,
    sdk,
    novaclient,
    tempest,
    gophercloud,
    alibaba,
    tencent,
    twcc,
    console,
    pytest
);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Fails when a `compat/<suite>/run.sh` exists that no test above runs.
#[test]
fn every_suite_has_a_test() {
    let listed: BTreeSet<&str> = SUITES.iter().copied().collect();
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(repo().join("compat")).expect("compat/ is readable") {
        let entry = entry.expect("compat/ entry");
        if !entry.path().join("run.sh").is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if !listed.contains(name.as_str()) {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "compat/{{{}}}/run.sh exist but have no test in tests/compat.rs; add them to suites!(…)",
        missing.join(",")
    );
}

/// A running `novakeys serve`, killed (and reaped) on drop.
struct Server {
    child: Child,
    /// Listener name (`compute`, `identity`, `alibaba`, ...) → its URL.
    urls: std::collections::BTreeMap<String, String>,
    log: PathBuf,
}

/// The listeners a suite's server opens (all on free ports).
const LISTENERS: &[&str] = &[
    "compute", "identity", "alibaba", "tencent", "twcc", "console",
];

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Environment variables a developer's shell may carry that would change what the server or
/// the clients do; neither process sees them.
fn scrubbed(name: &str) -> bool {
    name.starts_with("NOVAKEYS_")
        || name.starts_with("OS_")
        || name == "OPENSTACK_CONFIG_FILE"
        || name == "COMPAT"
}

fn start_server(dir: &Path) -> Server {
    let log = dir.join("novakeys.log");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_novakeys"));
    for (k, _) in std::env::vars_os() {
        if scrubbed(&k.to_string_lossy()) {
            cmd.env_remove(k);
        }
    }
    cmd.arg("serve")
        .args(["--compute-bind", "127.0.0.1:0"])
        .args(["--identity-bind", "127.0.0.1:0"])
        .args(["--alibaba-bind", "127.0.0.1:0"])
        .args(["--tencent-bind", "127.0.0.1:0"])
        .args(["--twcc-bind", "127.0.0.1:0"])
        .args(["--console-bind", "127.0.0.1:0"])
        .arg("--db")
        .arg(dir.join("novakeys.db"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(File::create(&log).expect("server log file"));
    let mut child = cmd.spawn().expect("novakeys serve starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // After the two listening lines the receiver is gone; keep draining anyway.
            let _ = tx.send(line);
        }
    });
    let mut server = Server {
        child,
        urls: Default::default(),
        log,
    };
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    while server.urls.len() < LISTENERS.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                for name in LISTENERS {
                    let prefix = format!("novakeys: {name} listening on ");
                    if let Some(url) = line.strip_prefix(&prefix) {
                        server.urls.insert(name.to_string(), url.trim().to_string());
                    }
                }
            }
            Err(e) => {
                let status = server.child.try_wait().ok().flatten();
                panic!(
                    "novakeys serve did not print every listening line ({e}; exit status {status:?}; seen {:?}); its stderr:\n{}",
                    server.urls,
                    server.log()
                );
            }
        }
    }
    server
}

fn suite_timeout() -> Duration {
    std::env::var("COMPAT_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_SUITE_TIMEOUT)
}

/// Ends the suite's whole process group (its script and anything the script left running).
fn kill_group(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([signal, "--", &format!("-{pid}")])
        .stderr(Stdio::null())
        .status();
}

/// Where a suite's clients go, and what the servers said, for a failure's message.
trait Target {
    /// The URL (`http://ADDR:PORT`) of `listener` (one of [`LISTENERS`]).
    fn url(&self, listener: &str) -> String;
    /// The servers' own logs.
    fn logs(&self) -> String;
}

impl Target for Server {
    fn url(&self, listener: &str) -> String {
        self.urls[listener].clone()
    }

    fn logs(&self) -> String {
        format!("===== novakeys stderr =====\n{}", self.log())
    }
}

/// Whether `COMPAT=0` asks to skip the suites (said on stdout when it does).
fn skipped(suite: &str) -> bool {
    let skip = std::env::var("COMPAT").as_deref() == Ok("0");
    if skip {
        println!("compat suite {suite}: skipped by request (COMPAT=0)");
    }
    skip
}

/// A fresh directory for one suite run (`work/` for the script, the output, and what the
/// target keeps there); kept when the suite fails.
fn suite_dir(suite: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("novakeys-compat-{suite}-"))
        .tempdir()
        .expect("temp dir")
}

/// Runs the suite against a fresh single server on SQLite.
fn run_suite(suite: &str) {
    if skipped(suite) {
        return;
    }
    let tmp = suite_dir(suite);
    let server_dir = tmp.path().join("server");
    std::fs::create_dir_all(&server_dir).unwrap();
    let server = start_server(&server_dir);
    run_against(suite, &server, tmp);
}

/// Runs `bash compat/<suite>/run.sh` against `target`, with
/// `NOVAKEYS_BIN`, `NOVAKEYS_IDENTITY_URL` (no `/v3`), `NOVAKEYS_COMPUTE_URL` (no `/v2.1`),
/// `NOVAKEYS_ALIBABA_URL`, `NOVAKEYS_TENCENT_URL`, `NOVAKEYS_TWCC_URL`, `NOVAKEYS_CONSOLE_URL`
/// (`http://ADDR:PORT`),
/// `OS_AUTH_URL` (`…/v3`), `OS_REGION_NAME=RegionOne`, `NOVAKEYS_CACHE=<repo>/target/compat`
/// and `NOVAKEYS_WORK` (`work/` in `tmp`). Panics with the suite's output and the target's
/// logs, keeping `tmp`, when the script fails or outlives the timeout.
fn run_against(suite: &str, target: &dyn Target, tmp: tempfile::TempDir) {
    let repo = repo();
    let script = repo.join("compat").join(suite).join("run.sh");
    assert!(
        script.is_file(),
        "compat suite {suite}: {} is missing (the suite has a test in tests/compat.rs, so its \
         script must exist)",
        script.display()
    );
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();

    let output_path = tmp.path().join("output.log");
    let output = File::create(&output_path).expect("output file");
    let mut cmd = Command::new("bash");
    for (k, _) in std::env::vars_os() {
        if scrubbed(&k.to_string_lossy()) {
            cmd.env_remove(k);
        }
    }
    cmd.arg(&script)
        .current_dir(&repo)
        .env("NOVAKEYS_BIN", env!("CARGO_BIN_EXE_novakeys"))
        .env("NOVAKEYS_IDENTITY_URL", target.url("identity"))
        .env("NOVAKEYS_COMPUTE_URL", target.url("compute"))
        .env("NOVAKEYS_ALIBABA_URL", target.url("alibaba"))
        .env("NOVAKEYS_TENCENT_URL", target.url("tencent"))
        .env("NOVAKEYS_TWCC_URL", target.url("twcc"))
        .env("NOVAKEYS_CONSOLE_URL", target.url("console"))
        .env("OS_AUTH_URL", format!("{}/v3", target.url("identity")))
        .env("OS_REGION_NAME", "RegionOne")
        .env("NOVAKEYS_CACHE", repo.join("target").join("compat"))
        .env("NOVAKEYS_WORK", &work)
        .stdin(Stdio::null())
        .stdout(output.try_clone().unwrap())
        .stderr(output)
        .process_group(0);
    let started = Instant::now();
    let mut child = cmd.spawn().expect("bash runs");
    let timeout = suite_timeout();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the suite") {
            break Some(status);
        }
        if started.elapsed() > timeout {
            kill_group(child.id(), "-TERM");
            std::thread::sleep(Duration::from_secs(2));
            kill_group(child.id(), "-KILL");
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // Whatever the script started in the background goes too.
    kill_group(child.id(), "-KILL");
    let elapsed = started.elapsed();
    let text = std::fs::read_to_string(&output_path).unwrap_or_default();
    match status {
        Some(s) if s.success() => {
            // Shown with --nocapture.
            println!("{text}");
            println!(
                "compat suite {suite}: passed in {:.1}s",
                elapsed.as_secs_f64()
            );
        }
        _ => {
            let logs = target.logs();
            let kept = tmp.keep();
            panic!(
                "compat suite {suite} failed ({}) after {:.1}s; work dir kept at {}\n\
                 ===== suite output =====\n{text}\n{logs}",
                match status {
                    Some(s) => s.to_string(),
                    None => format!("timed out after {}s", timeout.as_secs()),
                },
                elapsed.as_secs_f64(),
                kept.display()
            );
        }
    }
}
