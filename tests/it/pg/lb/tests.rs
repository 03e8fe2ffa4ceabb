//! Issue 23's multi-process must-show: three `novakeys serve` on one PostgreSQL behind
//! HAProxy. Which process answered is read from the processes' request logs.

use super::sign::{alibaba, tencent};
use super::{Cluster, STICKY_COOKIE};
use crate::common::{call, login, RawResponse};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII5J04CljaeVO5LeIXMByG9K0Yy+5h481th5PkWvlFm9 ed@oracle";
const TWCC_SITE: &str = "openstack-taichung-default-2";
const TWCC_DEMO: &str = "nk-twcc-demo-key-0001";

fn twcc_path() -> String {
    format!("/api/v2/{TWCC_SITE}/keypairs/")
}

async fn nova(addr: SocketAddr, token: &str, method: &str, path: &str, body: &str) -> RawResponse {
    crate::common::with_token(addr, method, path, token, body).await
}

async fn nova_import(addr: SocketAddr, token: &str, name: &str) -> RawResponse {
    let body = json!({"keypair": {"name": name, "public_key": KEY}}).to_string();
    nova(addr, token, "POST", "/v2.1/os-keypairs", &body).await
}

fn ok(r: &RawResponse) -> Value {
    assert!((200..300).contains(&r.status), "{}: {}", r.status, r.text());
    r.json()
}

/// The key pair names one front lists (or, for `nova-show`, whether `name` is shown), asked
/// at `addr`; with the request's (method, logged path).
async fn listed(
    front: &str,
    addr: SocketAddr,
    token: &str,
    name: &str,
) -> (Vec<String>, &'static str, String) {
    let names = |v: &Value, key: &str, field: &str| -> Vec<String> {
        v[key]
            .as_array()
            .unwrap_or_else(|| panic!("{v}"))
            .iter()
            .map(|k| k[field].as_str().unwrap().to_string())
            .collect()
    };
    match front {
        "nova-list" => {
            let v = ok(&nova(addr, token, "GET", "/v2.1/os-keypairs", "").await);
            let items: Vec<Value> = v["keypairs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["keypair"].clone())
                .collect();
            let n = names(&json!({ "k": items }), "k", "name");
            (n, "GET", "/v2.1/os-keypairs".into())
        }
        "nova-show" => {
            let path = format!("/v2.1/os-keypairs/{name}");
            let r = nova(addr, token, "GET", &path, "").await;
            let n = match r.status {
                200 => vec![r.json()["keypair"]["name"].as_str().unwrap().to_string()],
                404 => vec![],
                s => panic!("show: {s} {}", r.text()),
            };
            (n, "GET", path)
        }
        "alibaba" => {
            let r = alibaba(
                addr,
                "DescribeKeyPairs",
                &[("RegionId", "cn-hangzhou"), ("PageSize", "50")],
            )
            .await;
            let v = ok(&r);
            (
                names(&v["KeyPairs"], "KeyPair", "KeyPairName"),
                "GET",
                "/".into(),
            )
        }
        "tencent" => {
            let v = ok(&tencent(addr, "DescribeKeyPairs", &json!({"Limit": 100})).await);
            assert!(v["Response"].get("Error").is_none(), "{v}");
            (
                names(&v["Response"], "KeyPairSet", "KeyName"),
                "POST",
                "/".into(),
            )
        }
        "twcc" => {
            let r = call(
                addr,
                "GET",
                &twcc_path(),
                &[
                    ("X-API-HOST", TWCC_SITE),
                    ("x-API-KEY", TWCC_DEMO),
                    ("Content-Type", "application/json"),
                ],
                "",
            )
            .await;
            let v = ok(&r);
            (names(&json!({ "k": v }), "k", "name"), "GET", twcc_path())
        }
        _ => unreachable!(),
    }
}

/// The listener a read of `front` goes to.
fn listener_of(front: &str) -> &'static str {
    match front {
        "nova-list" | "nova-show" => "compute",
        "alibaba" => "alibaba",
        "tencent" => "tencent",
        _ => "twcc",
    }
}

const READS: [&str; 5] = ["nova-list", "nova-show", "alibaba", "tencent", "twcc"];

/// Through the load balancer, one read per process of every front: each shows `name` (or
/// not, by `present`), and the reads of one front land on every process once (round robin).
async fn every_front_shows(c: &Cluster, token: &str, name: &str, present: bool, after: usize) {
    for front in READS {
        let mut served = Vec::new();
        for _ in 0..c.procs.len() {
            let before = c.counts();
            let (names, method, path) =
                listed(front, c.front(listener_of(front)), token, name).await;
            let p = c.served_by(&before, method, &path);
            assert_eq!(
                names.iter().any(|n| n == name),
                present,
                "{front} at process {p} (the write went through process {after}): {names:?}"
            );
            served.push(p);
        }
        served.sort();
        assert_eq!(served, (0..c.procs.len()).collect::<Vec<_>>(), "{front}");
    }
}

#[actix_web::test]
async fn a_key_pair_created_or_deleted_through_one_process_shows_at_the_others_on_every_front() {
    let c = Cluster::start(3, &[]);
    let token = login(c.front("identity"), "demo", "demo").await;
    // The catalog names the load balancer.
    let r = call(
        c.front("identity"),
        "GET",
        "/v3/auth/tokens",
        &[("X-Auth-Token", &token), ("X-Subject-Token", &token)],
        "",
    )
    .await;
    let compute_url = format!("http://{}", c.front("compute"));
    assert!(r.text().contains(&compute_url), "{}", r.text());

    // Every list warmed on every process (straight at its own listeners).
    for p in &c.procs {
        for front in READS {
            let (names, _, _) =
                listed(front, p.listener(listener_of(front)), &token, "lb_k1").await;
            assert!(names.is_empty(), "{front}: {names:?}");
        }
    }
    let before = c.counts();
    assert_eq!(
        nova_import(c.front("compute"), &token, "lb_k1")
            .await
            .status,
        200
    );
    let writer = c.served_by(&before, "POST", "/v2.1/os-keypairs");
    every_front_shows(&c, &token, "lb_k1", true, writer).await;

    let before = c.counts();
    let r = nova(
        c.front("compute"),
        &token,
        "DELETE",
        "/v2.1/os-keypairs/lb_k1",
        "",
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text());
    let writer = c.served_by(&before, "DELETE", "/v2.1/os-keypairs/lb_k1");
    every_front_shows(&c, &token, "lb_k1", false, writer).await;
}

/// With `option http-server-close`, two requests on one client connection are balanced each
/// on its own.
#[actix_web::test]
async fn two_requests_on_one_kept_alive_connection_reach_two_processes() {
    use std::io::{Read, Write};
    let c = Cluster::start(2, &[]);
    let before = c.counts();
    let addr = c.front("compute");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET /v2.1/os-keypairs/ka1 HTTP/1.1\r\nHost: {addr}\r\n\r\n\
         GET /v2.1/os-keypairs/ka2 HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert_eq!(out.matches("HTTP/1.1 ").count(), 2, "{out}");
    let a = c.served_by(&before, "GET", "/v2.1/os-keypairs/ka1");
    let b = c.served_by(&before, "GET", "/v2.1/os-keypairs/ka2");
    assert_ne!(a, b);
}

#[actix_web::test]
async fn concurrent_creates_of_one_name_across_processes_give_exactly_one_success() {
    let c = Cluster::start(3, &[]);
    let token = login(c.front("identity"), "demo", "demo").await;
    for round in 0..3 {
        let name = format!("lb_race{round}");
        let before = c.counts();
        let answers = futures_util::future::join_all(
            (0..9).map(|_| nova_import(c.front("compute"), &token, &name)),
        )
        .await;
        let made = answers.iter().filter(|r| r.status == 200).count();
        assert_eq!(made, 1, "round {round}");
        for r in answers.iter().filter(|r| r.status != 200) {
            assert_eq!(r.status, 409, "{}", r.text());
            assert_eq!(
                r.json(),
                json!({"conflictingRequest": {"code": 409, "message": format!("Key pair '{name}' already exists.")}})
            );
        }
        // Spread over every process (the log lines arrive within 20 ms).
        std::thread::sleep(Duration::from_millis(200));
        let per: Vec<usize> = c
            .procs
            .iter()
            .zip(&before)
            .map(|(p, b)| {
                p.requests()[*b..]
                    .iter()
                    .filter(|l| l["method"] == "POST" && l["path"] == "/v2.1/os-keypairs")
                    .count()
            })
            .collect();
        assert_eq!(per.iter().sum::<usize>(), 9, "{per:?}");
        assert!(per.iter().all(|n| *n > 0), "{per:?}");
    }
}

#[actix_web::test]
async fn kill_9_of_one_process_under_write_load_loses_no_acknowledged_create() {
    let mut c = Cluster::start(3, &["--quota-key-pairs", "-1"]);
    let token = login(c.front("identity"), "demo", "demo").await;
    let compute = c.front("compute");
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, Instant)>::new()));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let (acked, stop, token) = (acked.clone(), stop.clone(), token.clone());
            actix_web::rt::spawn(async move {
                let mut refused = 0;
                for i in 0.. {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let name = format!("lb_w{w}_{i}");
                    let r = nova_import(compute, &token, &name).await;
                    if r.status == 200 {
                        acked.lock().unwrap().push((name, Instant::now()));
                    } else {
                        refused += 1;
                    }
                }
                refused
            })
        })
        .collect();
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    let before_kill = acked.lock().unwrap().len();
    assert!(before_kill > 0, "no create acknowledged before the kill");
    c.kill9(1);
    let killed_at = Instant::now();
    actix_web::rt::time::sleep(Duration::from_millis(2000)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut refused = 0;
    for w in writers {
        refused += w.await.unwrap();
    }
    c.wait_for_server("p1", "DOWN");
    let acked = acked.lock().unwrap().clone();
    let after_kill = acked.iter().filter(|(_, t)| *t > killed_at).count();
    assert!(after_kill > 0, "no create acknowledged after the kill");

    // Every acknowledged create is listed, through the load balancer and at each survivor.
    let want: std::collections::BTreeSet<String> = acked.iter().map(|(n, _)| n.clone()).collect();
    for addr in [
        compute,
        c.procs[0].listener("compute"),
        c.procs[2].listener("compute"),
    ] {
        let v = ok(&nova(addr, &token, "GET", "/v2.1/os-keypairs?limit=1000", "").await);
        let have: std::collections::BTreeSet<String> = v["keypairs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["keypair"]["name"].as_str().unwrap().to_string())
            .collect();
        let lost: Vec<_> = want.difference(&have).collect();
        assert!(
            lost.is_empty(),
            "lost {lost:?} of {} acknowledged",
            want.len()
        );
    }
    // The survivors keep serving: every request after the dead one is out succeeds.
    for i in 0..6 {
        let r = nova_import(compute, &token, &format!("lb_after{i}")).await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    eprintln!(
        "kill -9 under load: {} acknowledged ({before_kill} before the kill, {after_kill} after), {refused} refused",
        acked.len()
    );
}

#[actix_web::test]
async fn a_token_issued_through_one_process_validates_at_the_others() {
    let c = Cluster::start(3, &[]);
    let before = c.counts();
    let token = login(c.front("identity"), "demo", "demo").await;
    let issuer = c.served_by(&before, "POST", "/v3/auth/tokens");
    for (i, p) in c.procs.iter().enumerate() {
        let r = nova(
            p.listener("compute"),
            &token,
            "GET",
            "/v2.1/os-keypairs",
            "",
        )
        .await;
        assert_eq!(
            r.status,
            200,
            "process {i} (issued by {issuer}): {}",
            r.text()
        );
        let r = call(
            p.listener("identity"),
            "GET",
            "/v3/auth/tokens",
            &[("X-Auth-Token", &token), ("X-Subject-Token", &token)],
            "",
        )
        .await;
        assert_eq!(
            r.status,
            200,
            "process {i} (issued by {issuer}): {}",
            r.text()
        );
    }
}

/// Revoked through one process: refused by every process at its next request (each asked
/// with the token first, so a verified-token cache is warm).
#[actix_web::test]
async fn a_token_revoked_through_one_process_is_refused_by_every_other() {
    let c = Cluster::start(3, &[]);
    let token = login(c.front("identity"), "demo", "demo").await;
    for p in &c.procs {
        let r = nova(
            p.listener("compute"),
            &token,
            "GET",
            "/v2.1/os-keypairs",
            "",
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let r = call(
        c.procs[0].listener("identity"),
        "DELETE",
        "/v3/auth/tokens",
        &[("X-Auth-Token", &token), ("X-Subject-Token", &token)],
        "",
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    for (i, p) in c.procs.iter().enumerate() {
        let r = nova(
            p.listener("compute"),
            &token,
            "GET",
            "/v2.1/os-keypairs",
            "",
        )
        .await;
        assert_eq!(r.status, 401, "process {i}: {}", r.text());
    }
}

/// A console session stays on the process that logged it in (HAProxy's sticky cookie: the
/// session, and a generated private key waiting for its download, live in that process),
/// while the API requests around it are balanced; its pages show at once what the other
/// processes wrote.
#[actix_web::test]
async fn a_console_session_sticks_to_its_process_and_shows_what_the_others_write() {
    let c = Cluster::start(3, &[]);
    let token = login(c.front("identity"), "demo", "demo").await;
    let mut browser = crate::console::logged_in(c.front("console"), "demo").await;
    assert!(browser.cookie(STICKY_COOKIE).is_some(), "HAProxy's cookie");
    let (mut writers, mut pages) = (Vec::new(), Vec::new());
    for i in 0..c.procs.len() {
        let name = format!("through-nova-{i}");
        let before = c.counts();
        ok(&nova_import(c.front("compute"), &token, &name).await);
        writers.push(c.served_by(&before, "POST", "/v2.1/os-keypairs"));
        let before = c.counts();
        let page = browser.get("/keypairs").await;
        assert_eq!(page.status, 200, "still logged in: {}", page.text());
        assert!(page.text().contains(&name), "{name} is listed");
        pages.push(c.served_by(&before, "GET", "/keypairs"));
    }
    writers.sort();
    assert_eq!(writers, [0, 1, 2], "the writes were balanced");
    assert!(
        pages.iter().all(|&p| p == pages[0]),
        "one process: {pages:?}"
    );
}
