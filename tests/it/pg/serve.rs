//! The real `novakeys` binary on PostgreSQL: `serve` with a Keystone login, a Nova key pair
//! create → list → delete and a reset; export/import between the backends; and the start-up
//! errors for unknown schemes, unreachable servers and missing databases (one line, exit 1).

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII5J04CljaeVO5LeIXMByG9K0Yy+5h481th5PkWvlFm9 ed@oracle";

struct Served {
    child: Child,
    compute: String,
    identity: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn novakeys(cwd: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_novakeys"));
    cmd.env_clear()
        .current_dir(cwd)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("NOVAKEYS_ALIBABA_BIND", "off")
        .env("NOVAKEYS_TENCENT_BIND", "off")
        .env("NOVAKEYS_TWCC_BIND", "off")
        .env("NOVAKEYS_CONSOLE_BIND", "off");
    cmd
}

fn serve(cwd: &std::path::Path, db: &str) -> Served {
    let mut child = novakeys(cwd)
        .args([
            "serve",
            "--compute-bind",
            "127.0.0.1:0",
            "--identity-bind",
            "127.0.0.1:0",
            "--db",
            db,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("novakeys starts");
    let mut stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut url = |what: &str| -> String {
        let line = match lines.next() {
            Some(Ok(l)) => l,
            _ => {
                let mut err = String::new();
                let _ = stderr.read_to_string(&mut err);
                panic!("serve printed no {what} line: {err}");
            }
        };
        line.strip_prefix(&format!("novakeys: {what} listening on "))
            .unwrap_or_else(|| panic!("{line}"))
            .to_string()
    };
    let compute = url("compute");
    let identity = url("identity");
    std::thread::spawn(move || for _ in lines {});
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    Served {
        child,
        compute,
        identity,
    }
}

/// (status, headers, body) of a curl request.
fn curl(url: &str, args: &[&str]) -> (u16, String, String) {
    let out = Command::new("curl")
        .args(["-s", "-D", "-", "-o", "-", "-w", "\n%{http_code}"])
        .args(args)
        .arg(url)
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (rest, code) = text.rsplit_once('\n').unwrap();
    let (head, body) = rest.split_once("\r\n\r\n").unwrap_or((rest, ""));
    (
        code.parse().unwrap_or(0),
        head.to_string(),
        body.to_string(),
    )
}

fn login(identity: &str) -> String {
    let body = r#"{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "demo", "domain": {"id": "default"}, "password": "demo"}}}, "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}}}"#;
    let (code, head, text) = curl(
        &format!("{identity}/v3/auth/tokens"),
        &[
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "-d",
            body,
        ],
    );
    assert_eq!(code, 201, "{text}");
    head.lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("x-subject-token"))
                .map(|(_, v)| v.trim().to_string())
        })
        .expect("a token")
}

#[test]
fn serve_on_postgres_logs_in_creates_lists_deletes_and_resets() {
    let dir = tempfile::tempdir().unwrap();
    let url = super::url_of(&super::fresh_database());
    let s = serve(dir.path(), &url);
    let token = login(&s.identity);
    let auth = format!("X-Auth-Token: {token}");
    let keypairs = format!("{}/v2.1/os-keypairs", s.compute);
    let body = format!(r#"{{"keypair": {{"name": "pg-key", "public_key": "{KEY}"}}}}"#);
    let (code, _, text) = curl(
        &keypairs,
        &[
            "-X",
            "POST",
            "-H",
            &auth,
            "-H",
            "Content-Type: application/json",
            "-d",
            &body,
        ],
    );
    assert_eq!(code, 200, "{text}");
    let (code, _, text) = curl(&keypairs, &["-H", &auth]);
    assert_eq!(code, 200, "{text}");
    assert!(text.contains("\"name\": \"pg-key\""), "{text}");
    let (code, _, text) = curl(
        &format!("{keypairs}/pg-key"),
        &["-X", "DELETE", "-H", &auth],
    );
    assert_eq!(code, 202, "{text}");
    let (_, _, text) = curl(&keypairs, &["-H", &auth]);
    assert!(!text.contains("pg-key"), "{text}");
    // Stored verbatim, even with a NUL in the comment (PostgreSQL text could not hold it).
    let nul = format!(r#"{{"keypair": {{"name": "nul-key", "public_key": "{KEY}\u0000"}}}}"#);
    let (code, _, text) = curl(
        &keypairs,
        &[
            "-X",
            "POST",
            "-H",
            &auth,
            "-H",
            "Content-Type: application/json",
            "-d",
            &nul,
        ],
    );
    assert_eq!(code, 200, "{text}");
    let (code, _, text) = curl(&format!("{keypairs}/nul-key"), &["-H", &auth]);
    assert_eq!(code, 200, "{text}");
    assert!(text.contains(r"ed@oracle\u0000"), "{text}");

    // A key pair made after the start goes with a reset; the fixtures' login still works.
    curl(
        &keypairs,
        &[
            "-X",
            "POST",
            "-H",
            &auth,
            "-H",
            "Content-Type: application/json",
            "-d",
            &body,
        ],
    );
    let (code, _, text) = curl(
        &format!("{}/_novakeys/reset", s.identity),
        &["-X", "POST", "-H", "Content-Type: application/json"],
    );
    assert_eq!(code, 204, "{text}");
    let token = login(&s.identity);
    let (code, _, text) = curl(&keypairs, &["-H", &format!("X-Auth-Token: {token}")]);
    assert_eq!(code, 200, "{text}");
    assert!(!text.contains("pg-key"), "reset: {text}");
    // No SQLite file or lock appeared beside the process.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// Runs `serve` expecting it to fail at start; its stderr.
fn fails(db: Option<&str>, env_db: Option<&str>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = novakeys(dir.path());
    cmd.args([
        "serve",
        "--compute-bind",
        "127.0.0.1:0",
        "--identity-bind",
        "127.0.0.1:0",
    ]);
    if let Some(db) = db {
        cmd.args(["--db", db]);
    }
    if let Some(db) = env_db {
        cmd.env("NOVAKEYS_DB", db);
    }
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "serve did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing made in the working directory"
    );
    err
}

#[test]
fn an_unknown_url_scheme_is_a_one_line_error() {
    let err = fails(Some("mysql://root@localhost/nk"), None);
    assert!(
        err.contains("unsupported database URL scheme 'mysql://'"),
        "{err}"
    );
    let err = fails(None, Some("redis://localhost"));
    assert!(err.contains("'redis://'"), "{err}");
}

#[test]
fn an_unreachable_server_or_missing_database_is_a_one_line_error() {
    // Nothing listens there (the port was free a moment ago).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = fails(
        Some(&format!("postgres://nk:hush@127.0.0.1:{port}/nk")),
        None,
    );
    assert!(
        err.contains("cannot open database postgres://nk:***@"),
        "{err}"
    );
    assert!(!err.contains("hush"), "no password in messages: {err}");
    assert!(err.to_lowercase().contains("connect"), "{err}");
    let missing = format!(
        "postgresql://postgres@127.0.0.1:{}/no_such_db",
        super::server().port
    );
    let err = fails(None, Some(&missing));
    assert!(err.contains("no_such_db"), "{err}");
    assert!(err.contains("does not exist"), "{err}");
}

/// The offline commands take a URL too: an export of a SQLite file imports into PostgreSQL
/// and back, the same document each way.
#[test]
fn export_and_import_move_state_between_sqlite_and_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = novakeys(dir.path()).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let keys = dir.path().join("authorized_keys");
    std::fs::write(&keys, format!("{KEY}\n")).unwrap();
    let file = dir.path().join("a.db");
    let file = file.to_str().unwrap();
    run(&[
        "import-authorized-keys",
        "--db",
        file,
        "--user",
        "demo",
        keys.to_str().unwrap(),
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&run(&["export", "--db", file])).unwrap();
    let state = dir.path().join("state.json");
    std::fs::write(&state, doc.to_string()).unwrap();

    let pg = super::url_of(&super::fresh_database());
    let said = String::from_utf8(run(&["import", "--db", &pg, state.to_str().unwrap()])).unwrap();
    assert!(said.contains("imported 1 key pairs"), "{said}");
    let from_pg: serde_json::Value =
        serde_json::from_slice(&run(&["export", "--db", &pg])).unwrap();
    assert_eq!(from_pg["tables"], doc["tables"]);
    assert_eq!(from_pg["sequences"], doc["sequences"]);

    std::fs::write(&state, from_pg.to_string()).unwrap();
    let back = dir.path().join("b.db");
    let back = back.to_str().unwrap();
    run(&["import", "--db", back, state.to_str().unwrap()]);
    let again: serde_json::Value = serde_json::from_slice(&run(&["export", "--db", back])).unwrap();
    assert_eq!(again["tables"], doc["tables"]);
    assert_eq!(again["sequences"], doc["sequences"]);
}

/// `novakeys seed` into PostgreSQL: the rows land (in batches), and no file size is claimed.
#[test]
fn seed_loads_key_pairs_into_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let pg = super::url_of(&super::fresh_database());
    let out = novakeys(dir.path())
        .args([
            "seed",
            "--users",
            "3",
            "--keypairs-per-user",
            "4",
            "--batch",
            "5",
            "--db",
            &pg,
        ])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("seeded 12 key pairs"), "{said}");
    assert!(said.contains("12 key pairs in postgres://"), "{said}");
    assert!(!said.contains("bytes"), "{said}");
    let doc = novakeys(dir.path())
        .args(["export", "--db", &pg])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&doc.stdout).unwrap();
    assert_eq!(
        doc["tables"]["key_pairs"]["rows"].as_array().unwrap().len(),
        12
    );
}
