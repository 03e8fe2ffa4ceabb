//! The Tencent Cloud CVM front end to end (the real app on port 0), over raw HTTP. Requests
//! are signed here by a small TC3 and legacy signer of the test's own, written from Tencent's
//! signing doc, so the server's verifier is checked against an independent implementation.

use crate::common::{
    call, login, nova_import, raw_request, spawn_app, test_config, RawResponse, TestApp,
};
use base64::Engine;
use hmac::{Hmac, Mac};
use novakeys::config::{AuthMode, Config};
use novakeys::domain::KeypairScope;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;

pub(crate) const DEMO: (&str, &str) = (
    "AKIDNovakeysDemo00000000000000000001",
    "NovakeysDemoTencentSecretKey0001",
);
const ADMIN: (&str, &str) = (
    "AKIDNovakeysAdmin0000000000000000001",
    "NovakeysAdminTencentSecretKey001",
);
const READER: (&str, &str) = (
    "AKIDNovakeysReader000000000000000001",
    "NovakeysReaderTencentSecretKey01",
);
const RSA1: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCTLJuoJYPUNJM9caWpZtWzlNwWFVmQbD3it8e3ayTxmIVqjZGMHz/5Su+McGRrSD21izwmxSY/aeTjwmSq2MFFD7vMLkvpmPJw72cf0R1T/98IAHGb92JtHPoSCMFGHT5TIFhF8cBRMsoJhFFdUjY6CazLqqQ1caAhGFwmSWiZ3w== it@tencent";
const RSA2: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDP7LZSzMZqTD9RjiDTcWK55QZXSO0ZLAu3AUjGI1VmZdgHWWS7UT5g37mzCsY1K9Mz8bEMSz5rKNEzDOwThd5qf4PBe4WEx61+FrnUGQD+xmQrRB4EEbGUTaEVQ/9iGip2bUT/O4drqr8JsKHz0ZHptACCSaOKaTHPXwWgeZ7dTw== it@tencent";
const RSA3: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC3p5meku2PDvjoK1RLFaA61Nlmedc0tl/RuOWyTXPO7pbRMhWkgzyVIumVlyU67DJ8+2t63t+1oBMQGeDBUel3UYsuT/zyx/1Pj/RxNSzPFe2TyOvrvzJNPzcwvGm3O5wK+IPv9w5Qs5OojTaIpPq6EAzBJR2d02nhBZaeM6Ak3w== it@tencent";
const RSA4: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDSZHEv4fjckYU6G5gKfmb400iufuQhsEWg2cjTzOe8RYdhcO43Nj7GAd2PVflA7pZYi4YtmMriMK+walTLfNzoDhp/TCq6gTvhJ4fR9tSt6qhFqRsSaM9iQc6d0O06DKdImMkn+rDWPMI4LIB8gUxk1Hqs9ynLPGnmmhU1v8AV0Q== it@tencent";
const ED25519: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII5J04CljaeVO5LeIXMByG9K0Yy+5h481th5PkWvlFm9 ed@oracle";

// ------------------------------------------------------------------ the test's own signer

fn hmac(key: &[u8], msg: &str) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
    m.update(msg.as_bytes());
    m.finalize().into_bytes().to_vec()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// One TC3 request, with every knob a test turns.
struct Tc3<'a> {
    cred: (&'a str, &'a str),
    method: &'a str,
    action: &'a str,
    /// JSON body (POST) or the raw query (GET).
    payload: String,
    content_type: &'a str,
    /// The Host header sent, and the host signed.
    host: Option<String>,
    signed_host: Option<String>,
    timestamp: i64,
    region: &'a str,
    version: &'a str,
    service: &'a str,
    unsigned: bool,
    /// Signed over `payload`, these bytes sent (tampering, or anything under UNSIGNED-PAYLOAD).
    sent_body: Option<Vec<u8>>,
}

impl<'a> Tc3<'a> {
    fn post(cred: (&'a str, &'a str), action: &'a str, body: Value) -> Tc3<'a> {
        Tc3 {
            cred,
            method: "POST",
            action,
            payload: body.to_string(),
            content_type: "application/json",
            host: None,
            signed_host: None,
            timestamp: now(),
            region: "ap-guangzhou",
            version: "2017-03-12",
            service: "cvm",
            unsigned: false,
            sent_body: None,
        }
    }

    fn get(cred: (&'a str, &'a str), action: &'a str, query: &str) -> Tc3<'a> {
        Tc3 {
            method: "GET",
            payload: query.to_string(),
            content_type: "application/x-www-form-urlencoded",
            ..Tc3::post(cred, action, json!({}))
        }
    }

    async fn send(self, addr: SocketAddr) -> RawResponse {
        let host = self.host.clone().unwrap_or_else(|| addr.to_string());
        let signed_host = self.signed_host.clone().unwrap_or_else(|| host.clone());
        let date = chrono::DateTime::from_timestamp(self.timestamp, 0)
            .unwrap()
            .format("%Y-%m-%d")
            .to_string();
        let (query, body) = if self.method == "GET" {
            (self.payload.clone(), String::new())
        } else {
            (String::new(), self.payload.clone())
        };
        let hashed = if self.unsigned {
            "UNSIGNED-PAYLOAD".to_string()
        } else {
            body.clone()
        };
        let canonical = format!(
            "{}\n/\n{query}\ncontent-type:{}\nhost:{signed_host}\n\ncontent-type;host\n{}",
            self.method,
            self.content_type,
            hex(&Sha256::digest(hashed.as_bytes()))
        );
        let scope = format!("{date}/{}/tc3_request", self.service);
        let to_sign = format!(
            "TC3-HMAC-SHA256\n{}\n{scope}\n{}",
            self.timestamp,
            hex(&Sha256::digest(canonical.as_bytes()))
        );
        let k = hmac(format!("TC3{}", self.cred.1).as_bytes(), &date);
        let k = hmac(&k, self.service);
        let k = hmac(&k, "tc3_request");
        let signature = hex(&hmac(&k, &to_sign));
        let mut headers = vec![
            ("Host".to_string(), host),
            ("Content-Type".into(), self.content_type.into()),
            ("X-TC-Action".into(), self.action.into()),
            ("X-TC-Version".into(), self.version.into()),
            ("X-TC-Timestamp".into(), self.timestamp.to_string()),
            ("X-TC-Region".into(), self.region.into()),
            (
                "Authorization".into(),
                format!(
                    "TC3-HMAC-SHA256 Credential={}/{scope}, SignedHeaders=content-type;host, Signature={signature}",
                    self.cred.0
                ),
            ),
        ];
        if self.unsigned {
            headers.push(("X-TC-Content-SHA256".into(), "UNSIGNED-PAYLOAD".into()));
        }
        let path = if query.is_empty() {
            "/".to_string()
        } else {
            format!("/?{query}")
        };
        let sent = self.sent_body.unwrap_or_else(|| body.into_bytes());
        raw_request(addr, self.method, &path, &headers, &sent).await
    }
}

/// A legacy (v1) request: `params` plus the envelope, form body (POST) or query (GET).
async fn legacy(
    addr: SocketAddr,
    cred: (&str, &str),
    method: &str,
    sign_method: &str,
    params: &[(&str, &str)],
    secret_override: Option<&str>,
) -> RawResponse {
    let ts = now().to_string();
    let mut all: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (k, v) in [
        ("Nonce", "8081"),
        ("Timestamp", ts.as_str()),
        ("Version", "2017-03-12"),
        ("Region", "ap-guangzhou"),
        ("SecretId", cred.0),
        ("SignatureMethod", sign_method),
    ] {
        all.push((k.into(), v.into()));
    }
    all.sort();
    let joined: Vec<String> = all.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let to_sign = format!("{method}{addr}/?{}", joined.join("&"));
    let secret = secret_override.unwrap_or(cred.1).as_bytes();
    let raw = if sign_method == "HmacSHA1" {
        let mut m = Hmac::<sha1::Sha1>::new_from_slice(secret).unwrap();
        m.update(to_sign.as_bytes());
        m.finalize().into_bytes().to_vec()
    } else {
        hmac(secret, &to_sign)
    };
    all.push((
        "Signature".into(),
        base64::engine::general_purpose::STANDARD.encode(raw),
    ));
    let form = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(all.iter())
        .finish();
    let headers = vec![(
        "Content-Type".to_string(),
        "application/x-www-form-urlencoded".to_string(),
    )];
    if method == "GET" {
        raw_request(addr, "GET", &format!("/?{form}"), &headers, b"").await
    } else {
        raw_request(addr, "POST", "/", &headers, form.as_bytes()).await
    }
}

// ------------------------------------------------------------------ answers

/// Every answer: HTTP 200, `Content-Type` exactly `application/json`, `{"Response": {…}}` with
/// a request id. Returns `Response`.
fn response(r: &RawResponse) -> Value {
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.all("content-type"),
        ["application/json"],
        "{:?}",
        r.headers
    );
    let v = r.json();
    assert_eq!(v.as_object().unwrap().len(), 1, "{v}");
    let inner = v["Response"].clone();
    let rid = inner["RequestId"].as_str().expect("a RequestId");
    assert_eq!(rid.len(), 36, "{rid}");
    inner
}

fn ok(r: &RawResponse) -> Value {
    let v = response(r);
    assert!(v.get("Error").is_none(), "{v}");
    v
}

/// The error code (the error is exactly `{Code, Message}` beside the request id).
pub(crate) fn code(r: &RawResponse) -> String {
    let v = response(r);
    assert_eq!(v.as_object().unwrap().len(), 2, "{v}");
    let e = v["Error"]
        .as_object()
        .unwrap_or_else(|| panic!("no error: {v}"));
    assert_eq!(e.len(), 2, "{v}");
    assert!(!e["Message"].as_str().unwrap().is_empty());
    e["Code"].as_str().unwrap().to_string()
}

fn message(r: &RawResponse) -> String {
    response(r)["Error"]["Message"]
        .as_str()
        .unwrap()
        .to_string()
}

pub(crate) async fn tc(
    app: &TestApp,
    cred: (&str, &str),
    action: &str,
    body: Value,
) -> RawResponse {
    Tc3::post(cred, action, body)
        .send(app.front("tencent"))
        .await
}

pub(crate) async fn import(app: &TestApp, cred: (&str, &str), name: &str, key: &str) -> String {
    let r = tc(
        app,
        cred,
        "ImportKeyPair",
        json!({"KeyName": name, "ProjectId": 0, "PublicKey": key}),
    )
    .await;
    ok(&r)["KeyId"].as_str().unwrap().to_string()
}

async fn describe(app: &TestApp, cred: (&str, &str), body: Value) -> Value {
    ok(&tc(app, cred, "DescribeKeyPairs", body).await)
}

pub(crate) async fn names(app: &TestApp, cred: (&str, &str)) -> Vec<String> {
    let v = describe(app, cred, json!({"Limit": 100})).await;
    let mut n: Vec<String> = v["KeyPairSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["KeyName"].as_str().unwrap().to_string())
        .collect();
    n.sort();
    n
}

async fn ctl(addr: SocketAddr, method: &str, path: &str, body: Value) -> RawResponse {
    call(
        addr,
        method,
        path,
        &[("Content-Type", "application/json")],
        &body.to_string(),
    )
    .await
}

async fn instance(app: &TestApp, state: &str, os: &str, user: &str, project: &str) -> String {
    let r = ctl(
        app.front("tencent"),
        "POST",
        "/_novakeys/instances",
        json!({"cloud": "tencent", "name": "vm", "user": user, "project": project, "os": os, "state": state}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["instance"]["id"].as_str().unwrap().to_string()
}

async fn instance_view(app: &TestApp, id: &str) -> Value {
    let r = call(
        app.front("tencent"),
        "GET",
        &format!("/_novakeys/instances/{id}"),
        &[],
        "",
    )
    .await;
    r.json()["instance"].clone()
}

async fn tencent_app() -> TestApp {
    spawn_app(test_config(AuthMode::Keystone)).await
}

async fn app_with(f: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = test_config(AuthMode::Keystone);
    f(&mut config);
    spawn_app(config).await
}

// ------------------------------------------------------------------ the envelope

#[actix_web::test]
async fn an_unknown_action_gets_tencents_error_in_a_200() {
    let app = tencent_app().await;
    let r = call(
        app.front("tencent"),
        "POST",
        "/",
        &[("X-TC-Action", "Nope")],
        "{}",
    )
    .await;
    assert_eq!(code(&r), "InvalidAction");
    let r = tc(&app, DEMO, "RunInstances", json!({})).await;
    assert_eq!(code(&r), "InvalidAction");
    for (method, expected) in [
        ("PUT", "UnsupportedProtocol"),
        ("DELETE", "UnsupportedProtocol"),
    ] {
        let r = call(app.front("tencent"), method, "/", &[], "").await;
        assert_eq!(code(&r), expected);
    }
    let r = call(app.front("tencent"), "POST", "/", &[], "").await;
    assert_eq!(code(&r), "MissingParameter");
    let mut t = Tc3::post(DEMO, "DescribeKeyPairs", json!({}));
    t.version = "2020-01-01";
    assert_eq!(code(&t.send(app.front("tencent")).await), "NoSuchVersion");
    let mut t = Tc3::post(DEMO, "DescribeKeyPairs", json!({}));
    t.region = "ap-nowhere";
    assert_eq!(
        code(&t.send(app.front("tencent")).await),
        "UnsupportedRegion"
    );
    let mut t = Tc3::post(DEMO, "DescribeKeyPairs", json!({}));
    t.region = "RegionOne";
    ok(&t.send(app.front("tencent")).await);
}

// ------------------------------------------------------------------ signatures

#[actix_web::test]
async fn each_signature_failure_has_its_code_in_tencents_order() {
    let app = tencent_app().await;
    let front = app.front("tencent");
    let describe = || Tc3::post(DEMO, "DescribeKeyPairs", json!({}));
    ok(&describe().send(front).await);

    let wrong = Tc3::post((DEMO.0, ADMIN.1), "DescribeKeyPairs", json!({}));
    assert_eq!(
        code(&wrong.send(front).await),
        "AuthFailure.SignatureFailure"
    );
    let nobody = Tc3::post(
        ("AKIDNovakeysNobody000000000000000001", DEMO.1),
        "DescribeKeyPairs",
        json!({}),
    );
    assert_eq!(
        code(&nobody.send(front).await),
        "AuthFailure.SecretIdNotFound"
    );
    let odd = Tc3::post(
        ("LTAI5tNovakeysDemo000001", DEMO.1),
        "DescribeKeyPairs",
        json!({}),
    );
    assert_eq!(
        code(&odd.send(front).await),
        "AuthFailure.InvalidSecretId",
        "another cloud's key"
    );

    for skew in [600, -600] {
        let mut t = describe();
        t.timestamp = now() + skew;
        let r = t.send(front).await;
        assert_eq!(code(&r), "AuthFailure.SignatureExpire");
        // unknown id before the clock; the clock before the signature
        let mut t = Tc3::post(
            ("AKIDNovakeysNobody000000000000000001", DEMO.1),
            "DescribeKeyPairs",
            json!({}),
        );
        t.timestamp = now() + skew;
        assert_eq!(code(&t.send(front).await), "AuthFailure.SecretIdNotFound");
        let mut t = Tc3::post((DEMO.0, ADMIN.1), "DescribeKeyPairs", json!({}));
        t.timestamp = now() + skew;
        assert_eq!(code(&t.send(front).await), "AuthFailure.SignatureExpire");
    }
    let mut t = describe();
    t.timestamp = now() - 240;
    ok(&t.send(front).await);

    let mut t = Tc3::post(
        DEMO,
        "CreateKeyPair",
        json!({"KeyName": "k1", "ProjectId": 0}),
    );
    t.sent_body = Some(
        json!({"KeyName": "k2", "ProjectId": 0})
            .to_string()
            .into_bytes(),
    );
    assert_eq!(
        code(&t.send(front).await),
        "AuthFailure.SignatureFailure",
        "tampered body"
    );
    let r = call(
        front,
        "POST",
        "/",
        &[
            ("X-TC-Action", "DescribeKeyPairs"),
            ("X-TC-Version", "2017-03-12"),
            (
                "Authorization",
                "TC3-HMAC-SHA256 Credential=AKIDx, Signature=abc",
            ),
        ],
        "{}",
    )
    .await;
    assert_eq!(code(&r), "AuthFailure.InvalidAuthorization");
    let r = call(
        front,
        "POST",
        "/",
        &[
            ("X-TC-Action", "DescribeKeyPairs"),
            ("X-TC-Version", "2017-03-12"),
        ],
        "{}",
    )
    .await;
    assert_eq!(
        code(&r),
        "AuthFailure.InvalidAuthorization",
        "no Authorization at all"
    );
    assert_eq!(
        names(&app, DEMO).await,
        Vec::<String>::new(),
        "nothing was created"
    );
}

/// Expiry is measured on the novakeys clock (`--clock`, `/_novakeys/clock`), not the host's.
#[actix_web::test]
async fn the_expiry_window_follows_the_novakeys_clock() {
    let app = app_with(|c| c.clock = Some("2026-01-01T00:00:00Z".parse().unwrap())).await;
    let front = app.front("tencent");
    let at = |ts: i64| {
        let mut t = Tc3::post(DEMO, "DescribeKeyPairs", json!({}));
        t.timestamp = ts;
        t
    };
    let frozen = 1_767_225_600;
    ok(&at(frozen).send(front).await);
    assert_eq!(
        code(&at(now()).send(front).await),
        "AuthFailure.SignatureExpire",
        "host time is not novakeys time"
    );
    let r = ctl(
        front,
        "POST",
        "/_novakeys/clock",
        json!({"advance_seconds": 301}),
    )
    .await;
    assert!(r.status < 300);
    assert_eq!(
        code(&at(frozen).send(front).await),
        "AuthFailure.SignatureExpire"
    );
    ok(&at(frozen + 301).send(front).await);
}

#[actix_web::test]
async fn host_is_verified_as_received_with_the_node_fallback() {
    let app = tencent_app().await;
    let front = app.front("tencent");
    // tccli: the literal `http://…` Host, signed as such
    let mut t = Tc3::post(DEMO, "DescribeKeyPairs", json!({}));
    t.host = Some(format!("http://{front}"));
    ok(&t.send(front).await);
    // …whose scheme is part of what is signed: not stripped
    let mut t = Tc3::post(DEMO, "DescribeKeyPairs", json!({}));
    t.host = Some(format!("http://{front}"));
    t.signed_host = Some(front.to_string());
    assert_eq!(code(&t.send(front).await), "AuthFailure.SignatureFailure");
    // Node: sends the port, signs without it, under the scope service `127`
    let mut t = Tc3::post(DEMO, "DescribeKeyPairs", json!({}));
    t.signed_host = Some("127.0.0.1".into());
    t.service = "127";
    ok(&t.send(front).await);
    let mut t = Tc3::post(DEMO, "DescribeKeyPairs", json!({}));
    t.signed_host = Some("localhost".into());
    assert_eq!(code(&t.send(front).await), "AuthFailure.SignatureFailure");
}

#[actix_web::test]
async fn unsigned_payload_get_and_the_legacy_signatures() {
    let app = tencent_app().await;
    let front = app.front("tencent");
    // UNSIGNED-PAYLOAD: the hash of the words, so the body may be anything signed-wise
    let mut t = Tc3::post(
        DEMO,
        "ImportKeyPair",
        json!({"KeyName": "unsigned", "ProjectId": 0, "PublicKey": RSA1}),
    );
    t.unsigned = true;
    ok(&t.send(front).await);
    let mut t = Tc3::post((DEMO.0, ADMIN.1), "DescribeKeyPairs", json!({}));
    t.unsigned = true;
    assert_eq!(code(&t.send(front).await), "AuthFailure.SignatureFailure");

    // TC3 GET: the raw query is signed, values form-decoded (`+` is a space) and coerced
    let r = Tc3::get(
        DEMO,
        "DescribeKeyPairs",
        "Filters.0.Name=key-name&Filters.0.Values.0=unsig&Limit=5",
    )
    .send(front)
    .await;
    let v = ok(&r);
    assert_eq!(v["TotalCount"], 1);
    let r = Tc3::get(
        DEMO,
        "ImportKeyPair",
        &format!(
            "KeyName=by_get&ProjectId=0&PublicKey={}&TagSpecification.0.ResourceType=keypair&TagSpecification.0.Tags.0.Key=env&TagSpecification.0.Tags.0.Value=a+b%2Fc",
            form_urlencoded::byte_serialize(RSA2.as_bytes()).collect::<String>()
        ),
    )
    .send(front)
    .await;
    let id = ok(&r)["KeyId"].as_str().unwrap().to_string();
    let v = describe(&app, DEMO, json!({"KeyIds": [id]})).await;
    assert_eq!(
        v["KeyPairSet"][0]["Tags"],
        json!([{"Key": "env", "Value": "a b/c"}])
    );
    let r = Tc3::get(DEMO, "DescribeKeyPairs", "Limit=ten")
        .send(front)
        .await;
    assert_eq!(code(&r), "InvalidParameter");

    // legacy v1, both methods, both transports
    for (method, sign) in [
        ("POST", "HmacSHA256"),
        ("GET", "HmacSHA256"),
        ("POST", "HmacSHA1"),
        ("GET", "HmacSHA1"),
    ] {
        let r = legacy(
            front,
            DEMO,
            method,
            sign,
            &[("Action", "DescribeKeyPairs"), ("Limit", "100")],
            None,
        )
        .await;
        assert_eq!(ok(&r)["TotalCount"], 2, "{method} {sign}");
        let r = legacy(
            front,
            DEMO,
            method,
            sign,
            &[("Action", "DescribeKeyPairs")],
            Some(ADMIN.1),
        )
        .await;
        assert_eq!(code(&r), "AuthFailure.SignatureFailure", "{method} {sign}");
    }
    let r = legacy(
        front,
        DEMO,
        "POST",
        "HmacSHA256",
        &[
            ("Action", "CreateKeyPair"),
            ("KeyName", "legacy_made"),
            ("ProjectId", "0"),
            ("TagSpecification.0.ResourceType", "keypair"),
            ("TagSpecification.0.Tags.0.Key", "t"),
            ("TagSpecification.0.Tags.0.Value", "a b/c&d=e"),
        ],
        None,
    )
    .await;
    let kp = ok(&r)["KeyPair"].clone();
    assert_eq!(kp["Tags"], json!([{"Key": "t", "Value": "a b/c&d=e"}]));
    let r = legacy(
        front,
        ("AKIDNovakeysNobody000000000000000001", DEMO.1),
        "POST",
        "HmacSHA256",
        &[("Action", "DescribeKeyPairs")],
        None,
    )
    .await;
    assert_eq!(code(&r), "AuthFailure.SecretIdNotFound");
    let r = call(
        front,
        "GET",
        "/?Action=DescribeKeyPairs&Version=2017-03-12&SecretId=x",
        &[],
        "",
    )
    .await;
    assert_eq!(code(&r), "MissingParameter");
    assert!(message(&r).contains("Signature"), "{}", message(&r));
}

// ------------------------------------------------------------------ key pairs

#[actix_web::test]
async fn create_import_rename_and_the_key_id() {
    let app = tencent_app().await;
    let r = tc(
        &app,
        DEMO,
        "CreateKeyPair",
        json!({"KeyName": "made", "ProjectId": 0}),
    )
    .await;
    let kp = ok(&r)["KeyPair"].clone();
    let id = kp["KeyId"].as_str().unwrap().to_string();
    assert!(
        regex::Regex::new("^skey-[a-z0-9]{8}$")
            .unwrap()
            .is_match(&id),
        "{id}"
    );
    let public = kp["PublicKey"].as_str().unwrap();
    assert!(
        public.starts_with("ssh-rsa AAAA") && public.ends_with(&format!(" {id}")),
        "{public}"
    );
    assert!(kp["PrivateKey"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    assert_eq!(
        (kp["ProjectId"].clone(), kp["AssociatedInstanceIds"].clone()),
        (json!(0), json!([]))
    );
    let listed = describe(&app, DEMO, json!({"KeyIds": [id]})).await;
    let item = &listed["KeyPairSet"][0];
    assert!(item.get("PrivateKey").is_none(), "returned once");
    assert_eq!(item["PublicKey"], kp["PublicKey"]);
    assert_eq!(item["Description"], "");
    let created = item["CreatedTime"].as_str().unwrap().to_string();
    assert!(regex::Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        .unwrap()
        .is_match(&created));

    let r = tc(
        &app,
        DEMO,
        "ModifyKeyPairAttribute",
        json!({"KeyId": id, "KeyName": "renamed", "Description": "密钥 ✓"}),
    )
    .await;
    ok(&r);
    let item = describe(&app, DEMO, json!({"KeyIds": [id]})).await["KeyPairSet"][0].clone();
    assert_eq!(
        (item["KeyId"].as_str(), item["KeyName"].as_str()),
        (Some(id.as_str()), Some("renamed"))
    );
    assert_eq!(
        (item["PublicKey"].clone(), item["CreatedTime"].clone()),
        (kp["PublicKey"].clone(), json!(created))
    );
    assert_eq!(item["Description"], "密钥 ✓");

    // import: RSA only, once per scope, names by CVM's rules
    import(&app, DEMO, "imported", RSA1).await;
    let again = json!({"KeyName": "again", "ProjectId": 0, "PublicKey": RSA1.replace("it@tencent", "other comment")});
    assert_eq!(
        code(&tc(&app, DEMO, "ImportKeyPair", again).await),
        "InvalidPublicKey.Duplicate"
    );
    for (name, pk, expected) in [
        ("ed", ED25519, "InvalidPublicKey.Malformed"),
        (
            "junk",
            "ssh-rsa AAAAnotakey x",
            "InvalidPublicKey.Malformed",
        ),
        ("imported", RSA2, "InvalidKeyPairName.Duplicate"),
        ("renamed", RSA2, "InvalidKeyPairName.Duplicate"),
        ("", RSA2, "InvalidKeyPairNameEmpty"),
        ("bad-name", RSA2, "InvalidKeyPairNameIncludeIllegalChar"),
    ] {
        let body = json!({"KeyName": name, "ProjectId": 0, "PublicKey": pk});
        assert_eq!(
            code(&tc(&app, DEMO, "ImportKeyPair", body).await),
            expected,
            "{name}"
        );
    }
    let r = tc(
        &app,
        DEMO,
        "ImportKeyPair",
        json!({"KeyName": "np", "PublicKey": RSA2}),
    )
    .await;
    assert_eq!(code(&r), "MissingParameter");
    assert!(message(&r).contains("ProjectId"));
    let r = tc(
        &app,
        DEMO,
        "CreateKeyPair",
        json!({"KeyName": "p", "ProjectId": 7}),
    )
    .await;
    assert_eq!(code(&r), "InvalidProjectId.NotFound");
    assert_eq!(names(&app, DEMO).await, ["imported", "renamed"]);

    // modify's own rules
    for (body, expected) in [
        (
            json!({"KeyId": id, "Description": "d".repeat(61)}),
            "InvalidParameterValue",
        ),
        (
            json!({"KeyId": id, "KeyName": "bad name"}),
            "InvalidParameterValue",
        ),
        (
            json!({"KeyId": id, "KeyName": "imported"}),
            "InvalidKeyPairName.Duplicate",
        ),
        (json!({"KeyId": id}), "MissingParameter"),
        (
            json!({"KeyId": "skey-1122", "KeyName": "x"}),
            "InvalidKeyPairId.Malformed",
        ),
        (
            json!({"KeyId": "skey-zzzzzzzz", "KeyName": "x"}),
            "InvalidKeyPairId.NotFound",
        ),
    ] {
        assert_eq!(
            code(&tc(&app, DEMO, "ModifyKeyPairAttribute", body.clone()).await),
            expected,
            "{body}"
        );
    }
    ok(&tc(
        &app,
        DEMO,
        "ModifyKeyPairAttribute",
        json!({"KeyId": id, "Description": "d".repeat(60)}),
    )
    .await);
}

#[actix_web::test]
async fn one_key_imported_at_once_is_stored_once_and_refusals_keep_cvms_order() {
    let app = app_with(|c| c.quota_key_pairs = Some(3)).await;
    import(&app, DEMO, "a", RSA1).await;
    // The same key under 32 names at once: the duplicate check and the insert are one
    // transaction, so exactly one gets in.
    let imports = (0..32).map(|i| {
        tc(
            &app,
            DEMO,
            "ImportKeyPair",
            json!({"KeyName": format!("c{i}"), "ProjectId": 0, "PublicKey": RSA2}),
        )
    });
    let answers = futures_util::future::join_all(imports).await;
    let codes: Vec<String> = answers
        .iter()
        .map(|r| match response(r).get("Error") {
            Some(_) => code(r),
            None => String::new(),
        })
        .collect();
    assert_eq!(
        codes.iter().filter(|c| c.is_empty()).count(),
        1,
        "exactly one import succeeds: {codes:?}"
    );
    assert_eq!(
        codes
            .iter()
            .filter(|c| *c == "InvalidPublicKey.Duplicate")
            .count(),
        31,
        "{codes:?}"
    );
    import(&app, DEMO, "b", RSA3).await;
    // At the quota of 3: the same key, then a taken name, come before the quota.
    for (name, key, expected) in [
        ("fresh", RSA1, "InvalidPublicKey.Duplicate"),
        ("a", RSA4, "InvalidKeyPairName.Duplicate"),
        ("fresh", RSA4, "InvalidKeyPair.LimitExceeded"),
    ] {
        let body = json!({"KeyName": name, "ProjectId": 0, "PublicKey": key});
        assert_eq!(
            code(&tc(&app, DEMO, "ImportKeyPair", body).await),
            expected,
            "{name}"
        );
    }
    assert_eq!(names(&app, DEMO).await.len(), 3);
}

#[actix_web::test]
async fn describe_filters_pages_and_key_ids() {
    let app = tencent_app().await;
    let tag =
        |k: &str, v: &str| json!([{"ResourceType": "keypair", "Tags": [{"Key": k, "Value": v}]}]);
    let body = |name: &str, key: &str, t: Value| json!({"KeyName": name, "ProjectId": 0, "PublicKey": key, "TagSpecification": t});
    let a = ok(&tc(
        &app,
        DEMO,
        "ImportKeyPair",
        body("alpha", RSA1, tag("env", "dev")),
    )
    .await)["KeyId"]
        .clone();
    let b = ok(&tc(
        &app,
        DEMO,
        "ImportKeyPair",
        body("beta", RSA2, tag("env", "prod")),
    )
    .await)["KeyId"]
        .clone();
    let c = ok(&tc(
        &app,
        DEMO,
        "ImportKeyPair",
        body("alphabet", RSA3, tag("team", "x")),
    )
    .await)["KeyId"]
        .clone();
    let ids = |v: &Value| -> Vec<Value> {
        v["KeyPairSet"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["KeyId"].clone())
            .collect()
    };
    let f = |filters: Value| json!({"Filters": filters});
    let v = describe(
        &app,
        DEMO,
        f(json!([{"Name": "key-name", "Values": ["alpha"]}])),
    )
    .await;
    assert_eq!(
        (v["TotalCount"].clone(), ids(&v)),
        (json!(2), vec![c.clone(), a.clone()]),
        "substring, newest first"
    );
    let v = describe(&app, DEMO, f(json!([{"Name": "tag:env", "Values": ["dev", "prod"]}, {"Name": "key-name", "Values": ["beta"]}]))).await;
    assert_eq!(ids(&v), vec![b.clone()], "filters AND, values OR");
    let v = describe(
        &app,
        DEMO,
        f(json!([{"Name": "tag-key", "Values": ["team"]}])),
    )
    .await;
    assert_eq!(ids(&v), vec![c.clone()]);
    let v = describe(
        &app,
        DEMO,
        f(json!([{"Name": "tag-value", "Values": ["prod"]}])),
    )
    .await;
    assert_eq!(ids(&v), vec![b.clone()]);
    let v = describe(
        &app,
        DEMO,
        f(json!([{"Name": "project-id", "Values": ["0"]}])),
    )
    .await;
    assert_eq!(v["TotalCount"], 3);
    let v = describe(&app, DEMO, json!({"Offset": 1, "Limit": 1})).await;
    assert_eq!(
        (v["TotalCount"].clone(), ids(&v)),
        (json!(3), vec![b.clone()])
    );
    let v = describe(&app, DEMO, json!({"KeyIds": [a, "skey-zzzzzzzz"]})).await;
    assert_eq!(ids(&v), vec![a.clone()]);
    for (body, expected) in [
        (
            json!({"KeyIds": [a], "Filters": [{"Name": "key-name", "Values": ["alpha"]}]}),
            "InvalidParameter",
        ),
        (json!({"Limit": 101}), "InvalidParameterValueLimit"),
        (json!({"Limit": 0}), "InvalidParameterValueLimit"),
        (json!({"Offset": -1}), "InvalidParameterValueOffset"),
        (
            json!({"KeyIds": (0..101).map(|i| format!("skey-{i:08}")).collect::<Vec<_>>()}),
            "InvalidParameterValue.LimitExceeded",
        ),
        (
            json!({"KeyIds": ["skey-1122"]}),
            "InvalidKeyPairId.Malformed",
        ),
        (
            f(json!([{"Name": "fingerprint", "Values": ["x"]}])),
            "InvalidFilter",
        ),
        (f(json!([{"Name": "key-name"}])), "MissingParameter"),
        (
            f(json!([{"Name": "key-name", "Values": ["1", "2", "3", "4", "5", "6"]}])),
            "InvalidFilterValue.LimitExceeded",
        ),
        (json!({"Bogus": 1}), "UnknownParameter"),
    ] {
        assert_eq!(
            code(&tc(&app, DEMO, "DescribeKeyPairs", body.clone()).await),
            expected,
            "{body}"
        );
    }
}

// ------------------------------------------------------------------ instances

#[actix_web::test]
async fn association_follows_the_state_and_os_rules() {
    let app = tencent_app().await;
    let a = import(&app, DEMO, "bind_a", RSA1).await;
    let b = import(&app, DEMO, "bind_b", RSA2).await;
    let stopped = instance(&app, "stopped", "linux", "demo", "demo").await;
    let running = instance(&app, "running", "linux", "demo", "demo").await;
    let windows = instance(&app, "stopped", "windows", "demo", "demo").await;
    let admins = instance(&app, "stopped", "linux", "admin", "admin").await;
    let bind = |action: &'static str, inst: &str, key: &str, force: Option<bool>| {
        let mut body = json!({"InstanceIds": [inst], "KeyIds": [key]});
        if let Some(f) = force {
            body["ForceStop"] = json!(f);
        }
        let app = &app;
        async move { tc(app, DEMO, action, body).await }
    };
    const ASSOCIATE: &str = "AssociateInstancesKeyPairs";
    const DISASSOCIATE: &str = "DisassociateInstancesKeyPairs";

    ok(&bind(ASSOCIATE, &stopped, &a, None).await);
    assert_eq!(
        instance_view(&app, &stopped).await["key_pair_name"],
        "bind_a"
    );
    for force in [None, Some(false)] {
        let r = bind(ASSOCIATE, &running, &a, force).await;
        assert_eq!(code(&r), "UnsupportedOperation.InstanceStateRunning");
    }
    let v = instance_view(&app, &running).await;
    assert_eq!(
        (v["state"].clone(), v["key_pair_name"].clone()),
        (json!("running"), Value::Null),
        "nothing changed"
    );
    // ForceStop: stopped, bound, started again (it was running)
    ok(&bind(ASSOCIATE, &running, &a, Some(true)).await);
    let v = instance_view(&app, &running).await;
    assert_eq!(
        (v["state"].clone(), v["key_pair_name"].clone()),
        (json!("running"), json!("bind_a"))
    );
    let mut both = vec![stopped.clone(), running.clone()];
    both.sort();
    let listed = describe(&app, DEMO, json!({"KeyIds": [a]})).await;
    assert_eq!(
        listed["KeyPairSet"][0]["AssociatedInstanceIds"],
        json!(both)
    );

    assert_eq!(
        code(&bind(ASSOCIATE, &windows, &b, None).await),
        "UnsupportedOperation.InstanceOsWindows"
    );
    assert_eq!(
        code(&bind(ASSOCIATE, &admins, &b, None).await),
        "InvalidInstanceId.NotFound",
        "another user's"
    );
    assert_eq!(
        code(&bind(ASSOCIATE, "ins-1122", &b, None).await),
        "InvalidInstanceId.Malformed"
    );
    assert_eq!(
        code(&bind(ASSOCIATE, &stopped, "skey-zzzzzzzz", None).await),
        "InvalidKeyPairId.NotFound"
    );
    // a batch with one refused instance changes nothing
    let r = tc(
        &app,
        DEMO,
        ASSOCIATE,
        json!({"InstanceIds": [stopped, windows], "KeyIds": [b]}),
    )
    .await;
    assert_eq!(code(&r), "UnsupportedOperation.InstanceOsWindows");
    assert_eq!(
        instance_view(&app, &stopped).await["key_pair_name"],
        "bind_a"
    );

    // bound keys stay: the whole batch is refused
    let r = tc(&app, DEMO, "DeleteKeyPairs", json!({"KeyIds": [b, a]})).await;
    assert_eq!(code(&r), "InvalidParameterValue.KeyPairNotSupported");
    assert!(message(&r).contains(&a), "{}", message(&r));
    assert_eq!(names(&app, DEMO).await, ["bind_a", "bind_b"]);

    // disassociate: the same rules, the state checked first
    let idle = instance(&app, "running", "linux", "demo", "demo").await;
    assert_eq!(
        code(&bind(DISASSOCIATE, &idle, &a, None).await),
        "UnsupportedOperation.InstanceStateRunning"
    );
    assert_eq!(
        code(&bind(DISASSOCIATE, &running, &a, None).await),
        "UnsupportedOperation.InstanceStateRunning"
    );
    ok(&bind(DISASSOCIATE, &running, &a, Some(true)).await);
    let v = instance_view(&app, &running).await;
    assert_eq!(
        (v["state"].clone(), v["key_pair_name"].clone()),
        (json!("running"), Value::Null)
    );
    ok(&bind(DISASSOCIATE, &stopped, &a, None).await);
    ok(&tc(&app, DEMO, "DeleteKeyPairs", json!({"KeyIds": [a, b]})).await);
    assert!(names(&app, DEMO).await.is_empty());
}

/// Describe answers are rendered once and kept until the next write: every kind of write,
/// through any front or the controls, shows in the very next describe.
#[actix_web::test]
async fn describe_follows_every_write_whatever_made_it() {
    let app = tencent_app().await;
    let token = login(app.identity, "demo", "demo").await;
    let id = import(&app, DEMO, "first", RSA1).await;
    let first = describe(&app, DEMO, json!({})).await;
    let again = tc(&app, DEMO, "DescribeKeyPairs", json!({})).await;
    assert_eq!(ok(&again)["KeyPairSet"], first["KeyPairSet"]);
    assert_ne!(
        ok(&again)["RequestId"],
        first["RequestId"],
        "ids stay per request"
    );
    // An instance write binds the key: the same rows, a new answer.
    let vm = instance(&app, "stopped", "linux", "demo", "demo").await;
    ok(&tc(
        &app,
        DEMO,
        "AssociateInstancesKeyPairs",
        json!({"InstanceIds": [vm], "KeyIds": [id]}),
    )
    .await);
    let listed = describe(&app, DEMO, json!({})).await;
    assert_eq!(
        listed["KeyPairSet"][0]["AssociatedInstanceIds"],
        json!([vm])
    );
    // A key pair made through Nova, then a page of one.
    let r = nova_import(&app, &token, "from-nova", RSA2).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let listed = describe(&app, DEMO, json!({})).await;
    assert_eq!(listed["TotalCount"], 2);
    assert_eq!(listed["KeyPairSet"][0]["KeyName"], "from-nova");
    let one = describe(&app, DEMO, json!({"Limit": 1, "Offset": 1})).await;
    assert_eq!(
        one["KeyPairSet"][0]["KeyName"], "first",
        "another page, another answer"
    );
    // A rename, then a reset through the controls.
    ok(&tc(
        &app,
        DEMO,
        "ModifyKeyPairAttribute",
        json!({"KeyId": id, "KeyName": "renamed"}),
    )
    .await);
    assert_eq!(
        describe(&app, DEMO, json!({"Limit": 1, "Offset": 1})).await["KeyPairSet"][0]["KeyName"],
        "renamed"
    );
    let r = ctl(app.front("tencent"), "POST", "/_novakeys/reset", json!({})).await;
    assert!(r.status < 300, "{} {}", r.status, r.text());
    assert_eq!(describe(&app, DEMO, json!({})).await["TotalCount"], 0);
}

/// One store, two faces: what Tencent renames Nova lists under the new name with the same
/// fingerprint; a key bound through Tencent cannot go through Tencent, can through Nova, and
/// the instance keeps its key name.
#[actix_web::test]
async fn cross_front_rename_and_bound_delete() {
    let app = tencent_app().await;
    let token = login(app.identity, "demo", "demo").await;
    let nova = |method: &'static str, path: String| {
        let token = token.clone();
        let compute = app.compute;
        async move {
            call(
                compute,
                method,
                &path,
                &[
                    ("X-Auth-Token", &token),
                    ("Content-Type", "application/json"),
                ],
                "",
            )
            .await
        }
    };
    let r = tc(
        &app,
        DEMO,
        "CreateKeyPair",
        json!({"KeyName": "tc_made", "ProjectId": 0}),
    )
    .await;
    let kp = ok(&r)["KeyPair"].clone();
    let id = kp["KeyId"].as_str().unwrap().to_string();
    let fp = novakeys::keys::ssh_fingerprint(
        kp["PublicKey"].as_str().unwrap(),
        novakeys::keys::Fingerprint::Md5,
    )
    .unwrap();
    ok(&tc(
        &app,
        DEMO,
        "ModifyKeyPairAttribute",
        json!({"KeyId": id, "KeyName": "tc_renamed"}),
    )
    .await);
    let list = nova("GET", "/v2.1/os-keypairs".into()).await.json();
    let listed: Vec<(String, String)> = list["keypairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["keypair"]["name"].as_str().unwrap().into(),
                k["keypair"]["fingerprint"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(listed, [("tc_renamed".to_string(), fp)]);

    let iid = instance(&app, "stopped", "linux", "demo", "demo").await;
    ok(&tc(
        &app,
        DEMO,
        "AssociateInstancesKeyPairs",
        json!({"InstanceIds": [iid], "KeyIds": [id]}),
    )
    .await);
    let r = tc(&app, DEMO, "DeleteKeyPairs", json!({"KeyIds": [id]})).await;
    assert_eq!(code(&r), "InvalidParameterValue.KeyPairNotSupported");
    let r = nova("DELETE", "/v2.1/os-keypairs/tc_renamed".into()).await;
    assert!(r.status == 202 || r.status == 204, "{}", r.text());
    assert_eq!(
        describe(&app, DEMO, json!({"KeyIds": [id]})).await["TotalCount"],
        0
    );
    let v = instance_view(&app, &iid).await;
    assert_eq!(
        v["key_pair_name"], "tc_renamed",
        "the instance keeps what it was given"
    );
    assert_eq!(v["key_pair_bound"], false);

    // Nova's key pairs show in Tencent with an skey- id, whatever their name
    let body = json!({"keypair": {"name": "nova key", "public_key": RSA3}}).to_string();
    let r = call(
        app.compute,
        "POST",
        "/v2.1/os-keypairs",
        &[
            ("X-Auth-Token", &token),
            ("Content-Type", "application/json"),
        ],
        &body,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = describe(&app, DEMO, json!({})).await;
    assert_eq!(v["KeyPairSet"][0]["KeyName"], "nova key");
    assert_eq!(v["KeyPairSet"][0]["PublicKey"], RSA3);
}

// ------------------------------------------------------------------ who sees what

#[actix_web::test]
async fn users_and_projects_are_isolated() {
    let app = tencent_app().await;
    let mine = import(&app, ADMIN, "admins", RSA1).await;
    assert!(names(&app, DEMO).await.is_empty());
    assert_eq!(
        describe(&app, DEMO, json!({"KeyIds": [mine]})).await["TotalCount"],
        0
    );
    for (action, body) in [
        ("DeleteKeyPairs", json!({"KeyIds": [mine]})),
        (
            "ModifyKeyPairAttribute",
            json!({"KeyId": mine, "KeyName": "stolen"}),
        ),
    ] {
        assert_eq!(
            code(&tc(&app, DEMO, action, body).await),
            "InvalidKeyPairId.NotFound"
        );
    }
    // names and public keys are per owner
    import(&app, DEMO, "admins", RSA1).await;
    assert_eq!(names(&app, ADMIN).await, ["admins"]);
    assert_eq!(
        names(&app, READER).await,
        Vec::<String>::new(),
        "user scope: the reader's own"
    );

    // a reader may look, not write (CAM's code, naming the action)
    let demos = import(&app, DEMO, "demos", RSA2).await;
    let iid = instance(&app, "stopped", "linux", "demo", "demo").await;
    for (action, body) in [
        ("CreateKeyPair", json!({"KeyName": "r", "ProjectId": 0})),
        (
            "ImportKeyPair",
            json!({"KeyName": "r", "ProjectId": 0, "PublicKey": RSA3}),
        ),
        (
            "ModifyKeyPairAttribute",
            json!({"KeyId": demos, "Description": "mine"}),
        ),
        ("DeleteKeyPairs", json!({"KeyIds": [demos]})),
        (
            "AssociateInstancesKeyPairs",
            json!({"InstanceIds": [iid], "KeyIds": [demos]}),
        ),
        (
            "DisassociateInstancesKeyPairs",
            json!({"InstanceIds": [iid], "KeyIds": [demos]}),
        ),
    ] {
        let r = tc(&app, READER, action, body).await;
        assert_eq!(code(&r), "AuthFailure.UnauthorizedOperation", "{action}");
        assert!(
            message(&r).contains(&format!("(cvm:{action})")),
            "{}",
            message(&r)
        );
    }
    ok(&tc(&app, READER, "DescribeKeyPairs", json!({})).await);
}

/// Under `keypair_scope = project` a project's members share key pairs through Tencent too;
/// another project's stay apart, even for the same user.
#[actix_web::test]
async fn project_scope_shares_within_a_project_only() {
    let app = app_with(|c| c.keypair_scope = KeypairScope::Project).await;
    let admin_token = login(app.identity, "admin", "admin").await;
    let ks = |method: &'static str, path: String, body: Value| {
        let t = admin_token.clone();
        let identity = app.identity;
        async move {
            call(
                identity,
                method,
                &path,
                &[("X-Auth-Token", &t), ("Content-Type", "application/json")],
                &body.to_string(),
            )
            .await
        }
    };
    let first = |v: Value, list: &str| v[list][0]["id"].as_str().unwrap().to_string();
    let demo_project = first(
        ks("GET", "/v3/projects?name=demo".into(), json!({}))
            .await
            .json(),
        "projects",
    );
    let admin_user = first(
        ks("GET", "/v3/users?name=admin".into(), json!({}))
            .await
            .json(),
        "users",
    );
    let member = first(
        ks("GET", "/v3/roles?name=member".into(), json!({}))
            .await
            .json(),
        "roles",
    );
    let r = ks(
        "PUT",
        format!("/v3/projects/{demo_project}/users/{admin_user}/roles/{member}"),
        json!({}),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let given =
        json!({"access": "AKIDNovakeysAdminInDemo0000000000001", "secret": "AdminInDemoSecret"})
            .to_string();
    let body = json!({"credential": {"type": "tencent", "user_id": admin_user, "project_id": demo_project, "blob": given}});
    let r = ks("POST", "/v3/credentials".into(), body).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let admin_in_demo = ("AKIDNovakeysAdminInDemo0000000000001", "AdminInDemoSecret");

    import(&app, DEMO, "demos", RSA1).await;
    assert_eq!(
        names(&app, admin_in_demo).await,
        ["demos"],
        "shared in project demo"
    );
    assert_eq!(names(&app, READER).await, ["demos"]);
    assert!(
        names(&app, ADMIN).await.is_empty(),
        "the same user in project admin sees none"
    );
    let r = tc(
        &app,
        admin_in_demo,
        "ImportKeyPair",
        json!({"KeyName": "other", "ProjectId": 0, "PublicKey": RSA1}),
    )
    .await;
    assert_eq!(
        code(&r),
        "InvalidPublicKey.Duplicate",
        "the public key is in the scope already"
    );
    import(&app, ADMIN, "demos", RSA1).await;
}

// ------------------------------------------------------------------ hostile bodies

#[actix_web::test]
async fn hostile_bodies_get_tencents_errors_and_store_nothing() {
    let app = tencent_app().await;
    let front = app.front("tencent");
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_object = format!(
        "{{\"KeyName\": {}1{}}}",
        "{\"a\":".repeat(5_000),
        "}".repeat(5_000)
    );
    let cases: Vec<(&str, String, &str)> = vec![
        ("CreateKeyPair", deep, "InvalidParameter"),
        ("CreateKeyPair", deep_object, "InvalidParameter"),
        ("CreateKeyPair", "[1, 2]".into(), "InvalidParameter"),
        ("CreateKeyPair", "{\"KeyName\": \"a\",".into(), "InvalidParameter"),
        ("CreateKeyPair", json!({"KeyName": ["k"], "ProjectId": 0}).to_string(), "InvalidParameter"),
        ("CreateKeyPair", json!({"KeyName": "k", "ProjectId": "0"}).to_string(), "InvalidParameter"),
        ("CreateKeyPair", json!({"KeyName": "k", "ProjectId": 1.5}).to_string(), "InvalidParameter"),
        ("CreateKeyPair", "{\"KeyName\": \"k\", \"ProjectId\": 99999999999999999999}".into(), "InvalidParameter"),
        ("CreateKeyPair", json!({"KeyName": "x".repeat(1 << 20), "ProjectId": 0}).to_string(), "InvalidKeyPairNameTooLong"),
        ("ImportKeyPair", json!({"KeyName": "k", "ProjectId": 0, "PublicKey": format!("ssh-rsa {}", "A".repeat(1 << 20))}).to_string(), "InvalidPublicKey.Malformed"),
        ("CreateKeyPair", json!({"KeyName": "k", "ProjectId": 0, "TagSpecification": [{"ResourceType": "keypair", "Tags": (0..21).map(|i| json!({"Key": format!("k{i}"), "Value": "v"})).collect::<Vec<_>>()}]}).to_string(), "LimitExceeded.TagResourceQuota"),
        ("CreateKeyPair", json!({"KeyName": "k", "ProjectId": 0, "TagSpecification": [{"ResourceType": "instance", "Tags": []}]}).to_string(), "InvalidParameterValue"),
        ("DeleteKeyPairs", json!({"KeyIds": vec!["skey-00000000"; 50_000]}).to_string(), "InvalidParameterValue.LimitExceeded"),
        ("DeleteKeyPairs", json!({"KeyIds": "skey-00000000"}).to_string(), "InvalidParameter"),
        ("AssociateInstancesKeyPairs", json!({"InstanceIds": ["ins-00000000"], "KeyIds": ["skey-00000000"], "ForceStop": "yes"}).to_string(), "InvalidParameter"),
        ("DescribeKeyPairs", json!({"Filters": [{"Name": "key-name", "Values": ["a"], "Deep": {"x": 1}}]}).to_string(), "UnknownParameter"),
    ];
    for (action, body, expected) in cases {
        let mut t = Tc3::post(DEMO, action, json!({}));
        t.payload = body.clone();
        let r = t.send(front).await;
        let shown: String = body.chars().take(60).collect();
        assert_eq!(code(&r), expected, "{action} {shown}");
    }
    // invalid UTF-8 in a JSON body (sent under UNSIGNED-PAYLOAD, so any bytes are signed)
    let mut t = Tc3::post(DEMO, "CreateKeyPair", json!({}));
    t.unsigned = true;
    t.sent_body = Some(b"{\"KeyName\": \"\xff\xfe\", \"ProjectId\": 0}".to_vec());
    assert_eq!(code(&t.send(front).await), "InvalidParameter");
    // a body over TC3's 10 MB, and a legacy form over 1 MB
    let mut t = Tc3::post(DEMO, "CreateKeyPair", json!({}));
    t.payload = format!("{{\"KeyName\": \"{}\"}}", "x".repeat(11 << 20));
    assert_eq!(code(&t.send(front).await), "RequestSizeLimitExceeded");
    let big = format!("Action=CreateKeyPair&KeyName={}", "x".repeat(2 << 20));
    let r = call(
        front,
        "POST",
        "/",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &big,
    )
    .await;
    assert_eq!(code(&r), "RequestSizeLimitExceeded");
    // flat names nested without end, in a signed GET
    let deep_name = vec!["Filters"; 2_000].join("."); // 16 KB: under the 32 KB query limit
    let r = Tc3::get(DEMO, "DescribeKeyPairs", &format!("{deep_name}=x"))
        .send(front)
        .await;
    assert_eq!(code(&r), "InvalidParameter");
    let r = Tc3::get(DEMO, "DescribeKeyPairs", "KeyIds=a&KeyIds.0=b")
        .send(front)
        .await;
    assert_eq!(code(&r), "InvalidParameter");
    assert!(names(&app, DEMO).await.is_empty(), "nothing was stored");
}

// ------------------------------------------------------------------ journal, faults, determinism

/// A listing served again from the cache goes out as the cached listing plus its own envelope
/// (`http::Spliced`): the same members, this request's id, a `Content-Length` that is the
/// body's, and the journal keeps each answer as it was sent.
#[actix_web::test]
async fn a_cached_listing_answers_and_journals_with_its_own_request_id() {
    let app = tencent_app().await;
    let front = app.front("tencent");
    import(&app, DEMO, "spliced", RSA1).await;
    let first = tc(&app, DEMO, "DescribeKeyPairs", json!({})).await;
    let again = tc(&app, DEMO, "DescribeKeyPairs", json!({})).await;
    let mut ids = Vec::new();
    for r in [&first, &again] {
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(
            r.header("content-length"),
            Some(r.body.len().to_string().as_str())
        );
        let v = r.json();
        assert_eq!(v["Response"]["TotalCount"], 1, "{v}");
        assert_eq!(v["Response"]["KeyPairSet"][0]["KeyName"], "spliced");
        ids.push(v["Response"]["RequestId"].as_str().unwrap().to_string());
    }
    assert_ne!(ids[0], ids[1]);
    let mut a = first.json();
    let mut b = again.json();
    a["Response"]["RequestId"] = Value::Null;
    b["Response"]["RequestId"] = Value::Null;
    assert_eq!(a, b, "the same listing both times");
    let j = call(front, "GET", "/_novakeys/journal", &[], "")
        .await
        .json();
    let kept: Vec<Value> = j["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["api"] == "tencent" && e["status"] == 200)
        .map(|e| e["response_body"].clone())
        .filter(|b| b["Response"]["KeyPairSet"].is_array())
        .collect();
    assert_eq!(kept.len(), 2, "{j}");
    for sent in [&first, &again] {
        assert!(kept.contains(&sent.json()), "{kept:?} vs {}", sent.text());
    }
}

#[actix_web::test]
async fn journal_metrics_and_faults_speak_tencent() {
    let app = tencent_app().await;
    let front = app.front("tencent");
    ok(&tc(
        &app,
        DEMO,
        "CreateKeyPair",
        json!({"KeyName": "journaled", "ProjectId": 0}),
    )
    .await);
    let j = call(front, "GET", "/_novakeys/journal", &[], "").await;
    assert_eq!(j.status, 200);
    let text = j.text();
    assert!(
        !text.contains("PRIVATE KEY"),
        "the private key never reaches the journal"
    );
    let entries = j.json()["entries"].as_array().unwrap().clone();
    let e = entries
        .iter()
        .find(|e| e["api"] == "tencent")
        .expect("a tencent entry");
    let token = login(app.identity, "admin", "admin").await;
    let users = call(
        app.identity,
        "GET",
        "/v3/users?name=demo",
        &[("X-Auth-Token", &token)],
        "",
    )
    .await
    .json();
    assert_eq!(e["user_id"], users["users"][0]["id"]);
    assert!(
        e["project_id"].as_str().is_some_and(|p| !p.is_empty()),
        "{e}"
    );
    let metrics = call(front, "GET", "/metrics", &[], "").await.text();
    assert!(metrics.contains("api=\"tencent\""), "{metrics}");

    let rule = |body: Value| async move { ctl(front, "POST", "/_novakeys/faults", body).await };
    let r = rule(json!({"match": {"name": "victim"}, "action": {"status": 429}, "times": 1})).await;
    assert!(r.status < 300, "{}", r.text());
    let r = tc(
        &app,
        DEMO,
        "CreateKeyPair",
        json!({"KeyName": "victim", "ProjectId": 0}),
    )
    .await;
    assert_eq!(code(&r), "RequestLimitExceeded");
    assert!(r.header("x-novakeys-fault").is_some());
    ok(&tc(
        &app,
        DEMO,
        "ImportKeyPair",
        json!({"KeyName": "victim", "ProjectId": 0, "PublicKey": RSA1}),
    )
    .await);
    for (action, expected) in [
        (
            json!({"fault": "quota_exceeded"}),
            "InvalidKeyPair.LimitExceeded",
        ),
        (
            json!({"fault": "forbidden"}),
            "AuthFailure.UnauthorizedOperation",
        ),
        (
            json!({"fault": "token_expired"}),
            "AuthFailure.SignatureExpire",
        ),
        (json!({"status": 503}), "ResourceUnavailable"),
        (json!({"status": 500}), "InternalError"),
        (json!({"status": 404}), "ResourceNotFound"),
    ] {
        let r = rule(json!({"match": {"method": "POST"}, "action": action, "times": 1})).await;
        assert!(r.status < 300, "{}", r.text());
        assert_eq!(
            code(&tc(&app, DEMO, "DescribeKeyPairs", json!({})).await),
            expected,
            "{action}"
        );
    }
    let user_id = users["users"][0]["id"].as_str().unwrap();
    let r =
        rule(json!({"match": {"user_id": user_id}, "action": {"fault": "forbidden"}, "times": 1}))
            .await;
    assert!(r.status < 300);
    let r = tc(
        &app,
        DEMO,
        "DeleteKeyPairs",
        json!({"KeyIds": ["skey-00000000"]}),
    )
    .await;
    assert!(
        message(&r).contains("(cvm:DeleteKeyPairs)"),
        "{}",
        message(&r)
    );
    ok(&tc(&app, ADMIN, "DescribeKeyPairs", json!({})).await);
}

/// With `--seed` and `--clock`, request ids, key ids and generated keys repeat after a reset.
#[actix_web::test]
async fn seeded_runs_repeat() {
    let app = app_with(|c| {
        c.seed = Some(19);
        c.clock = Some("2026-01-01T00:00:00Z".parse().unwrap());
    })
    .await;
    let front = app.front("tencent");
    let session = || async {
        let mut t = Tc3::post(
            DEMO,
            "CreateKeyPair",
            json!({"KeyName": "seeded", "ProjectId": 0}),
        );
        t.timestamp = 1_767_225_600;
        let v = ok(&t.send(front).await);
        let mut t = Tc3::post(DEMO, "DescribeKeyPairs", json!({}));
        t.timestamp = 1_767_225_600;
        let d = ok(&t.send(front).await);
        (v, d)
    };
    let first = session().await;
    assert_eq!(
        call(
            front,
            "POST",
            "/_novakeys/reset",
            &[("Content-Type", "application/json")],
            ""
        )
        .await
        .status,
        204
    );
    let second = session().await;
    assert_eq!(first, second);
    assert_eq!(
        first.1["KeyPairSet"][0]["CreatedTime"],
        "2026-01-01T00:00:00Z"
    );
}
