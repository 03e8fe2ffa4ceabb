//! The WAL index of a served database (issue 17 item 9): it lives in the server's memory, not
//! in a memory-mapped `<db>-shm` file that anyone can truncate under it (the next access to the
//! mapping raised SIGBUS and the server died), and no other process can open the database
//! behind that index.

use crate::reliability::{http, start, Proc, ED25519};
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

const NOAUTH: [(&str, &str); 2] = [
    ("X-Auth-Token", "alice"),
    ("OpenStack-API-Version", "compute 2.2"),
];

fn serve(db: &str) -> Proc {
    start(&["--db", db, "--auth", "noauth"], &[])
}

/// Imports key pair `name`; a failed exchange says how the server ended, if it did.
fn import(proc: &mut Proc, name: &str) {
    let body = serde_json::json!({"keypair": {"name": name, "public_key": ED25519}}).to_string();
    match http(proc.compute, "POST", "/v2.1/os-keypairs", &NOAUTH, &body) {
        Ok((status, body)) => assert_eq!(status, 201, "{name}: {body}"),
        Err(e) => {
            std::thread::sleep(Duration::from_millis(200));
            let end = proc.child.try_wait().unwrap();
            panic!(
                "{name}: {e}; the server {}",
                match end {
                    Some(s) => format!("died (signal {:?}, status {:?})", s.signal(), s.code()),
                    None => "is still running".into(),
                }
            )
        }
    }
}

fn names(proc: &Proc) -> Vec<String> {
    let (status, body) = http(proc.compute, "GET", "/v2.1/os-keypairs", &NOAUTH, "").unwrap();
    assert_eq!(status, 200, "{body}");
    let mut names: Vec<String> = serde_json::from_str::<serde_json::Value>(&body).unwrap()
        ["keypairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["keypair"]["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

fn expected(n: usize) -> Vec<String> {
    let mut names: Vec<String> = (0..n).map(|i| format!("k{i:02}")).collect();
    names.sort();
    names
}

/// `truncate -s 0 <db>-shm` while serving: the server goes on serving reads and writes, and
/// after a kill -9 the restarted one has every key pair (the WAL replayed into a fresh index).
#[test]
fn a_truncated_shm_file_does_not_kill_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nk.db").to_str().unwrap().to_string();
    let shm = format!("{db}-shm");
    let mut proc = serve(&db);
    for i in 0..20 {
        import(&mut proc, &format!("k{i:02}"));
    }
    assert_eq!(names(&proc), expected(20));
    let made_shm = std::path::Path::new(&shm).exists();
    // What `truncate -s 0` does (and makes the file if it is not there).
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&shm)
        .unwrap()
        .set_len(0)
        .unwrap();
    for i in 20..40 {
        import(&mut proc, &format!("k{i:02}"));
    }
    assert_eq!(names(&proc), expected(40));
    assert!(proc.child.try_wait().unwrap().is_none());
    assert!(!made_shm, "the server made {shm}");

    proc.child.kill().unwrap();
    proc.child.wait().unwrap();
    std::fs::remove_file(&shm).unwrap();
    let proc = serve(&db);
    assert_eq!(names(&proc), expected(40));
    assert!(!std::path::Path::new(&shm).exists(), "{shm} after restart");
}

/// Another process cannot open a served database: SQLite there answers "database is locked"
/// (it would otherwise build a second WAL index of its own), and a novakeys command says why.
/// The server is unharmed.
#[test]
fn another_process_is_shut_out_of_a_served_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nk.db").to_str().unwrap().to_string();
    let mut proc = serve(&db);
    import(&mut proc, "k00");

    // The test process is the other process.
    let other = rusqlite::Connection::open(&db).unwrap();
    other.busy_timeout(Duration::ZERO).unwrap();
    let read = other.query_row("SELECT count(*) FROM key_pairs", [], |r| r.get::<_, i64>(0));
    match read {
        Err(rusqlite::Error::SqliteFailure(e, _)) => {
            assert_eq!(e.code, rusqlite::ErrorCode::DatabaseBusy, "{e}")
        }
        other => panic!("another process read the served database: {other:?}"),
    }
    drop(other);
    assert!(!std::path::Path::new(&format!("{db}-shm")).exists());

    let started = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_novakeys"))
        .env_clear()
        .args(["export", "--db", &db])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains("in use by another process"),
        "not a clear message: {stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(8), "{stderr}");

    import(&mut proc, "k01");
    assert_eq!(names(&proc), expected(2));
}
