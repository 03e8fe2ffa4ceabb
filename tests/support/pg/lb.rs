//! Several real `novakeys serve` processes on ONE fresh PostgreSQL database behind HAProxy
//! (Debian's `haproxy`, installed by [`super::install_package`] when missing): one HAProxy
//! frontend per listener (compute, identity, alibaba, tencent, twcc, console) on a free
//! loopback port, round-robin per request over the processes (HAProxy's default keep-alive
//! balances each request of a kept-alive client on its own, over reused server connections), health
//! checks on `/healthcheck` every 200 ms. Each process is started with
//! `--public-identity-url` and `--public-compute-url` naming the load balancer, so the catalog
//! sends clients through it.
//!
//! Which process answered a request is read from the processes' own request logs
//! (`--log-format json` on stderr), not from HAProxy: [`Cluster::served_by`].
//!
//! Torn down in `Drop`; a watchdog shell kills the processes when the test process ends
//! without dropping (a panic across threads, a kill).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Every listener a process has, in the order `serve` prints them.
pub const FRONTS: [&str; 6] = [
    "compute", "identity", "alibaba", "tencent", "twcc", "console",
];

/// HAProxy's cookie that keeps a console browser on one process.
pub const STICKY_COOKIE: &str = "NKSERVER";

pub struct Proc {
    child: Child,
    /// Its own listeners (front name, address), past the load balancer.
    pub listeners: Vec<(String, SocketAddr)>,
    /// Its request log, one JSON object per answered API call.
    requests: Arc<Mutex<Vec<serde_json::Value>>>,
    /// The rest of its stderr, line by line.
    stderr: Arc<Mutex<Vec<String>>>,
}

pub struct Cluster {
    pub procs: Vec<Proc>,
    /// The load balancer's frontends (front name, address).
    pub fronts: Vec<(String, SocketAddr)>,
    haproxy: Child,
    dir: tempfile::TempDir,
}

fn find_haproxy() -> Option<PathBuf> {
    ["/usr/sbin/haproxy", "/usr/bin/haproxy"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// The address named `front` in `list`; panics naming `what` is missing.
fn address_of(list: &[(String, SocketAddr)], front: &str, what: &str) -> SocketAddr {
    list.iter()
        .find(|(n, _)| n == front)
        .map(|(_, a)| *a)
        .unwrap_or_else(|| panic!("no {front} {what}"))
}

fn log_reader(
    stream: impl Read + Send + 'static,
    requests: Arc<Mutex<Vec<serde_json::Value>>>,
    other: Arc<Mutex<Vec<String>>>,
) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            match serde_json::from_str::<serde_json::Value>(&line) {
                Ok(v) if v["target"] == "novakeys::request" => requests.lock().unwrap().push(v),
                _ => other.lock().unwrap().push(line),
            }
        }
    });
}

impl Proc {
    fn start(dir: &Path, db: &str, urls: (&str, &str), extra: &[&str]) -> Proc {
        let (identity_url, compute_url) = urls;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_novakeys"));
        cmd.env_clear()
            .current_dir(dir)
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .args([
                "serve",
                "--db",
                db,
                "--log-format",
                "json",
                "--log-level",
                "info",
            ])
            .args(["--public-identity-url", identity_url])
            .args(["--public-compute-url", compute_url])
            // No background RSA generation: three processes would spend the 2 cores on it.
            .args(["--keygen-pool", "0"])
            .args(extra);
        for front in FRONTS {
            cmd.arg(format!("--{front}-bind")).arg("127.0.0.1:0");
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("novakeys starts");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let other = Arc::new(Mutex::new(Vec::new()));
        log_reader(
            child.stderr.take().unwrap(),
            requests.clone(),
            other.clone(),
        );
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut listeners = Vec::new();
        while listeners.len() < FRONTS.len() {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(100));
                panic!(
                    "serve ended before listening: {}",
                    other.lock().unwrap().join("\n")
                );
            };
            let Some((name, url)) = line
                .strip_prefix("novakeys: ")
                .and_then(|l| l.split_once(" listening on "))
            else {
                continue;
            };
            let addr = url.trim_start_matches("http://").parse().expect(url);
            listeners.push((name.to_string(), addr));
        }
        std::thread::spawn(move || for _ in lines {});
        Proc {
            child,
            listeners,
            requests,
            stderr: other,
        }
    }

    pub fn listener(&self, front: &str) -> SocketAddr {
        address_of(&self.listeners, front, "listener")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its request log so far.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        self.requests.lock().unwrap().clone()
    }

    /// What else it has written to stderr so far (start-up, warnings, errors).
    #[allow(dead_code)] // read by tests/compat.rs only, for its failure messages
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }
}

impl Cluster {
    /// `n` processes (with `extra` serve flags) on a fresh database behind a new HAProxy.
    pub fn start(n: usize, extra: &[&str]) -> Cluster {
        let haproxy = super::install_package("haproxy", "haproxy", find_haproxy)
            .unwrap_or_else(|e| panic!("HAProxy cannot be installed: {e}"));
        let db = super::url_of(&super::fresh_database());
        let dir = tempfile::tempdir().unwrap();
        let ports: Vec<(String, u16)> = FRONTS
            .iter()
            .map(|f| (f.to_string(), super::reserved_port().unwrap()))
            .collect();
        let port = |f: &str| ports.iter().find(|(n, _)| n == f).unwrap().1;
        let identity_url = format!("http://127.0.0.1:{}", port("identity"));
        let compute_url = format!("http://127.0.0.1:{}", port("compute"));
        // One at a time: the first one migrates and loads the fixtures.
        let procs: Vec<Proc> = (0..n)
            .map(|_| Proc::start(dir.path(), &db, (&identity_url, &compute_url), extra))
            .collect();
        let config = dir.path().join("haproxy.cfg");
        std::fs::write(&config, haproxy_config(&ports, &procs, dir.path())).unwrap();
        let check = Command::new(&haproxy)
            .args(["-c", "-q", "-f"])
            .arg(&config)
            .output()
            .expect("haproxy -c runs");
        assert!(
            check.status.success(),
            "haproxy config: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        let lb_log = std::fs::File::create(dir.path().join("haproxy.log")).unwrap();
        let child = Command::new(&haproxy)
            .arg("-db")
            .arg("-f")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(lb_log.try_clone().unwrap())
            .stderr(lb_log)
            .spawn()
            .expect("haproxy starts");
        let cluster = Cluster {
            procs,
            fronts: ports
                .iter()
                .map(|(f, p)| (f.clone(), SocketAddr::from(([127, 0, 0, 1], *p))))
                .collect(),
            haproxy: child,
            dir,
        };
        cluster.watchdog();
        cluster.wait_until_all_up();
        cluster
    }

    /// The load balancer's address for `front`.
    pub fn front(&self, front: &str) -> SocketAddr {
        address_of(&self.fronts, front, "frontend")
    }

    /// What HAProxy has written so far.
    pub fn haproxy_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("haproxy.log")).unwrap_or_default()
    }

    fn stats_socket(&self) -> PathBuf {
        self.dir.path().join("haproxy.sock")
    }

    /// HAProxy's view of each server: (backend, server, status) as `show stat` says.
    pub fn server_states(&self) -> Vec<(String, String, String)> {
        let Ok(mut s) = std::os::unix::net::UnixStream::connect(self.stats_socket()) else {
            return Vec::new();
        };
        s.write_all(b"show stat\n").unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        let mut lines = out.lines();
        let Some(head) = lines.next().and_then(|h| h.strip_prefix("# ")) else {
            return Vec::new();
        };
        let cols: Vec<&str> = head.split(',').collect();
        let at = |name: &str| cols.iter().position(|c| *c == name).unwrap();
        let (px, sv, st) = (at("pxname"), at("svname"), at("status"));
        lines
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|f| f.len() > st && f[sv].starts_with('p'))
            .map(|f| (f[px].to_string(), f[sv].to_string(), f[st].to_string()))
            .collect()
    }

    /// Waits until HAProxy's health checks say `server` (`p0`, `p1`, ...) is `status`
    /// ("UP"/"DOWN") in every backend; panics after 10 s.
    pub fn wait_for_server(&self, server: &str, status: &str) {
        let start = Instant::now();
        loop {
            let states = self.server_states();
            let mine: Vec<_> = states.iter().filter(|(_, s, _)| s == server).collect();
            if mine.len() == FRONTS.len() && mine.iter().all(|(_, _, st)| st == status) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{server} not {status}: {states:?}\n{}",
                self.haproxy_log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_until_all_up(&self) {
        for i in 0..self.procs.len() {
            self.wait_for_server(&format!("p{i}"), "UP");
        }
    }

    /// kill -9 of process `i` (it stays in `procs`, dead).
    pub fn kill9(&mut self, i: usize) {
        self.procs[i].child.kill().unwrap();
        let _ = self.procs[i].child.wait();
    }

    /// How many request lines each process has logged so far.
    pub fn counts(&self) -> Vec<usize> {
        self.procs
            .iter()
            .map(|p| p.requests.lock().unwrap().len())
            .collect()
    }

    /// Which process logged a request line `method path` (the path as logged, without the
    /// query) since `before` (from [`Cluster::counts`]); waits up to 5 s for the log, which is
    /// written every 20 ms. Panics unless exactly one process did.
    pub fn served_by(&self, before: &[usize], method: &str, path: &str) -> usize {
        let start = Instant::now();
        loop {
            let hits: Vec<usize> = self
                .procs
                .iter()
                .enumerate()
                .filter(|(i, p)| {
                    p.requests.lock().unwrap()[before[*i]..]
                        .iter()
                        .any(|r| r["method"] == method && r["path"] == path)
                })
                .map(|(i, _)| i)
                .collect();
            match hits.len() {
                1 => return hits[0],
                0 if start.elapsed() < Duration::from_secs(5) => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                _ => panic!("{method} {path} was logged by processes {hits:?}"),
            }
        }
    }

    /// Kills every process (HAProxy and the servers) when this test process ends first
    /// (whatever way it ends); does nothing once `Drop` has removed the directory.
    fn watchdog(&self) {
        let pids: Vec<String> = self
            .procs
            .iter()
            .map(|p| p.pid().to_string())
            .chain([self.haproxy.id().to_string()])
            .collect();
        let dir = self.dir.path().display();
        let script = format!(
            "while kill -0 {me} 2>/dev/null && [ -d '{dir}' ]; do sleep 0.5; done; \
             [ -d '{dir}' ] && kill -9 {pids} 2>/dev/null; rm -rf '{dir}'",
            me = std::process::id(),
            pids = pids.join(" ")
        );
        super::spawn_detached(&script).expect("watchdog starts");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.haproxy.kill();
        let _ = self.haproxy.wait();
        for p in &mut self.procs {
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
    }
}

/// One frontend per listener, each balancing over that listener of every process.
fn haproxy_config(ports: &[(String, u16)], procs: &[Proc], dir: &Path) -> String {
    let mut c = format!(
        "global\n\
         \tmaxconn 2000\n\
         \tstats socket {} mode 600 level admin\n\
         defaults\n\
         \tmode http\n\
         \ttimeout connect 2s\n\
         \ttimeout client 30s\n\
         \ttimeout server 30s\n\
         \ttimeout http-keep-alive 10s\n\
         \t# a connection refused by a dead process is tried again on another\n\
         \tretries 2\n\
         \toption redispatch 1\n\
         \tdefault-server check inter 200ms fall 2 rise 1\n",
        dir.join("haproxy.sock").display()
    );
    for (front, port) in ports {
        c.push_str(&format!(
            "frontend {front}\n\tbind 127.0.0.1:{port}\n\tdefault_backend {front}\n\
             backend {front}\n\tbalance roundrobin\n\toption httpchk GET /healthcheck\n"
        ));
        // Console sessions live in the process that logged the user in: a browser sticks to
        // it by HAProxy's cookie (as the README's snippet says).
        let sticky = *front == "console";
        if sticky {
            c.push_str(&format!(
                "\tcookie {STICKY_COOKIE} insert indirect nocache httponly\n"
            ));
        }
        for (i, p) in procs.iter().enumerate() {
            let cookie = if sticky {
                format!(" cookie p{i}")
            } else {
                String::new()
            };
            c.push_str(&format!("\tserver p{i} {}{cookie}\n", p.listener(front)));
        }
    }
    c
}
