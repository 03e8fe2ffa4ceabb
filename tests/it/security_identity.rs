//! Issue 17, identity: application credential expiry read as Keystone reads it, restricted
//! application credentials kept from managing credentials, user-wide token revocation
//! (password change, disable), and secrets hashed past bcrypt's 72 bytes.

use crate::common::{call, spawn_app, test_config, RawResponse, TestApp};
use novakeys::config::{AuthMode, Config};
use serde_json::{json, Value};
use std::net::SocketAddr;

const CLIENT: &str = " The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.";

/// An app with a frozen clock at 2026-01-01T00:00:00Z.
async fn frozen(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let mut c = test_config(AuthMode::Keystone);
    c.clock = Some("2026-01-01T00:00:00Z".parse().unwrap());
    tweak(&mut c);
    spawn_app(c).await
}

async fn ks(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> RawResponse {
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(t) = token {
        headers.push(("X-Auth-Token", t));
    }
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    call(addr, method, path, &headers, &body).await
}

async fn auth(addr: SocketAddr, identity: Value) -> RawResponse {
    ks(
        addr,
        "POST",
        "/v3/auth/tokens",
        None,
        Some(json!({"auth": {"identity": identity}})),
    )
    .await
}

async fn password_token(addr: SocketAddr, user: &str, password: &str) -> RawResponse {
    let r = ks(
        addr,
        "POST",
        "/v3/auth/tokens",
        None,
        Some(json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": user, "domain": {"id": "default"}, "password": password}}}, "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}}})),
    )
    .await;
    r
}

async fn token(addr: SocketAddr, user: &str, password: &str) -> String {
    let r = password_token(addr, user, password).await;
    assert_eq!(r.status, 201, "{user}: {}", r.text());
    r.header("x-subject-token").unwrap().to_string()
}

async fn admin_token(addr: SocketAddr) -> String {
    let r = ks(
        addr,
        "POST",
        "/v3/auth/tokens",
        None,
        Some(json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"id": "default"}, "password": "admin"}}}, "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    r.header("x-subject-token").unwrap().to_string()
}

async fn user_id(addr: SocketAddr, admin: &str, name: &str) -> String {
    let r = ks(
        addr,
        "GET",
        &format!("/v3/users?name={name}"),
        Some(admin),
        None,
    )
    .await;
    r.json()["users"][0]["id"].as_str().unwrap().to_string()
}

/// Whether `token` still works (it reads its own user).
async fn works(addr: SocketAddr, token: &str, uid: &str) -> bool {
    let r = ks(addr, "GET", &format!("/v3/users/{uid}"), Some(token), None).await;
    match r.status {
        200 => true,
        401 => false,
        other => panic!("{other}: {}", r.text()),
    }
}

async fn advance(app: &TestApp, seconds: i64) {
    let r = call(
        app.compute,
        "POST",
        "/_novakeys/clock",
        &[("Content-Type", "application/json")],
        &json!({ "advance_seconds": seconds }).to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

fn message(r: &RawResponse) -> String {
    r.json()["error"]["message"].as_str().unwrap().to_string()
}

#[actix_rt::test]
async fn application_credential_expiry_is_read_as_keystone_reads_it() {
    let app = frozen(|_| {}).await;
    let id = app.identity;
    let demo = token(id, "demo", "demo").await;
    let admin = admin_token(id).await;
    let demo_id = user_id(id, &admin, "demo").await;
    let base = format!("/v3/users/{demo_id}/application_credentials");

    // What `openstack application credential create --expiration 2026-01-01T01:00:00`
    // sends: a naive time, which Keystone reads as UTC.
    let r = ks(
        id,
        "POST",
        &base,
        Some(&demo),
        Some(json!({"application_credential": {"name": "naive", "expires_at": "2026-01-01T01:00:00"}})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let ac = r.json()["application_credential"].clone();
    assert_eq!(ac["expires_at"], "2026-01-01T01:00:00.000000");
    let (acid, secret) = (ac["id"].as_str().unwrap(), ac["secret"].as_str().unwrap());
    let shown = ks(id, "GET", &format!("{base}/{acid}"), Some(&demo), None).await;
    assert_eq!(
        shown.json()["application_credential"]["expires_at"],
        "2026-01-01T01:00:00.000000"
    );
    let login = json!({"methods": ["application_credential"], "application_credential": {"id": acid, "secret": secret}});
    let r = auth(id, login.clone()).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.json()["token"]["expires_at"],
        "2026-01-01T01:00:00.000000Z",
        "the token does not outlive its application credential"
    );
    let ac_token = r.header("x-subject-token").unwrap().to_string();
    advance(&app, 3599).await;
    assert_eq!(auth(id, login.clone()).await.status, 201, "one second left");
    advance(&app, 1).await;
    let r = auth(id, login.clone()).await;
    assert_eq!(r.status, 401, "expired at 01:00 UTC: {}", r.text());
    assert!(
        !works(id, &ac_token, &demo_id).await,
        "its token expired with it"
    );

    let demo = token(id, "demo", "demo").await;
    let z = ks(
        id,
        "POST",
        &base,
        Some(&demo),
        Some(json!({"application_credential": {"name": "z", "expires_at": "2030-06-01T12:00:00.5Z"}})),
    )
    .await;
    assert_eq!(z.status, 201, "{}", z.text());
    assert_eq!(
        z.json()["application_credential"]["expires_at"],
        "2030-06-01T12:00:00.500000"
    );

    for (name, expires, status, text) in [
        (
            "past",
            json!("2020-01-01T00:00:00"),
            400,
            format!("The 'expires_at' must not be before now.{CLIENT}"),
        ),
        (
            "date",
            json!("2030-01-01"),
            400,
            format!("Timestamp not in expected format.{CLIENT}"),
        ),
        (
            "offset",
            json!("2030-01-01T00:00:00+01:00"),
            400,
            format!("Timestamp not in expected format.{CLIENT}"),
        ),
        (
            "number",
            json!(5),
            400,
            "Invalid input for field/attribute expires_at. Value: 5. 5 is not of type 'string', 'null'".to_string(),
        ),
    ] {
        let r = ks(
            id,
            "POST",
            &base,
            Some(&demo),
            Some(json!({"application_credential": {"name": name, "expires_at": expires}})),
        )
        .await;
        assert_eq!((r.status, message(&r)), (status, text), "{name}");
    }
    let list = ks(id, "GET", &base, Some(&demo), None).await.json();
    let names: Vec<&str> = list["application_credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["naive", "z"], "nothing refused was stored");
}

const NOT_UNRESTRICTED: &str = "You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for managing additional application credentials..";

#[actix_rt::test]
async fn a_restricted_application_credential_cannot_manage_credentials() {
    let app = frozen(|_| {}).await;
    let id = app.identity;
    let demo = token(id, "demo", "demo").await;
    let admin = admin_token(id).await;
    let demo_id = user_id(id, &admin, "demo").await;
    let base = format!("/v3/users/{demo_id}/application_credentials");
    let mut tokens = Vec::new();
    for (name, unrestricted) in [("restricted", json!(false)), ("free", json!(true))] {
        let r = ks(
            id,
            "POST",
            &base,
            Some(&demo),
            Some(json!({"application_credential": {"name": name, "unrestricted": unrestricted}})),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text());
        let ac = r.json()["application_credential"].clone();
        let r = auth(id, json!({"methods": ["application_credential"], "application_credential": {"id": ac["id"], "secret": ac["secret"]}})).await;
        assert_eq!(r.status, 201, "{}", r.text());
        tokens.push((
            ac["id"].as_str().unwrap().to_string(),
            r.header("x-subject-token").unwrap().to_string(),
        ));
    }
    let (restricted_id, restricted) = &tokens[0];
    let (free_id, free) = &tokens[1];

    let child = json!({"application_credential": {"name": "child"}});
    let r = ks(id, "POST", &base, Some(restricted), Some(child.clone())).await;
    assert_eq!((r.status, message(&r)), (403, NOT_UNRESTRICTED.to_string()));
    let r = ks(
        id,
        "DELETE",
        &format!("{base}/{restricted_id}"),
        Some(restricted),
        None,
    )
    .await;
    assert_eq!((r.status, message(&r)), (403, NOT_UNRESTRICTED.to_string()));
    let r = ks(
        id,
        "DELETE",
        &format!("{base}/{free_id}"),
        Some(restricted),
        None,
    )
    .await;
    assert_eq!(r.status, 403, "nor any other one");
    let r = ks(
        id,
        "POST",
        "/v3/credentials",
        Some(restricted),
        Some(json!({"credential": {"type": "alibaba", "user_id": demo_id, "blob": "{}"}})),
    )
    .await;
    assert_eq!(
        (r.status, message(&r)),
        (403, "You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for managing additional credentials..".to_string())
    );
    assert!(
        works(id, restricted, &demo_id).await,
        "the parent still exists"
    );
    let r = ks(id, "GET", &base, Some(restricted), None).await;
    assert_eq!(
        r.json()["application_credentials"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // `unrestricted: true` is what allows it, as in Keystone.
    let r = ks(id, "POST", &base, Some(free), Some(child)).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = ks(
        id,
        "DELETE",
        &format!("{base}/{restricted_id}"),
        Some(free),
        None,
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
}

#[actix_rt::test]
async fn a_password_change_revokes_the_users_tokens_but_not_the_next_one() {
    let app = frozen(|_| {}).await;
    let id = app.identity;
    let admin = admin_token(id).await;
    let demo_id = user_id(id, &admin, "demo").await;
    let old = token(id, "demo", "demo").await;
    let reader = token(id, "reader", "reader").await;
    let reader_id = user_id(id, &admin, "reader").await;

    // An admin sets the password (PATCH), in the same (frozen) second the token was issued.
    let r = ks(
        id,
        "PATCH",
        &format!("/v3/users/{demo_id}"),
        Some(&admin),
        Some(json!({"user": {"password": "second"}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!works(id, &old, &demo_id).await, "issued before the change");
    assert!(
        works(id, &reader, &reader_id).await,
        "other users keep theirs"
    );
    assert!(works(id, &admin, &demo_id).await);
    let fresh = token(id, "demo", "second").await;
    assert!(
        works(id, &fresh, &demo_id).await,
        "issued right after the change"
    );
    let r = ks(
        id,
        "PATCH",
        &format!("/v3/users/{demo_id}"),
        Some(&admin),
        Some(json!({"user": {"description": "no password here"}})),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(
        works(id, &fresh, &demo_id).await,
        "other changes revoke nothing"
    );

    // Self-service: POST /v3/users/{id}/password, no token needed.
    let path = format!("/v3/users/{demo_id}/password");
    let change = |original: &str, new: &str| json!({"user": {"password": new, "original_password": original}});
    let r = ks(id, "POST", &path, None, Some(change("wrong", "third"))).await;
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(r.header("www-authenticate").is_some());
    assert!(
        works(id, &fresh, &demo_id).await,
        "a refused change revokes nothing"
    );
    let r = ks(
        id,
        "POST",
        &format!("/v3/users/{reader_id}/password"),
        None,
        Some(change("second", "third")),
    )
    .await;
    assert_eq!(r.status, 401, "demo's password is not reader's");
    let r = ks(
        id,
        "POST",
        "/v3/users/nosuch/password",
        None,
        Some(change("a", "b")),
    )
    .await;
    assert_eq!(r.status, 401);
    let r = ks(
        id,
        "POST",
        &path,
        None,
        Some(json!({"user": {"password": "x"}})),
    )
    .await;
    assert_eq!(r.status, 400);
    let text = message(&r);
    assert!(
        text.starts_with(
            "'original_password' is a required property\n\nFailed validating 'required' in schema:"
        ),
        "{text}"
    );
    assert!(!text.contains("'x'"), "the password is not echoed: {text}");
    let r = ks(
        id,
        "POST",
        &path,
        None,
        Some(json!({"user": {"password": "x", "original_password": "second", "extra": 1}})),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(
        message(&r).starts_with("Additional properties are not allowed ('extra' was unexpected)"),
        "{}",
        message(&r)
    );
    let r = ks(id, "GET", &path, None, None).await;
    assert_eq!(r.status, 405, "{}", r.text());

    let r = ks(
        id,
        "POST",
        &path,
        Some(&fresh),
        Some(change("second", "third")),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(r.body.is_empty());
    assert!(!works(id, &fresh, &demo_id).await, "revoked by the change");
    assert_eq!(password_token(id, "demo", "second").await.status, 401);
    let newest = token(id, "demo", "third").await;
    assert!(works(id, &newest, &demo_id).await);
    advance(&app, 10).await;
    assert!(!works(id, &fresh, &demo_id).await, "and stays revoked");
    assert!(works(id, &newest, &demo_id).await);
}

#[actix_rt::test]
async fn tokens_from_before_a_disable_stay_revoked_after_the_enable() {
    let app = frozen(|_| {}).await;
    let id = app.identity;
    let admin = admin_token(id).await;
    let demo_id = user_id(id, &admin, "demo").await;
    let before = token(id, "demo", "demo").await;
    let keypairs = |t: String| async move {
        call(
            app.compute,
            "GET",
            "/v2.1/os-keypairs",
            &[("X-Auth-Token", t.as_str())],
            "",
        )
        .await
        .status
    };
    assert_eq!(keypairs(before.clone()).await, 200);
    let patch = |enabled: bool| {
        let admin = admin.clone();
        let path = format!("/v3/users/{demo_id}");
        async move {
            ks(
                id,
                "PATCH",
                &path,
                Some(&admin),
                Some(json!({"user": {"enabled": enabled}})),
            )
            .await
            .status
        }
    };
    assert_eq!(patch(false).await, 200);
    assert_eq!(keypairs(before.clone()).await, 401);
    assert_eq!(patch(true).await, 200);
    assert_eq!(
        keypairs(before.clone()).await,
        401,
        "enabling again does not bring old tokens back"
    );
    assert!(!works(id, &before, &demo_id).await);
    let after = token(id, "demo", "demo").await;
    assert_eq!(keypairs(after.clone()).await, 200, "a new log-in works");
    assert_eq!(patch(true).await, 200, "enabling an enabled user");
    assert_eq!(keypairs(after).await, 200, "revokes nothing");
}

#[actix_rt::test]
async fn secrets_count_past_byte_72_and_old_hashes_still_log_in() {
    // A store made by an earlier version: fixtures hashed with plain bcrypt.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nk.db").to_string_lossy().into_owned();
    {
        use novakeys::store::Durability;
        let store = novakeys::store::open(&db, Durability::Normal).unwrap();
        novakeys::domain::identity::Identity::new(
            &novakeys::domain::identity::IdentitySettings {
                fixtures: None,
                token_expiration: 3600,
                password_hash_cost: 4,
            },
            store.clone(),
            Default::default(),
        )
        .unwrap();
        let mut reader = store
            .list_users()
            .unwrap()
            .into_iter()
            .find(|u| u.name == "reader")
            .unwrap();
        reader.password_hash = Some(bcrypt::hash("reader", 4).unwrap());
        store.update_user(&reader).unwrap();
    }
    let app = frozen(|c| c.db = db.clone()).await;
    let id = app.identity;
    token(id, "reader", "reader").await;
    assert_eq!(password_token(id, "reader", "readex").await.status, 401);

    let admin = admin_token(id).await;
    let demo_id = user_id(id, &admin, "demo").await;
    let head = "p".repeat(72);
    let (right, wrong) = (format!("{head}-right"), format!("{head}-wrong"));
    let r = ks(
        id,
        "PATCH",
        &format!("/v3/users/{demo_id}"),
        Some(&admin),
        Some(json!({"user": {"password": right}})),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(password_token(id, "demo", &wrong).await.status, 401);
    let demo = token(id, "demo", &right).await;
    assert_eq!(
        password_token(id, "demo", &wrong).await.status,
        401,
        "not even once the right one is remembered"
    );

    // Application credential secrets are 86 characters: same 72-byte head, other tail.
    let r = ks(
        id,
        "POST",
        &format!("/v3/users/{demo_id}/application_credentials"),
        Some(&demo),
        Some(json!({"application_credential": {"name": "long"}})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let ac = r.json()["application_credential"].clone();
    let secret = ac["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 86);
    let mut forged = secret[..72].to_string();
    forged.push_str(&"A".repeat(14));
    assert_ne!(forged, secret);
    let with = |s: &str| json!({"methods": ["application_credential"], "application_credential": {"id": ac["id"], "secret": s}});
    assert_eq!(auth(id, with(&forged)).await.status, 401);
    assert_eq!(auth(id, with(secret)).await.status, 201);
    assert_eq!(auth(id, with(&forged)).await.status, 401);
}
