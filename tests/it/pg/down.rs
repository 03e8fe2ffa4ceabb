//! The database going away while `novakeys serve` runs on it: every request fails with its
//! front's genuine 503-class answer within a bound (never a hang, a panic or a 500), and the
//! process recovers by itself when the database is back, with nothing acknowledged lost. On a
//! private server of this test's own (the shared one stays up for the others).

use super::lb::sign;
use super::private_server;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII5J04CljaeVO5LeIXMByG9K0Yy+5h481th5PkWvlFm9 ed@oracle";
const TWCC_KEY: &str = "nk-twcc-demo-key-0001";
const TWCC_SITE: &str = "openstack-taichung-default-2";
/// How long a failing request may take: well below the client timeout the process is given.
const BOUND: Duration = Duration::from_secs(10);

struct Served {
    child: Child,
    urls: Vec<(String, String)>,
}

impl Served {
    fn url(&self, name: &str) -> &str {
        &self.urls.iter().find(|(n, _)| n == name).unwrap().1
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `novakeys serve` on `db` with every listener on a free port.
fn serve(db: &str) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_novakeys"))
        .env_clear()
        .current_dir(dir.path())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args([
            "serve",
            "--compute-bind",
            "127.0.0.1:0",
            "--identity-bind",
            "127.0.0.1:0",
            "--twcc-bind",
            "127.0.0.1:0",
            "--alibaba-bind",
            "127.0.0.1:0",
            "--tencent-bind",
            "127.0.0.1:0",
            "--console-bind",
            "127.0.0.1:0",
            "--client-timeout",
            "20",
            "--db",
            db,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("novakeys starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut urls = Vec::new();
    for _ in 0..6 {
        let line = lines.next().expect("a listening line").unwrap();
        let rest = line
            .strip_prefix("novakeys: ")
            .unwrap_or_else(|| panic!("{line}"));
        let (name, url) = rest.split_once(" listening on ").unwrap();
        urls.push((name.to_string(), url.to_string()));
    }
    std::thread::spawn(move || for _ in lines {});
    Served { child, urls }
}

struct Answer {
    status: u16,
    head: String,
    body: String,
    took: Duration,
}

fn curl(url: &str, args: &[&str]) -> Answer {
    let started = Instant::now();
    let out = Command::new("curl")
        .args([
            "-s",
            "-m",
            "60",
            "-D",
            "-",
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
        ])
        .args(args)
        .arg(url)
        .output()
        .expect("curl runs");
    let took = started.elapsed();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (rest, code) = text.rsplit_once('\n').unwrap();
    let (head, body) = rest.split_once("\r\n\r\n").unwrap_or((rest, ""));
    Answer {
        status: code.parse().unwrap_or(0),
        head: head.to_string(),
        body: body.to_string(),
        took,
    }
}

const LOGIN: &str = r#"{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "demo", "domain": {"id": "default"}, "password": "demo"}}}, "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}}}"#;

fn login(s: &Served) -> Answer {
    curl(
        &format!("{}/v3/auth/tokens", s.url("identity")),
        &[
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "-d",
            LOGIN,
        ],
    )
}

fn token(s: &Served) -> String {
    let a = login(s);
    assert_eq!(a.status, 201, "{}", a.body);
    a.head
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("x-subject-token"))
                .map(|(_, v)| v.trim().to_string())
        })
        .expect("a token")
}

fn nova_create(s: &Served, token: &str, name: &str) -> Answer {
    let body = format!(r#"{{"keypair": {{"name": "{name}", "public_key": "{KEY}"}}}}"#);
    curl(
        &format!("{}/v2.1/os-keypairs", s.url("compute")),
        &[
            "-X",
            "POST",
            "-H",
            &format!("X-Auth-Token: {token}"),
            "-H",
            "Content-Type: application/json",
            "-d",
            &body,
        ],
    )
}

fn nova_list(s: &Served, token: &str) -> Answer {
    curl(
        &format!("{}/v2.1/os-keypairs", s.url("compute")),
        &["-H", &format!("X-Auth-Token: {token}")],
    )
}

fn twcc_list(s: &Served) -> Answer {
    curl(
        &format!("{}/api/v3/{TWCC_SITE}/keypairs/", s.url("twcc")),
        &[
            "-H",
            &format!("x-api-key: {TWCC_KEY}"),
            "-H",
            &format!("x-api-host: {TWCC_SITE}"),
        ],
    )
}

/// The fronts whose clients sign their requests, called through the load-balancer tests'
/// signers (async: run on a runtime of their own).
fn alibaba_describe(s: &Served) -> crate::common::RawResponse {
    let addr = s
        .url("alibaba")
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    block_on(sign::alibaba(
        addr,
        "DescribeKeyPairs",
        &[("RegionId", "cn-hangzhou")],
    ))
}

fn tencent_describe(s: &Served) -> crate::common::RawResponse {
    let addr = s
        .url("tencent")
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    block_on(sign::tencent(
        addr,
        "DescribeKeyPairs",
        &serde_json::json!({}),
    ))
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A console session of the demo user.
fn console_log_in(s: &Served) -> crate::console::Browser {
    let addr = s
        .url("console")
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    block_on(crate::console::logged_in(addr, "demo"))
}

fn console_keypairs(browser: &mut crate::console::Browser) -> crate::common::RawResponse {
    block_on(browser.get("/keypairs"))
}

fn json(a: &Answer) -> serde_json::Value {
    serde_json::from_str(&a.body).unwrap_or_else(|e| panic!("{e}: {}", a.body))
}

/// Nova's and Keystone's 503 (`serviceUnavailable`; Keystone's `error` body) and TWCC's 503
/// with `Retry-After`, each within the bound.
fn assert_unavailable(s: &Served, token: &str) {
    let a = nova_list(s, token);
    assert_eq!(a.status, 503, "nova list: {}", a.body);
    assert!(a.took < BOUND, "nova list took {:?}", a.took);
    let v = json(&a);
    assert_eq!(v["serviceUnavailable"]["code"], 503, "{}", a.body);

    let a = nova_create(s, token, "while-down");
    assert_eq!(a.status, 503, "nova create: {}", a.body);
    assert!(a.took < BOUND, "nova create took {:?}", a.took);

    let a = login(s);
    assert_eq!(a.status, 503, "keystone login: {}", a.body);
    assert!(a.took < BOUND, "keystone login took {:?}", a.took);
    let v = json(&a);
    assert_eq!(v["error"]["code"], 503, "{}", a.body);
    assert_eq!(v["error"]["title"], "Service Unavailable", "{}", a.body);

    // A token that cannot be checked is not a bad token: no 401/404 that would make a client
    // throw it away or log in again.
    let a = curl(
        &format!("{}/v3/auth/tokens", s.url("identity")),
        &[
            "-H",
            &format!("X-Auth-Token: {token}"),
            "-H",
            &format!("X-Subject-Token: {token}"),
        ],
    );
    assert_eq!(a.status, 503, "keystone validate: {}", a.body);
    assert!(a.took < BOUND, "keystone validate took {:?}", a.took);
    let a = curl(
        &format!("{}/v3/credentials", s.url("identity")),
        &["-H", &format!("X-Auth-Token: {token}")],
    );
    assert_eq!(a.status, 503, "keystone credentials: {}", a.body);

    let a = twcc_list(s);
    assert_eq!(a.status, 503, "twcc list: {}", a.body);
    assert!(a.took < BOUND, "twcc list took {:?}", a.took);
    assert!(
        a.head.to_ascii_lowercase().contains("retry-after:"),
        "{}",
        a.head
    );

    let started = Instant::now();
    let a = alibaba_describe(s);
    assert!(
        started.elapsed() < BOUND,
        "alibaba took {:?}",
        started.elapsed()
    );
    assert_eq!(a.status, 503, "alibaba: {}", a.text());
    assert_eq!(a.json()["Code"], "ServiceUnavailable", "{}", a.text());

    let started = Instant::now();
    let a = tencent_describe(s);
    assert!(
        started.elapsed() < BOUND,
        "tencent took {:?}",
        started.elapsed()
    );
    // Tencent answers its errors inside an HTTP 200 envelope.
    assert_eq!(a.status, 200, "tencent: {}", a.text());
    assert_eq!(
        a.json()["Response"]["Error"]["Code"],
        "ResourceUnavailable",
        "{}",
        a.text()
    );
}

/// The console's page for a logged-in user while the store is away: 503 with `Retry-After`,
/// and the session is kept for when it is back.
fn assert_console_unavailable(browser: &mut crate::console::Browser) {
    let started = Instant::now();
    let a = console_keypairs(browser);
    assert!(
        started.elapsed() < BOUND,
        "console took {:?}",
        started.elapsed()
    );
    assert_eq!(a.status, 503, "console: {}", a.text());
    assert!(a.text().contains("Service unavailable"), "{}", a.text());
    assert!(a.header("retry-after").is_some(), "{:?}", a.headers);
}

fn names(s: &Served, token: &str) -> Vec<String> {
    let a = nova_list(s, token);
    assert_eq!(a.status, 200, "{}", a.body);
    json(&a)["keypairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["keypair"]["name"].as_str().unwrap().to_string())
        .collect()
}

/// Retries `f` until it holds, for up to `BOUND` (recovery may take one failed request per
/// broken pooled connection).
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let started = Instant::now();
    while !f() {
        assert!(started.elapsed() < BOUND, "{what}: not recovered");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// One outage: a served database with a key pair and a console session; `away` takes the
/// database away (its result is kept until `back`); every front answers its 503 within the
/// bound, twice (the first failures leave nothing stuck); `back` returns it, and serving
/// recovers with the session and every acknowledged write kept. `unsure` names the writes
/// refused during the outage that may still land (a frozen server may yet run what it was
/// sent); a stopped one ran none.
fn outage<G>(
    away: impl FnOnce(&super::PrivateServer) -> G,
    back: impl FnOnce(&super::PrivateServer, G),
    unsure: &[&str],
) {
    let pg = private_server();
    let s = serve(&pg.fresh_database());
    let token = token(&s);
    assert_eq!(nova_create(&s, &token, "before").status, 200);
    assert_eq!(twcc_list(&s).status, 200);
    let mut browser = console_log_in(&s);
    assert_eq!(console_keypairs(&mut browser).status, 200);

    let gone = away(&pg);
    assert_unavailable(&s, &token);
    assert_console_unavailable(&mut browser);
    assert_unavailable(&s, &token);
    back(&pg, gone);

    eventually("nova list", || nova_list(&s, &token).status == 200);
    let page = console_keypairs(&mut browser);
    assert_eq!(
        page.status,
        200,
        "the console session outlived the outage: {}",
        page.text()
    );
    assert!(page.text().contains("before"), "{}", page.text());
    let kept = names(&s, &token);
    assert!(
        kept.contains(&"before".to_string()),
        "acknowledged writes are kept: {kept:?}"
    );
    assert!(
        kept.iter()
            .all(|n| n == "before" || unsure.contains(&n.as_str())),
        "{kept:?}"
    );
    let created = nova_create(&s, &token, "after");
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(login(&s).status, 201);
    assert_eq!(twcc_list(&s).status, 200);
    assert!(names(&s, &token).contains(&"after".to_string()));
}

#[test]
fn a_stopped_database_gives_each_fronts_503_and_serving_recovers_when_it_is_back() {
    outage(|pg| pg.stop(), |pg, ()| pg.start(), &[]);
}

#[test]
fn a_database_that_stops_answering_gives_503_within_the_bound_and_serving_recovers() {
    // The pooled connections stay open and the kernel accepts new ones: only a deadline on
    // the store's operations turns the silence into an answer.
    outage(|pg| pg.freeze(), |_, frozen| drop(frozen), &["while-down"]);
}

#[test]
fn terminated_database_sessions_are_replaced_without_a_restart() {
    let pg = private_server();
    let db = pg.fresh_database();
    let s = serve(&db);
    let token = token(&s);
    // Concurrent requests, so the pool holds more than one connection to break.
    let codes: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let (s, token) = (&s, &token);
                scope.spawn(move || nova_create(s, token, &format!("k{i}")).status)
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(codes.iter().all(|&c| c == 200), "{codes:?}");
    let name = db.rsplit('/').next().unwrap();
    let killed = pg.server().psql_in(
        "postgres",
        &format!(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ),
    );
    assert_ne!(killed.trim(), "0", "novakeys had connections");
    // At most the requests that meet a broken connection fail, and those with a 503.
    let mut failed = 0;
    for _ in 0..20 {
        let a = nova_list(&s, &token);
        assert!(a.took < BOUND, "took {:?}", a.took);
        match a.status {
            200 => {}
            503 => failed += 1,
            other => panic!("{other}: {}", a.body),
        }
    }
    assert!(failed <= 16, "{failed} of 20 failed");
    eventually("nova list", || nova_list(&s, &token).status == 200);
    assert_eq!(names(&s, &token), ["k0", "k1", "k2", "k3"]);
    assert_eq!(login(&s).status, 201);
    assert_eq!(twcc_list(&s).status, 200);
}
