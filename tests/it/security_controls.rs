//! What keeps a web page from driving the test controls (a JSON content type on every
//! state-changing call, our own `Origin`, a local `Host`, on every listener), and what keeps
//! secrets out of the request journal: broken bodies, secrets under other spellings, and each
//! front's own secrets, on the request and the response side.

use crate::common::{call, login, raw_request, spawn_app, test_config, RawResponse, TestApp};
use base64::Engine;
use hmac::{Hmac, Mac};
use novakeys::config::{AuthMode, Config};
use novakeys::fronts::alibaba::signature as ali;
use serde_json::{json, Value};
use std::net::SocketAddr;

const JSON: (&str, &str) = ("Content-Type", "application/json");

async fn app_with(auth: AuthMode, f: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = test_config(auth);
    f(&mut config);
    spawn_app(config).await
}

/// Every listener of `app`, named.
fn listeners(app: &TestApp) -> Vec<(String, SocketAddr)> {
    let mut all = vec![
        ("compute".to_string(), app.compute),
        ("identity".to_string(), app.identity),
    ];
    all.extend(app.fronts.iter().map(|(n, a)| (n.to_string(), *a)));
    all.dedup_by_key(|(_, a)| *a);
    all
}

/// Asserts a control refusal: this status, the controls' JSON error.
fn refused(r: &RawResponse, status: u16, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"), "{what}");
    let e = r.json();
    assert_eq!(e["error"]["code"], status, "{what}: {e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{what}: {e}"
    );
}

async fn fault_count(addr: SocketAddr) -> usize {
    let r = call(addr, "GET", "/_novakeys/faults", &[], "").await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["faults"].as_array().unwrap().len()
}

const RULE: &str = r#"{"match": {"path": "/nothing"}, "action": {"status": 500}}"#;

// ---- the controls -----------------------------------------------------------------------------

/// Every state-changing control of the OpenAPI document, without a content type and with
/// the ones a page may send cross-site without asking: 415, and nothing changed.
#[actix_web::test]
async fn every_state_changing_control_needs_the_json_content_type() {
    let app = app_with(AuthMode::Noauth, |_| {}).await;
    let doc: Value = serde_json::from_str(novakeys::control::OPENAPI).unwrap();
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let path = path.replace("{name}", "snap").replace("{id}", "x");
        for method in ["post", "put", "patch", "delete"] {
            if ops.get(method).is_none() {
                continue;
            }
            let m = method.to_uppercase();
            for ct in [
                None,
                Some("text/plain"),
                Some("application/x-www-form-urlencoded"),
                Some("multipart/form-data; boundary=x"),
            ] {
                let headers: Vec<(&str, &str)> =
                    ct.map(|c| ("Content-Type", c)).into_iter().collect();
                let r = call(app.compute, &m, &path, &headers, "{}").await;
                refused(&r, 415, &format!("{m} {path} with {ct:?}"));
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 4 * 10,
        "the document lists the controls: {checked}"
    );
    // A body-less reset (what a page's form or `fetch` can send) changes nothing.
    let r = call(
        app.compute,
        "POST",
        "/v2.1/os-keypairs",
        &[JSON, ("X-Auth-Token", "demo:demo")],
        &json!({"keypair": {"name": "kept", "public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGGY0fh32MPHfCPM2rKWmuJVJgBbCxUWRJ6Ibd/ftQWq"}}).to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = call(
        app.compute,
        "POST",
        "/_novakeys/reset",
        &[("Content-Type", "text/plain")],
        "",
    )
    .await;
    refused(&r, 415, "text/plain reset");
    let r = call(
        app.compute,
        "POST",
        "/_novakeys/faults",
        &[("Content-Type", "text/plain")],
        RULE,
    )
    .await;
    refused(&r, 415, "text/plain fault rule");
    assert_eq!(fault_count(app.compute).await, 0, "no rule was added");
    let r = call(
        app.compute,
        "POST",
        "/_novakeys/clock",
        &[("Content-Type", "text/plain")],
        r#"{"set": "2001-01-01T00:00:00Z"}"#,
    )
    .await;
    refused(&r, 415, "text/plain clock");
    let clock = call(app.compute, "GET", "/_novakeys/clock", &[], "")
        .await
        .json();
    assert_eq!(clock["frozen"], false, "the clock was not set: {clock}");
    let journal = call(app.compute, "GET", "/_novakeys/journal", &[], "")
        .await
        .json();
    assert_eq!(journal["entries"].as_array().unwrap().len(), 1, "not reset");
    // With the JSON content type, with or without parameters, they work.
    let r = call(
        app.compute,
        "POST",
        "/_novakeys/faults",
        &[("Content-Type", "Application/JSON; charset=utf-8")],
        RULE,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = call(app.compute, "DELETE", "/_novakeys/faults", &[JSON], "").await;
    assert_eq!(r.status, 204, "{}", r.text());
    let r = call(app.compute, "POST", "/_novakeys/reset", &[JSON], "").await;
    assert_eq!(r.status, 204, "{}", r.text());
    // Reads need no content type.
    assert_eq!(fault_count(app.compute).await, 0);
}

#[actix_web::test]
async fn controls_refuse_requests_from_other_origins() {
    let app = app_with(AuthMode::Noauth, |_| {}).await;
    let console = app.front("console");
    for (name, addr) in listeners(&app) {
        let own = format!("http://{addr}");
        for origin in [
            "http://evil.example",
            "null",
            // Another listener of ours is another origin (its pages are not the controls').
            &format!(
                "http://{}",
                if addr == console {
                    app.compute
                } else {
                    console
                }
            ),
            &format!("http://{addr}/"),
            "http://localhost",
        ] {
            let h = [JSON, ("Origin", origin)];
            let r = call(addr, "POST", "/_novakeys/faults", &h, RULE).await;
            refused(&r, 403, &format!("{name}: POST from {origin}"));
            let r = call(addr, "POST", "/_novakeys/reset", &h, "").await;
            refused(&r, 403, &format!("{name}: reset from {origin}"));
            let r = call(addr, "GET", "/_novakeys/journal", &h[1..], "").await;
            refused(&r, 403, &format!("{name}: journal read from {origin}"));
        }
        assert_eq!(fault_count(addr).await, 0, "{name}");
        for origin in [own.clone(), own.replace("http:", "https:")] {
            let r = call(
                addr,
                "POST",
                "/_novakeys/faults",
                &[JSON, ("Origin", &origin)],
                RULE,
            )
            .await;
            assert_eq!(
                r.status,
                201,
                "{name}: our own origin {origin}: {}",
                r.text()
            );
        }
        let r = call(
            addr,
            "DELETE",
            "/_novakeys/faults",
            &[JSON, ("Origin", &own)],
            "",
        )
        .await;
        assert_eq!(r.status, 204, "{name}");
    }
}

/// A DNS-rebinding page reaches 127.0.0.1 under its own name: no listener answers it.
#[actix_web::test]
async fn controls_answer_only_local_host_names_on_every_listener() {
    for single_port in [false, true] {
        let app = app_with(AuthMode::Noauth, |c| {
            if single_port {
                c.single_port = Some("127.0.0.1:0".parse().unwrap());
            }
        })
        .await;
        for (name, addr) in listeners(&app) {
            let port = addr.port();
            for host in [
                format!("evil.example:{port}"),
                "evil.example".to_string(),
                format!("localhost.evil.example:{port}"),
                format!("0.0.0.0:{port}"),
                format!("192.0.2.1:{port}"),
                format!("127.0.0.1.nip.io:{port}"),
            ] {
                let h = [("Host", host.as_str())];
                let r = call(addr, "GET", "/_novakeys/journal", &h, "").await;
                refused(
                    &r,
                    403,
                    &format!("{name} (single port {single_port}): Host {host}"),
                );
                let r = call(addr, "POST", "/_novakeys/reset", &[h[0], JSON], "").await;
                refused(&r, 403, &format!("{name}: reset for Host {host}"));
            }
            for host in [
                format!("localhost:{port}"),
                format!("LocalHost.:{port}"),
                format!("127.0.0.1:{port}"),
                format!("127.0.0.2:{port}"),
                format!("[::1]:{port}"),
                format!("novakeys.localhost:{port}"),
            ] {
                let r = call(addr, "GET", "/_novakeys/journal", &[("Host", &host)], "").await;
                assert_eq!(r.status, 200, "{name}: Host {host}: {}", r.text());
            }
        }
    }
}

#[actix_web::test]
async fn a_configured_public_name_is_ours_and_a_token_lifts_the_host_rule() {
    let app = app_with(AuthMode::Noauth, |c| {
        c.public_compute_url = Some("https://novakeys.test:8443/compute".into());
        c.public_identity_url = Some("http://keystone.test".into());
    })
    .await;
    for addr in [app.compute, app.front("twcc")] {
        for host in ["novakeys.test", "novakeys.test:1234", "keystone.test:5000"] {
            let r = call(addr, "GET", "/_novakeys/journal", &[("Host", host)], "").await;
            assert_eq!(r.status, 200, "Host {host}: {}", r.text());
        }
        for origin in ["https://novakeys.test:8443", "http://keystone.test"] {
            let r = call(
                addr,
                "POST",
                "/_novakeys/faults",
                &[JSON, ("Origin", origin)],
                RULE,
            )
            .await;
            assert_eq!(r.status, 201, "Origin {origin}: {}", r.text());
        }
        for origin in [
            "http://novakeys.test:8443",
            "https://novakeys.test",
            "http://keystone.test:81",
        ] {
            let r = call(
                addr,
                "POST",
                "/_novakeys/faults",
                &[JSON, ("Origin", origin)],
                RULE,
            )
            .await;
            refused(&r, 403, &format!("Origin {origin}"));
        }
        let r = call(
            addr,
            "GET",
            "/_novakeys/journal",
            &[("Host", "evil.test")],
            "",
        )
        .await;
        refused(&r, 403, "an unconfigured name");
    }
    // With a control token, the token proves the caller is no page: any name may be used
    // (remote clients reach novakeys under theirs); Origin and the content type still count.
    let app = app_with(AuthMode::Noauth, |c| {
        c.control_token = Some("s3cret".into())
    })
    .await;
    let tok = ("X-Novakeys-Control-Token", "s3cret");
    let r = call(
        app.compute,
        "GET",
        "/_novakeys/journal",
        &[tok, ("Host", "novakeys:8774")],
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = call(
        app.compute,
        "GET",
        "/_novakeys/journal",
        &[("Host", "novakeys:8774")],
        "",
    )
    .await;
    refused(&r, 403, "no token");
    let r = call(
        app.compute,
        "POST",
        "/_novakeys/reset",
        &[tok, ("Origin", "http://evil.example"), JSON],
        "",
    )
    .await;
    refused(&r, 403, "token, but another origin");
    let r = call(app.compute, "POST", "/_novakeys/reset", &[tok], "").await;
    refused(&r, 415, "token, but no content type");
    let r = call(app.compute, "POST", "/_novakeys/reset", &[tok, JSON], "").await;
    assert_eq!(r.status, 204, "{}", r.text());
}

// ---- the journal ------------------------------------------------------------------------------

/// The journal as both formats show it.
async fn journal_text(addr: SocketAddr) -> String {
    let json = call(addr, "GET", "/_novakeys/journal", &[], "").await;
    assert_eq!(json.status, 200, "{}", json.text());
    let nd = call(addr, "GET", "/_novakeys/journal?format=ndjson", &[], "").await;
    assert_eq!(nd.status, 200);
    format!("{}\n{}", json.text(), nd.text())
}

/// Asserts none of `secrets` (as sent, percent-encoded, or JSON-escaped) is in the journal,
/// and that the journal did record `calls` calls at least (so the check saw them).
async fn never_journalled(addr: SocketAddr, calls: usize, secrets: &[&str]) {
    let text = journal_text(addr).await;
    let entries = call(addr, "GET", "/_novakeys/journal", &[], "")
        .await
        .json()["entries"]
        .as_array()
        .unwrap()
        .len();
    assert!(entries >= calls, "{entries} entries, {calls} calls: {text}");
    for s in secrets {
        assert!(!s.is_empty());
        let encoded = ali::encode(s);
        let form: String = form_urlencoded::byte_serialize(s.as_bytes()).collect();
        let escaped = serde_json::to_string(s).unwrap();
        for shown in [
            s.to_string(),
            encoded,
            form,
            escaped.trim_matches('"').to_string(),
        ] {
            assert!(!text.contains(&shown), "{shown} is in the journal: {text}");
        }
    }
}

/// The middle of a PEM body (a slice of its base64, as the reliability test greps).
fn pem_slice(pem: &str) -> String {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(b64.len() > 100, "{pem}");
    b64[40..80].to_string()
}

/// Log-in bodies the journal could not check before: truncated JSON, a non-UTF-8 byte, the
/// password under another case, as a list, behind a `\u` escape.
#[actix_web::test]
async fn broken_and_oddly_spelt_log_ins_never_journal_their_password() {
    let app = app_with(AuthMode::Keystone, |_| {}).await;
    let user = |pw: &str| {
        format!(
            r#"{{"auth": {{"identity": {{"methods": ["password"], "password": {{"user": {{"name": "demo", "domain": {{"id": "default"}}, {pw}}}}}}}}}}}"#
        )
    };
    let truncated = user(r#""password": "TruncatedPw-4711""#);
    let bodies: Vec<Vec<u8>> = vec![
        // Truncated JSON: cut right after the password.
        truncated.as_bytes()[..truncated.len() - 3].to_vec(),
        truncated.as_bytes()[..truncated.len() - 5].to_vec(),
        // A non-UTF-8 byte elsewhere in the body.
        {
            let mut b = user(r#""password": "NonUtf8Pw-4711", "x": "XX""#).into_bytes();
            let at = b.windows(2).position(|w| w == b"XX").unwrap();
            b[at] = 0xff;
            b
        },
        // ... or in the password itself.
        {
            let mut b = br#"{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "demo", "domain": {"id": "default"}, "password": "NonUtf8Pw-4712"#.to_vec();
            b.extend_from_slice(b"\xfe\"}}}}}");
            b
        },
        user(r#""Password": "CasedPw-4711""#).into_bytes(),
        user(r#""PASSWORD": "CasedPw-4712""#).into_bytes(),
        user(r#""password": ["ListPw-4711", "ListPw-4712"]"#).into_bytes(),
        user(r#""password": {"value": "NestedPw-4711"}"#).into_bytes(),
        user(r#""pass\u0077ord": "EscapedPw-4711""#).into_bytes(),
        // Not JSON at all, and not a form (a raw space).
        b"user=demo password=PlainPw-4711".to_vec(),
        // UTF-16: no name can be checked in it.
        "{\"password\": \"Utf16Pw-4711\"}"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect(),
    ];
    for body in &bodies {
        let r = raw_request(
            app.identity,
            "POST",
            "/v3/auth/tokens",
            &[("Content-Type".into(), "application/json".into())],
            body,
        )
        .await;
        assert!(
            (400..500).contains(&r.status),
            "{}: {}",
            String::from_utf8_lossy(body),
            r.text()
        );
    }
    never_journalled(
        app.identity,
        bodies.len(),
        &[
            "TruncatedPw-4711",
            "NonUtf8Pw-4711",
            "NonUtf8Pw-4712",
            "CasedPw-4711",
            "CasedPw-4712",
            "ListPw-4711",
            "ListPw-4712",
            "NestedPw-4711",
            "EscapedPw-4711",
            "PlainPw-4711",
        ],
    )
    .await;
    // UTF-16 is dropped whole, as is anything not UTF-8; the rest still shows what it can.
    let text = journal_text(app.identity).await;
    assert!(
        !text.contains("U\\u0000t\\u0000f") && !text.contains("4\\u00007"),
        "{text}"
    );
    assert!(text.contains("not UTF-8 text: not kept"), "{text}");
    assert!(
        text.contains("\"name\":\"demo\""),
        "a parsed body keeps the user's name: {text}"
    );
}

/// Keystone: passwords (a new user's, its log-in), application credential secrets (created
/// and used), tokens (headers only; never in a body).
#[actix_web::test]
async fn keystone_secrets_never_reach_the_journal() {
    let app = app_with(AuthMode::Keystone, |_| {}).await;
    let id = app.identity;
    let admin = login(id, "admin", "admin").await;
    let demo = login(id, "demo", "demo").await;
    let who = call(
        id,
        "GET",
        "/v3/auth/tokens",
        &[("X-Auth-Token", &demo), ("X-Subject-Token", &demo)],
        "",
    )
    .await
    .json();
    let demo_id = who["token"]["user"]["id"].as_str().unwrap().to_string();
    let r = call(
        id,
        "POST",
        "/v3/users",
        &[JSON, ("X-Auth-Token", &admin)],
        &json!({"user": {"name": "ks-secret", "password": "KsUserPw-4711", "domain_id": "default"}}).to_string(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    // The new user logs in (unscoped: no role yet).
    let body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "ks-secret", "domain": {"id": "default"}, "password": "KsUserPw-4711"}}}}});
    let r = call(id, "POST", "/v3/auth/tokens", &[JSON], &body.to_string()).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let user_token = r.header("x-subject-token").unwrap().to_string();
    let r = call(
        id,
        "POST",
        &format!("/v3/users/{demo_id}/application_credentials"),
        &[JSON, ("X-Auth-Token", &demo)],
        r#"{"application_credential": {"name": "ac"}}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let ac = r.json()["application_credential"].clone();
    let secret = ac["secret"].as_str().unwrap().to_string();
    let r = call(
        id,
        "POST",
        "/v3/auth/tokens",
        &[JSON],
        &json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"id": ac["id"], "secret": secret}}}}).to_string(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let ac_token = r.header("x-subject-token").unwrap().to_string();
    never_journalled(
        id,
        6,
        &[
            "KsUserPw-4711",
            &secret,
            &admin,
            &demo,
            &user_token,
            &ac_token,
        ],
    )
    .await;
}

#[actix_web::test]
async fn nova_private_keys_never_reach_the_journal() {
    let app = app_with(AuthMode::Keystone, |_| {}).await;
    let token = login(app.identity, "demo", "demo").await;
    let r = call(
        app.compute,
        "POST",
        "/v2.1/os-keypairs",
        &[JSON, ("X-Auth-Token", &token)],
        r#"{"keypair": {"name": "generated"}}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let pem = r.json()["keypair"]["private_key"]
        .as_str()
        .unwrap()
        .to_string();
    never_journalled(app.compute, 1, &[&pem_slice(&pem), &token]).await;
}

const ALI_DEMO: (&str, &str) = ("LTAI5tNovakeysDemo000001", "NovakeysDemoAlibabaSecret00001");

/// An Alibaba RPC call signed with `cred`, its parameters (and `Signature`) in the query.
async fn alibaba_rpc(
    addr: SocketAddr,
    cred: (&str, &str),
    params: &[(&str, &str)],
) -> (RawResponse, String) {
    let stamp = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let mut p: Vec<(&str, &str)> = params.to_vec();
    p.extend([
        ("Version", "2014-05-26"),
        ("Format", "JSON"),
        ("AccessKeyId", cred.0),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", nonce.as_str()),
        ("Timestamp", stamp.as_str()),
    ]);
    let sts = ali::rpc_string_to_sign("POST", p.iter().copied());
    let sig = ali::rpc_sign(cred.1, &sts);
    let target = format!(
        "/?{}&Signature={}",
        ali::canonical_query(p.iter().copied()),
        ali::encode(&sig)
    );
    let r = call(addr, "POST", &target, &[("Host", &addr.to_string())], "").await;
    (r, sig)
}

/// Alibaba: the request's `Signature` (query or form), secret-like form fields, and the
/// generated `PrivateKeyBody`.
#[actix_web::test]
async fn alibaba_secrets_never_reach_the_journal() {
    let app = app_with(AuthMode::Keystone, |_| {}).await;
    let addr = app.front("alibaba");
    let (r, sig) = alibaba_rpc(
        addr,
        ALI_DEMO,
        &[
            ("Action", "CreateKeyPair"),
            ("RegionId", "cn-hangzhou"),
            ("KeyPairName", "ali-gen"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let pem = r.json()["PrivateKeyBody"].as_str().unwrap().to_string();
    let form = "Action=DescribeKeyPairs&RegionId=cn-hangzhou&AccessKeyId=LTAI5tNovakeysDemo000001&AccessKeySecret=AliSecret-4711&access_key_secret=AliSecret-4712&Signature=AliFormSig-4711";
    let r = call(
        addr,
        "POST",
        "/",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        form,
    )
    .await;
    assert!(r.status >= 400, "{}", r.text());
    let r = call(
        addr,
        "GET",
        "/?Action=DescribeKeyPairs&Signature=AliQuerySig%2B4711&AccessKeySecret=AliSecret-4713",
        &[],
        "",
    )
    .await;
    assert!(r.status >= 400, "{}", r.text());
    never_journalled(
        addr,
        3,
        &[
            &sig,
            &pem_slice(&pem),
            ALI_DEMO.1,
            "AliSecret-4711",
            "AliSecret-4712",
            "AliSecret-4713",
            "AliFormSig-4711",
            "AliQuerySig+4711",
        ],
    )
    .await;
    // What is not secret stays: the action, the access key id, the nonce's name.
    let text = journal_text(addr).await;
    assert!(
        text.contains("Action=CreateKeyPair")
            && text.contains("AccessKeyId=LTAI5tNovakeysDemo000001"),
        "{text}"
    );
    assert!(text.contains("Signature=***"), "{text}");
}

const TC_DEMO: (&str, &str) = (
    "AKIDNovakeysDemo00000000000000000001",
    "NovakeysDemoTencentSecretKey0001",
);

/// A Tencent legacy (v1) GET: the parameters and `Signature` in the query.
async fn tencent_legacy_get(
    addr: SocketAddr,
    cred: (&str, &str),
    params: &[(&str, &str)],
) -> (RawResponse, String) {
    let ts = chrono::Utc::now().timestamp().to_string();
    let mut all: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (k, v) in [
        ("Nonce", "4711"),
        ("Timestamp", ts.as_str()),
        ("Version", "2017-03-12"),
        ("Region", "ap-guangzhou"),
        ("SecretId", cred.0),
        ("SignatureMethod", "HmacSHA256"),
    ] {
        all.push((k.into(), v.into()));
    }
    all.sort();
    let joined: Vec<String> = all.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let to_sign = format!("GET{addr}/?{}", joined.join("&"));
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(cred.1.as_bytes()).unwrap();
    mac.update(to_sign.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    all.push(("Signature".into(), sig.clone()));
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(all.iter())
        .finish();
    (call(addr, "GET", &format!("/?{query}"), &[], "").await, sig)
}

/// Tencent: the legacy `Signature` (query and form), secret fields in a JSON body, the TC3
/// `Authorization` header, and the generated `PrivateKey`.
#[actix_web::test]
async fn tencent_secrets_never_reach_the_journal() {
    let app = app_with(AuthMode::Keystone, |_| {}).await;
    let addr = app.front("tencent");
    let (r, sig) = tencent_legacy_get(
        addr,
        TC_DEMO,
        &[
            ("Action", "CreateKeyPair"),
            ("KeyName", "tc_gen"),
            ("ProjectId", "0"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let pem = r.json()["Response"]["KeyPair"]["PrivateKey"]
        .as_str()
        .unwrap()
        .to_string();
    let r = call(
        addr,
        "POST",
        "/",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "Action=DescribeKeyPairs&SecretId=AKIDNovakeysDemo00000000000000000001&Nonce=1&Timestamp=1&SignatureMethod=HmacSHA256&Signature=TcFormSig-4711",
    )
    .await;
    assert_eq!(
        r.status,
        200,
        "Tencent answers errors with 200: {}",
        r.text()
    );
    let r = call(
        addr,
        "POST",
        "/",
        &[
            JSON,
            ("X-TC-Action", "DescribeKeyPairs"),
            ("X-TC-Version", "2017-03-12"),
            ("X-TC-Timestamp", "1"),
            (
                "Authorization",
                "TC3-HMAC-SHA256 Credential=AKIDNovakeysDemo00000000000000000001/2026-01-01/cvm/tc3_request, SignedHeaders=content-type;host, Signature=TcHeaderSig4711",
            ),
        ],
        r#"{"SecretKey": "TcSecret-4711", "Credential": {"SecretKey": "TcSecret-4712", "Token": "TcToken-4711"}}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    never_journalled(
        addr,
        3,
        &[
            &sig,
            &pem_slice(&pem),
            TC_DEMO.1,
            "TcFormSig-4711",
            "TcHeaderSig4711",
            "TcSecret-4711",
            "TcSecret-4712",
            "TcToken-4711",
        ],
    )
    .await;
    let text = journal_text(addr).await;
    assert!(
        text.contains("SecretId=AKIDNovakeysDemo00000000000000000001"),
        "the key's id stays: {text}"
    );
}

/// TWCC: the API key (a header, never journalled) and the generated private key (a raw PEM
/// answer).
#[actix_web::test]
async fn twcc_secrets_never_reach_the_journal() {
    let app = app_with(AuthMode::Keystone, |_| {}).await;
    let addr = app.front("twcc");
    let key = "nk-twcc-demo-key-0001";
    let r = call(
        addr,
        "POST",
        "/api/v3/openstack-taichung-default-2/keypairs/",
        &[
            ("X-API-HOST", "openstack-taichung-default-2"),
            ("x-api-key", key),
            JSON,
        ],
        r#"{"name": "twcc-gen"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let pem = r.text();
    assert!(pem.contains("PRIVATE KEY"), "{pem}");
    let r = call(
        addr,
        "GET",
        "/api/v3/openstack-taichung-default-2/keypairs/?api_key=TwccQueryKey-4711",
        &[
            ("X-API-HOST", "openstack-taichung-default-2"),
            ("x-api-key", "TwccWrongKey-4711"),
        ],
        "",
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.text());
    never_journalled(
        addr,
        2,
        &[
            key,
            &pem_slice(&pem),
            "TwccWrongKey-4711",
            "TwccQueryKey-4711",
        ],
    )
    .await;
}

/// The value of the form field `name` in a page.
fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html
        .rfind(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[at..].split('"').next().unwrap().to_string()
}

fn cookie(r: &RawResponse, name: &str) -> String {
    r.all("set-cookie")
        .into_iter()
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("no {name} cookie: {:?}", r.headers))
        .to_string()
}

/// The console: the log-in form's password (well-formed, and with a raw space that makes it
/// no form), the session and log-in cookies, the CSRF tokens.
#[actix_web::test]
async fn console_secrets_never_reach_the_journal() {
    let app = app_with(AuthMode::Keystone, |_| {}).await;
    let addr = app.front("console");
    let origin = format!("http://{addr}");
    let page = call(addr, "GET", "/login", &[], "").await;
    let login_cookie = cookie(&page, "nk_login");
    let login_csrf = field(&page.text(), "csrf_token");
    let jar = format!("nk_login={login_cookie}");
    let form_ct = ("Content-Type", "application/x-www-form-urlencoded");
    let headers = [
        form_ct,
        ("Origin", origin.as_str()),
        ("Cookie", jar.as_str()),
    ];
    let wrong =
        format!("csrf_token={login_csrf}&username=demo&password=ConsolePw-4711&domain=Default");
    let r = call(addr, "POST", "/login", &headers, &wrong).await;
    assert_eq!(r.status, 401, "a failed log-in: {}", r.text());
    let raw =
        format!("csrf_token={login_csrf}&username=demo&password=Console Pw-4712&domain=Default");
    call(addr, "POST", "/login", &headers, &raw).await;
    let page = call(addr, "GET", "/login", &[], "").await;
    let jar = format!("nk_login={}", cookie(&page, "nk_login"));
    let csrf = field(&page.text(), "csrf_token");
    let ok = format!("csrf_token={csrf}&username=demo&password=demo&domain=Default");
    let r = call(
        addr,
        "POST",
        "/login",
        &[form_ct, ("Origin", &origin), ("Cookie", &jar)],
        &ok,
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let session = cookie(&r, "nk_session");
    let jar = format!("nk_session={session}");
    let list = call(addr, "GET", "/keypairs", &[("Cookie", &jar)], "").await;
    assert_eq!(list.status, 200);
    let session_csrf = field(&list.text(), "csrf_token");
    let r = call(
        addr,
        "POST",
        "/keypairs/new",
        &[form_ct, ("Origin", &origin), ("Cookie", &jar)],
        &format!("csrf_token={session_csrf}&name=console-gen"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    never_journalled(
        addr,
        5,
        &[
            "ConsolePw-4711",
            "Console Pw-4712",
            "Pw-4712",
            &login_csrf,
            &csrf,
            &session,
            &session_csrf,
            &login_cookie,
        ],
    )
    .await;
}

/// The console's state-changing forms refuse a cross-site POST even with a stolen-looking
/// valid session and token: the browser's `Origin`, or without one its `Sec-Fetch-Site`.
#[actix_web::test]
async fn console_refuses_cross_site_posts() {
    let app = app_with(AuthMode::Keystone, |_| {}).await;
    let addr = app.front("console");
    let origin = format!("http://{addr}");
    let page = call(addr, "GET", "/login", &[], "").await;
    let jar = format!("nk_login={}", cookie(&page, "nk_login"));
    let csrf = field(&page.text(), "csrf_token");
    let form_ct = ("Content-Type", "application/x-www-form-urlencoded");
    let body = format!("csrf_token={csrf}&username=demo&password=demo&domain=Default");
    // Log-in CSRF: a page logging the victim into the attacker's account.
    for cross in [
        ("Origin", "http://evil.example"),
        ("Sec-Fetch-Site", "cross-site"),
    ] {
        let r = call(
            addr,
            "POST",
            "/login",
            &[form_ct, ("Cookie", &jar), cross],
            &body,
        )
        .await;
        assert_eq!(r.status, 403, "{cross:?}: {}", r.text());
    }
    let r = call(
        addr,
        "POST",
        "/login",
        &[form_ct, ("Origin", &origin), ("Cookie", &jar)],
        &body,
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let jar = format!("nk_session={}", cookie(&r, "nk_session"));
    let list = call(addr, "GET", "/keypairs", &[("Cookie", &jar)], "").await;
    let csrf = field(&list.text(), "csrf_token");
    for path in ["/keypairs/new", "/logout"] {
        for cross in [
            ("Origin", "http://evil.example"),
            ("Sec-Fetch-Site", "cross-site"),
            ("Origin", "null"),
        ] {
            let r = call(
                addr,
                "POST",
                path,
                &[form_ct, ("Cookie", &jar), cross],
                &format!("csrf_token={csrf}&name=cross"),
            )
            .await;
            assert_eq!(r.status, 403, "{path} {cross:?}: {}", r.text());
        }
    }
    let list = call(addr, "GET", "/keypairs", &[("Cookie", &jar)], "").await;
    assert_eq!(list.status, 200, "still logged in");
    assert!(!list.text().contains(">cross</a>"), "nothing was made");
}
