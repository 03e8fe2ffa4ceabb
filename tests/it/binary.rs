//! The `novakeys` binary itself: start-up lines, start-up errors, persistence and graceful
//! shutdown, as a user or a script sees them.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `novakeys serve`, killed on drop.
struct Served {
    child: Child,
    compute: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn novakeys() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_novakeys"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        // The cloud fronts on free ports (their defaults are fixed ports).
        .env("NOVAKEYS_ALIBABA_BIND", "127.0.0.1:0")
        .env("NOVAKEYS_TENCENT_BIND", "127.0.0.1:0")
        .env("NOVAKEYS_TWCC_BIND", "127.0.0.1:0")
        .env("NOVAKEYS_CONSOLE_BIND", "off");
    cmd
}

fn serve(args: &[&str]) -> Served {
    let mut child = novakeys()
        .arg("serve")
        .args([
            "--compute-bind",
            "127.0.0.1:0",
            "--identity-bind",
            "127.0.0.1:0",
            "--auth",
            "noauth",
        ])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("novakeys starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a line").unwrap();
    let compute = first
        .strip_prefix("novakeys: compute listening on ")
        .expect(&first)
        .to_string();
    let second = lines.next().expect("a second line").unwrap();
    assert!(
        second.starts_with("novakeys: identity listening on http://127.0.0.1:"),
        "{second}"
    );
    std::thread::spawn(move || for _ in lines {});
    // The request log goes to stderr: read it, so a full pipe never stalls the server.
    let mut stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    Served { child, compute }
}

fn curl(url: &str, args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
            "-H",
            "X-Auth-Token: alice",
        ])
        .args(args)
        .arg(url)
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.parse().unwrap_or(0), body.to_string())
}

fn run_failing(args: &[&str]) -> String {
    let mut child = novakeys()
        .arg("serve")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_timeout(&mut child, Duration::from_secs(10)).expect("exits on its own");
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn wait_timeout(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[test]
fn prints_listening_lines_and_answers_on_port_zero() {
    let s = serve(&["--db", ":memory:"]);
    let (code, body) = curl(&format!("{}/v2.1/os-keypairs", s.compute), &[]);
    assert_eq!((code, body.as_str()), (200, r#"{"keypairs": []}"#));
}

#[test]
fn busy_port_is_a_clear_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let err = run_failing(&[
        "--db",
        ":memory:",
        "--compute-bind",
        &addr,
        "--identity-bind",
        "127.0.0.1:0",
    ]);
    assert!(
        err.contains(&format!("cannot listen for compute on {addr}")),
        "{err}"
    );
}

#[test]
fn unusable_or_corrupt_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let under_file = file.join("novakeys.db");
    let err = run_failing(&[
        "--db",
        under_file.to_str().unwrap(),
        "--compute-bind",
        "127.0.0.1:0",
        "--identity-bind",
        "127.0.0.1:0",
    ]);
    assert!(err.contains("cannot open database"), "{err}");

    let corrupt = dir.path().join("corrupt.db");
    std::fs::write(&corrupt, vec![0x5au8; 8192]).unwrap();
    let err = run_failing(&[
        "--db",
        corrupt.to_str().unwrap(),
        "--compute-bind",
        "127.0.0.1:0",
        "--identity-bind",
        "127.0.0.1:0",
    ]);
    assert!(
        err.contains("cannot open database") && err.contains("not a database"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&corrupt).unwrap(),
        vec![0x5au8; 8192],
        "a corrupt file is left untouched"
    );
}

#[test]
fn data_survives_a_graceful_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nk.db");
    let db = db.to_str().unwrap();
    let body = r#"{"keypair": {"name": "kept", "public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII5J04CljaeVO5LeIXMByG9K0Yy+5h481th5PkWvlFm9 ed@oracle"}}"#;
    {
        let mut s = serve(&["--db", db]);
        let (code, _) = curl(
            &format!("{}/v2.1/os-keypairs", s.compute),
            &[
                "-X",
                "POST",
                "-H",
                "Content-Type: application/json",
                "-d",
                body,
            ],
        );
        assert_eq!(code, 200);
        Command::new("kill")
            .args(["-TERM", &s.child.id().to_string()])
            .status()
            .unwrap();
        let status = wait_timeout(&mut s.child, Duration::from_secs(15)).expect("stops on SIGTERM");
        assert!(status.success(), "graceful exit: {status:?}");
    }
    let s = serve(&["--db", db]);
    let (code, body) = curl(&format!("{}/v2.1/os-keypairs/kept", s.compute), &[]);
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"name\": \"kept\""));
}

#[test]
fn clouds_yaml_and_key_rotation_commands() {
    let out = novakeys()
        .args(["clouds-yaml", "--identity-bind", "127.0.0.1:5999"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    assert_eq!(
        doc["clouds"]["novakeys"]["auth"]["auth_url"],
        "http://127.0.0.1:5999/v3"
    );
    assert_eq!(doc["clouds"]["novakeys-admin"]["auth"]["username"], "admin");

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nk.db");
    for _ in 0..2 {
        let out = novakeys()
            .args(["rotate-signing-key", "--db", db.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("new token signing key"));
    }
}
