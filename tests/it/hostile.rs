//! Hostile clients: slow-loris, huge URLs and headers, deep JSON, odd names, oversized keys.
//! Every answer is a 4xx with Nova's (or webob's) fault body, never a 500 or a hang.

use crate::common::{call, raw_request, spawn_app, test_config, RawResponse, TestApp};
use novakeys::config::AuthMode;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const ED25519: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII5J04CljaeVO5LeIXMByG9K0Yy+5h481th5PkWvlFm9 ed@oracle";

async fn app() -> TestApp {
    let mut config = test_config(AuthMode::Noauth);
    config.client_timeout = 2;
    spawn_app(config).await
}

async fn post(app: &TestApp, version: &str, body: &str) -> RawResponse {
    call(
        app.compute,
        "POST",
        "/v2.1/os-keypairs",
        &[
            ("X-Auth-Token", "alice"),
            ("OpenStack-API-Version", &format!("compute {version}")),
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
        ],
        body,
    )
    .await
}

fn bad_request(r: &RawResponse) -> String {
    assert_eq!(r.status, 400, "{}", r.text());
    let v = r.json();
    assert_eq!(v["badRequest"]["code"], json!(400), "{v}");
    assert_eq!(v.as_object().unwrap().len(), 1, "{v}");
    v["badRequest"]["message"].as_str().unwrap().to_string()
}

/// Trickles a request head one byte at a time until the server answers or hangs up; returns
/// what it answered (empty if it just closed). The loop limit only guards against a hang.
fn trickle(addr: std::net::SocketAddr) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let head = b"GET /v2.1/os-keypairs HTTP/1.1\r\nHost: x\r\nX-Auth-Token: alice\r\nX-Padding: ";
    s.write_all(head).unwrap();
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while start.elapsed() < Duration::from_secs(60) {
        match s.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if !got.is_empty() {
                    return got;
                }
                if s.write_all(b"a").is_err() {
                    return got;
                }
            }
            Err(_) => return got,
        }
    }
    panic!("a trickling client was never cut off");
}

#[actix_web::test]
async fn slow_loris_clients_are_cut_off_while_others_are_served() {
    let app = app().await;
    let addr = app.compute;
    // More trickling clients than workers (2) and blocking threads could ever hide.
    let tricklers: Vec<_> = (0..16)
        .map(|_| std::thread::spawn(move || trickle(addr)))
        .collect();
    // Meanwhile, ordinary clients get their answers.
    for i in 0..20 {
        let body = json!({"keypair": {"name": format!("k{i}"), "public_key": ED25519}}).to_string();
        let r = post(&app, "2.2", &body).await;
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let r = call(
        addr,
        "GET",
        "/v2.1/os-keypairs",
        &[("X-Auth-Token", "alice")],
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    let answers = actix_web::rt::task::spawn_blocking(move || {
        tricklers
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for a in answers {
        let text = String::from_utf8_lossy(&a);
        assert!(
            a.is_empty() || text.starts_with("HTTP/1.1 408"),
            "cut off with 408 or a close, not {text:.80}"
        );
    }
}

#[actix_web::test]
async fn huge_urls_and_headers_get_4xx() {
    let app = app().await;
    let long = "a".repeat(100_000);
    let line = "a".repeat(9_000);
    let many: Vec<(String, String)> = (0..500).map(|i| (format!("X-H{i}"), "v".into())).collect();
    let big_total: Vec<(String, String)> = (0..10)
        .map(|i| (format!("X-B{i}"), "b".repeat(7_000)))
        .collect();
    // (path, headers, expected statuses): eventlet's 414 and 400s, with no body.
    type Case = (String, Vec<(String, String)>, &'static [u16]);
    let cases: Vec<Case> = vec![
        (format!("/v2.1/os-keypairs/{long}"), vec![], &[400, 414]),
        (format!("/v2.1/os-keypairs/{line}"), vec![], &[414]),
        (format!("/v2.1/os-keypairs?user_id={line}"), vec![], &[414]),
        (
            "/v2.1/os-keypairs".into(),
            vec![("X-Long".into(), long.clone())],
            &[400],
        ),
        (
            "/v2.1/os-keypairs".into(),
            vec![("X-Long".into(), line.clone())],
            &[400],
        ),
        (
            "/v2.1/os-keypairs".into(),
            vec![("X-Auth-Token".into(), line.clone())],
            &[400],
        ),
        ("/v2.1/os-keypairs".into(), big_total, &[400]),
        ("/v2.1/os-keypairs".into(), many, &[400, 431]),
    ];
    for (path, mut headers, expected) in cases {
        headers.push(("X-Auth-Token".into(), "alice".into()));
        let r = raw_request(app.compute, "GET", &path, &headers, b"").await;
        assert!(
            expected.contains(&r.status),
            "{} for {:.60} / {} headers",
            r.status,
            path,
            headers.len()
        );
        assert!(r.body.is_empty(), "{}", r.text());
    }
    // A long but acceptable name: Nova's 404 for it.
    let name = "n".repeat(2_000);
    let r = call(
        app.compute,
        "GET",
        &format!("/v2.1/os-keypairs/{name}"),
        &[("X-Auth-Token", "alice")],
        "",
    )
    .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json(),
        json!({"itemNotFound": {"code": 404, "message": format!("Keypair {name} not found for user alice")}})
    );
}

#[actix_web::test]
async fn deeply_nested_json_is_a_400() {
    let app = app().await;
    for body in [
        "[".repeat(100_000),
        "{\"a\": ".repeat(15_000),
        format!("{}{}", "[".repeat(50_000), "]".repeat(50_000)),
    ] {
        let r = post(&app, "2.2", &body).await;
        assert_eq!(
            r.json(),
            json!({"badRequest": {"code": 400, "message": "Malformed request body"}}),
            "{:.40}",
            body
        );
    }
}

#[actix_web::test]
async fn hostile_names_get_nova_validation_errors() {
    let app = app().await;
    let names = [
        "a\u{0}b",
        "tab\there",
        "new\nline",
        "bell\u{7}",
        "del\u{7f}",
        "caf\u{e9}",
        "\u{1F600}",
        "\u{202e}rtl",
        "%00",
        "a%00b",
        "../etc/passwd",
        "..\\..\\win",
        "a'; DROP TABLE key_pairs;--",
        "\" OR \"1\"=\"1",
        "x/y",
        "<script>",
        "",
        " ",
    ];
    for version in ["2.1", "2.2", "2.10", "2.92", "latest"] {
        for name in names {
            let body = json!({"keypair": {"name": name, "public_key": ED25519}}).to_string();
            let message = bad_request(&post(&app, version, &body).await);
            assert!(
                message.starts_with("Invalid input for field/attribute name.")
                    || message == "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace.",
                "{name:?} at {version}: {message}"
            );
        }
    }
    // In the URL they are names that do not exist (or not routes): Nova's 404s.
    for path in [
        "%00",
        "a%00b",
        "..%2Fetc",
        "%27%3B%20DROP%20TABLE%20key_pairs%3B--",
        "caf%C3%A9",
    ] {
        let r = call(
            app.compute,
            "GET",
            &format!("/v2.1/os-keypairs/{path}"),
            &[("X-Auth-Token", "alice"), ("Accept", "application/json")],
            "",
        )
        .await;
        assert_eq!(r.status, 404, "{path}: {}", r.text());
        let v: Value = r.json();
        assert!(
            v.get("itemNotFound").is_some() || v.get("message").is_some(),
            "{path}: {v}"
        );
    }
    let r = call(
        app.compute,
        "GET",
        "/v2.1/os-keypairs",
        &[("X-Auth-Token", "alice")],
        "",
    )
    .await;
    assert_eq!(r.json(), json!({"keypairs": []}), "nothing was created");
}

#[actix_web::test]
async fn oversized_public_keys() {
    let app = app().await;
    // ~1 MB: refused by the body limit (webob's 413), unread.
    let huge = json!({"keypair": {"name": "big", "public_key": format!("ssh-rsa {}", "A".repeat(1 << 20))}}).to_string();
    let r = post(&app, "2.2", &huge).await;
    assert_eq!(r.status, 413, "{}", r.text());
    let v = r.json();
    assert_eq!(v["code"], json!("413 Request Entity Too Large"), "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("Request is too large."),
        "{v}"
    );
    // ~100 KB: within the limit, but not a key: Nova's 400.
    for key in [
        format!("ssh-rsa {} x", "A".repeat(100_000)),
        format!("ssh-ed25519 {}", "QUFB".repeat(25_000)),
        "x".repeat(100_000),
    ] {
        let body = json!({"keypair": {"name": "big", "public_key": key}}).to_string();
        assert!(body.len() < novakeys::http::body::OSLO_MAX_BODY);
        let message = bad_request(&post(&app, "2.2", &body).await);
        assert_eq!(
            message,
            "Keypair data is invalid: failed to generate fingerprint"
        );
    }
}
