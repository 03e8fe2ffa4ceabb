//! Test harness: spawn the app on free ports, and a raw HTTP/1.1 client that sends requests
//! byte for byte (paths, header order and odd bodies stay exactly as written) and returns
//! every response header line.

use novakeys::app::App;
use novakeys::config::AuthMode;
use novakeys::config::Config;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

#[allow(dead_code)]
pub struct TestApp {
    pub compute: SocketAddr,
    pub identity: SocketAddr,
    /// Both APIs on one port, under `/compute` and `/identity`.
    pub single_port: bool,
    /// The cloud fronts' listeners (name, address).
    pub fronts: Vec<(&'static str, SocketAddr)>,
}

impl TestApp {
    /// The identity API's base URL (no `/v3`).
    pub fn identity_url(&self) -> String {
        let mount = if self.single_port { "/identity" } else { "" };
        format!("http://{}{mount}", self.identity)
    }

    /// Where the cloud front `name` listens.
    #[allow(dead_code)]
    pub fn front(&self, name: &str) -> SocketAddr {
        self.fronts
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, a)| *a)
            .unwrap_or_else(|| panic!("the {name} front is not on"))
    }

    /// The compute API's base URL (no `/v2.1`).
    pub fn compute_url(&self) -> String {
        let mount = if self.single_port { "/compute" } else { "" };
        format!("http://{}{mount}", self.compute)
    }
}

/// A config for tests: loopback port 0 for both APIs, in-memory store (or, with
/// `NOVAKEYS_IT_STORE=postgres`, a fresh database on the tests' PostgreSQL server: the whole
/// suite on that backend).
pub fn test_config(auth: AuthMode) -> Config {
    Config {
        compute_bind: "127.0.0.1:0".parse().unwrap(),
        identity_bind: "127.0.0.1:0".parse().unwrap(),
        alibaba_bind: "127.0.0.1:0".parse().unwrap(),
        tencent_bind: "127.0.0.1:0".parse().unwrap(),
        twcc_bind: "127.0.0.1:0".parse().unwrap(),
        console_bind: "127.0.0.1:0".parse().unwrap(),
        db: match std::env::var("NOVAKEYS_IT_STORE").as_deref() {
            Ok("postgres") => crate::pg::fresh_database(),
            _ => ":memory:".into(),
        },
        auth,
        keygen_pool: 0,
        ..Config::default()
    }
}

/// Starts the app with `config` on the current actix runtime.
pub async fn spawn_app(config: Config) -> TestApp {
    let app = App::build(config).await.expect("app builds");
    let bound = app.bound();
    for server in app.into_servers() {
        actix_web::rt::spawn(server);
    }
    TestApp {
        compute: bound.compute,
        identity: bound.identity,
        single_port: bound.single_port,
        fronts: bound.fronts.clone(),
    }
}

/// A parsed raw response.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// All values of a header (case-insensitive name), in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.all(name).into_iter().next()
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// Sends one request (`Connection: close`) and reads the whole response. Runs the blocking
/// socket work on a thread so the in-process server keeps running.
pub async fn raw_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> RawResponse {
    let mut req = format!("{method} {path} HTTP/1.1\r\n").into_bytes();
    let mut has_host = false;
    let mut has_len = false;
    for (k, v) in headers {
        has_host |= k.eq_ignore_ascii_case("host");
        has_len |=
            k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("transfer-encoding");
        if k.eq_ignore_ascii_case("connection") {
            continue;
        }
        req.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    if !has_host {
        req.extend_from_slice(format!("Host: {addr}\r\n").as_bytes());
    }
    if !has_len && !body.is_empty() {
        req.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    req.extend_from_slice(b"Connection: close\r\n\r\n");
    req.extend_from_slice(body);
    let is_head = method == "HEAD";
    actix_web::rt::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        // The server may answer (413) and close before the whole body is written.
        let _ = stream.write_all(&req);
        let mut buf = Vec::new();
        let _ = stream.read_to_end(&mut buf);
        parse_response(&buf, is_head)
    })
    .await
    .expect("client thread")
}

fn parse_response(buf: &[u8], is_head: bool) -> RawResponse {
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("complete response head");
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect();
    let mut body = buf[split + 4..].to_vec();
    if is_head {
        body.clear();
    }
    RawResponse {
        status,
        headers,
        body,
    }
}

/// Convenience: a request with a few headers.
pub async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> RawResponse {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    raw_request(addr, method, path, &headers, body.as_bytes()).await
}

/// A JSON call made with `token` (`X-Auth-Token`), as the OpenStack APIs take them.
pub async fn with_token(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
) -> RawResponse {
    call(
        addr,
        method,
        path,
        &[
            ("X-Auth-Token", token),
            ("Content-Type", "application/json"),
        ],
        body,
    )
    .await
}

/// A project-scoped token of a fixture user (password = user name) on `project`.
#[allow(dead_code)]
/// Imports a key pair through Nova as the holder of `token` (the cross-front tests' way in).
pub async fn nova_import(app: &TestApp, token: &str, name: &str, public_key: &str) -> RawResponse {
    call(
        app.compute,
        "POST",
        "/v2.1/os-keypairs",
        &[
            ("X-Auth-Token", token),
            ("Content-Type", "application/json"),
        ],
        &serde_json::json!({"keypair": {"name": name, "public_key": public_key}}).to_string(),
    )
    .await
}

pub async fn login(identity: SocketAddr, user: &str, project: &str) -> String {
    let body = serde_json::json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": user, "domain": {"id": "default"}, "password": user}}}, "scope": {"project": {"name": project, "domain": {"id": "default"}}}}});
    let r = call(
        identity,
        "POST",
        "/v3/auth/tokens",
        &[("Content-Type", "application/json")],
        &body.to_string(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    r.header("x-subject-token").unwrap().to_string()
}

/// The capture documents in `tests/data/captures/<kind>` (one JSON file each), in file order.
pub fn capture_documents(kind: &str) -> Vec<serde_json::Value> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/captures")
        .join(kind);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect()
}

/// A capture's `[[name, value], ...]` header list.
pub fn header_pairs(v: &serde_json::Value) -> Vec<(String, String)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h[0].as_str().unwrap().to_string(),
                h[1].as_str().unwrap().to_string(),
            )
        })
        .collect()
}
