//! Reliability against the real `novakeys serve` process: crash safety under `kill -9`,
//! concurrency on a file database, graceful shutdown under load, hostile clients, and that no
//! secret ever reaches the database, its WAL or the logs.
//!
//! Nothing here asserts on timing: "random moments" are random numbers of acknowledged writes,
//! and waits are polls with generous limits that only bound a hang.

use rand::Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const ED25519: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII5J04CljaeVO5LeIXMByG9K0Yy+5h481th5PkWvlFm9 ed@oracle";

/// A running `novakeys serve`; killed (SIGKILL) on drop if still alive.
pub struct Proc {
    pub child: Child,
    pub compute: SocketAddr,
    pub identity: SocketAddr,
    /// Everything the process wrote to stdout and stderr (the logs), collected as it comes.
    pub output: Arc<Mutex<Vec<u8>>>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn drain(mut from: impl Read + Send + 'static, into: Arc<Mutex<Vec<u8>>>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
}

/// Starts `novakeys serve` on loopback port 0 with `args` (and extra environment), and waits
/// for its two "listening on" lines.
pub fn start(args: &[&str], env: &[(&str, &str)]) -> Proc {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_novakeys"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        // The cloud fronts on free ports (their defaults are fixed ports).
        .env("NOVAKEYS_ALIBABA_BIND", "127.0.0.1:0")
        .env("NOVAKEYS_TENCENT_BIND", "127.0.0.1:0")
        .env("NOVAKEYS_TWCC_BIND", "127.0.0.1:0")
        .env("NOVAKEYS_CONSOLE_BIND", "off")
        .envs(env.iter().copied())
        .arg("serve")
        .args([
            "--compute-bind",
            "127.0.0.1:0",
            "--identity-bind",
            "127.0.0.1:0",
        ])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("novakeys starts");
    let output = Arc::new(Mutex::new(Vec::new()));
    drain(child.stderr.take().unwrap(), output.clone());
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut addr = |what: &str| -> SocketAddr {
        let mut line = String::new();
        lines.read_line(&mut line).expect("stdout");
        output.lock().unwrap().extend_from_slice(line.as_bytes());
        let prefix = format!("novakeys: {what} listening on http://");
        line.trim()
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("unexpected line {line:?}"))
            .parse()
            .unwrap()
    };
    let compute = addr("compute");
    let identity = addr("identity");
    drain(lines, output.clone());
    Proc {
        child,
        compute,
        identity,
        output,
    }
}

/// A complete response.
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// A minimal blocking HTTP/1.1 exchange (`Connection: close`). `Err` = the connection failed
/// or was cut before a complete response arrived.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<Resp> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes())?;
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf)?;
    parse_full(&buf)
}

/// `request`, for the status and body only.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<(u16, String)> {
    request(addr, method, path, headers, body).map(|r| (r.status, r.body))
}

fn parse(buf: &[u8]) -> std::io::Result<(u16, String)> {
    parse_full(buf).map(|r| (r.status, r.body))
}

fn parse_full(buf: &[u8]) -> std::io::Result<Resp> {
    let broken = || std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "incomplete response");
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(broken)?;
    let head = String::from_utf8_lossy(&buf[..split]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(broken)?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect();
    let len = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let body = &buf[split + 4..];
    if body.len() < len {
        return Err(broken());
    }
    Ok(Resp {
        status,
        headers,
        body: String::from_utf8_lossy(&body[..len]).into_owned(),
    })
}

fn import_body(name: &str) -> String {
    serde_json::json!({"keypair": {"name": name, "public_key": ED25519}}).to_string()
}

fn wait_exit(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// Waits (bounded) until `cond` holds.
fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// What the clients of one crash round learnt: `acked` creates (200/201), `deleted` (202/204),
/// and `unknown` outcomes (the connection died mid-request: either state is fine).
#[derive(Default)]
struct Ledger {
    acked: BTreeMap<String, String>,
    deleted: BTreeSet<String>,
    unknown: BTreeSet<String>,
}

const CRASH_CLIENTS: usize = 6;

/// One round: clients import (and sometimes delete) concurrently until the server is killed
/// with SIGKILL after a random number of acknowledged writes.
/// Also waits for `kill_when(db)` before the kill.
fn crash_round(
    db: &str,
    durability: &str,
    round: usize,
    ledger: &Arc<Mutex<Ledger>>,
    kill_when: fn(&str) -> bool,
) {
    let proc = start(
        &[
            "--db",
            db,
            "--auth",
            "noauth",
            "--quota-key-pairs",
            "-1",
            "--durability",
            durability,
        ],
        &[],
    );
    let mut proc = proc;
    let acks = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let target = rand::thread_rng().gen_range(1..80);
    let addr = proc.compute;
    let clients: Vec<_> = (0..CRASH_CLIENTS)
        .map(|t| {
            let (acks, killed, ledger) = (acks.clone(), killed.clone(), ledger.clone());
            std::thread::spawn(move || {
                let user = format!("crash-{t}");
                let mut mine: Vec<String> = Vec::new();
                let mut rng = rand::thread_rng();
                for j in 0.. {
                    let version = if j % 2 == 0 {
                        "compute 2.1"
                    } else {
                        "compute 2.2"
                    };
                    let hdrs = [
                        ("X-Auth-Token", user.as_str()),
                        ("OpenStack-API-Version", version),
                    ];
                    let delete = !mine.is_empty() && rng.gen_ratio(1, 5);
                    let (name, result) = if delete {
                        let name = mine.swap_remove(rng.gen_range(0..mine.len()));
                        let path = format!("/v2.1/os-keypairs/{name}");
                        let r = http(addr, "DELETE", &path, &hdrs, "");
                        (name, r)
                    } else {
                        let name = format!("r{round}-u{t}-{j}");
                        let r = http(
                            addr,
                            "POST",
                            "/v2.1/os-keypairs",
                            &hdrs,
                            &import_body(&name),
                        );
                        (name, r)
                    };
                    let key = format!("{user}/{name}");
                    match result {
                        Ok((200 | 201, body)) if !delete => {
                            ledger.lock().unwrap().acked.insert(key, body);
                            mine.push(name);
                            acks.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok((202 | 204, _)) if delete => {
                            let mut l = ledger.lock().unwrap();
                            l.acked.remove(&key);
                            l.deleted.insert(key);
                            acks.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok((status, body)) => panic!("{key}: unexpected {status} {body}"),
                        Err(_) => {
                            let mut l = ledger.lock().unwrap();
                            l.acked.remove(&key);
                            l.unknown.insert(key);
                            if killed.load(Ordering::SeqCst) {
                                return;
                            }
                            std::thread::sleep(Duration::from_millis(5));
                        }
                    }
                }
            })
        })
        .collect();
    wait_for("acknowledged writes", Duration::from_secs(60), || {
        acks.load(Ordering::SeqCst) >= target && kill_when(db)
    });
    killed.store(true, Ordering::SeqCst);
    proc.child.kill().expect("SIGKILL");
    proc.child.wait().unwrap();
    for c in clients {
        c.join().expect("client thread");
    }
}

/// Opens the database of a dead server and checks it against the ledger.
fn check_db(db: &str, ledger: &Ledger) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let fk: Vec<String> = conn
        .prepare("PRAGMA foreign_key_check")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(fk.is_empty(), "foreign key violations: {fk:?}");
    let mut stmt = conn
        .prepare("SELECT user_id, project_id, name, kind, public_key, fingerprint, created_at FROM key_pairs")
        .unwrap();
    let rows: Vec<[String; 7]> = stmt
        .query_map([], |r| {
            Ok([
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ])
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut present = BTreeSet::new();
    for [user, project, name, kind, public_key, fingerprint, created] in &rows {
        let key = format!("{user}/{name}");
        // Nothing half-written: every row is whole and exactly what was sent.
        assert_eq!(project, user, "{key}");
        assert_eq!(kind, "ssh", "{key}");
        assert_eq!(public_key, ED25519, "{key}");
        assert_eq!(
            *fingerprint,
            novakeys::keys::ssh_fingerprint(ED25519, novakeys::keys::Fingerprint::NovaMd5).unwrap(),
            "{key}"
        );
        assert!(created.len() >= 19, "{key}: {created}");
        assert!(
            ledger.acked.contains_key(&key) || ledger.unknown.contains(&key),
            "{key} is in the database but was never acknowledged (nor in doubt)"
        );
        assert!(
            !ledger.deleted.contains(&key),
            "{key} was deleted (acknowledged) but is back"
        );
        present.insert(key);
    }
    let lost: Vec<_> = ledger
        .acked
        .keys()
        .filter(|k| !present.contains(*k))
        .collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
}

/// Runs `rounds` kill -9 rounds on one database; returns (acknowledged creates, deletes).
fn crash_rounds(rounds: usize, durability: &str, kill_when: fn(&str) -> bool) -> (usize, usize) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let db = db.to_str().unwrap();
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    for round in 0..rounds {
        crash_round(db, durability, round, &ledger, kill_when);
        check_db(db, &ledger.lock().unwrap());
    }
    // After the last crash the server comes back on the same database and serves every
    // acknowledged key pair (and none of the acknowledged deletions).
    let proc = start(&["--db", db, "--auth", "noauth"], &[]);
    let l = ledger.lock().unwrap();
    for t in 0..CRASH_CLIENTS {
        let user = format!("crash-{t}");
        // Page by page: a long soak leaves more than one page (1000) per user.
        let mut listed = BTreeSet::new();
        let mut marker = String::new();
        loop {
            let path = format!("/v2.1/os-keypairs?limit=1000{marker}");
            let (status, body) = http(
                proc.compute,
                "GET",
                &path,
                &[
                    ("X-Auth-Token", &user),
                    ("OpenStack-API-Version", "compute 2.35"),
                ],
                "",
            )
            .unwrap();
            assert_eq!(status, 200, "{body}");
            let page: Vec<String> = serde_json::from_str::<serde_json::Value>(&body).unwrap()
                ["keypairs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["keypair"]["name"].as_str().unwrap().to_string())
                .collect();
            let Some(last) = page.last() else { break };
            marker = format!("&marker={last}");
            listed.extend(page.iter().map(|name| format!("{user}/{name}")));
        }
        for key in l
            .acked
            .keys()
            .filter(|k| k.starts_with(&format!("{user}/")))
        {
            assert!(listed.contains(key), "{key} missing after restart");
        }
        for key in &l.deleted {
            assert!(!listed.contains(key), "{key} deleted but listed");
        }
    }
    (l.acked.len() + l.deleted.len(), l.deleted.len())
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    let (acked, _) = crash_rounds(3, "normal", |_| true);
    assert!(acked >= 3);
}

/// With `full`, the server also writes zeros past the WAL's end ahead of its writer
/// (`store::wal`). Killed once that has happened, after a random number of acknowledged
/// writes, nothing acknowledged is lost either.
#[test]
fn acknowledged_writes_survive_kill_9_with_the_wal_written_ahead() {
    let (acked, _) = crash_rounds(3, "full", wal_ends_in_zeros);
    assert!(acked >= 3);
}

/// The WAL file's last 4 KB are zeros: written ahead, since a frame SQLite writes always
/// starts with its page number and salts.
fn wal_ends_in_zeros(db: &str) -> bool {
    use std::os::unix::fs::FileExt;
    let Ok(wal) = std::fs::File::open(format!("{db}-wal")) else {
        return false;
    };
    let len = wal.metadata().map_or(0, |m| m.len());
    let mut tail = [1u8; 4096];
    len >= 1 << 20
        && wal.read_exact_at(&mut tail, len - 4096).is_ok()
        && tail.iter().all(|b| *b == 0)
}

/// `bench/crash.sh`: `NOVAKEYS_CRASH_ROUNDS` (default 20) rounds, `NOVAKEYS_CRASH_DURABILITY`
/// (`normal`/`full`).
#[test]
#[ignore = "long: run by bench/crash.sh"]
fn crash_many() {
    let rounds: usize = std::env::var("NOVAKEYS_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    let durability = std::env::var("NOVAKEYS_CRASH_DURABILITY").unwrap_or_else(|_| "normal".into());
    let start = Instant::now();
    // With `full`, each kill also waits until the WAL has been written ahead (`store::wal`).
    let kill_when: fn(&str) -> bool = if durability == "full" {
        wal_ends_in_zeros
    } else {
        |_| true
    };
    let (acked, deleted) = crash_rounds(rounds, &durability, kill_when);
    println!(
        "crash: durability={durability} rounds={rounds} acknowledged_writes={acked} (creates={} deletes={deleted}) lost=0 integrity=ok elapsed={:.1}s",
        acked - deleted,
        start.elapsed().as_secs_f64()
    );
}

fn file_server(dir: &tempfile::TempDir, extra: &[&str]) -> (Proc, String) {
    let db = dir.path().join("nk.db").to_str().unwrap().to_string();
    let mut args = vec![
        "--db",
        db.as_str(),
        "--auth",
        "noauth",
        "--quota-key-pairs",
        "-1",
    ];
    args.extend_from_slice(extra);
    (start(&args, &[]), db)
}

/// Whether the database keeps the index that lookups by project need.
fn has_project_index(db: &str) -> bool {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND sql LIKE '%(project_id, name)%'",
        [],
        |r| r.get::<_, i64>(0),
    )
    .unwrap()
        == 1
}

/// Runs `n` requests at once (threads released together) and returns their statuses.
fn at_once(
    n: usize,
    f: impl Fn(usize) -> std::io::Result<(u16, String)> + Send + Sync + 'static,
) -> Vec<(u16, String)> {
    let f = Arc::new(f);
    let barrier = Arc::new(std::sync::Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let (f, barrier) = (f.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                f(i).expect("a complete response")
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

#[test]
fn fifty_simultaneous_creates_of_one_name_give_one_success() {
    let dir = tempfile::tempdir().unwrap();
    let (proc, _) = file_server(&dir, &[]);
    let addr = proc.compute;
    let results = at_once(50, move |_| {
        http(
            addr,
            "POST",
            "/v2.1/os-keypairs",
            &[
                ("X-Auth-Token", "alice"),
                ("OpenStack-API-Version", "compute 2.2"),
            ],
            &import_body("same"),
        )
    });
    let created = results.iter().filter(|(s, _)| *s == 201).count();
    let conflicts: Vec<_> = results.iter().filter(|(s, _)| *s == 409).collect();
    assert_eq!(created, 1, "{results:?}");
    assert_eq!(conflicts.len(), 49, "{results:?}");
    for (_, body) in conflicts {
        assert_eq!(
            body,
            r#"{"conflictingRequest": {"code": 409, "message": "Key pair 'same' already exists."}}"#
        );
    }
    let (status, body) = http(
        addr,
        "GET",
        "/v2.1/os-keypairs",
        &[("X-Auth-Token", "alice")],
        "",
    )
    .unwrap();
    assert_eq!(status, 200);
    assert_eq!(body.matches("\"name\": \"same\"").count(), 1, "{body}");
}

#[test]
fn racing_creates_deletes_and_reads_never_fail() {
    let dir = tempfile::tempdir().unwrap();
    let (proc, db) = file_server(&dir, &[]);
    let addr = proc.compute;
    // Meanwhile another process tries again and again to take SQLite's write lock and read:
    // the server keeps the database to itself (its WAL index is in its memory), so each try is
    // refused as busy, and the server goes on.
    let stop = Arc::new(AtomicBool::new(false));
    let locker = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let conn = rusqlite::Connection::open(&db).unwrap();
            conn.busy_timeout(Duration::from_millis(20)).unwrap();
            let mut refused = 0;
            loop {
                let err = conn
                    .execute_batch("BEGIN IMMEDIATE; SELECT count(*) FROM key_pairs; COMMIT")
                    .expect_err("another process got into the served database");
                assert_eq!(
                    err.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::DatabaseBusy),
                    "{err}"
                );
                refused += 1;
                if stop.load(Ordering::SeqCst) {
                    break refused;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let results = at_once(16, move |i| {
        let user = if i % 4 == 0 { "bob" } else { "alice" };
        let mut rng = rand::thread_rng();
        let mut statuses = Vec::new();
        for j in 0..30 {
            let name = format!("k{}", rng.gen_range(0..4));
            let version = [
                "compute 2.1",
                "compute 2.2",
                "compute 2.35",
                "compute latest",
            ][j % 4];
            let hdrs = [("X-Auth-Token", user), ("OpenStack-API-Version", version)];
            let path = format!("/v2.1/os-keypairs/{name}");
            let (status, body) = match rng.gen_range(0..4) {
                0 | 1 => http(
                    addr,
                    "POST",
                    "/v2.1/os-keypairs",
                    &hdrs,
                    &import_body(&name),
                )?,
                2 => http(addr, "DELETE", &path, &hdrs, "")?,
                _ if j % 2 == 0 => http(addr, "GET", &path, &hdrs, "")?,
                _ => http(addr, "GET", "/v2.1/os-keypairs", &hdrs, "")?,
            };
            assert!(
                matches!(status, 200 | 201 | 202 | 204 | 404 | 409),
                "{status} {body}"
            );
            statuses.push(status.to_string());
        }
        Ok((200, statuses.join(",")))
    });
    stop.store(true, Ordering::SeqCst);
    assert!(locker.join().unwrap() > 0);
    let all: Vec<&str> = results.iter().flat_map(|(_, s)| s.split(',')).collect();
    assert_eq!(all.len(), 16 * 30);
    // Both outcomes of the race happened (not a timing claim: 480 random operations on 4 names).
    assert!(all.iter().any(|s| s.starts_with("20")), "{all:?}");
    assert!(all.iter().any(|s| *s == "409" || *s == "404"), "{all:?}");
    drop(proc);
    let conn = rusqlite::Connection::open(dir.path().join("nk.db")).unwrap();
    let dups: i64 = conn
        .query_row(
            "SELECT count(*) FROM (SELECT user_id, name FROM key_pairs GROUP BY 1, 2 HAVING count(*) > 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(dups, 0);
}

/// Reads one response (with Content-Length) off a keep-alive connection.
fn read_response(stream: &mut TcpStream) -> std::io::Result<(u16, String)> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            return parse(&buf);
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body)?;
    buf.extend_from_slice(&body);
    parse(&buf)
}

fn keep_alive_post(name: &str) -> (String, String) {
    let body = import_body(name);
    let head = format!(
        "POST /v2.1/os-keypairs HTTP/1.1\r\nHost: x\r\nX-Auth-Token: alice\r\nOpenStack-API-Version: compute 2.2\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    (head, body)
}

#[test]
fn sigterm_under_load_finishes_in_flight_requests_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    // A grace period long enough for a loaded machine; the process exits as soon as the
    // in-flight requests are done, not at its end.
    let (mut proc, db) = file_server(&dir, &["--shutdown-grace", "20"]);
    let addr = proc.compute;

    // An in-flight request, surely accepted by a worker: its connection already carried one
    // exchange; the second request's body is only half sent when SIGTERM arrives.
    let mut inflight = TcpStream::connect(addr).unwrap();
    inflight
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let (head, body) = keep_alive_post("before");
    inflight
        .write_all(format!("{head}{body}").as_bytes())
        .unwrap();
    assert_eq!(read_response(&mut inflight).unwrap().0, 201);
    let (head, body) = keep_alive_post("inflight");
    let (first, second) = body.split_at(body.len() / 2);
    inflight
        .write_all(format!("{head}{first}").as_bytes())
        .unwrap();

    // An idle keep-alive connection must not keep the process alive past the grace period.
    let mut idle = TcpStream::connect(addr).unwrap();
    let (head, body) = keep_alive_post("idle");
    idle.write_all(format!("{head}{body}").as_bytes()).unwrap();
    assert_eq!(read_response(&mut idle).unwrap().0, 201);

    // Load.
    let acked = Arc::new(Mutex::new(vec!["before".to_string(), "idle".to_string()]));
    let count = Arc::new(AtomicUsize::new(0));
    let stopped = Arc::new(AtomicBool::new(false));
    let load: Vec<_> = (0..4)
        .map(|t| {
            let (acked, count, stopped) = (acked.clone(), count.clone(), stopped.clone());
            std::thread::spawn(move || {
                for j in 0.. {
                    let name = format!("load-{t}-{j}");
                    let hdrs = [
                        ("X-Auth-Token", "alice"),
                        ("OpenStack-API-Version", "compute 2.2"),
                    ];
                    match http(
                        addr,
                        "POST",
                        "/v2.1/os-keypairs",
                        &hdrs,
                        &import_body(&name),
                    ) {
                        Ok((201, _)) => {
                            acked.lock().unwrap().push(name);
                            count.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok((status, body)) => panic!("{status} {body}"),
                        Err(_) if stopped.load(Ordering::SeqCst) => return,
                        Err(e) => panic!("before SIGTERM: {e}"),
                    }
                }
            })
        })
        .collect();
    wait_for("load", Duration::from_secs(30), || {
        count.load(Ordering::SeqCst) >= 20
    });
    stopped.store(true, Ordering::SeqCst);
    let kill = Command::new("kill")
        .args(["-TERM", &proc.child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());

    // New connections are refused once the listeners are closed...
    wait_for("listener to close", Duration::from_secs(10), || {
        TcpStream::connect(addr).is_err()
    });
    // ...while the in-flight request still completes.
    inflight.write_all(second.as_bytes()).unwrap();
    let (status, body) = read_response(&mut inflight).expect("in-flight request answered");
    assert_eq!(status, 201, "{body}");
    acked.lock().unwrap().push("inflight".into());
    drop(inflight);
    for t in load {
        t.join().unwrap();
    }

    // Bounded only to catch a hang: grace 20 s, plus a margin.
    let status = wait_exit(&mut proc.child, Duration::from_secs(60)).expect("exits after SIGTERM");
    assert!(status.success(), "{status:?}");
    drop(idle);

    let proc = start(&["--db", &db, "--auth", "noauth"], &[]);
    let (status, listed) = http(
        proc.compute,
        "GET",
        "/v2.1/os-keypairs",
        &[("X-Auth-Token", "alice")],
        "",
    )
    .unwrap();
    assert_eq!(status, 200);
    for name in acked.lock().unwrap().iter() {
        assert!(
            listed.contains(&format!("\"name\": \"{name}\"")),
            "{name} lost"
        );
    }
}

const WINDOW: usize = 24;

/// Every `WINDOW`-byte slice of `secret`'s text (PEM armour lines skipped), labelled `what`:
/// a secret stored whole, split or re-wrapped is still caught.
fn add_text_needles<'a>(
    needles: &mut std::collections::HashMap<Vec<u8>, &'a str>,
    what: &'a str,
    secret: &str,
) {
    for line in secret.lines().filter(|l| !l.starts_with("-----")) {
        for w in line.as_bytes().windows(WINDOW) {
            needles.insert(w.to_vec(), what);
        }
    }
}

/// Every `WINDOW`-byte slice of the decoded (DER / PKCS#12) private key.
fn add_binary_needles<'a>(
    needles: &mut std::collections::HashMap<Vec<u8>, &'a str>,
    what: &'a str,
    base64_text: &str,
) {
    use base64::Engine;
    let flat: String = base64_text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(flat.trim())
        .expect("base64 private key");
    for w in der.windows(WINDOW) {
        needles.insert(w.to_vec(), what);
    }
}

#[test]
fn secrets_never_reach_the_database_wal_or_logs() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nk.db").to_str().unwrap().to_string();
    let mut proc = start(
        &["--db", &db, "--auth", "keystone"],
        &[("RUST_LOG", "debug")],
    );
    let (id, nova) = (proc.identity, proc.compute);
    let login = |user: serde_json::Value, scope: serde_json::Value| {
        let body = serde_json::json!({"auth": {"identity": {"methods": ["password"], "password": {"user": user}}, "scope": scope}});
        let r = request(id, "POST", "/v3/auth/tokens", &[], &body.to_string()).unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
        (r.header("x-subject-token").unwrap().to_string(), r.json())
    };
    let demo_scope = serde_json::json!({"project": {"name": "demo", "domain": {"id": "default"}}});
    let (admin, _) = login(
        serde_json::json!({"name": "admin", "domain": {"id": "default"}, "password": "admin"}),
        serde_json::json!({"project": {"name": "admin", "domain": {"id": "default"}}}),
    );
    let password = format!("Pw-{}-{}", uuid::Uuid::new_v4(), "s3cr3t");
    let r = request(
        id,
        "POST",
        "/v3/users",
        &[("X-Auth-Token", &admin)],
        &serde_json::json!({"user": {"name": "secretive", "domain_id": "default", "password": password}}).to_string(),
    )
    .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let user_id = r.json()["user"]["id"].as_str().unwrap().to_string();
    let roles = request(id, "GET", "/v3/roles", &[("X-Auth-Token", &admin)], "")
        .unwrap()
        .json();
    let member = roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "member")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let projects = request(
        id,
        "GET",
        "/v3/projects?name=demo",
        &[("X-Auth-Token", &admin)],
        "",
    )
    .unwrap()
    .json();
    let demo_project = projects["projects"][0]["id"].as_str().unwrap().to_string();
    let grant = format!("/v3/projects/{demo_project}/users/{user_id}/roles/{member}");
    assert_eq!(
        request(id, "PUT", &grant, &[("X-Auth-Token", &admin)], "")
            .unwrap()
            .status,
        204
    );
    let (token, _) = login(
        serde_json::json!({"id": user_id, "password": password}),
        demo_scope.clone(),
    );
    // A password change too: both the old and the new password are secrets.
    let new_password = format!("Pw2-{}", uuid::Uuid::new_v4());
    let r = request(
        id,
        "POST",
        &format!("/v3/users/{user_id}/password"),
        &[("X-Auth-Token", &token)],
        &serde_json::json!({"user": {"password": new_password, "original_password": password}})
            .to_string(),
    )
    .unwrap();
    let changed = r.status == 204;
    let (token, _) = login(
        serde_json::json!({"id": user_id, "password": if changed { &new_password } else { &password }}),
        demo_scope,
    );

    // Application credential: server-generated secret, then one we choose; log in with both.
    let mut app_secrets = Vec::new();
    for (name, secret) in [
        ("generated", None),
        ("chosen", Some(format!("Ac-{}", uuid::Uuid::new_v4()))),
    ] {
        let mut ac = serde_json::json!({"name": name});
        if let Some(s) = &secret {
            ac["secret"] = serde_json::json!(s);
        }
        let r = request(
            id,
            "POST",
            &format!("/v3/users/{user_id}/application_credentials"),
            &[("X-Auth-Token", &token)],
            &serde_json::json!({"application_credential": ac}).to_string(),
        )
        .unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
        let body = r.json();
        let secret = body["application_credential"]["secret"]
            .as_str()
            .unwrap()
            .to_string();
        let acid = body["application_credential"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let auth = serde_json::json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"id": acid, "secret": secret}}}});
        let r = request(id, "POST", "/v3/auth/tokens", &[], &auth.to_string()).unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
        app_secrets.push(secret);
    }

    // Generated key pairs: SSH (2.1) and X.509 (2.2).
    let mut private_keys = Vec::new();
    let mut public_keys = Vec::new();
    for (version, body) in [
        (
            "compute 2.1",
            serde_json::json!({"keypair": {"name": "gen-ssh"}}),
        ),
        (
            "compute 2.2",
            serde_json::json!({"keypair": {"name": "gen-x509", "type": "x509"}}),
        ),
    ] {
        let r = request(
            nova,
            "POST",
            "/v2.1/os-keypairs",
            &[("X-Auth-Token", &token), ("OpenStack-API-Version", version)],
            &body.to_string(),
        )
        .unwrap();
        assert!(matches!(r.status, 200 | 201), "{}", r.body);
        private_keys.push(
            r.json()["keypair"]["private_key"]
                .as_str()
                .unwrap()
                .to_string(),
        );
        public_keys.push(
            r.json()["keypair"]["public_key"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert!(private_keys[0].starts_with("-----BEGIN RSA PRIVATE KEY-----"));

    // Read the WAL while the server still runs (it holds what was not yet checkpointed), then
    // after a kill -9 (nothing checkpointed on the way out), then after a clean restart.
    let read = |suffix: &str| std::fs::read(format!("{db}{suffix}")).unwrap_or_default();
    let mut stores = vec![("wal (running)", read("-wal")), ("db (running)", read(""))];
    proc.child.kill().unwrap();
    proc.child.wait().unwrap();
    for suffix in ["", "-wal", "-shm"] {
        stores.push((suffix, read(suffix)));
    }
    assert!(!stores.iter().all(|(_, b)| b.is_empty()));
    let log = proc.output.lock().unwrap().clone();
    assert!(
        String::from_utf8_lossy(&log).contains(" INFO "),
        "logging is on"
    );
    stores.push(("log", log));

    let mut needles = std::collections::HashMap::new();
    add_text_needles(&mut needles, "password", &password);
    if changed {
        add_text_needles(&mut needles, "new password", &new_password);
    }
    for secret in &app_secrets {
        add_text_needles(&mut needles, "application credential secret", secret);
    }
    for key in &private_keys {
        add_text_needles(&mut needles, "private key (base64)", key);
        add_binary_needles(&mut needles, "private key (bytes)", key);
    }
    assert!(needles.len() > 1000);
    // Positive control: the search does find what is stored (the public halves).
    let mut public = std::collections::HashMap::new();
    for key in &public_keys {
        add_text_needles(&mut public, "public key", key);
    }
    for key in &public_keys {
        let stored = stores
            .iter()
            .filter(|(w, _)| *w != "log")
            .any(|(_, b)| b.windows(WINDOW).any(|w| public.contains_key(w)));
        assert!(
            stored,
            "public key {key:.40} not found: the search is broken"
        );
    }
    for (where_, bytes) in &stores {
        if let Some(hit) = bytes.windows(WINDOW).find_map(|w| needles.get(w)) {
            panic!("{hit} found in {where_:?}");
        }
    }
}

#[test]
fn a_stalled_request_does_not_hold_shutdown_past_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let (mut proc, _) = file_server(&dir, &["--shutdown-grace", "1"]);
    // Accepted for sure (one full exchange first), then a request that never completes.
    let mut stalled = TcpStream::connect(proc.compute).unwrap();
    stalled
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let (head, body) = keep_alive_post("first");
    stalled
        .write_all(format!("{head}{body}").as_bytes())
        .unwrap();
    assert_eq!(read_response(&mut stalled).unwrap().0, 201);
    let (head, body) = keep_alive_post("never");
    stalled
        .write_all(format!("{head}{}", &body[..10]).as_bytes())
        .unwrap();
    let kill = Command::new("kill")
        .args(["-TERM", &proc.child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    // Grace 1 s; the limit is only a hang guard.
    let status = wait_exit(&mut proc.child, Duration::from_secs(30)).expect("exits");
    assert!(status.success(), "{status:?}");
    let mut rest = Vec::new();
    let _ = stalled.read_to_end(&mut rest);
    assert!(
        rest.is_empty() || !String::from_utf8_lossy(&rest).contains("201"),
        "the stalled request was never completed"
    );
}

#[test]
fn simultaneous_creates_never_overshoot_the_quota_or_share_a_project_name() {
    // Quota 5 per user, 30 different names at once: exactly 5 land.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("q.db").to_str().unwrap().to_string();
    let proc = start(
        &["--db", &db, "--auth", "noauth", "--quota-key-pairs", "5"],
        &[],
    );
    let addr = proc.compute;
    let results = at_once(30, move |i| {
        http(
            addr,
            "POST",
            "/v2.1/os-keypairs",
            &[
                ("X-Auth-Token", "alice"),
                ("OpenStack-API-Version", "compute 2.2"),
            ],
            &import_body(&format!("q{i}")),
        )
    });
    assert_eq!(
        results.iter().filter(|(s, _)| *s == 201).count(),
        5,
        "{results:?}"
    );
    for (_, body) in results.iter().filter(|(s, _)| *s != 201) {
        assert_eq!(
            body,
            r#"{"forbidden": {"code": 403, "message": "Quota exceeded, too many key pairs."}}"#
        );
    }
    drop(proc);

    // Per-user key pairs keep no index by project (every insert would pay for it).
    assert!(!has_project_index(&db));

    // keypair_scope = project: 30 members of one project race for one name; one wins.
    let dir = tempfile::tempdir().unwrap();
    let (proc, db) = file_server(&dir, &["--keypair-scope", "project"]);
    let addr = proc.compute;
    let results = at_once(30, move |i| {
        let token = format!("member{i}:shared");
        http(
            addr,
            "POST",
            "/v2.1/os-keypairs",
            &[
                ("X-Auth-Token", &token),
                ("OpenStack-API-Version", "compute 2.2"),
            ],
            &import_body("team-key"),
        )
    });
    assert_eq!(
        results.iter().filter(|(s, _)| *s == 201).count(),
        1,
        "{results:?}"
    );
    assert_eq!(
        results.iter().filter(|(s, _)| *s == 409).count(),
        29,
        "{results:?}"
    );
    let (_, listed) = http(
        addr,
        "GET",
        "/v2.1/os-keypairs",
        &[("X-Auth-Token", "member0:shared")],
        "",
    )
    .unwrap();
    assert_eq!(listed.matches("team-key").count(), 1, "{listed}");
    // Read once the server is gone: it keeps its database to itself while it runs.
    drop(proc);
    assert!(has_project_index(&db));
}
