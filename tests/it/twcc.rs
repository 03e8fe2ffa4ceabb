//! The TWCC front end to end (the real app on port 0): the VCS key pair API as twcc-cli and
//! TWCC's API docs use it, its refusals (always `{"detail": …}`, never a 500, nothing stored),
//! one store with Nova, and the controls (journal, faults, metrics, reset, determinism).

use crate::common::{call, login, raw_request, spawn_app, test_config, RawResponse, TestApp};
use novakeys::config::{AuthMode, Config};
use serde_json::{json, Value};
use std::net::SocketAddr;

const SITE: &str = "openstack-taichung-default-2";
pub(crate) const DEMO: &str = "nk-twcc-demo-key-0001";
const ADMIN: &str = "nk-twcc-admin-key-0001";
const READER: &str = "nk-twcc-reader-key-0001";
const ED25519: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGGY0fh32MPHfCPM2rKWmuJVJgBbCxUWRJ6Ibd/ftQWq me@host";
/// Its `ssh-keygen -l -E md5`.
const ED25519_MD5: &str = "89:9a:71:01:f7:4d:8c:1a:14:c0:81:8f:39:e8:48:63";

async fn app() -> TestApp {
    app_with(|_| {}).await
}

async fn app_with(f: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = test_config(AuthMode::Keystone);
    f(&mut config);
    spawn_app(config).await
}

pub(crate) fn kp(version: &str, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("/api/{version}/{SITE}/keypairs/{n}/"),
        None => format!("/api/{version}/{SITE}/keypairs/"),
    }
}

/// A request as twcc-cli sends it (its header spelling, JSON content type on every method).
pub(crate) async fn twcc(
    addr: SocketAddr,
    method: &str,
    path: &str,
    key: &str,
    body: &str,
) -> RawResponse {
    call(
        addr,
        method,
        path,
        &[
            ("User-Agent", "TWCC-CLI v0.6.1"),
            ("X-API-HOST", SITE),
            ("x-API-KEY", key),
            ("Content-Type", "application/json"),
        ],
        body,
    )
    .await
}

/// The names `key` lists.
pub(crate) async fn names(addr: SocketAddr, key: &str) -> Vec<String> {
    let r = twcc(addr, "GET", &kp("v2", None), key, "").await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap().to_string())
        .collect()
}

/// A DRF error: JSON object whose `detail` is a non-empty string; answers the detail.
fn drf_error(r: &RawResponse, status: u16) -> String {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    let detail = r.json()["detail"].as_str().unwrap_or_default().to_string();
    assert!(!detail.is_empty(), "{}", r.text());
    detail
}

/// `ssh-rsa <base64>` of a PKCS#1 PEM private key.
fn public_of(pem: &str) -> String {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    let key = rsa::RsaPrivateKey::from_pkcs1_pem(pem).expect("a PKCS#1 RSA private key");
    let public = ssh_key::public::RsaPublicKey::try_from(key.to_public_key()).unwrap();
    ssh_key::PublicKey::new(public.into(), "")
        .to_openssh()
        .unwrap()
        .trim()
        .to_string()
}

fn md5_of(public_key: &str) -> String {
    novakeys::keys::ssh_fingerprint(public_key, novakeys::keys::Fingerprint::Md5).unwrap()
}

fn two_fields(public_key: &str) -> String {
    public_key.split(' ').take(2).collect::<Vec<_>>().join(" ")
}

#[actix_web::test]
async fn generate_list_show_delete_through_both_api_generations() {
    let app = app().await;
    let a = app.front("twcc");
    let r = twcc(a, "POST", &kp("v3", None), DEMO, r#"{"name": "key1"}"#).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    let pem = r.text();
    assert!(
        pem.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"),
        "{pem}"
    );
    assert!(pem.ends_with("-----END RSA PRIVATE KEY-----\n"), "{pem}");
    let public = public_of(&pem);

    let r = twcc(a, "GET", &kp("v2", None), DEMO, "").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let list = r.json();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let item = &list[0];
    let keys: Vec<&String> = item.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["name", "fingerprint", "platform", "user"]);
    assert_eq!(item["name"], "key1");
    assert_eq!(item["fingerprint"], md5_of(&public));
    assert_eq!(item["platform"], SITE);
    assert_eq!(item["user"]["username"], "demo");
    assert_eq!(item["user"]["display_name"], "demo");
    assert!(item["user"]["id"].as_str().unwrap().len() >= 32);
    assert!(item["user"]["email"].is_string());

    let v2 = twcc(a, "GET", &kp("v2", Some("key1")), DEMO, "").await;
    let v3 = twcc(a, "GET", &kp("v3", Some("key1")), DEMO, "").await;
    assert_eq!(v2.status, 200, "{}", v2.text());
    assert_eq!(v2.body, v3.body, "one store behind both prefixes");
    let d = v2.json();
    let keys: Vec<&String> = d.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "name",
            "fingerprint",
            "platform",
            "user",
            "public_key",
            "create_time"
        ]
    );
    assert_eq!(two_fields(d["public_key"].as_str().unwrap()), public);
    assert!(
        d["public_key"]
            .as_str()
            .unwrap()
            .ends_with(" Generated-by-Nova"),
        "{d}"
    );
    assert_eq!(d["user"], item["user"]);
    let t = d["create_time"].as_str().unwrap();
    let re = regex::Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$").unwrap();
    assert!(re.is_match(t), "{t}");
    let at = chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.6fZ").unwrap();
    let age = chrono::Utc::now().naive_utc() - at;
    assert!(age.num_seconds().abs() < 120, "create_time is UTC now: {t}");

    // HEAD answers like GET, without a body.
    let r = twcc(a, "HEAD", &kp("v2", Some("key1")), DEMO, "").await;
    assert_eq!((r.status, r.body.len()), (200, 0));

    let r = twcc(a, "DELETE", &kp("v3", Some("key1")), DEMO, "").await;
    assert_eq!((r.status, r.body.len()), (204, 0), "{}", r.text());
    let r = twcc(a, "GET", &kp("v2", Some("key1")), DEMO, "").await;
    assert_eq!(drf_error(&r, 404), "Not found.");
    assert_eq!(r.json(), json!({"detail": "Not found."}));
    let r = twcc(a, "DELETE", &kp("v2", Some("key1")), DEMO, "").await;
    assert_eq!(drf_error(&r, 404), "Not found.");
    assert!(names(a, DEMO).await.is_empty());
}

#[actix_web::test]
async fn an_import_answers_its_detail_and_a_taken_name_is_refused() {
    let app = app().await;
    let a = app.front("twcc");
    let body = json!({"name": "key2", "public_key": ED25519}).to_string();
    let r = twcc(a, "POST", &kp("v2", None), DEMO, &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(!r.text().contains("PRIVATE KEY"));
    let created = r.json();
    assert_eq!(created["public_key"], ED25519, "stored verbatim");
    assert_eq!(created["fingerprint"], ED25519_MD5);
    let shown = twcc(a, "GET", &kp("v2", Some("key2")), DEMO, "").await;
    assert_eq!(shown.json(), created, "the answer is the detail object");

    for again in [
        r#"{"name": "key2"}"#.to_string(),
        json!({"name": "key2", "public_key": ED25519}).to_string(),
    ] {
        let r = twcc(a, "POST", &kp("v3", None), DEMO, &again).await;
        assert_eq!(drf_error(&r, 400), "Keypair already exists.");
    }
    let r = twcc(
        a,
        "POST",
        &kp("v2", None),
        DEMO,
        r#"{"name": "bad", "public_key": "ssh-rsa notbase64!"}"#,
    )
    .await;
    assert_eq!(
        drf_error(&r, 400),
        "Keypair data is invalid: failed to generate fingerprint"
    );
    assert_eq!(names(a, DEMO).await, ["key2"]);
}

#[actix_web::test]
async fn missing_or_unknown_api_keys_get_a_401_and_store_nothing() {
    let app = app().await;
    let a = app.front("twcc");
    let no_key: &[(&str, &str)] = &[("X-API-HOST", SITE), ("Content-Type", "application/json")];
    for (method, path, body) in [
        ("GET", kp("v2", None), ""),
        ("GET", kp("v3", Some("k")), ""),
        ("POST", kp("v2", None), r#"{"name": "nokey"}"#),
        ("DELETE", kp("v2", Some("k")), ""),
    ] {
        let r = call(a, method, &path, no_key, body).await;
        assert_eq!(
            drf_error(&r, 401),
            "Authentication credentials were not provided."
        );
        let r = twcc(a, method, &path, "nk-twcc-no-such-key", body).await;
        assert_eq!(drf_error(&r, 401), "Incorrect authentication credentials.");
        let r = twcc(a, method, &path, "", body).await;
        drf_error(&r, 401);
    }
    // Another cloud's access key is no TWCC API key.
    let r = twcc(a, "GET", &kp("v2", None), "LTAI5tNovakeysDemo000001", "").await;
    drf_error(&r, 401);
    assert!(names(a, DEMO).await.is_empty());
    assert!(names(a, ADMIN).await.is_empty());
}

#[actix_web::test]
async fn sites_map_onto_the_region_and_unknown_ones_are_refused() {
    let app = app().await;
    let a = app.front("twcc");
    let with_site = |site: &'static str, path: String, body: &'static str| async move {
        call(
            a,
            if body.is_empty() { "GET" } else { "POST" },
            &path,
            &[
                ("x-api-host", site),
                ("x-api-key", DEMO),
                ("Content-Type", "application/json"),
            ],
            body,
        )
        .await
    };
    // Staging and the region's own name are sites of the one region too.
    for site in ["openstack-taichung-default", "RegionOne"] {
        let path = format!("/api/v3/{site}/keypairs/");
        let r = with_site(site, path, "").await;
        assert_eq!(r.status, 200, "{site}: {}", r.text());
    }
    let r = with_site("openstack-nowhere-1", kp("v2", None), r#"{"name": "s1"}"#).await;
    assert_eq!(
        drf_error(&r, 400),
        "Unknown x-api-host \"openstack-nowhere-1\"."
    );
    let r = with_site("openstack-nowhere-1", kp("v2", None), "").await;
    drf_error(&r, 400);
    let path = "/api/v2/openstack-nowhere-1/keypairs/".to_string();
    let r = with_site(SITE, path, r#"{"name": "s2"}"#).await;
    assert_eq!(drf_error(&r, 404), "Not found.", "no such site's API");
    let r = call(
        a,
        "POST",
        &kp("v2", None),
        &[("x-api-key", DEMO), ("Content-Type", "application/json")],
        r#"{"name": "s3"}"#,
    )
    .await;
    assert_eq!(drf_error(&r, 400), "The x-api-host header is required.");
    assert!(names(a, DEMO).await.is_empty());
}

#[actix_web::test]
async fn names_with_a_slash_are_refused_and_never_found() {
    let app = app().await;
    let a = app.front("twcc");
    for name in [
        "a/b", "a%2Fb", "../etc", " lead", "trail ", "tab\tkey", "ключ",
    ] {
        let body = json!({ "name": name }).to_string();
        let r = twcc(a, "POST", &kp("v2", None), DEMO, &body).await;
        let detail = drf_error(&r, 400);
        assert!(detail.starts_with("name: "), "{name:?}: {detail}");
    }
    let long = json!({ "name": "x".repeat(256) }).to_string();
    let r = twcc(a, "POST", &kp("v2", None), DEMO, &long).await;
    assert_eq!(
        drf_error(&r, 400),
        "name: Ensure this field has no more than 255 characters."
    );
    let ok = json!({ "name": "me@host.example x_y-z" }).to_string();
    let r = twcc(a, "POST", &kp("v2", None), DEMO, &ok).await;
    assert_eq!(r.status, 200, "Nova's 2.92 names: {}", r.text());
    for path in [
        kp("v2", Some("a%2Fb")),
        kp("v2", Some("a/b")),
        kp("v3", Some("a%2fb")),
        kp("v3", Some("me@host.example%20x_y-z%2F")),
    ] {
        for method in ["GET", "DELETE"] {
            let r = twcc(a, method, &path, DEMO, "").await;
            assert_eq!(drf_error(&r, 404), "Not found.", "{method} {path}");
        }
    }
    let r = twcc(
        a,
        "GET",
        &kp("v2", Some("me%40host.example%20x_y-z")),
        DEMO,
        "",
    )
    .await;
    assert_eq!(r.status, 200, "a percent-encoded name is found");
    assert_eq!(names(a, DEMO).await, ["me@host.example x_y-z"]);
}

#[actix_web::test]
async fn bad_bodies_get_a_400_detail_and_store_nothing() {
    let app = app().await;
    let a = app.front("twcc");
    let big = json!({"name": "big", "public_key": format!("ssh-rsa {}", "A".repeat(1 << 20))})
        .to_string();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "a 1 MB body",
            big,
            "Request body exceeded the limit of 114688 bytes.",
        ),
        (
            "bad JSON",
            r#"{"name": "#.into(),
            "JSON parse error - Expecting value: line 1 column 10 (char 9)",
        ),
        (
            "a form as JSON",
            "name=form".into(),
            "JSON parse error - Expecting value: line 1 column 1 (char 0)",
        ),
        (
            "a JSON array",
            "[]".into(),
            "Invalid data. Expected a dictionary, but got list.",
        ),
        ("no name", "{}".into(), "name: This field is required."),
        (
            "a numeric name",
            r#"{"name": 5}"#.into(),
            "name: Not a valid string.",
        ),
        (
            "an empty name",
            r#"{"name": ""}"#.into(),
            "name: This field may not be blank.",
        ),
        (
            "a null key",
            r#"{"name": "k", "public_key": null}"#.into(),
            "public_key: This field may not be null.",
        ),
        (
            "a control character",
            "{\"name\": \"\u{0}\"}".into(),
            "JSON parse error - Invalid control character at: line 1 column 11 (char 10)",
        ),
    ];
    for (what, body, detail) in &cases {
        let r = twcc(a, "POST", &kp("v2", None), DEMO, body).await;
        assert_eq!(&drf_error(&r, 400), detail, "{what}");
    }
    // A body that is not UTF-8 at all.
    let headers = vec![
        ("x-api-host".to_string(), SITE.to_string()),
        ("x-api-key".to_string(), DEMO.to_string()),
        ("content-type".to_string(), "application/json".to_string()),
    ];
    let r = raw_request(
        a,
        "POST",
        &kp("v2", None),
        &headers,
        b"{\"name\": \"\xff\"}",
    )
    .await;
    assert!(drf_error(&r, 400).starts_with("JSON parse error - 'utf-8' codec"));
    // The same 1 MB, chunked (no Content-Length to refuse it by).
    let mut chunked = headers.clone();
    chunked.push(("Transfer-Encoding".into(), "chunked".into()));
    let payload = format!(
        r#"{{"name": "big2", "public_key": "{}"}}"#,
        "A".repeat(1 << 20)
    );
    let wire = format!("{:x}\r\n{payload}\r\n0\r\n\r\n", payload.len());
    let r = raw_request(a, "POST", &kp("v2", None), &chunked, wire.as_bytes()).await;
    drf_error(&r, 400);
    let r = call(
        a,
        "POST",
        &kp("v2", None),
        &[
            ("x-api-host", SITE),
            ("x-api-key", DEMO),
            ("Content-Type", "text/plain"),
        ],
        "name=k",
    )
    .await;
    assert_eq!(
        drf_error(&r, 415),
        "Unsupported media type \"text/plain\" in request."
    );
    assert!(names(a, DEMO).await.is_empty(), "nothing was stored");
    // DRF also parses forms.
    let r = call(
        a,
        "POST",
        &kp("v2", None),
        &[
            ("x-api-host", SITE),
            ("x-api-key", DEMO),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &form_urlencoded::Serializer::new(String::new())
            .append_pair("name", "form key")
            .append_pair("public_key", ED25519)
            .finish(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["name"], "form key");
    assert_eq!(r.json()["public_key"], ED25519);
}

#[actix_web::test]
async fn routes_methods_and_unknown_paths_answer_drf_errors() {
    let app = app().await;
    let a = app.front("twcc");
    for path in [
        "/".to_string(),
        "/api/v2/nowhere/".to_string(),
        format!("/api/v2/{SITE}/keypairs"),
        format!("/api/v2/{SITE}/keypairs/k"),
        format!("/api/v1/{SITE}/keypairs/"),
        format!("/api/v2/{SITE}/servers/"),
    ] {
        let r = twcc(a, "GET", &path, DEMO, "").await;
        assert_eq!(drf_error(&r, 404), "Not found.", "{path}");
    }
    let r = twcc(a, "PUT", &kp("v2", Some("k")), DEMO, "{}").await;
    assert_eq!(drf_error(&r, 405), "Method \"PUT\" not allowed.");
    assert_eq!(r.header("allow"), Some("GET, DELETE, HEAD"));
    let r = twcc(a, "DELETE", &kp("v2", None), DEMO, "").await;
    assert_eq!(drf_error(&r, 405), "Method \"DELETE\" not allowed.");
    assert_eq!(r.header("allow"), Some("GET, POST, HEAD"));
    let r = twcc(a, "POST", &kp("v2", Some("k")), DEMO, "{}").await;
    drf_error(&r, 405);
}

#[actix_web::test]
async fn one_users_api_key_never_sees_anothers_key_pairs() {
    let app = app().await;
    let a = app.front("twcc");
    let body = json!({"name": "mine", "public_key": ED25519}).to_string();
    assert_eq!(
        twcc(a, "POST", &kp("v2", None), DEMO, &body).await.status,
        200
    );
    assert!(names(a, ADMIN).await.is_empty());
    for method in ["GET", "DELETE"] {
        let r = twcc(a, method, &kp("v2", Some("mine")), ADMIN, "").await;
        assert_eq!(drf_error(&r, 404), "Not found.");
    }
    // Names are per user: admin may have its own "mine".
    let r = twcc(a, "POST", &kp("v2", None), ADMIN, r#"{"name": "mine"}"#).await;
    assert_eq!(r.status, 200);
    let admins = twcc(a, "GET", &kp("v2", Some("mine")), ADMIN, "")
        .await
        .json();
    let demos = twcc(a, "GET", &kp("v2", Some("mine")), DEMO, "")
        .await
        .json();
    assert_eq!(admins["user"]["username"], "admin");
    assert_eq!(demos["public_key"], ED25519);
    assert_ne!(admins["public_key"], demos["public_key"]);

    // A reader's key may list, not write.
    assert!(names(a, READER).await.is_empty());
    let r = twcc(a, "POST", &kp("v2", None), READER, r#"{"name": "r"}"#).await;
    assert_eq!(
        drf_error(&r, 403),
        "You do not have permission to perform this action."
    );
    let r = twcc(a, "DELETE", &kp("v2", Some("mine")), READER, "").await;
    drf_error(&r, 403);
    // Refused before the body is read: a reader's bad body is a 403 too.
    let r = twcc(a, "POST", &kp("v2", None), READER, "{").await;
    drf_error(&r, 403);
    assert!(names(a, READER).await.is_empty());
    assert_eq!(names(a, DEMO).await, ["mine"]);
}

#[actix_web::test]
async fn under_project_scope_the_project_shares_its_key_pairs() {
    let app = app_with(|c| c.keypair_scope = novakeys::domain::KeypairScope::Project).await;
    let a = app.front("twcc");
    let body = json!({"name": "shared", "public_key": ED25519}).to_string();
    assert_eq!(
        twcc(a, "POST", &kp("v2", None), DEMO, &body).await.status,
        200
    );
    let r = twcc(a, "GET", &kp("v2", None), READER, "").await;
    let list = r.json();
    assert_eq!(list[0]["name"], "shared");
    assert_eq!(
        list[0]["user"]["username"], "demo",
        "the owner, not the caller"
    );
    assert!(
        names(a, ADMIN).await.is_empty(),
        "admin's key is in project admin"
    );
}

#[actix_web::test]
async fn the_quota_is_novas() {
    let app = app_with(|c| c.quota_key_pairs = Some(1)).await;
    let a = app.front("twcc");
    let body = json!({"name": "one", "public_key": ED25519}).to_string();
    assert_eq!(
        twcc(a, "POST", &kp("v2", None), DEMO, &body).await.status,
        200
    );
    let r = twcc(a, "POST", &kp("v2", None), DEMO, r#"{"name": "two"}"#).await;
    assert_eq!(drf_error(&r, 403), "Quota exceeded, too many key pairs.");
    assert_eq!(names(a, DEMO).await, ["one"]);
}

#[actix_web::test]
async fn the_same_key_pairs_through_nova_both_ways() {
    let app = app().await;
    let a = app.front("twcc");
    let pem = twcc(a, "POST", &kp("v2", None), DEMO, r#"{"name": "from-twcc"}"#)
        .await
        .text();
    let public = public_of(&pem);
    let token = login(app.identity, "demo", "demo").await;
    let nova = |method: &'static str, path: String, body: String| {
        let token = token.clone();
        let compute = app.compute;
        async move {
            call(
                compute,
                method,
                &path,
                &[
                    ("X-Auth-Token", token.as_str()),
                    ("OpenStack-API-Version", "compute 2.10"),
                    ("Content-Type", "application/json"),
                ],
                &body,
            )
            .await
        }
    };
    let r = nova("GET", "/v2.1/os-keypairs/from-twcc".into(), String::new()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let shown = r.json();
    assert_eq!(
        two_fields(shown["keypair"]["public_key"].as_str().unwrap()),
        public
    );
    assert_eq!(shown["keypair"]["fingerprint"], md5_of(&public));
    let user_id = shown["keypair"]["user_id"].as_str().unwrap().to_string();

    let body = json!({"keypair": {"name": "from-nova", "public_key": ED25519}}).to_string();
    assert_eq!(
        nova("POST", "/v2.1/os-keypairs".into(), body).await.status,
        201
    );
    let d = twcc(a, "GET", &kp("v3", Some("from-nova")), DEMO, "")
        .await
        .json();
    assert_eq!(d["public_key"], ED25519);
    assert_eq!(d["fingerprint"], ED25519_MD5);
    assert_eq!(d["user"]["id"], user_id.as_str());
    let mut listed = names(a, DEMO).await;
    listed.sort();
    assert_eq!(listed, ["from-nova", "from-twcc"]);

    assert_eq!(
        twcc(a, "DELETE", &kp("v2", Some("from-nova")), DEMO, "")
            .await
            .status,
        204
    );
    let r = nova("GET", "/v2.1/os-keypairs/from-nova".into(), String::new()).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        nova(
            "DELETE",
            "/v2.1/os-keypairs/from-twcc".into(),
            String::new()
        )
        .await
        .status,
        204
    );
    assert!(names(a, DEMO).await.is_empty());
}

async fn ctl(addr: SocketAddr, method: &str, path: &str, body: &str) -> RawResponse {
    call(
        addr,
        method,
        path,
        &[("Content-Type", "application/json")],
        body,
    )
    .await
}

#[actix_web::test]
async fn journal_faults_metrics_and_reset_see_the_twcc_front() {
    let app = app().await;
    let a = app.front("twcc");
    let body = json!({"name": "k1", "public_key": ED25519}).to_string();
    let made = twcc(a, "POST", &kp("v2", None), DEMO, &body).await.json();
    let demo_id = made["user"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        twcc(a, "POST", &kp("v2", None), DEMO, r#"{"name": "gen"}"#)
            .await
            .status,
        200
    );

    let j = ctl(a, "GET", "/_novakeys/journal", "").await;
    assert_eq!(j.status, 200);
    let entries = j.json()["entries"].as_array().unwrap().clone();
    let first = entries
        .iter()
        .find(|e| e["api"] == "twcc" && e["method"] == "POST")
        .unwrap_or_else(|| panic!("{entries:?}"));
    assert_eq!(first["user_id"], demo_id.as_str());
    assert!(first["project_id"].as_str().is_some_and(|p| !p.is_empty()));
    let text = j.text();
    assert!(!text.contains(DEMO), "the API key is never journaled");
    assert!(!text.contains("PRIVATE KEY"), "nor a private key");

    // A rule on the key pair name (describe's detail) and one on the caller.
    let rule =
        json!({"match": {"name": "k1", "method": "GET"}, "action": {"status": 503}, "times": 1});
    assert_eq!(
        ctl(a, "POST", "/_novakeys/faults", &rule.to_string())
            .await
            .status,
        201
    );
    let r = twcc(a, "GET", &kp("v2", Some("k1")), DEMO, "").await;
    assert_eq!(
        drf_error(&r, 503),
        "Service temporarily unavailable, try again later."
    );
    assert_eq!(r.header("retry-after"), Some("1"));
    assert!(r.header("x-novakeys-fault").is_some());
    assert_eq!(
        twcc(a, "GET", &kp("v2", Some("k1")), DEMO, "").await.status,
        200
    );
    let rule = json!({"match": {"user_id": demo_id, "method": "POST"}, "action": {"fault": "rate_limited", "retry_after": 5}});
    assert_eq!(
        ctl(a, "POST", "/_novakeys/faults", &rule.to_string())
            .await
            .status,
        201
    );
    let r = twcc(a, "POST", &kp("v2", None), DEMO, r#"{"name": "k9"}"#).await;
    assert_eq!(
        drf_error(&r, 429),
        "Request was throttled. Expected available in 5 seconds."
    );
    assert_eq!(r.header("retry-after"), Some("5"));
    let r = twcc(a, "POST", &kp("v2", None), ADMIN, r#"{"name": "k9", "public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGGY0fh32MPHfCPM2rKWmuJVJgBbCxUWRJ6Ibd/ftQWq"}"#).await;
    assert_eq!(r.status, 200, "the rule is demo's only: {}", r.text());
    let rule = json!({"match": {"path": "/api/v3/*"}, "action": {"status": 500}});
    assert_eq!(
        ctl(a, "POST", "/_novakeys/faults", &rule.to_string())
            .await
            .status,
        201
    );
    let r = twcc(a, "GET", &kp("v3", None), ADMIN, "").await;
    assert_eq!(drf_error(&r, 500), "A server error occurred.");
    assert_eq!(ctl(a, "DELETE", "/_novakeys/faults", "").await.status, 204);
    assert!(
        names(a, DEMO).await.contains(&"k1".to_string()),
        "k9 was never made"
    );
    assert!(!names(a, DEMO).await.contains(&"k9".to_string()));

    let m = call(a, "GET", "/metrics", &[], "").await.text();
    assert!(
        m.lines()
            .any(|l| l.starts_with("novakeys_requests_total{api=\"twcc\"")
                && l.contains(&format!("route=\"/api/v2/{SITE}/keypairs/\""))),
        "{m}"
    );

    assert_eq!(ctl(a, "POST", "/_novakeys/reset", "").await.status, 204);
    assert!(names(a, DEMO).await.is_empty());
    assert!(names(a, ADMIN).await.is_empty());
}

#[actix_web::test]
async fn seed_and_clock_make_twcc_answers_reproducible() {
    let det = |c: &mut Config| {
        c.seed = Some(42);
        c.clock = Some("2026-01-01T00:00:00Z".parse().unwrap());
    };
    let session = |app: TestApp| async move {
        let a = app.front("twcc");
        let pem = twcc(a, "POST", &kp("v2", None), DEMO, r#"{"name": "det"}"#)
            .await
            .text();
        let shown = twcc(a, "GET", &kp("v2", Some("det")), DEMO, "")
            .await
            .json();
        (pem, shown)
    };
    let (pem, shown) = session(app_with(det).await).await;
    assert!(pem.contains("PRIVATE KEY"));
    assert_eq!(shown["create_time"], "2026-01-01T00:00:00.000000Z");
    let again = session(app_with(det).await).await;
    assert_eq!((pem, shown), again, "same seed, same key and time");
}

/// `novakeys credentials --cloud twcc` writes the data folder twcc-cli reads and prints the
/// folder and the host setting.
#[test]
fn credentials_prepare_the_cli_data_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("twcc data");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_novakeys"))
        .env_clear()
        .args([
            "credentials",
            "--cloud",
            "twcc",
            "--user",
            "reader",
            "--data-path",
        ])
        .arg(&dir)
        .arg("--db")
        .arg(tmp.path().join("db.sqlite"))
        .args(["--twcc-bind", "127.0.0.1:18783"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let abs = dir.canonicalize().unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!(
            "export TWCC_DATA_PATH='{}'\n# twcc-cli has no endpoint option or variable: set production.host in its packaged twccli/yaml/TWCC_API.yaml:\n#   host: \"http://127.0.0.1:18783\"\n",
            abs.display()
        )
    );
    assert!(abs.join("log").is_dir());
    let cred: Value =
        serde_yaml::from_str(&std::fs::read_to_string(abs.join("credential")).unwrap()).unwrap();
    assert_eq!(cred["_default"]["twcc_api_key"], READER);
    assert_eq!(cred["_default"]["twcc_username"], "reader");
    assert_eq!(cred["_default"]["twcc_proj_code"], "demo");
    assert_eq!(cred["projects"]["demo"]["CNTR"], "demo");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(abs.join("credential"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(std::fs::read_to_string(abs.join("releases.xml"))
        .unwrap()
        .contains("<title>0.6.1</title>"));
}
