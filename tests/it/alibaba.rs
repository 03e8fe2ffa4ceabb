//! The Alibaba Cloud ECS front end to end (the real app on port 0), signed by a small signer
//! of its own below (written from seed-clouds.md §1.2, independent of the server's code).

use crate::common::{
    call, login, nova_import, raw_request, spawn_app, test_config, RawResponse, TestApp,
};
use base64::Engine;
use hmac::{Hmac, Mac};
use novakeys::config::{AuthMode, Config};
use serde_json::{json, Value};
use sha2::Digest;
use std::fmt::Write as _;
use std::net::SocketAddr;

pub(crate) const DEMO: (&str, &str) =
    ("LTAI5tNovakeysDemo000001", "NovakeysDemoAlibabaSecret00001");
const ADMIN: (&str, &str) = ("LTAI5tNovakeysAdmin00001", "NovakeysAdminAlibabaSecret0001");
const READER: (&str, &str) = ("LTAI5tNovakeysReader0001", "NovakeysReaderAlibabaSecret001");
const PREFIX: &str =
    "Specified signature is not matched with our calculation. server string to sign is:";

fn key(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/data/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .trim()
    .to_string()
}

/// `ssh-keygen -l -E md5` of a public key line, worked out here.
fn md5_of(public_key: &str) -> String {
    let blob = base64::engine::general_purpose::STANDARD
        .decode(public_key.split_whitespace().nth(1).unwrap())
        .unwrap();
    let d = md5::Md5::digest(&blob);
    d.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

// ---- the test's own signer -----------------------------------------------------------------

/// RFC 3986: only `A-Z a-z 0-9 - _ . ~` as they are.
pub(crate) fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn canonical(params: &[(String, String)]) -> String {
    let mut p: Vec<(String, String)> = params.iter().map(|(k, v)| (enc(k), enc(v))).collect();
    p.sort();
    p.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn hexs(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Mode {
    Rpc,
    Acs3,
}

/// A request signed and ready to send (or to tamper with first).
#[derive(Clone, Debug)]
struct Signed {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    string_to_sign: String,
}

impl Signed {
    async fn send(&self, addr: SocketAddr) -> RawResponse {
        raw_request(addr, &self.method, &self.target, &self.headers, b"").await
    }
}

#[derive(Clone)]
pub(crate) struct Ali {
    addr: SocketAddr,
    access: String,
    secret: String,
    mode: Mode,
    method: &'static str,
    /// Timestamp override (default: now).
    time: Option<String>,
}

fn now_stamp() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl Ali {
    pub(crate) fn new(app: &TestApp, who: (&str, &str), mode: Mode) -> Ali {
        Ali {
            addr: app.front("alibaba"),
            access: who.0.into(),
            secret: who.1.into(),
            mode,
            method: "POST",
            time: None,
        }
    }

    fn sign(&self, action: &str, params: &[(&str, &str)]) -> Signed {
        let mut p: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let time = self.time.clone().unwrap_or_else(now_stamp);
        let n = nonce();
        match self.mode {
            Mode::Rpc => {
                for (k, v) in [
                    ("Action", action),
                    ("Version", "2014-05-26"),
                    ("Format", "JSON"),
                    ("AccessKeyId", &self.access),
                    ("SignatureMethod", "HMAC-SHA1"),
                    ("SignatureVersion", "1.0"),
                    ("SignatureNonce", &n),
                    ("Timestamp", &time),
                ] {
                    p.push((k.into(), v.into()));
                }
                let canon = canonical(&p);
                let sts = format!("{}&%2F&{}", self.method, enc(&canon));
                let mut mac =
                    Hmac::<sha1::Sha1>::new_from_slice(format!("{}&", self.secret).as_bytes())
                        .unwrap();
                mac.update(sts.as_bytes());
                let sig =
                    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
                Signed {
                    method: self.method.into(),
                    target: format!("/?{canon}&Signature={}", enc(&sig)),
                    headers: vec![("Host".into(), self.addr.to_string())],
                    string_to_sign: sts,
                }
            }
            Mode::Acs3 => {
                let canon = canonical(&p);
                let payload = hexs(&sha2::Sha256::digest(b""));
                let headers = vec![
                    ("host".to_string(), self.addr.to_string()),
                    ("x-acs-action".to_string(), action.to_string()),
                    ("x-acs-content-sha256".to_string(), payload.clone()),
                    ("x-acs-date".to_string(), time),
                    ("x-acs-signature-nonce".to_string(), n),
                    ("x-acs-version".to_string(), "2014-05-26".to_string()),
                ];
                let signed: Vec<String> = headers.iter().map(|(k, _)| k.clone()).collect();
                let lines: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
                let creq = format!(
                    "{}\n/\n{canon}\n{lines}\n{}\n{payload}",
                    self.method,
                    signed.join(";")
                );
                let sts = format!(
                    "ACS3-HMAC-SHA256\n{}",
                    hexs(&sha2::Sha256::digest(creq.as_bytes()))
                );
                let mut mac = Hmac::<sha2::Sha256>::new_from_slice(self.secret.as_bytes()).unwrap();
                mac.update(sts.as_bytes());
                let sig = hexs(&mac.finalize().into_bytes());
                let mut headers = headers;
                headers.push((
                    "Authorization".into(),
                    format!(
                        "ACS3-HMAC-SHA256 Credential={},SignedHeaders={},Signature={sig}",
                        self.access,
                        signed.join(";")
                    ),
                ));
                Signed {
                    method: self.method.into(),
                    target: if canon.is_empty() {
                        "/".into()
                    } else {
                        format!("/?{canon}")
                    },
                    headers,
                    string_to_sign: sts,
                }
            }
        }
    }

    pub(crate) async fn call(&self, action: &str, params: &[(&str, &str)]) -> RawResponse {
        self.sign(action, params).send(self.addr).await
    }

    /// A call that must succeed; its body.
    pub(crate) async fn ok(&self, action: &str, params: &[(&str, &str)]) -> Value {
        let r = self.call(action, params).await;
        assert_eq!(r.status, 200, "{action} {params:?}: {}", r.text());
        r.json()
    }

    pub(crate) async fn import(&self, name: &str, public_key: &str) -> Value {
        self.ok(
            "ImportKeyPair",
            &[
                ("RegionId", "cn-hangzhou"),
                ("KeyPairName", name),
                ("PublicKeyBody", public_key),
            ],
        )
        .await
    }

    pub(crate) async fn names(&self, params: &[(&str, &str)]) -> (Vec<String>, u64) {
        let mut p = vec![("RegionId", "cn-hangzhou"), ("PageSize", "50")];
        p.extend_from_slice(params);
        let body = self.ok("DescribeKeyPairs", &p).await;
        let names = body["KeyPairs"]["KeyPair"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["KeyPairName"].as_str().unwrap().to_string())
            .collect();
        (names, body["TotalCount"].as_u64().unwrap())
    }
}

/// Asserts an Alibaba error envelope with this status and code; returns the body.
fn error(r: &RawResponse, status: u16, code: &str) -> Value {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(
        r.header("content-type"),
        Some("application/json;charset=utf-8")
    );
    let b = r.json();
    assert_eq!(b["Code"], code, "{b}");
    let rid = b["RequestId"].as_str().unwrap();
    assert!(
        regex::Regex::new("^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$")
            .unwrap()
            .is_match(rid),
        "{rid}"
    );
    assert_eq!(b["HostId"], "ecs.aliyuncs.com");
    assert!(!b["Message"].as_str().unwrap().is_empty());
    b
}

/// Sends raw bytes; the status line's code, or None when the server closed without one.
async fn status_of_raw(addr: SocketAddr, request: Vec<u8>) -> Option<u16> {
    actix_web::rt::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let _ = s.write_all(&request);
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        let text = String::from_utf8_lossy(&buf).into_owned();
        text.split(' ').nth(1).and_then(|c| c.parse().ok())
    })
    .await
    .unwrap()
}

async fn app() -> TestApp {
    spawn_app(test_config(AuthMode::Keystone)).await
}

async fn app_with(f: impl FnOnce(&mut Config)) -> TestApp {
    let mut c = test_config(AuthMode::Keystone);
    f(&mut c);
    spawn_app(c).await
}

async fn control(addr: SocketAddr, method: &str, path: &str, body: &Value) -> RawResponse {
    let text = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    call(
        addr,
        method,
        path,
        &[("Content-Type", "application/json")],
        &text,
    )
    .await
}

async fn instance(app: &TestApp, name: &str, os: &str, user: &str) -> String {
    let r = control(
        app.front("alibaba"),
        "POST",
        "/_novakeys/instances",
        &json!({"cloud": "alibaba", "name": name, "user": user, "project": "demo", "os": os}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["instance"]["id"].as_str().unwrap().to_string()
}

async fn instance_key(app: &TestApp, id: &str) -> Value {
    control(
        app.front("alibaba"),
        "GET",
        &format!("/_novakeys/instances/{id}"),
        &Value::Null,
    )
    .await
    .json()["instance"]["key_pair_name"]
        .clone()
}

// ---- routing ---------------------------------------------------------------------------------

#[actix_web::test]
async fn an_unknown_action_gets_alibabas_error() {
    let app = app().await;
    let r = call(app.front("alibaba"), "POST", "/?Action=Nope", &[], "").await;
    error(&r, 404, "InvalidAction.NotFound");
    let r = call(
        app.front("alibaba"),
        "DELETE",
        "/?Action=DescribeKeyPairs",
        &[],
        "",
    )
    .await;
    error(&r, 404, "InvalidAction.NotFound");
    let r = call(app.front("alibaba"), "POST", "/", &[], "").await;
    error(&r, 400, "MissingParameter");
    let r = call(
        app.front("alibaba"),
        "POST",
        "/?Action=DescribeKeyPairs&Version=2016-01-01",
        &[],
        "",
    )
    .await;
    error(&r, 400, "InvalidVersion");
}

#[actix_web::test]
async fn both_signatures_and_the_get_form_are_accepted() {
    let app = app().await;
    for mode in [Mode::Rpc, Mode::Acs3] {
        for method in ["POST", "GET"] {
            let mut c = Ali::new(&app, DEMO, mode);
            c.method = method;
            let b = c
                .ok("DescribeKeyPairs", &[("RegionId", "cn-hangzhou")])
                .await;
            assert_eq!(b["TotalCount"], 0, "{mode:?} {method}");
            assert_eq!(b["KeyPairs"], json!({"KeyPair": []}));
        }
    }
    // The configured region is the same region.
    let c = Ali::new(&app, DEMO, Mode::Rpc);
    c.ok("DescribeKeyPairs", &[("RegionId", "RegionOne")]).await;
    // An RPC request in a form body, as the gateway also takes it.
    let signed = c.sign("DescribeKeyPairs", &[("RegionId", "cn-hangzhou")]);
    let query = signed.target.strip_prefix("/?").unwrap().to_string();
    let r = raw_request(
        c.addr,
        "POST",
        "/",
        &[(
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        )],
        query.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

// ---- signatures: every failure mode ------------------------------------------------------------

#[actix_web::test]
async fn signature_failures_get_alibabas_errors() {
    let app = app().await;
    let describe = [("RegionId", "cn-hangzhou"), ("KeyPairName", "a b*c~")];
    for mode in [Mode::Rpc, Mode::Acs3] {
        let good = Ali::new(&app, DEMO, mode);
        // Wrong secret: the message ends with the server's string to sign, which is the one
        // worked out here, with no other ':' (the legacy SDK splits on it).
        let bad = Ali {
            secret: "WrongSecretWrongSecret0000000".into(),
            ..good.clone()
        };
        let s = bad.sign("DescribeKeyPairs", &describe);
        let b = error(
            &s.send(app.front("alibaba")).await,
            400,
            "SignatureDoesNotMatch",
        );
        let m = b["Message"].as_str().unwrap();
        assert_eq!(m, format!("{PREFIX}{}", s.string_to_sign), "{mode:?}");
        assert_eq!(m.matches(':').count(), 1, "{m}");

        // Unknown AccessKeyId.
        let stranger = Ali {
            access: "LTAI5tNovakeysNoSuchKey1".into(),
            ..good.clone()
        };
        error(
            &stranger.call("DescribeKeyPairs", &describe).await,
            404,
            "InvalidAccessKeyId.NotFound",
        );

        // Stale, future and malformed timestamps.
        let at = |t: chrono::DateTime<chrono::Utc>| Ali {
            time: Some(t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
            ..good.clone()
        };
        let now = chrono::Utc::now();
        for t in [
            now - chrono::Duration::minutes(16),
            now + chrono::Duration::minutes(16),
        ] {
            error(
                &at(t).call("DescribeKeyPairs", &describe).await,
                400,
                "InvalidTimeStamp.Expired",
            );
        }
        at(now - chrono::Duration::minutes(14))
            .ok("DescribeKeyPairs", &describe)
            .await;
        let odd = Ali {
            time: Some("2024-01-01 00:00:00".into()),
            ..good.clone()
        };
        error(
            &odd.call("DescribeKeyPairs", &describe).await,
            400,
            "InvalidTimeStamp.Format",
        );

        // The same signed request twice: the nonce was used.
        let s = good.sign("DescribeKeyPairs", &describe);
        assert_eq!(s.send(app.front("alibaba")).await.status, 200);
        error(
            &s.send(app.front("alibaba")).await,
            400,
            "SignatureNonceUsed",
        );

        // A value changed after signing.
        let mut s = good.sign("DescribeKeyPairs", &describe);
        s.target = s.target.replace("cn-hangzhou", "cn-hangzhoU");
        error(
            &s.send(app.front("alibaba")).await,
            400,
            "SignatureDoesNotMatch",
        );

        // The signature removed.
        let mut s = good.sign("DescribeKeyPairs", &describe);
        match mode {
            Mode::Rpc => {
                let i = s.target.find("&Signature=").unwrap();
                s.target.truncate(i);
            }
            Mode::Acs3 => {
                let auth = s.headers.last_mut().unwrap();
                let i = auth.1.find(",Signature=").unwrap();
                auth.1.truncate(i);
            }
        }
        let b = error(
            &s.send(app.front("alibaba")).await,
            400,
            "IncompleteSignature",
        );
        assert!(b["Message"]
            .as_str()
            .unwrap()
            .ends_with(&format!("server string to sign is:{}", s.string_to_sign)));
    }

    let acs3 = Ali::new(&app, DEMO, Mode::Acs3);
    // ACS3: a signed header changed, an x-acs-* header left unsigned, a body that is not the
    // one hashed, a padded value (values are trimmed), an unsigned other header.
    let mut s = acs3.sign("DescribeKeyPairs", &describe);
    s.headers[5].1 = "2014-05-27".into();
    assert_eq!(s.headers[5].0, "x-acs-version");
    let r = s.send(app.front("alibaba")).await;
    error(&r, 400, "InvalidVersion");
    let mut s = acs3.sign("DescribeKeyPairs", &describe);
    s.headers[4].1.push('0');
    error(
        &s.send(app.front("alibaba")).await,
        400,
        "SignatureDoesNotMatch",
    );
    let mut s = acs3.sign("DescribeKeyPairs", &describe);
    s.headers.push(("x-acs-security-token".into(), "t".into()));
    error(
        &s.send(app.front("alibaba")).await,
        400,
        "IncompleteSignature",
    );
    let s = acs3.sign("DescribeKeyPairs", &describe);
    let r = raw_request(app.front("alibaba"), &s.method, &s.target, &s.headers, b"x").await;
    error(&r, 400, "SignatureDoesNotMatch");
    let mut s = acs3.sign("DescribeKeyPairs", &describe);
    s.headers[1].1 = format!("  {}  ", s.headers[1].1);
    s.headers.push(("X-Anything".into(), "else".into()));
    assert_eq!(s.send(app.front("alibaba")).await.status, 200);
    let mut s = acs3.sign("DescribeKeyPairs", &describe);
    s.headers.retain(|(k, _)| k != "x-acs-signature-nonce");
    error(&s.send(app.front("alibaba")).await, 400, "MissingParameter");
    let mut s = acs3.sign("DescribeKeyPairs", &describe);
    s.headers.last_mut().unwrap().1 = "ACS3-HMAC-SM3 Credential=x".into();
    error(
        &s.send(app.front("alibaba")).await,
        400,
        "IncompleteSignature",
    );
    // RPC: the same values encoded another legal way sign the same.
    let rpc = Ali::new(&app, DEMO, Mode::Rpc);
    let mut s = rpc.sign("DescribeKeyPairs", &describe);
    s.target = s
        .target
        .replace("%20", "+")
        .replace("%2A", "*")
        .replace('~', "%7E");
    assert!(s.target.contains("a+b*c%7E"), "{}", s.target);
    assert_eq!(s.send(app.front("alibaba")).await.status, 200);
    // RPC without any credentials at all.
    let r = call(
        app.front("alibaba"),
        "POST",
        "/?Action=DescribeKeyPairs&Version=2014-05-26&RegionId=cn-hangzhou",
        &[],
        "",
    )
    .await;
    error(&r, 400, "MissingParameter");
}

#[actix_web::test]
async fn the_novakeys_clock_decides_what_is_stale_and_when_nonces_expire() {
    let app = app().await;
    let c = Ali::new(&app, DEMO, Mode::Acs3);
    let r = control(
        app.front("alibaba"),
        "POST",
        "/_novakeys/clock",
        &json!({"advance_seconds": 1200}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    error(
        &c.call("DescribeKeyPairs", &[("RegionId", "cn-hangzhou")])
            .await,
        400,
        "InvalidTimeStamp.Expired",
    );
    // A request stamped with the server's (advanced) time is fine.
    let later = Ali {
        time: Some(
            (chrono::Utc::now() + chrono::Duration::seconds(1200))
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string(),
        ),
        ..c.clone()
    };
    later
        .ok("DescribeKeyPairs", &[("RegionId", "cn-hangzhou")])
        .await;
    control(
        app.front("alibaba"),
        "POST",
        "/_novakeys/clock",
        &json!({"set": null}),
    )
    .await;
    c.ok("DescribeKeyPairs", &[("RegionId", "cn-hangzhou")])
        .await;
}

// ---- the operations ----------------------------------------------------------------------------

#[actix_web::test]
async fn create_returns_a_2048_bit_rsa_key_once_with_alibabas_fields() {
    let app = app().await;
    let id_re = regex::Regex::new("^ssh-[0-9a-z]+$").unwrap();
    let time_re = regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$").unwrap();
    for mode in [Mode::Rpc, Mode::Acs3] {
        let c = Ali::new(&app, DEMO, mode);
        let name = format!("gen-{mode:?}");
        let b = c
            .ok(
                "CreateKeyPair",
                &[
                    ("RegionId", "cn-hangzhou"),
                    ("KeyPairName", &name),
                    ("Tag.1.Key", "env"),
                    ("Tag.1.Value", "a b*c~d/e=f&g"),
                ],
            )
            .await;
        let keys: Vec<&str> = b.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "RequestId",
                "KeyPairId",
                "KeyPairName",
                "KeyPairFingerPrint",
                "PrivateKeyBody"
            ]
        );
        assert!(id_re.is_match(b["KeyPairId"].as_str().unwrap()));
        let pem = b["PrivateKeyBody"].as_str().unwrap();
        assert!(
            pem.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"),
            "PKCS#1"
        );
        use rsa::pkcs1::DecodeRsaPrivateKey;
        use rsa::traits::PublicKeyParts;
        let private = rsa::RsaPrivateKey::from_pkcs1_pem(pem).unwrap();
        assert_eq!(private.size() * 8, 2048);
        let d = c
            .ok(
                "DescribeKeyPairs",
                &[
                    ("RegionId", "cn-hangzhou"),
                    ("KeyPairName", &name),
                    ("IncludePublicKey", "True"),
                ],
            )
            .await;
        let item = &d["KeyPairs"]["KeyPair"][0];
        let public = item["PublicKey"].as_str().unwrap();
        assert!(
            public.ends_with(" Generated-by-novakeys-Alibaba-ECS"),
            "{public}"
        );
        // The public key is the private key's.
        let ssh = ssh_key::PublicKey::from_openssh(public).unwrap();
        let n = ssh.key_data().rsa().unwrap().n.as_positive_bytes().unwrap();
        assert_eq!(n, private.n().to_bytes_be().as_slice());
        assert_eq!(item["KeyPairFingerPrint"], b["KeyPairFingerPrint"]);
        assert_eq!(b["KeyPairFingerPrint"], md5_of(public));
        assert!(item.get("PrivateKeyBody").is_none(), "returned once");
        assert!(time_re.is_match(item["CreationTime"].as_str().unwrap()));
        assert_eq!(
            item["Tags"],
            json!({"Tag": [{"TagKey": "env", "TagValue": "a b*c~d/e=f&g"}]})
        );
        assert!(item["ResourceGroupId"].as_str().unwrap().starts_with("rg-"));
    }
    // The journal never shows the private key.
    let j = control(
        app.front("alibaba"),
        "GET",
        "/_novakeys/journal",
        &Value::Null,
    )
    .await;
    assert!(!j.text().contains("PRIVATE KEY"), "{}", j.text());
}

#[actix_web::test]
async fn names_key_types_duplicates_regions_and_groups() {
    let app = app().await;
    let c = Ali::new(&app, DEMO, Mode::Rpc);
    let create = |name: &'static str| {
        let c = c.clone();
        async move {
            c.call(
                "CreateKeyPair",
                &[("RegionId", "cn-hangzhou"), ("KeyPairName", name)],
            )
            .await
        }
    };
    for ok in ["Ab", "k:1_-x"] {
        assert_eq!(create(ok).await.status, 200, "{ok}");
    }
    for bad in ["a", "1abc", "ab.c", "ab c", "http://abc"] {
        error(&create(bad).await, 400, "InvalidKeyPairName.Malformed");
    }
    error(&create("Ab").await, 400, "KeyPair.AlreadyExist");
    let rsa = key("rsa2048.pub");
    for (name, k) in [
        ("imp.dot", key("ecdsa256.pub")),
        ("密钥.key-1", key("dsa.pub")),
        ("rsa", rsa.clone()),
        ("e384", key("ecdsa384.pub")),
        ("e521", key("ecdsa521.pub")),
    ] {
        let b = c.import(name, &k).await;
        assert_eq!(b["KeyPairFingerPrint"], md5_of(&k), "{name}");
        assert_eq!(
            b.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["RequestId", "KeyPairName", "KeyPairFingerPrint"]
        );
    }
    let import = |name: &str, k: &str| {
        let c = c.clone();
        let (name, k) = (name.to_string(), k.to_string());
        async move {
            c.call(
                "ImportKeyPair",
                &[
                    ("RegionId", "cn-hangzhou"),
                    ("KeyPairName", &name),
                    ("PublicKeyBody", &k),
                ],
            )
            .await
        }
    };
    for bad in [
        key("ed25519.pub"),
        key("sk-ecdsa256.pub"),
        "ssh-rsa AAAA".into(),
        "garbage".into(),
    ] {
        error(
            &import("imp-bad", &bad).await,
            400,
            "InvalidPublicKeyBody.Malformed",
        );
    }
    error(
        &import(".imp", &rsa).await,
        400,
        "InvalidKeyPairName.Malformed",
    );
    error(&import("rsa", &rsa).await, 400, "KeyPair.AlreadyExist");
    let r = c
        .call(
            "ImportKeyPair",
            &[("RegionId", "cn-hangzhou"), ("KeyPairName", "nokey")],
        )
        .await;
    error(&r, 400, "MissingParameter");
    for action in ["CreateKeyPair", "DescribeKeyPairs", "DeleteKeyPairs"] {
        let r = c
            .call(
                action,
                &[
                    ("RegionId", "cn-shanghai"),
                    ("KeyPairName", "r1"),
                    ("KeyPairNames", "[\"rsa\"]"),
                ],
            )
            .await;
        error(&r, 404, "InvalidRegionId.NotFound");
        let r = c.call(action, &[("KeyPairName", "r1")]).await;
        error(&r, 400, "MissingParameter");
    }
    let r = c
        .call(
            "CreateKeyPair",
            &[
                ("RegionId", "cn-hangzhou"),
                ("KeyPairName", "g1"),
                ("ResourceGroupId", "rg-nkdoesnotexist0001"),
            ],
        )
        .await;
    error(&r, 404, "InvalidResourceGroup.NotFound");
    // The project's default group is the group every key pair shows, and takes creates.
    let (all, total) = c.names(&[]).await;
    assert_eq!(total, 7, "{all:?}");
    let d = c
        .ok("DescribeKeyPairs", &[("RegionId", "cn-hangzhou")])
        .await;
    let group = d["KeyPairs"]["KeyPair"][0]["ResourceGroupId"]
        .as_str()
        .unwrap()
        .to_string();
    c.ok(
        "CreateKeyPair",
        &[
            ("RegionId", "cn-hangzhou"),
            ("KeyPairName", "in-group"),
            ("ResourceGroupId", &group),
        ],
    )
    .await;
    assert_eq!(c.names(&[("ResourceGroupId", &group)]).await.1, 8);
    // Refused calls stored nothing.
    assert_eq!(c.names(&[]).await.1, 8);
}

#[actix_web::test]
async fn describe_pages_wildcards_fingerprints_and_tags() {
    let app = app().await;
    let c = Ali::new(&app, DEMO, Mode::Acs3);
    let rsa = key("rsa2048.pub");
    let ec = key("ecdsa256.pub");
    for name in ["wc-alpha-one", "wc-alpha-two", "wc-beta-one", "other-alpha"] {
        c.import(name, &rsa).await;
    }
    c.import("the-ec", &ec).await;
    for (pattern, want) in [
        ("wc-alpha*", vec!["wc-alpha-one", "wc-alpha-two"]),
        ("*one", vec!["wc-alpha-one", "wc-beta-one"]),
        (
            "*alpha*",
            vec!["other-alpha", "wc-alpha-one", "wc-alpha-two"],
        ),
        ("wc-alpha-one", vec!["wc-alpha-one"]),
        ("wc-alpha", vec![]),
        ("*x y~z*", vec![]),
    ] {
        let (mut got, total) = c.names(&[("KeyPairName", pattern)]).await;
        got.sort();
        assert_eq!(got, want, "{pattern}");
        assert_eq!(total, want.len() as u64);
    }
    let (got, _) = c.names(&[("KeyPairFingerPrint", &md5_of(&ec))]).await;
    assert_eq!(got, ["the-ec"]);
    // PublicKey only with IncludePublicKey true (either spelling).
    for (flag, shown) in [
        (None, false),
        (Some("False"), false),
        (Some("true"), true),
        (Some("True"), true),
    ] {
        let mut p = vec![("RegionId", "cn-hangzhou"), ("KeyPairName", "the-ec")];
        if let Some(f) = flag {
            p.push(("IncludePublicKey", f));
        }
        let b = c.ok("DescribeKeyPairs", &p).await;
        assert_eq!(
            b["KeyPairs"]["KeyPair"][0].get("PublicKey").is_some(),
            shown,
            "{flag:?}"
        );
    }
    let r = c
        .call(
            "DescribeKeyPairs",
            &[("RegionId", "cn-hangzhou"), ("IncludePublicKey", "yes")],
        )
        .await;
    error(&r, 400, "InvalidParameter");
    // Paging: newest first, TotalCount counts all, pages are disjoint.
    for i in 0..7 {
        c.import(&format!("page-{i:02}"), &rsa).await;
    }
    let first = c
        .ok("DescribeKeyPairs", &[("RegionId", "cn-hangzhou")])
        .await;
    assert_eq!(
        (
            first["TotalCount"].clone(),
            first["PageNumber"].clone(),
            first["PageSize"].clone()
        ),
        (json!(12), json!(1), json!(10))
    );
    assert_eq!(
        first["KeyPairs"]["KeyPair"][0]["KeyPairName"], "page-06",
        "newest first"
    );
    let mut seen = Vec::new();
    for (number, want) in [("1", 5), ("2", 5), ("3", 2), ("4", 0)] {
        let b = c
            .ok(
                "DescribeKeyPairs",
                &[
                    ("RegionId", "cn-hangzhou"),
                    ("PageNumber", number),
                    ("PageSize", "5"),
                ],
            )
            .await;
        let items = b["KeyPairs"]["KeyPair"].as_array().unwrap();
        assert_eq!(items.len(), want);
        assert_eq!(b["TotalCount"], 12);
        seen.extend(
            items
                .iter()
                .map(|i| i["KeyPairName"].as_str().unwrap().to_string()),
        );
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 12);
    for (k, v) in [
        ("PageSize", "51"),
        ("PageSize", "0"),
        ("PageNumber", "0"),
        ("PageNumber", "x"),
    ] {
        let r = c
            .call("DescribeKeyPairs", &[("RegionId", "cn-hangzhou"), (k, v)])
            .await;
        error(&r, 400, "InvalidParameter");
    }
    // Tags: kept as given, filters AND together, a key alone matches any value.
    let tagged = |name: &str, tags: &[(&str, &str)]| {
        let c = c.clone();
        let mut p = vec![
            ("RegionId".to_string(), "cn-hangzhou".to_string()),
            ("KeyPairName".to_string(), name.to_string()),
            ("PublicKeyBody".to_string(), ec.clone()),
        ];
        for (i, (k, v)) in tags.iter().enumerate() {
            p.push((format!("Tag.{}.Key", i + 1), k.to_string()));
            p.push((format!("Tag.{}.Value", i + 1), v.to_string()));
        }
        async move {
            let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            c.call("ImportKeyPair", &p).await
        }
    };
    assert_eq!(
        tagged("tag-a", &[("env", "dev"), ("team", "x")])
            .await
            .status,
        200
    );
    assert_eq!(
        tagged("tag-b", &[("env", "dev"), ("team", "y")])
            .await
            .status,
        200
    );
    assert_eq!(tagged("tag-c", &[("env", "prod")]).await.status, 200);
    let filter = |q: &'static [(&'static str, &'static str)]| {
        let c = c.clone();
        async move {
            let mut got = c.names(q).await.0;
            got.sort();
            got
        }
    };
    assert_eq!(
        filter(&[("Tag.1.Key", "env"), ("Tag.1.Value", "dev")]).await,
        ["tag-a", "tag-b"]
    );
    assert_eq!(
        filter(&[
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", "dev"),
            ("Tag.2.Key", "team"),
            ("Tag.2.Value", "y")
        ])
        .await,
        ["tag-b"]
    );
    assert_eq!(filter(&[("Tag.1.Key", "team")]).await, ["tag-a", "tag-b"]);
    assert_eq!(
        filter(&[("Tag.1.Key", "env"), ("Tag.1.Value", "qa")]).await,
        Vec::<String>::new()
    );
    let keys: Vec<String> = (1..=21).map(|i| format!("k{i}")).collect();
    let twenty_one: Vec<(&str, &str)> = keys.iter().map(|k| (k.as_str(), "v")).collect();
    error(
        &tagged("tags-21", &twenty_one).await,
        403,
        "QuotaExceed.Tags",
    );
    assert_eq!(tagged("tags-20", &twenty_one[..20]).await.status, 200);
    error(
        &tagged("tag-dup", &[("a", "1"), ("a", "2")]).await,
        400,
        "Duplicate.TagKey",
    );
    error(
        &tagged("tag-bk", &[("aliyun-x", "1")]).await,
        400,
        "InvalidTagKey.Malformed",
    );
    error(
        &tagged("tag-bv", &[("k", "acs:v")]).await,
        400,
        "InvalidTagValue.Malformed",
    );
    assert_eq!(c.names(&[]).await.1, 16, "refused imports stored nothing");
}

#[actix_web::test]
async fn delete_takes_a_json_array_and_refuses_bound_key_pairs() {
    let app = app().await;
    let c = Ali::new(&app, DEMO, Mode::Rpc);
    let rsa = key("rsa2048.pub");
    for n in ["del-a", "del-b", "del-c"] {
        c.import(n, &rsa).await;
    }
    let del = |names: &str| {
        let c = c.clone();
        let names = names.to_string();
        async move {
            c.call(
                "DeleteKeyPairs",
                &[("RegionId", "cn-hangzhou"), ("KeyPairNames", &names)],
            )
            .await
        }
    };
    let r = del(r#"["del-a", "del-b", "nope"]"#).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json().as_object().unwrap().keys().collect::<Vec<_>>(),
        ["RequestId"]
    );
    assert_eq!(c.names(&[]).await.0, ["del-c"]);
    let many =
        serde_json::to_string(&(0..101).map(|i| format!("n{i}")).collect::<Vec<_>>()).unwrap();
    error(&del(&many).await, 403, "InstanceKeyPairLimitExceeded");
    // Bound to an instance: refused, nothing deleted (also the unbound name beside it).
    c.import("del-d", &rsa).await;
    let vm = instance(&app, "vm", "linux", "demo").await;
    let b = c
        .ok(
            "AttachKeyPair",
            &[
                ("RegionId", "cn-hangzhou"),
                ("KeyPairName", "del-c"),
                ("InstanceIds", &format!("[\"{vm}\"]")),
            ],
        )
        .await;
    assert_eq!(b["FailCount"], "0");
    error(
        &del(r#"["del-d", "del-c"]"#).await,
        400,
        "InvalidParameter.KeypairAlreadyAttachedInstance",
    );
    let (mut left, _) = c.names(&[]).await;
    left.sort();
    assert_eq!(left, ["del-c", "del-d"]);
    c.ok(
        "DetachKeyPair",
        &[
            ("RegionId", "cn-hangzhou"),
            ("KeyPairName", "del-c"),
            ("InstanceIds", &format!("[\"{vm}\"]")),
        ],
    )
    .await;
    assert_eq!(del(r#"["del-d", "del-c"]"#).await.status, 200);
    assert_eq!(c.names(&[]).await.1, 0);
}

#[actix_web::test]
async fn attach_and_detach_report_per_instance() {
    let app = app().await;
    let c = Ali::new(&app, DEMO, Mode::Acs3);
    c.import("att-1", &key("rsa2048.pub")).await;
    c.import("att-2", &key("ecdsa256.pub")).await;
    let linux = instance(&app, "l", "linux", "demo").await;
    let win = instance(&app, "w", "windows", "demo").await;
    let admins = instance(&app, "a", "linux", "admin").await;
    let att = |name: &str, ids: Vec<&str>, action: &str| {
        let c = c.clone();
        let (name, ids, action) = (
            name.to_string(),
            serde_json::to_string(&ids).unwrap(),
            action.to_string(),
        );
        async move {
            c.call(
                &action,
                &[
                    ("RegionId", "cn-hangzhou"),
                    ("KeyPairName", &name),
                    ("InstanceIds", &ids),
                ],
            )
            .await
        }
    };
    let r = att(
        "att-1",
        vec![&linux, &win, &admins, "i-nosuch"],
        "AttachKeyPair",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let b = r.json();
    assert_eq!(
        (
            b["KeyPairName"].clone(),
            b["TotalCount"].clone(),
            b["FailCount"].clone()
        ),
        (json!("att-1"), json!("4"), json!("3"))
    );
    let results = b["Results"]["Result"].as_array().unwrap();
    assert_eq!(
        results[0],
        json!({"InstanceId": linux, "Success": "true", "Code": "200", "Message": "successful"})
    );
    assert_eq!(results[1]["Code"], "DependencyViolation.WindowsInstance");
    assert_eq!(results[1]["Success"], "false");
    assert_eq!(
        results[2]["Code"], "InvalidInstanceId.NotFound",
        "another user's instance"
    );
    assert_eq!(results[3]["Code"], "InvalidInstanceId.NotFound");
    assert_eq!(instance_key(&app, &linux).await, "att-1");
    assert_eq!(instance_key(&app, &win).await, Value::Null);
    assert_eq!(instance_key(&app, &admins).await, Value::Null);
    // Attach replaces; detach of another key leaves it; detach of its key frees it.
    assert_eq!(
        att("att-2", vec![&linux], "AttachKeyPair").await.json()["FailCount"],
        "0"
    );
    assert_eq!(instance_key(&app, &linux).await, "att-2");
    assert_eq!(
        att("att-1", vec![&linux], "DetachKeyPair").await.json()["FailCount"],
        "0"
    );
    assert_eq!(instance_key(&app, &linux).await, "att-2");
    assert_eq!(
        att("att-2", vec![&linux], "DetachKeyPair").await.json()["FailCount"],
        "0"
    );
    assert_eq!(instance_key(&app, &linux).await, Value::Null);
    error(
        &att("att-none", vec![&linux], "AttachKeyPair").await,
        400,
        "InvalidKeyPairName.NotFound",
    );
    let r = c
        .call(
            "AttachKeyPair",
            &[
                ("RegionId", "cn-hangzhou"),
                ("KeyPairName", "att-1"),
                ("InstanceIds", &linux),
            ],
        )
        .await;
    error(&r, 400, "InvalidInstanceIds.ValueNotSupported");
    let many: Vec<String> = (0..51).map(|i| format!("i-{i}")).collect();
    error(
        &att(
            "att-1",
            many.iter().map(String::as_str).collect(),
            "AttachKeyPair",
        )
        .await,
        403,
        "InstanceKeyPairLimitExceeded",
    );
}

#[actix_web::test]
async fn alibabas_limit_per_region_is_exact_under_concurrency() {
    let app = app_with(|c| c.alibaba_keypair_quota = Some(3)).await;
    let c = Ali::new(&app, DEMO, Mode::Rpc);
    let rsa = key("rsa2048.pub");
    let imports = (0..12).map(|i| {
        let (c, rsa) = (c.clone(), rsa.clone());
        async move {
            c.call(
                "ImportKeyPair",
                &[
                    ("RegionId", "cn-hangzhou"),
                    ("KeyPairName", &format!("q{i}")),
                    ("PublicKeyBody", &rsa),
                ],
            )
            .await
        }
    });
    let answers = futures_util::future::join_all(imports).await;
    assert_eq!(answers.iter().filter(|r| r.status == 200).count(), 3);
    for r in answers.iter().filter(|r| r.status != 200) {
        error(r, 403, "QuotaExceed.KeyPair");
    }
    let r = c
        .call(
            "CreateKeyPair",
            &[("RegionId", "cn-hangzhou"), ("KeyPairName", "qc")],
        )
        .await;
    error(&r, 403, "QuotaExceed.KeyPair");
    assert_eq!(c.names(&[]).await.1, 3);
    // Nova's own quota still applies through Nova (Alibaba's limit is the Alibaba front's).
    let token = login(app.identity, "demo", "demo").await;
    let r = nova_import(&app, &token, "via-nova", &rsa).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

// ---- isolation -----------------------------------------------------------------------------

#[actix_web::test]
async fn each_access_key_sees_its_own_key_pairs_and_a_reader_may_only_look() {
    let app = app().await;
    let demo = Ali::new(&app, DEMO, Mode::Acs3);
    let admin = Ali::new(&app, ADMIN, Mode::Rpc);
    let reader = Ali::new(&app, READER, Mode::Acs3);
    admin.import("iso-admin", &key("ecdsa384.pub")).await;
    demo.import("iso-demo", &key("rsa2048.pub")).await;
    assert_eq!(demo.names(&[]).await.0, ["iso-demo"]);
    assert_eq!(admin.names(&[]).await.0, ["iso-admin"]);
    assert_eq!(demo.names(&[("KeyPairName", "iso-admin")]).await.1, 0);
    // Deleting another's name deletes nothing of theirs; the name is free for demo.
    demo.ok(
        "DeleteKeyPairs",
        &[
            ("RegionId", "cn-hangzhou"),
            ("KeyPairNames", "[\"iso-admin\"]"),
        ],
    )
    .await;
    assert_eq!(admin.names(&[]).await.0, ["iso-admin"]);
    demo.import("iso-admin", &key("rsa2048.pub")).await;
    let d = admin
        .ok(
            "DescribeKeyPairs",
            &[("RegionId", "cn-hangzhou"), ("KeyPairName", "iso-admin")],
        )
        .await;
    assert_eq!(
        d["KeyPairs"]["KeyPair"][0]["KeyPairFingerPrint"],
        md5_of(&key("ecdsa384.pub"))
    );
    // The reader (demo's project, its own user) describes its own; every write is RAM's no.
    assert_eq!(reader.names(&[]).await.1, 0);
    let vm = instance(&app, "r", "linux", "reader").await;
    let ids = format!("[\"{vm}\"]");
    for (action, p) in [
        ("CreateKeyPair", vec![("KeyPairName", "rd")]),
        (
            "ImportKeyPair",
            vec![("KeyPairName", "rd"), ("PublicKeyBody", "ssh-rsa AAAA")],
        ),
        ("DeleteKeyPairs", vec![("KeyPairNames", "[\"iso-demo\"]")]),
        (
            "AttachKeyPair",
            vec![("KeyPairName", "rd"), ("InstanceIds", "[]")],
        ),
        (
            "DetachKeyPair",
            vec![("KeyPairName", "rd"), ("InstanceIds", ids.as_str())],
        ),
    ] {
        let mut p = p;
        p.push(("RegionId", "cn-hangzhou"));
        error(&reader.call(action, &p).await, 403, "Forbidden.RAM");
    }
    let (mut mine, _) = demo.names(&[]).await;
    mine.sort();
    assert_eq!(mine, ["iso-admin", "iso-demo"]);
}

// ---- hostile input ---------------------------------------------------------------------------

#[actix_web::test]
async fn hostile_input_gets_alibabas_errors_and_stores_nothing() {
    let app = app().await;
    let addr = app.front("alibaba");
    let c = Ali::new(&app, DEMO, Mode::Rpc);
    // A query over the front's limit (but within what the HTTP layer reads): Alibaba's error,
    // signed or not.
    let huge = format!(
        "/?Action=DescribeKeyPairs&Version=2014-05-26&X={}",
        "a".repeat(40_000)
    );
    error(
        &call(addr, "POST", &huge, &[], "").await,
        400,
        "InvalidParameter",
    );
    let padding = "a".repeat(40_000);
    let r = c
        .call(
            "DescribeKeyPairs",
            &[("RegionId", "cn-hangzhou"), ("X", &padding)],
        )
        .await;
    error(&r, 400, "InvalidParameter");
    // Over what the HTTP layer takes (a 64 KB request target, a 128 KB head): its bare 400 or
    // a closed connection, never a 500; the server still serves.
    for n in [70_000, 300_000] {
        let status = status_of_raw(
            addr,
            format!(
                "POST /?X={} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                "a".repeat(n)
            )
            .into_bytes(),
        )
        .await;
        assert!(
            status.is_none_or(|s| (400..500).contains(&s)),
            "{n}: {status:?}"
        );
    }
    // A body over the limit, declared or chunked.
    let form = (
        "Content-Type".to_string(),
        "application/x-www-form-urlencoded".to_string(),
    );
    let r = raw_request(
        addr,
        "POST",
        "/",
        std::slice::from_ref(&form),
        &vec![b'a'; 40_000],
    )
    .await;
    error(&r, 400, "InvalidParameter");
    let mut chunked = format!("{:x}\r\n", 40_000).into_bytes();
    chunked.extend(vec![b'a'; 40_000]);
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    let te = ("Transfer-Encoding".to_string(), "chunked".to_string());
    let r = raw_request(addr, "POST", "/", &[form, te], &chunked).await;
    error(&r, 400, "InvalidParameter");
    // Malformed query strings.
    for target in [
        "/?%",
        "/?&&&=&=",
        "/?Action",
        "/?=DescribeKeyPairs",
        "/?Action=%",
        "/?Action=DescribeKeyPairs&Version=2014-05-26&%zz=1",
    ] {
        let r = call(addr, "POST", target, &[], "").await;
        assert!((400..500).contains(&r.status), "{target}: {}", r.text());
        r.json();
    }
    // Not UTF-8, percent-encoded: in a value, in a name, in a signed request.
    for target in [
        "/?Action=DescribeKeyPairs&Version=2014-05-26&KeyPairName=%FF%FE",
        "/?Action=DescribeKeyPairs&%C3%28=1",
    ] {
        error(
            &call(addr, "POST", target, &[], "").await,
            400,
            "InvalidParameter",
        );
    }
    let mut s = c.sign(
        "ImportKeyPair",
        &[
            ("RegionId", "cn-hangzhou"),
            ("KeyPairName", "x\u{e9}y"),
            ("PublicKeyBody", &key("rsa2048.pub")),
        ],
    );
    s.target = s.target.replace("x%C3%A9y", "x%E9y");
    error(&s.send(addr).await, 400, "InvalidParameter");
    // Not UTF-8 as raw bytes in the request line and in a header: no 500.
    for request in [
        &b"POST /?Action=DescribeKeyPairs&Version=2014-05-26&KeyPairName=\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"[..],
        b"POST /?Action=DescribeKeyPairs&Version=2014-05-26 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: ACS3-HMAC-SHA256 Credential=\xff,SignedHeaders=host,Signature=00\r\nx-acs-date: \xfe\r\n\r\n",
    ] {
        let status = status_of_raw(addr, request.to_vec()).await;
        assert!(status.is_none_or(|s| (400..500).contains(&s)), "{status:?}");
    }
    let r = raw_request(
        addr,
        "POST",
        "/?Action=DescribeKeyPairs&KeyPairName=\u{fffd}",
        &[],
        b"",
    )
    .await;
    assert!(r.status < 500, "{}", r.status);
    let r = raw_request(
        addr,
        "POST",
        "/?Action=DescribeKeyPairs&Version=2014-05-26",
        &[(
            "Authorization".into(),
            "ACS3-HMAC-SHA256 Credential=\u{e9}".into(),
        )],
        b"",
    )
    .await;
    assert!(r.status < 500, "{}", r.status);
    // Bad JSON arrays, signed, in every list parameter.
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    for bad in [
        "",
        "del-c",
        "[",
        "[\"a\"",
        "{\"a\": 1}",
        "[1]",
        "[null]",
        "[[\"a\"]]",
        "\"a\"",
        "null",
        &deep,
    ] {
        let r = c
            .call(
                "DeleteKeyPairs",
                &[("RegionId", "cn-hangzhou"), ("KeyPairNames", bad)],
            )
            .await;
        if bad.is_empty() {
            error(&r, 400, "MissingParameter");
        } else {
            error(&r, 400, "InvalidKeyPairNames.ValueNotSupported");
        }
        let r = c
            .call(
                "AttachKeyPair",
                &[
                    ("RegionId", "cn-hangzhou"),
                    ("KeyPairName", "k"),
                    ("InstanceIds", bad),
                ],
            )
            .await;
        assert_eq!(r.status, 400, "{bad:.20}: {}", r.text());
    }
    // Odd tags and odd values in a signed import, every one refused.
    let rsa = key("rsa2048.pub");
    for extra in [
        vec![("Tag.0.Key", "a")],
        vec![("Tag.x.Key", "a")],
        vec![("Tag.99999999999999999999999.Key", "a")],
        vec![("Tag.1.Key", "")],
        vec![("Tag.1.Nope", "a")],
        vec![("KeyPairName", "")],
    ] {
        let mut p = vec![
            ("RegionId", "cn-hangzhou"),
            ("KeyPairName", "hostile"),
            ("PublicKeyBody", rsa.as_str()),
        ];
        p.extend(extra.clone());
        let r = c.call("ImportKeyPair", &p).await;
        assert!((400..500).contains(&r.status), "{extra:?}: {}", r.text());
        r.json();
    }
    let long_name = "k".repeat(10_000);
    let r = c
        .call(
            "CreateKeyPair",
            &[("RegionId", "cn-hangzhou"), ("KeyPairName", &long_name)],
        )
        .await;
    error(&r, 400, "InvalidKeyPairName.Malformed");
    // Nothing was stored, through either front.
    assert_eq!(c.names(&[]).await.1, 0);
    let token = login(app.identity, "demo", "demo").await;
    let r = call(
        app.compute,
        "GET",
        "/v2.1/os-keypairs",
        &[("X-Auth-Token", &token)],
        "",
    )
    .await;
    assert_eq!(r.json()["keypairs"], json!([]));
    // And the server still answers.
    c.ok("DescribeKeyPairs", &[("RegionId", "cn-hangzhou")])
        .await;
}

// ---- one store, two fronts -------------------------------------------------------------------

/// Describe answers are rendered once and kept until the next write: every write, through
/// either front or the controls, shows in the very next describe, and each answer keeps its
/// own RequestId first.
#[actix_web::test]
async fn describe_follows_every_write_whatever_made_it() {
    let app = app().await;
    let c = Ali::new(&app, DEMO, Mode::Rpc);
    let token = login(app.identity, "demo", "demo").await;
    c.import("first", &key("rsa2048.pub")).await;
    let page = [("RegionId", "cn-hangzhou")];
    let a = c.call("DescribeKeyPairs", &page).await;
    let b = c.call("DescribeKeyPairs", &page).await;
    assert!(a.text().starts_with(r#"{"RequestId":""#), "{}", a.text());
    assert_ne!(a.json()["RequestId"], b.json()["RequestId"]);
    assert_eq!(a.json()["KeyPairs"], b.json()["KeyPairs"]);
    assert_eq!(c.names(&[]).await, (vec!["first".to_string()], 1));
    // Made through Nova: in the next describe, newest first.
    let r = nova_import(&app, &token, "from-nova", &key("ed25519.pub")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        c.names(&[]).await,
        (vec!["from-nova".to_string(), "first".to_string()], 2)
    );
    // Another shape of request, another answer; then a delete and a reset.
    let with_keys = c
        .ok(
            "DescribeKeyPairs",
            &[("RegionId", "cn-hangzhou"), ("IncludePublicKey", "true")],
        )
        .await;
    assert!(with_keys["KeyPairs"]["KeyPair"][0]["PublicKey"].is_string());
    assert!(
        c.ok("DescribeKeyPairs", &page).await["KeyPairs"]["KeyPair"][0]
            .get("PublicKey")
            .is_none()
    );
    c.ok(
        "DeleteKeyPairs",
        &[
            ("RegionId", "cn-hangzhou"),
            ("KeyPairNames", r#"["first"]"#),
        ],
    )
    .await;
    assert_eq!(c.names(&[]).await, (vec!["from-nova".to_string()], 1));
    let r = control(app.front("alibaba"), "POST", "/_novakeys/reset", &json!({})).await;
    assert!(r.status < 300, "{} {}", r.status, r.text());
    assert_eq!(c.names(&[]).await.1, 0);
}

#[actix_web::test]
async fn a_key_pair_is_the_same_through_alibaba_and_nova() {
    let app = app().await;
    let c = Ali::new(&app, DEMO, Mode::Acs3);
    let token = login(app.identity, "demo", "demo").await;
    let nova = |method: &'static str, path: String, body: Option<Value>| {
        let token = token.clone();
        let compute = app.compute;
        async move {
            let text = body.map(|b| b.to_string()).unwrap_or_default();
            call(
                compute,
                method,
                &path,
                &[
                    ("X-Auth-Token", &token),
                    ("Content-Type", "application/json"),
                ],
                &text,
            )
            .await
        }
    };
    // Imported through Alibaba as demo: Nova shows it, with the same MD5 fingerprint.
    let pub_key = format!(
        "{} xf@alibaba",
        key("rsa2048.pub")
            .split(' ')
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let b = c.import("xf-ali", &pub_key).await;
    let r = nova("GET", "/v2.1/os-keypairs/xf-ali".into(), None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["keypair"]["fingerprint"], b["KeyPairFingerPrint"]);
    assert_eq!(b["KeyPairFingerPrint"], md5_of(&pub_key));
    // Generated through Alibaba: the same on both sides too.
    let g = c
        .ok(
            "CreateKeyPair",
            &[("RegionId", "cn-hangzhou"), ("KeyPairName", "xf-gen")],
        )
        .await;
    let r = nova("GET", "/v2.1/os-keypairs/xf-gen".into(), None).await;
    assert_eq!(r.json()["keypair"]["fingerprint"], g["KeyPairFingerPrint"]);
    // Not admin's.
    let admin = login(app.identity, "admin", "admin").await;
    let r = call(
        app.compute,
        "GET",
        "/v2.1/os-keypairs",
        &[("X-Auth-Token", &admin)],
        "",
    )
    .await;
    assert_eq!(r.json()["keypairs"], json!([]));
    // Made through Nova: DescribeKeyPairs (cn-hangzhou) lists it with Nova's fingerprint.
    let r = nova(
        "POST",
        "/v2.1/os-keypairs".into(),
        Some(json!({"keypair": {"name": "xf-nova"}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let nova_fp = r.json()["keypair"]["fingerprint"].clone();
    let d = c
        .ok(
            "DescribeKeyPairs",
            &[
                ("RegionId", "cn-hangzhou"),
                ("KeyPairName", "xf-nova"),
                ("IncludePublicKey", "true"),
            ],
        )
        .await;
    let item = &d["KeyPairs"]["KeyPair"][0];
    assert_eq!(item["KeyPairFingerPrint"], nova_fp);
    assert_eq!(
        item["KeyPairFingerPrint"],
        md5_of(item["PublicKey"].as_str().unwrap())
    );
    // Deleted through Nova: gone from Describe. Deleted through Alibaba: gone from Nova.
    assert_eq!(
        nova("DELETE", "/v2.1/os-keypairs/xf-ali".into(), None)
            .await
            .status,
        202
    );
    assert_eq!(c.names(&[("KeyPairName", "xf-ali")]).await.1, 0);
    c.ok(
        "DeleteKeyPairs",
        &[
            ("RegionId", "cn-hangzhou"),
            ("KeyPairNames", "[\"xf-nova\"]"),
        ],
    )
    .await;
    assert_eq!(
        nova("GET", "/v2.1/os-keypairs/xf-nova".into(), None)
            .await
            .status,
        404
    );
    let listed = nova("GET", "/v2.1/os-keypairs".into(), None).await.json();
    let left: Vec<&str> = listed["keypairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["keypair"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(left, ["xf-gen"]);
}

// ---- what every front gets ---------------------------------------------------------------------

#[actix_web::test]
async fn journal_metrics_and_faults_speak_alibaba() {
    let app = app().await;
    let addr = app.front("alibaba");
    let c = Ali::new(&app, DEMO, Mode::Rpc);
    c.import("j-1", &key("rsa2048.pub")).await;
    let bad = Ali {
        secret: "nope".into(),
        ..c.clone()
    };
    bad.call("DescribeKeyPairs", &[("RegionId", "cn-hangzhou")])
        .await;
    let j = control(addr, "GET", "/_novakeys/journal", &Value::Null)
        .await
        .json();
    let entries = j["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let token = login(app.identity, "demo", "demo").await;
    let me = call(
        app.identity,
        "GET",
        "/v3/auth/tokens",
        &[("X-Auth-Token", &token), ("X-Subject-Token", &token)],
        "",
    )
    .await
    .json();
    assert_eq!(entries[0]["api"], "alibaba");
    assert_eq!(
        entries[0]["user_id"], me["token"]["user"]["id"],
        "the signer's user"
    );
    assert_eq!(entries[0]["project_id"], me["token"]["project"]["id"]);
    assert_eq!(entries[0]["microversion"], "2014-05-26");
    assert_eq!(entries[1]["status"], 400);
    assert_eq!(
        entries[1]["user_id"],
        Value::Null,
        "a bad signature is nobody's"
    );
    // Metrics: one route label per action.
    let m = call(addr, "GET", "/metrics", &[], "").await.text();
    assert!(
        m.contains("api=\"alibaba\",route=\"/ImportKeyPair\",method=\"POST\",status=\"200\""),
        "{m}"
    );
    assert!(
        m.contains("api=\"alibaba\",route=\"/DescribeKeyPairs\",method=\"POST\",status=\"400\""),
        "{m}"
    );
    // Faults: matched on the key pair's name (worked out from a signed request), answered
    // with Alibaba's body and the rule's status.
    let r = control(
        addr,
        "POST",
        "/_novakeys/faults",
        &json!({"match": {"name": "f-1"}, "action": {"status": 503}}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = c
        .call(
            "CreateKeyPair",
            &[("RegionId", "cn-hangzhou"), ("KeyPairName", "f-1")],
        )
        .await;
    error(&r, 503, "ServiceUnavailable");
    assert!(r.header("x-novakeys-fault").is_some());
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(
        c.ok(
            "CreateKeyPair",
            &[("RegionId", "cn-hangzhou"), ("KeyPairName", "f-2")]
        )
        .await["KeyPairName"],
        "f-2"
    );
    control(addr, "DELETE", "/_novakeys/faults", &Value::Null).await;
    for (status, code) in [
        (500, "InternalError"),
        (403, "Forbidden.RAM"),
        (429, "Throttling.User"),
    ] {
        control(addr, "POST", "/_novakeys/faults", &json!({"match": {"user_id": me["token"]["user"]["id"]}, "action": {"status": status}, "times": 1})).await;
        let r = c
            .call("DescribeKeyPairs", &[("RegionId", "cn-hangzhou")])
            .await;
        error(&r, status, code);
    }
    control(
        addr,
        "POST",
        "/_novakeys/faults",
        &json!({"action": {"fault": "quota_exceeded"}, "times": 1}),
    )
    .await;
    error(
        &c.call("DescribeKeyPairs", &[("RegionId", "cn-hangzhou")])
            .await,
        403,
        "QuotaExceed.KeyPair",
    );
}

#[actix_web::test]
async fn reset_and_snapshots_cover_access_keys_and_instances() {
    let app = app().await;
    let addr = app.front("alibaba");
    // An access key made through Keystone works, and is gone after a reset.
    let admin = login(app.identity, "admin", "admin").await;
    let users = call(
        app.identity,
        "GET",
        "/v3/users?name=demo",
        &[("X-Auth-Token", &admin)],
        "",
    )
    .await
    .json();
    let projects = call(
        app.identity,
        "GET",
        "/v3/projects?name=demo",
        &[("X-Auth-Token", &admin)],
        "",
    )
    .await
    .json();
    let blob =
        json!({"access": "LTAI5tMadeThroughKeystone", "secret": "SecretMadeThroughKeystone00001"})
            .to_string();
    let r = call(
        app.identity,
        "POST",
        "/v3/credentials",
        &[("X-Auth-Token", &admin), ("Content-Type", "application/json")],
        &json!({"credential": {"type": "alibaba", "user_id": users["users"][0]["id"], "project_id": projects["projects"][0]["id"], "blob": blob}}).to_string(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let made = Ali::new(
        &app,
        (
            "LTAI5tMadeThroughKeystone",
            "SecretMadeThroughKeystone00001",
        ),
        Mode::Acs3,
    );
    made.import("mk", &key("rsa2048.pub")).await;
    let vm = instance(&app, "vm", "linux", "demo").await;
    let r = control(addr, "PUT", "/_novakeys/snapshots/s1", &Value::Null).await;
    assert!(r.status < 300, "{}", r.text());
    assert_eq!(
        control(addr, "POST", "/_novakeys/reset", &json!({}))
            .await
            .status,
        204
    );
    error(
        &made
            .call("DescribeKeyPairs", &[("RegionId", "cn-hangzhou")])
            .await,
        404,
        "InvalidAccessKeyId.NotFound",
    );
    assert_eq!(
        control(
            addr,
            "GET",
            &format!("/_novakeys/instances/{vm}"),
            &Value::Null
        )
        .await
        .status,
        404
    );
    assert_eq!(Ali::new(&app, DEMO, Mode::Rpc).names(&[]).await.1, 0);
    let r = control(
        addr,
        "POST",
        "/_novakeys/snapshots/s1/restore",
        &Value::Null,
    )
    .await;
    assert!(r.status < 300, "{}", r.text());
    assert_eq!(made.names(&[]).await.0, ["mk"]);
    assert_eq!(
        control(
            addr,
            "GET",
            &format!("/_novakeys/instances/{vm}"),
            &Value::Null
        )
        .await
        .status,
        200
    );
}

#[actix_web::test]
async fn deterministic_mode_repeats_ids_and_keys_after_a_reset() {
    let app = app_with(|c| {
        c.seed = Some(42);
        c.clock = None;
    })
    .await;
    let addr = app.front("alibaba");
    let c = Ali::new(&app, DEMO, Mode::Acs3);
    let run = || async {
        let b = c
            .ok(
                "CreateKeyPair",
                &[("RegionId", "cn-hangzhou"), ("KeyPairName", "det")],
            )
            .await;
        (
            b["RequestId"].clone(),
            b["KeyPairId"].clone(),
            b["KeyPairFingerPrint"].clone(),
        )
    };
    let first = run().await;
    assert_eq!(
        control(addr, "POST", "/_novakeys/reset", &json!({}))
            .await
            .status,
        204
    );
    assert_eq!(run().await, first);
}

#[actix_web::test]
async fn the_credentials_command_prints_what_a_client_needs() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nk.db").to_string_lossy().into_owned();
    // Before the server starts: a running one keeps its database to itself. The command only
    // prints the bind it is given.
    let bind = "127.0.0.1:18761";
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_novakeys"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args([
            "credentials",
            "--cloud",
            "alibaba",
            "--user",
            "demo",
            "--db",
            &db,
            "--alibaba-bind",
            bind,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let var = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("export {name}=")))
            .unwrap_or_else(|| panic!("{name} in {text}"))
            .to_string()
    };
    assert_eq!(var("ALIBABA_CLOUD_ACCESS_KEY_ID"), DEMO.0);
    assert_eq!(var("ALIYUN_ACCESS_KEY_ID"), DEMO.0);
    assert_eq!(var("ALIBABA_CLOUD_REGION_ID"), "cn-hangzhou");
    assert_eq!(var("ALIBABA_CLOUD_ECS_ENDPOINT"), bind);
    // What it printed signs a request the front takes.
    let app = app_with(|c| c.db = db.clone()).await;
    let (access, secret) = (
        var("ALIBABA_CLOUD_ACCESS_KEY_ID"),
        var("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
    );
    let c = Ali::new(&app, (&access, &secret), Mode::Acs3);
    let region = var("ALIBABA_CLOUD_REGION_ID");
    c.ok("DescribeKeyPairs", &[("RegionId", &region)]).await;
}
