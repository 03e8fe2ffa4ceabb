//! Golden replay of real Nova: every capture in `tests/data/captures/nova` (request, status,
//! headers, body from a real Nova 34, see its INDEX.md) is replayed in file order against one
//! fresh novakeys in `noauth` mode, and the answer must match: status, the headers clients
//! read (content type, both version headers, both `Vary` lines, request ids), and the body
//! byte for byte — except the fields the capture marks as varying (request ids, generated keys,
//! ids, timestamps), which are checked for shape instead.

use crate::common::{raw_request, spawn_app, test_config, RawResponse};
use novakeys::config::AuthMode;
use serde_json::Value;

struct Capture {
    id: String,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    status: u16,
    resp_headers: Vec<(String, String)>,
    resp_body: String,
    varying: Vec<String>,
}

fn load() -> Vec<Capture> {
    crate::common::capture_documents("nova")
        .into_iter()
        .map(|d| {
            let pairs = crate::common::header_pairs;
            Capture {
                id: d["id"].as_str().unwrap().to_string(),
                method: d["request"]["method"].as_str().unwrap().to_string(),
                path: d["request"]["path"].as_str().unwrap().to_string(),
                headers: pairs(&d["request"]["headers"]),
                body: d["request"]["body"]
                    .as_str()
                    .unwrap_or("")
                    .as_bytes()
                    .to_vec(),
                status: d["response"]["status"].as_u64().unwrap() as u16,
                resp_headers: pairs(&d["response"]["headers"]),
                resp_body: d["response"]["body"].as_str().unwrap_or("").to_string(),
                varying: d["varying"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_string())
                    .collect(),
            }
        })
        .collect()
}

const ED25519: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII5J04CljaeVO5LeIXMByG9K0Yy+5h481th5PkWvlFm9 ed@oracle";

/// State the capture run created with requests it did not record (see INDEX.md).
async fn seed_before(app: std::net::SocketAddr, id: &str, all: &[Capture]) {
    let post = |token: &str, version: &str, body: String| {
        let headers = vec![
            ("X-Auth-Token".to_string(), token.to_string()),
            (
                "OpenStack-API-Version".to_string(),
                format!("compute {version}"),
            ),
            ("Content-Type".to_string(), "application/json".to_string()),
        ];
        async move { raw_request(app, "POST", "/v2.1/os-keypairs", &headers, body.as_bytes()).await }
    };
    if id == "074-quota-import-101st" {
        for i in 0..100 {
            let body =
                serde_json::json!({"keypair": {"name": format!("q{i:03}"), "public_key": ED25519}});
            let r = post("quota-user:proj-q", "2.92", body.to_string()).await;
            assert_eq!(r.status, 201, "seeding quota-user: {}", r.text());
        }
    }
    if id == "085-alice-list-bob-2.9" {
        // Alice's key pairs that the capture run made without recording them: take them from
        // this listing (generated ones included; their key material is not compared).
        let listing = all.iter().find(|c| c.id == id).unwrap();
        let want: Value = serde_json::from_str(&listing.resp_body).unwrap();
        let headers = vec![("X-Auth-Token".to_string(), "alice:proj-a".to_string())];
        let ours = raw_request(app, "GET", "/v2.1/os-keypairs", &headers, b"")
            .await
            .json();
        let have: Vec<&str> = ours["keypairs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["keypair"]["name"].as_str().unwrap())
            .collect();
        for item in want["keypairs"].as_array().unwrap() {
            let kp = &item["keypair"];
            if have.contains(&kp["name"].as_str().unwrap()) {
                continue;
            }
            let body = serde_json::json!({"keypair": {"name": kp["name"], "type": kp["type"], "public_key": kp["public_key"]}});
            let r = post("alice:proj-a", "2.92", body.to_string()).await;
            assert_eq!(r.status, 201, "seeding alice: {}", r.text());
        }
    }
    if id == "090-list-2.1" {
        // The pager's key pairs, exactly as the 2.2 listing shows them.
        let listing = all.iter().find(|c| c.id == "091-list-2.2").unwrap();
        let body: Value = serde_json::from_str(&listing.resp_body).unwrap();
        for item in body["keypairs"].as_array().unwrap() {
            let kp = &item["keypair"];
            let body = serde_json::json!({"keypair": {"name": kp["name"], "type": kp["type"], "public_key": kp["public_key"]}});
            let r = post("pager:proj-p", "2.2", body.to_string()).await;
            assert_eq!(r.status, 201, "seeding pager: {}", r.text());
        }
    }
}

fn is_request_id(v: &str) -> bool {
    v.len() == 40 && v.starts_with("req-") && uuid::Uuid::parse_str(&v[4..]).is_ok()
}

/// Replaces the varying parts of a body with placeholders after checking their shape.
fn normalise(body: &str, varying: &[String], ours: bool, problems: &mut Vec<String>) -> String {
    let Ok(mut v) = serde_json::from_str::<Value>(body) else {
        return body.to_string();
    };
    // A generated key's fingerprint is that of the public key it came with, not only of the
    // right shape.
    let fingerprint_varies = varying
        .iter()
        .any(|f| f == "response.json:keypair.fingerprint");
    if ours && fingerprint_varies {
        let kp = &v["keypair"];
        if let (Some(pk), Some(fp)) = (kp["public_key"].as_str(), kp["fingerprint"].as_str()) {
            let want = if kp["type"] == "x509" {
                novakeys::keys::x509_fingerprint(pk)
            } else {
                novakeys::keys::ssh_fingerprint(pk, novakeys::keys::Fingerprint::NovaMd5)
            };
            match want {
                Ok(want) if want == fp => {}
                other => problems.push(format!(
                    "the generated fingerprint {fp} is not the public key's ({other:?})"
                )),
            }
        }
    }
    for field in varying {
        let Some(path) = field.strip_prefix("response.json:") else {
            continue;
        };
        if let Some(rest) = path.strip_prefix("keypair.") {
            let slot = &mut v["keypair"][rest];
            if ours {
                let ok = match rest {
                    "private_key" => slot.as_str().is_some_and(|s| {
                        s.starts_with("-----BEGIN RSA PRIVATE KEY-----\n")
                            && s.ends_with("-----END RSA PRIVATE KEY-----\n")
                    }),
                    "public_key" => slot.as_str().is_some_and(|s| {
                        s.starts_with("ssh-rsa AAAA") && s.ends_with(" Generated-by-Nova")
                    }),
                    "fingerprint" => slot
                        .as_str()
                        .is_some_and(|s| s.len() == 47 && s.split(':').count() == 16),
                    "created_at" => slot.as_str().is_some_and(|s| {
                        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.6f").is_ok()
                            && s.len() == 26
                    }),
                    "id" => slot.is_i64(),
                    _ => true,
                };
                if !ok {
                    problems.push(format!("varying field {rest} has the wrong shape: {slot}"));
                }
            }
            *slot = Value::String(format!("<{rest}>"));
        } else if path.starts_with("keypairs[*]") {
            for item in v["keypairs"].as_array_mut().into_iter().flatten() {
                let kp = &mut item["keypair"];
                if kp["name"].as_str().is_some_and(|n| n.starts_with("gen-")) {
                    kp["public_key"] = Value::String("<generated>".into());
                    kp["fingerprint"] = Value::String("<generated>".into());
                }
            }
        }
    }
    String::from_utf8(novakeys::pycompat::pyjson::to_vec(&v)).unwrap()
}

fn compare(c: &Capture, r: &RawResponse) -> Vec<String> {
    let mut problems = Vec::new();
    if r.status != c.status {
        problems.push(format!("status {} (real Nova: {})", r.status, c.status));
    }
    let expected = |name: &str| -> Vec<&str> {
        c.resp_headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    };
    for name in [
        "Content-Type",
        "OpenStack-API-Version",
        "X-OpenStack-Nova-API-Version",
        "Vary",
        "WWW-Authenticate",
    ] {
        if expected(name) != r.all(name) {
            problems.push(format!(
                "header {name}: {:?} (real Nova: {:?})",
                r.all(name),
                expected(name)
            ));
        }
    }
    // RFC 9110 forbids Content-Length on 204; Nova (eventlet) sends `0`, actix omits it. No
    // client reads it, so this one header is the documented exception.
    let body_varies = c.varying.iter().any(|v| v.starts_with("response.json:"));
    if let Some(len) = r.header("Content-Length") {
        if len != r.body.len().to_string() && c.method != "HEAD" {
            problems.push(format!(
                "Content-Length {len} but the body has {} bytes",
                r.body.len()
            ));
        }
    }
    // Where the body varies (ids, generated keys) its length does too.
    if !c
        .varying
        .iter()
        .any(|v| v == "response.headers:Content-Length")
        && !body_varies
        && c.status != 204
        && expected("Content-Length") != r.all("Content-Length")
    {
        problems.push(format!(
            "Content-Length {:?} (real Nova: {:?})",
            r.all("Content-Length"),
            expected("Content-Length")
        ));
    }
    for name in ["x-openstack-request-id", "x-compute-request-id"] {
        let want = !expected(name).is_empty();
        let got = r.all(name);
        if want == got.is_empty() || (want && !got.iter().all(|v| is_request_id(v))) {
            problems.push(format!("header {name}: {got:?} (real Nova has it: {want})"));
        }
    }
    if r.header("x-openstack-request-id") != r.header("x-compute-request-id") {
        problems.push("the two request id headers differ".into());
    }
    let ours = r.text();
    if body_varies {
        let want = normalise(&c.resp_body, &c.varying, false, &mut problems);
        let got = normalise(&ours, &c.varying, true, &mut problems);
        if want != got {
            problems.push(format!("body differs:\n    ours: {got}\n    real: {want}"));
        }
    } else if ours != c.resp_body {
        problems.push(format!(
            "body differs:\n    ours: {ours}\n    real: {}",
            c.resp_body
        ));
    }
    problems
}

#[actix_web::test]
async fn replays_every_real_nova_capture() {
    let app = spawn_app(test_config(AuthMode::Noauth)).await;
    let captures = load();
    assert!(
        captures.len() >= 150,
        "all captures are present ({} found)",
        captures.len()
    );
    let mut failures = Vec::new();
    for c in &captures {
        seed_before(app.compute, &c.id, &captures).await;
        let r = raw_request(app.compute, &c.method, &c.path, &c.headers, &c.body).await;
        let problems = compare(c, &r);
        if !problems.is_empty() {
            failures.push(format!(
                "{} ({} {}):\n  - {}",
                c.id,
                c.method,
                c.path,
                problems.join("\n  - ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} captures differ from real Nova:\n\n{}",
        failures.len(),
        captures.len(),
        failures.join("\n\n")
    );
}
