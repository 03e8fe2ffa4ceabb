//! A private PostgreSQL server for the tests, from Debian's `postgresql` package: installed
//! (apt-get, under a lock file) when no `initdb` is there, `initdb` into a directory under
//! `target/tmp/pg/` (or, when the `postgres` user cannot reach the checkout, under the system
//! temp dir: see [`clusters`]), on a free loopback port and a socket directory beside it, as the
//! `postgres` OS user when the tests run as root (PostgreSQL refuses root). One server per test
//! process, started by the first test that asks; one fresh database per test. A watchdog stops
//! the server and removes its directory when the test process ends, however it ends; a server
//! left behind by a run whose watchdog was killed too is stopped by the next run.
//!
//! It never connects to a system database or the default port. If it cannot start, the test
//! fails with why (no silent skip).
//!
//! Shared by the test binaries that need PostgreSQL (`tests/it`, `tests/compat.rs`) through
//! `#[path]`; each binary uses part of it.

pub mod lb;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

pub struct Server {
    bin: PathBuf,
    /// The socket directory.
    socket: PathBuf,
    pub port: u16,
    /// The cluster's data directory and the `pg_ctl -o` options it was started with (to
    /// start it again on the same port).
    data: PathBuf,
    options: String,
    log: PathBuf,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
static DATABASES: AtomicU32 = AtomicU32::new(0);

/// The running server, started on first use; panics with the reason if it cannot start.
pub fn server() -> &'static Server {
    match SERVER.get_or_init(start) {
        Ok(s) => s,
        Err(why) => panic!("the test PostgreSQL server cannot start: {why}"),
    }
}

/// A new, empty database on the test server; its libpq `key=value` connection string (over
/// the socket).
pub fn fresh_database() -> String {
    let s = server();
    let name = format!(
        "nk_{}_{}",
        std::process::id(),
        DATABASES.fetch_add(1, Ordering::Relaxed)
    );
    s.psql(&format!("CREATE DATABASE {name} STRATEGY FILE_COPY"));
    format!(
        "host={} port={} user=postgres dbname={name}",
        s.socket.display(),
        s.port
    )
}

/// The database name in the libpq string `conn`.
pub fn name_of(conn: &str) -> &str {
    conn.split_whitespace()
        .find_map(|kv| kv.strip_prefix("dbname="))
        .expect("a dbname")
}

/// A `postgres://` URL (over TCP) for the libpq string `conn`.
pub fn url_of(conn: &str) -> String {
    format!(
        "postgres://postgres@127.0.0.1:{}/{}",
        server().port,
        name_of(conn)
    )
}

impl Server {
    fn psql(&self, sql: &str) {
        self.psql_in("postgres", sql);
    }

    /// Runs `sql` in `database` (of this server only); its unaligned output.
    pub fn psql_in(&self, database: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-U",
                "postgres",
                "-d",
            ])
            .arg(database)
            .arg("-h")
            .arg(&self.socket)
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-c")
            .arg(sql)
            .output()
            .expect("psql runs");
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// Where the install lock lives, and the clusters when the server user can reach it.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pg")
}

/// Where the clusters live: under `target/` as a rule. When the tests run as root in a
/// checkout the `postgres` user cannot reach (a clone in a 0700 directory, as `mktemp -d`
/// makes), the server could not open its own data directory there; the clusters then go to
/// a directory of the system temp dir named after this `target/`, so two checkouts never
/// share one.
fn clusters() -> PathBuf {
    let under_target = root();
    let _ = std::fs::create_dir_all(&under_target);
    if !is_root() || reachable_by_server_user(&under_target) {
        return under_target;
    }
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    under_target.hash(&mut h);
    std::env::temp_dir().join(format!("novakeys-pg-{:016x}", h.finish()))
}

/// Whether the `postgres` OS user can enter `dir` (asked of the system, so ACLs count too).
fn reachable_by_server_user(dir: &Path) -> bool {
    Command::new("runuser")
        .args(["-u", "postgres", "--", "test", "-x"])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// `program` run as the `postgres` OS user when we are root, else as ourselves.
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` with an `initdb`.
fn find_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, b)| b)
}

/// Installs Debian's `postgresql` when it is missing, one test process at a time.
fn install() -> Result<PathBuf, String> {
    install_package("postgresql", "initdb", find_bin)
}

/// Installs Debian's `package` when `find` finds nothing (`what`: the program looked for, for
/// the message), under the install lock so that one test process at a time runs apt-get; says
/// what it installs. `find`'s answer after the install, or why there is none.
pub fn install_package(
    package: &str,
    what: &str,
    find: fn() -> Option<PathBuf>,
) -> Result<PathBuf, String> {
    if let Some(found) = find() {
        return Ok(found);
    }
    std::fs::create_dir_all(root()).map_err(|e| e.to_string())?;
    let lock = std::fs::File::create(root().join("install.lock")).map_err(|e| e.to_string())?;
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a descriptor we own; released when `lock` is closed.
    if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(format!("install lock: {}", std::io::Error::last_os_error()));
    }
    if let Some(found) = find() {
        return Ok(found);
    }
    eprintln!("tests: no {what} found; installing Debian's {package} (apt-get update && apt-get install -y {package})");
    run(
        Command::new("apt-get").arg("update").arg("-q"),
        "apt-get update",
    )?;
    run(
        Command::new("apt-get")
            .args(["install", "-y", "-q", package])
            .env("DEBIAN_FRONTEND", "noninteractive"),
        &format!("apt-get install -y {package}"),
    )?;
    find().ok_or_else(|| format!("{package} installed, but still no {what}"))
}

fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid as i32, 0) == 0 }
}

/// Stops servers whose test process is gone (their watchdog was killed with it) and removes
/// their directories.
fn clean_stale(bin: &Path) {
    let Ok(entries) = std::fs::read_dir(clusters()) else {
        return;
    };
    for e in entries.flatten() {
        // `<pid>` (the shared server) or `<pid>-p<n>` (a private one).
        let Some(pid) = e
            .file_name()
            .to_str()
            .and_then(|n| n.split('-').next()?.parse::<u32>().ok())
        else {
            continue;
        };
        if alive(pid) {
            continue;
        }
        let data = e.path().join("data");
        if data.join("postmaster.pid").exists() {
            let _ = as_server_user(&bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .args(["stop", "-m", "immediate", "-w"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = std::fs::remove_dir_all(e.path());
    }
}

/// A loopback port for a listener started later than the port is chosen (HAProxy's
/// frontends, named to the processes behind them before HAProxy starts): below the kernel's
/// ephemeral range, so no outgoing connection and no port-0 listener of a test running beside
/// can take it meanwhile (a port from `free_port` was taken so in CI), and a new one per call
/// in this process, from an offset of its own.
pub fn reserved_port() -> Result<u16, String> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    const FIRST: u32 = 10_000;
    let ephemeral = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32_768);
    if ephemeral <= FIRST + 100 {
        return free_port();
    }
    let span = ephemeral - FIRST;
    let offset = std::process::id().wrapping_mul(7919) % span;
    for _ in 0..span {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = (FIRST + (offset + n) % span) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err(format!("no free port from {FIRST} to {ephemeral}"))
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

fn start() -> Result<Server, String> {
    let bin = install()?;
    clean_stale(&bin);
    start_in(bin, clusters().join(std::process::id().to_string()))
}

/// Initialises a cluster in `dir` (named so that [`clean_stale`] finds it) and starts it on a
/// free port, with a watchdog.
fn start_in(bin: PathBuf, dir: PathBuf) -> Result<Server, String> {
    let _ = std::fs::remove_dir_all(&dir);
    let (data, socket) = (dir.join("data"), dir.join("sock"));
    for d in [&dir, &socket] {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    if is_root() {
        run(
            Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir),
            "chown",
        )?;
    }
    run(
        as_server_user(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"])
            // A linguistic default collation, as most servers have: the store must order
            // names bytewise (as SQLite does) whatever the database's default is.
            .args([
                "--locale=C.UTF-8",
                "--locale-provider=icu",
                "--icu-locale=en-US",
            ]),
        "initdb",
    )?;
    // The server is retried on another port if the free one was taken in between.
    let mut last = String::new();
    for _ in 0..5 {
        let port = free_port()?;
        let server = Server {
            options: format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
                 -c full_page_writes=off -c max_connections=300 -c shared_buffers=32MB",
                socket.display()
            ),
            bin: bin.clone(),
            socket: socket.clone(),
            port,
            data: data.clone(),
            log: dir.join("server.log"),
        };
        match server.pg_ctl_start() {
            Ok(()) => {
                watchdog(&bin, &dir, &data)?;
                eprintln!(
                    "test PostgreSQL: {} on 127.0.0.1:{port} and {}",
                    bin.display(),
                    socket.display()
                );
                return Ok(server);
            }
            Err(e) => {
                let log = std::fs::read_to_string(&server.log).unwrap_or_default();
                last = format!("{e}\n{log}");
            }
        }
    }
    Err(last)
}

impl Server {
    fn pg_ctl_start(&self) -> Result<(), String> {
        // Not through `run`: the server could keep a captured pipe open; it logs to a file.
        as_server_user(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .arg("-o")
            .arg(&self.options)
            .arg("-l")
            .arg(&self.log)
            .args(["-w", "-t", "60", "start"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("pg_ctl start: {e}"))
            .and_then(|s| {
                s.success()
                    .then_some(())
                    .ok_or(format!("pg_ctl start failed ({s})"))
            })
    }
}

/// A second server of the test process's own, for a test that stops and starts it (the shared
/// one must stay up for the others). Stopped and removed when the test process ends, like the
/// shared one.
pub struct PrivateServer(Server);

static PRIVATE: AtomicU32 = AtomicU32::new(0);

/// Starts a new private server; panics with the reason if it cannot start.
pub fn private_server() -> PrivateServer {
    let bin = install().unwrap_or_else(|why| panic!("no PostgreSQL to start: {why}"));
    // Named after the test process, as the shared one, for [`clean_stale`].
    let dir = clusters().join(format!(
        "{}-p{}",
        std::process::id(),
        PRIVATE.fetch_add(1, Ordering::Relaxed)
    ));
    match start_in(bin, dir) {
        Ok(s) => PrivateServer(s),
        Err(why) => panic!("a private PostgreSQL server cannot start: {why}"),
    }
}

impl PrivateServer {
    pub fn server(&self) -> &Server {
        &self.0
    }

    /// A new database on this server, as a `postgres://` URL over TCP.
    pub fn fresh_database(&self) -> String {
        let name = format!("nk_private_{}", DATABASES.fetch_add(1, Ordering::Relaxed));
        self.0.psql(&format!("CREATE DATABASE {name}"));
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.0.port)
    }

    /// Stops the server (`-m fast`: sessions are ended, as in an operator's restart) and
    /// waits until it is down.
    pub fn stop(&self) {
        let s = &self.0;
        run(
            as_server_user(&s.bin.join("pg_ctl"))
                .arg("-D")
                .arg(&s.data)
                .args(["stop", "-m", "fast", "-w", "-t", "60"]),
            "pg_ctl stop",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    }

    /// Starts it again on the same port, waiting until it accepts connections.
    pub fn start(&self) {
        self.0.pg_ctl_start().unwrap_or_else(|e| panic!("{e}"));
    }

    /// Freezes every process of the server (SIGSTOP): connections stay open and the kernel
    /// still accepts new ones, but nothing answers, as with a hung host or a partition. The
    /// server runs again when the guard goes (also on a panic).
    pub fn freeze(&self) -> Frozen {
        let pids = self.processes();
        assert!(pids.len() > 1, "the server and its workers: {pids:?}");
        signal(&pids, "-STOP");
        Frozen(pids)
    }

    /// The postmaster (the first line of `postmaster.pid`) and its children.
    fn processes(&self) -> Vec<u32> {
        let file = self.0.data.join("postmaster.pid");
        let text =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let main: u32 = text.lines().next().unwrap_or("").trim().parse().unwrap();
        let mut pids = vec![main];
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            // `pid (comm) state ppid …`; comm may hold spaces, so split after its ')'.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if ppid == Some(main) {
                pids.push(pid);
            }
        }
        pids
    }
}

/// A frozen server's processes, continued on drop.
pub struct Frozen(Vec<u32>);

impl Drop for Frozen {
    fn drop(&mut self) {
        signal(&self.0, "-CONT");
    }
}

fn signal(pids: &[u32], sig: &str) {
    let status = Command::new("kill")
        .arg(sig)
        .args(pids.iter().map(|p| p.to_string()))
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill {sig} {pids:?}: {status}");
}

/// A detached shell that waits for this process to end, then stops the server and removes
/// its directory.
fn watchdog(bin: &Path, dir: &Path, data: &Path) -> Result<(), String> {
    let stop = if is_root() {
        format!(
            "runuser -u postgres -- '{}' -D '{}' stop -m immediate -w",
            bin.join("pg_ctl").display(),
            data.display()
        )
    } else {
        format!(
            "'{}' -D '{}' stop -m immediate -w",
            bin.join("pg_ctl").display(),
            data.display()
        )
    };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1; rm -rf '{}'",
        dir.display(),
        pid = std::process::id()
    );
    spawn_detached(&script).map_err(|e| format!("watchdog: {e}"))
}

/// Runs `sh -c script` in a session of its own, silent: it outlives this process on purpose
/// and is never waited for.
fn spawn_detached(script: &str) -> std::io::Result<()> {
    Command::new("setsid")
        .args(["sh", "-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(|_| ())
}
