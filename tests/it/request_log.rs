//! The request log (stderr): one line per API call in text or JSON, silenced by
//! `--log-level warn`, overridden by `RUST_LOG`, and never a private key, password or secret.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A `novakeys serve` whose stderr is collected; stopped (SIGTERM) by [`Logged::stop`].
struct Logged {
    child: Child,
    compute: String,
    identity: String,
    stderr: Arc<Mutex<String>>,
}

impl Drop for Logged {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Logged {
    fn start(args: &[&str], env: &[(&str, &str)]) -> Logged {
        let mut child = Command::new(env!("CARGO_BIN_EXE_novakeys"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().copied())
            .arg("serve")
            .args(["--db", ":memory:", "--compute-bind", "127.0.0.1:0"])
            .args(["--identity-bind", "127.0.0.1:0", "--alibaba-bind", "off"])
            .args(["--tencent-bind", "off", "--twcc-bind", "off"])
            .args(["--console-bind", "off"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("novakeys starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (mut from, into) = (child.stderr.take().unwrap(), stderr.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = from.read(&mut buf) {
                if n == 0 {
                    break;
                }
                into.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut url = |what: &str| {
            let line = lines.next().expect("a listening line").unwrap();
            line.strip_prefix(&format!("novakeys: {what} listening on "))
                .unwrap_or_else(|| panic!("unexpected line {line:?}"))
                .to_string()
        };
        let compute = url("compute");
        let identity = url("identity");
        std::thread::spawn(move || for _ in lines {});
        Logged {
            child,
            compute,
            identity,
            stderr,
        }
    }

    /// Stops the server (as an operator would) and returns all it wrote to stderr.
    fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().unwrap().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        // The reader thread sees end of file once the process is gone.
        std::thread::sleep(Duration::from_millis(100));
        let text = self.stderr.lock().unwrap().clone();
        text
    }
}

fn curl(method: &str, url: &str, headers: &[&str], body: Option<&str>) -> (u16, String, String) {
    let mut cmd = Command::new("curl");
    cmd.args(["-s", "-D", "/dev/stderr", "-o", "-", "-w", "\n%{http_code}"])
        .args(["-X", method]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    if let Some(b) = body {
        cmd.args(["-H", "Content-Type: application/json", "--data-binary", b]);
    }
    let out = cmd.arg(url).output().expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap();
    let head = String::from_utf8_lossy(&out.stderr).into_owned();
    (code.parse().unwrap_or(0), body.to_string(), head)
}

/// A token for `user` (password = name) in project `project`.
fn login(identity: &str, user: &str, project: &str) -> String {
    let body = format!(
        r#"{{"auth":{{"identity":{{"methods":["password"],"password":{{"user":{{"name":"{user}","domain":{{"id":"default"}},"password":"{user}"}}}}}},"scope":{{"project":{{"name":"{project}","domain":{{"id":"default"}}}}}}}}}}"#
    );
    let (status, _, head) = curl(
        "POST",
        &format!("{identity}/v3/auth/tokens"),
        &[],
        Some(&body),
    );
    assert_eq!(status, 201);
    head.lines()
        .find_map(|l| {
            l.strip_prefix("X-Subject-Token: ")
                .or(l.strip_prefix("x-subject-token: "))
        })
        .expect("a token")
        .trim()
        .to_string()
}

/// The id of the Keystone `kind` (`users`, `projects`) called `name`.
fn id_named(identity: &str, token: &str, kind: &str, name: &str) -> String {
    let (status, found, _) = curl(
        "GET",
        &format!("{identity}/v3/{kind}?name={name}"),
        &[&format!("X-Auth-Token: {token}")],
        None,
    );
    assert_eq!(status, 200, "{found}");
    let found: serde_json::Value = serde_json::from_str(&found).unwrap();
    found[kind][0]["id"].as_str().expect("an id").to_string()
}

fn request_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains("novakeys::request"))
        .collect()
}

#[test]
fn one_text_line_per_call_with_its_facts() {
    let server = Logged::start(&[], &[]);
    let token = login(&server.identity, "demo", "demo");
    let auth = format!("X-Auth-Token: {token}");
    let (status, _, head) = curl(
        "GET",
        &format!("{}/v2.1/os-keypairs?limit=5", server.compute),
        &[&auth],
        None,
    );
    assert_eq!(status, 200);
    let request_id = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(": ")?;
            k.eq_ignore_ascii_case("x-openstack-request-id")
                .then(|| v.trim())
        })
        .expect("a request id")
        .to_string();
    let (status, _, _) = curl(
        "GET",
        &format!("{}/v2.1/os-keypairs/nope", server.compute),
        &[&auth],
        None,
    );
    assert_eq!(status, 404);
    let log = server.stop();
    let lines = request_lines(&log);
    assert_eq!(lines.len(), 3, "log-in, list, show:\n{log}");
    assert!(
        lines[0].contains(r#"identity 127.0.0.1:"#)
            && lines[0].contains(r#""POST /v3/auth/tokens HTTP/1.1" status: 201 len: "#),
        "{}",
        lines[0]
    );
    // `2026-…Z INFO novakeys::request [req-… <user id> <project id>] compute <client> "GET
    // /v2.1/os-keypairs?limit=5 HTTP/1.1" status: 200 len: N time: S`
    let list = lines[1];
    let pattern = regex::Regex::new(
        r#"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z INFO novakeys::request \[(req-[0-9a-f-]{36}) ([0-9a-f]{32}) ([0-9a-f]{32})\] compute 127\.0\.0\.1:\d+ "GET /v2\.1/os-keypairs\?limit=5 HTTP/1\.1" status: 200 len: (\d+) time: \d+\.\d{6}$"#,
    )
    .unwrap();
    let m = pattern.captures(list).unwrap_or_else(|| panic!("{list}"));
    assert_eq!(&m[1], request_id, "the answer's own request id");
    assert!(m[4].parse::<u64>().unwrap() > 0);
    assert!(lines[2].contains(r#""GET /v2.1/os-keypairs/nope HTTP/1.1" status: 404"#));
    // Start and stop say what listens where and which store is used.
    assert!(
        log.contains("INFO novakeys store :memory: (SQLite, durability normal)"),
        "{log}"
    );
    assert!(log.contains(&format!(
        "INFO novakeys compute listening on {}",
        server_url(&log)
    )));
    assert!(log.trim_end().ends_with("INFO novakeys stopped"), "{log}");
}

/// The compute URL as the start-up log line gives it.
fn server_url(log: &str) -> String {
    log.lines()
        .find_map(|l| {
            l.split_once("INFO novakeys compute listening on ")
                .map(|(_, u)| u)
        })
        .expect("a compute line")
        .to_string()
}

#[test]
fn json_lines_carry_typed_fields() {
    let server = Logged::start(&["--log-format", "json"], &[]);
    let (status, _, _) = curl(
        "GET",
        &format!("{}/v2.1/os-keypairs", server.compute),
        &[],
        None,
    );
    assert_eq!(status, 401);
    let log = server.stop();
    let entries: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let calls: Vec<&serde_json::Value> = entries
        .iter()
        .filter(|e| e["target"] == "novakeys::request")
        .collect();
    assert_eq!(calls.len(), 1, "{log}");
    let c = calls[0];
    assert_eq!(c["level"], "INFO");
    assert_eq!(c["front"], "compute");
    assert_eq!(c["method"], "GET");
    assert_eq!(c["path"], "/v2.1/os-keypairs");
    assert_eq!(c["status"], 401);
    assert!(c["bytes"].as_u64().unwrap() > 0);
    assert!(c["seconds"].as_f64().unwrap() >= 0.0);
    assert!(c["request_id"].as_str().unwrap().starts_with("req-"));
    assert_eq!(c["user_id"], "-", "no token, no user");
    assert!(c["client"].as_str().unwrap().starts_with("127.0.0.1:"));
    assert!(c["time"].as_str().unwrap().ends_with('Z'));
    assert!(entries.iter().any(|e| e["message"] == "stopped"));
}

#[test]
fn warn_silences_it_and_rust_log_overrides_the_level() {
    let quiet = Logged::start(&["--log-level", "warn"], &[]);
    curl(
        "GET",
        &format!("{}/v2.1/os-keypairs", quiet.compute),
        &[],
        None,
    );
    let log = quiet.stop();
    assert!(request_lines(&log).is_empty(), "{log}");
    assert!(!log.contains("listening on"), "{log}");

    let env_quiet = Logged::start(&[], &[("NOVAKEYS_LOG_LEVEL", "error")]);
    curl(
        "GET",
        &format!("{}/v2.1/os-keypairs", env_quiet.compute),
        &[],
        None,
    );
    assert!(request_lines(&env_quiet.stop()).is_empty());

    let overridden = Logged::start(
        &["--log-level", "warn"],
        &[("RUST_LOG", "novakeys::request=info")],
    );
    curl(
        "GET",
        &format!("{}/v2.1/os-keypairs", overridden.compute),
        &[],
        None,
    );
    let log = overridden.stop();
    assert_eq!(request_lines(&log).len(), 1, "{log}");
}

/// A generated private key, an access key secret and a password travel through the API; none
/// of them (nor a token) reaches the log, at the most verbose level either.
#[test]
fn no_private_key_secret_or_password_is_ever_logged() {
    for format in ["text", "json"] {
        let server = Logged::start(&["--log-level", "trace", "--log-format", format], &[]);
        let token = login(&server.identity, "demo", "demo");
        let auth = format!("X-Auth-Token: {token}");
        let (status, created, _) = curl(
            "POST",
            &format!("{}/v2.1/os-keypairs", server.compute),
            &[&auth],
            Some(r#"{"keypair": {"name": "generated"}}"#),
        );
        assert_eq!(status, 200, "{created}");
        let created: serde_json::Value = serde_json::from_str(&created).unwrap();
        let private_key = created["keypair"]["private_key"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(private_key.contains("PRIVATE KEY"));
        let secret = "LogTestAlibabaSecretValue0000001";
        let admin = login(&server.identity, "admin", "admin");
        let demo_id = id_named(&server.identity, &admin, "users", "demo");
        let demo_project = id_named(&server.identity, &admin, "projects", "demo");
        let blob =
            serde_json::json!({"access": "LTAI5tLogTest00000000001", "secret": secret}).to_string();
        let body = serde_json::json!({"credential": {"type": "alibaba", "user_id": demo_id,
            "project_id": demo_project, "blob": blob}})
        .to_string();
        let (status, answer, _) = curl(
            "POST",
            &format!("{}/v3/credentials", server.identity),
            &[&format!("X-Auth-Token: {admin}")],
            Some(&body),
        );
        assert_eq!(status, 201, "{answer}");
        assert!(answer.contains(secret), "shown once, at creation");
        let log = server.stop();
        assert!(request_lines(&log).len() >= 5, "{log}");
        for line in private_key
            .lines()
            .filter(|l| l.len() > 16 && !l.contains("PRIVATE"))
        {
            assert!(
                !log.contains(line),
                "a private key line in the log ({format})"
            );
        }
        assert!(!log.contains("PRIVATE KEY"), "{log}");
        assert!(!log.contains(secret), "the access key secret in the log");
        assert!(!log.contains("\"password\""), "{log}");
        assert!(
            !log.contains(&token) && !log.contains(&admin),
            "a token in the log"
        );
    }
}
