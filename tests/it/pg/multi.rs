//! Two novakeys on ONE PostgreSQL database (two in-process apps, each with its own store, pool,
//! counters and caches: what two processes share is only the database). A write acknowledged
//! by one is seen by the other's very next request, through every front, with the other's
//! caches warmed first; tokens and access keys revoked at one are refused at the other; a
//! reset through one is what the other serves; both sign and verify with the same keys.

use crate::alibaba::{self, Ali};
use crate::common::{call, login, nova_import, spawn_app, test_config, RawResponse, TestApp};
use crate::{tencent, twcc};
use novakeys::config::AuthMode;
use serde_json::{json, Value};

/// RSA: what every front imports (Alibaba takes no Ed25519).
const KEY: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC3p5meku2PDvjoK1RLFaA61Nlmedc0tl/RuOWyTXPO7pbRMhWkgzyVIumVlyU67DJ8+2t63t+1oBMQGeDBUel3UYsuT/zyx/1Pj/RxNSzPFe2TyOvrvzJNPzcwvGm3O5wK+IPv9w5Qs5OojTaIpPq6EAzBJR2d02nhBZaeM6Ak3w== it@multi";

/// Two apps on one fresh database, started one after the other.
async fn pair() -> (TestApp, TestApp, String) {
    let db = super::fresh_database();
    let a = app_on(&db).await;
    let b = app_on(&db).await;
    (a, b, db)
}

async fn app_on(db: &str) -> TestApp {
    let mut config = test_config(AuthMode::Keystone);
    config.db = db.to_string();
    spawn_app(config).await
}

async fn nova(app: &TestApp, method: &str, path: &str, token: &str) -> RawResponse {
    call(app.compute, method, path, &[("X-Auth-Token", token)], "").await
}

async fn nova_names(app: &TestApp, token: &str) -> Vec<String> {
    let r = nova(app, "GET", "/v2.1/os-keypairs", token).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["keypairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["keypair"]["name"].as_str().unwrap().to_string())
        .collect()
}

async fn keystone(
    app: &TestApp,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> RawResponse {
    let mut h = headers.to_vec();
    h.push(("Content-Type", "application/json"));
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    call(app.identity, method, path, &h, &body).await
}

async fn demo_id(app: &TestApp, admin: &str) -> String {
    let r = keystone(
        app,
        "GET",
        "/v3/users?name=demo",
        &[("X-Auth-Token", admin)],
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["users"][0]["id"].as_str().unwrap().to_string()
}

async fn ali_names(app: &TestApp) -> Vec<String> {
    Ali::new(app, alibaba::DEMO, alibaba::Mode::Rpc)
        .names(&[])
        .await
        .0
}

/// Whether the demo user's Tencent SecretId is accepted at `app` (its describe answers).
async fn tencent_accepted(app: &TestApp) -> bool {
    let r = tencent::tc(app, tencent::DEMO, "DescribeKeyPairs", json!({})).await;
    let v = r.json();
    v["Response"].get("Error").is_none()
}

async fn twcc_status(app: &TestApp) -> u16 {
    twcc::twcc(
        app.front("twcc"),
        "GET",
        &twcc::kp("v2", None),
        twcc::DEMO,
        "",
    )
    .await
    .status
}

#[actix_web::test]
async fn nova_lists_at_b_what_a_created_and_deleted_next_request() {
    let (a, b, _) = pair().await;
    let token = login(a.identity, "demo", "demo").await;
    // A token issued by A works at B; B's list (and its rendered body) is cached now.
    assert!(nova_names(&b, &token).await.is_empty());
    assert!(nova_names(&b, &token).await.is_empty());
    let r = nova_import(&a, &token, "from-a", KEY).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(nova_names(&b, &token).await, ["from-a"]);
    let r = nova(&b, "GET", "/v2.1/os-keypairs/from-a", &token).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = nova(&a, "DELETE", "/v2.1/os-keypairs/from-a", &token).await;
    assert_eq!(r.status, 202, "{}", r.text());
    assert!(nova_names(&b, &token).await.is_empty());
    let r = nova(&b, "GET", "/v2.1/os-keypairs/from-a", &token).await;
    assert_eq!(r.status, 404, "{}", r.text());
}

#[actix_web::test]
async fn alibaba_describes_at_b_what_a_imported_and_deleted_next_request() {
    let (a, b, _) = pair().await;
    assert!(ali_names(&b).await.is_empty());
    assert!(ali_names(&b).await.is_empty());
    Ali::new(&a, alibaba::DEMO, alibaba::Mode::Rpc)
        .import("from-a", KEY)
        .await;
    assert_eq!(ali_names(&b).await, ["from-a"]);
    Ali::new(&a, alibaba::DEMO, alibaba::Mode::Acs3)
        .ok(
            "DeleteKeyPairs",
            &[
                ("RegionId", "cn-hangzhou"),
                ("KeyPairNames", r#"["from-a"]"#),
            ],
        )
        .await;
    assert!(ali_names(&b).await.is_empty());
}

#[actix_web::test]
async fn tencent_describes_at_b_what_a_imported_and_deleted_next_request() {
    let (a, b, _) = pair().await;
    assert!(tencent::names(&b, tencent::DEMO).await.is_empty());
    assert!(tencent::names(&b, tencent::DEMO).await.is_empty());
    let id = tencent::import(&a, tencent::DEMO, "from_a", KEY).await;
    assert_eq!(tencent::names(&b, tencent::DEMO).await, ["from_a"]);
    let r = tencent::tc(&a, tencent::DEMO, "DeleteKeyPairs", json!({"KeyIds": [id]})).await;
    assert!(r.json()["Response"].get("Error").is_none(), "{}", r.text());
    assert!(tencent::names(&b, tencent::DEMO).await.is_empty());
}

#[actix_web::test]
async fn twcc_lists_at_b_what_a_created_and_deleted_next_request() {
    let (a, b, _) = pair().await;
    let (at_a, at_b) = (a.front("twcc"), b.front("twcc"));
    assert!(twcc::names(at_b, twcc::DEMO).await.is_empty());
    assert!(twcc::names(at_b, twcc::DEMO).await.is_empty());
    let body = json!({"name": "from-a", "public_key": KEY}).to_string();
    let r = twcc::twcc(at_a, "POST", &twcc::kp("v3", None), twcc::DEMO, &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(twcc::names(at_b, twcc::DEMO).await, ["from-a"]);
    let r = twcc::twcc(
        at_a,
        "DELETE",
        &twcc::kp("v3", Some("from-a")),
        twcc::DEMO,
        "",
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(twcc::names(at_b, twcc::DEMO).await.is_empty());
}

#[actix_web::test]
async fn the_console_at_b_shows_what_a_did_and_ends_a_session_a_disabled() {
    let (a, b, _) = pair().await;
    let token = login(a.identity, "demo", "demo").await;
    let mut browser = crate::console::logged_in(b.front("console"), "demo").await;
    let page = browser.get("/keypairs").await;
    assert_eq!(page.status, 200);
    assert!(!page.text().contains("/keypair/from-a\""));
    assert_eq!(nova_import(&a, &token, "from-a", KEY).await.status, 200);
    assert!(browser
        .get("/keypairs")
        .await
        .text()
        .contains("/keypair/from-a\""));
    let r = nova(&a, "DELETE", "/v2.1/os-keypairs/from-a", &token).await;
    assert_eq!(r.status, 202, "{}", r.text());
    assert!(!browser
        .get("/keypairs")
        .await
        .text()
        .contains("/keypair/from-a\""));
    let admin = login(a.identity, "admin", "admin").await;
    let id = demo_id(&a, &admin).await;
    let r = keystone(
        &a,
        "PATCH",
        &format!("/v3/users/{id}"),
        &[("X-Auth-Token", &admin)],
        Some(json!({"user": {"enabled": false}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let page = browser.get("/keypairs").await;
    assert_eq!(page.status, 303, "the session ended: {}", page.text());
}

#[actix_web::test]
async fn a_token_revoked_at_a_is_refused_at_b_next_request() {
    let (a, b, _) = pair().await;
    let token = login(a.identity, "demo", "demo").await;
    let other = login(a.identity, "demo", "demo").await;
    assert_eq!(
        nova(&b, "GET", "/v2.1/os-keypairs", &token).await.status,
        200
    );
    // DELETE /v3/auth/tokens through A.
    let r = keystone(
        &a,
        "DELETE",
        "/v3/auth/tokens",
        &[("X-Auth-Token", &other), ("X-Subject-Token", &token)],
        None,
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(
        nova(&b, "GET", "/v2.1/os-keypairs", &token).await.status,
        401
    );
    let r = keystone(
        &b,
        "GET",
        "/v3/auth/tokens",
        &[("X-Auth-Token", &other), ("X-Subject-Token", &token)],
        None,
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(
        nova(&b, "GET", "/v2.1/os-keypairs", &other).await.status,
        200
    );

    // A password change through A ends every token of the user at B.
    let admin = login(a.identity, "admin", "admin").await;
    let id = demo_id(&a, &admin).await;
    let r = keystone(
        &a,
        "POST",
        &format!("/v3/users/{id}/password"),
        &[("X-Auth-Token", &other)],
        Some(json!({"user": {"password": "demo2", "original_password": "demo"}})),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(
        nova(&b, "GET", "/v2.1/os-keypairs", &other).await.status,
        401
    );
}

#[actix_web::test]
async fn a_user_disabled_at_a_is_refused_by_every_front_at_b() {
    let (a, b, _) = pair().await;
    let admin = login(a.identity, "admin", "admin").await;
    let token = login(a.identity, "demo", "demo").await;
    // B has verified the token and resolved each access key (both cached now).
    assert_eq!(
        nova(&b, "GET", "/v2.1/os-keypairs", &token).await.status,
        200
    );
    assert!(ali_names(&b).await.is_empty());
    assert!(tencent_accepted(&b).await);
    assert_eq!(twcc_status(&b).await, 200);
    let id = demo_id(&a, &admin).await;
    let r = keystone(
        &a,
        "PATCH",
        &format!("/v3/users/{id}"),
        &[("X-Auth-Token", &admin)],
        Some(json!({"user": {"enabled": false}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        nova(&b, "GET", "/v2.1/os-keypairs", &token).await.status,
        401
    );
    let r = Ali::new(&b, alibaba::DEMO, alibaba::Mode::Rpc)
        .call("DescribeKeyPairs", &[("RegionId", "cn-hangzhou")])
        .await;
    assert_ne!(r.status, 200, "{}", r.text());
    assert!(!tencent_accepted(&b).await);
    assert_ne!(twcc_status(&b).await, 200);
}

#[actix_web::test]
async fn an_app_credential_or_access_key_deleted_at_a_is_refused_at_b() {
    let (a, b, _) = pair().await;
    let demo = login(a.identity, "demo", "demo").await;
    let admin = login(a.identity, "admin", "admin").await;
    let id = demo_id(&a, &admin).await;
    let base = format!("/v3/users/{id}/application_credentials");
    let r = keystone(
        &a,
        "POST",
        &base,
        &[("X-Auth-Token", &demo)],
        Some(json!({"application_credential": {"name": "ac"}})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let ac = r.json()["application_credential"].clone();
    let r = keystone(
        &b,
        "POST",
        "/v3/auth/tokens",
        &[],
        Some(
            json!({"auth": {"identity": {"methods": ["application_credential"],
            "application_credential": {"id": ac["id"], "secret": ac["secret"]}}}}),
        ),
    )
    .await;
    assert_eq!(
        r.status,
        201,
        "B logs in with A's application credential: {}",
        r.text()
    );
    let token = r.header("x-subject-token").unwrap().to_string();
    assert_eq!(
        nova(&b, "GET", "/v2.1/os-keypairs", &token).await.status,
        200
    );
    let r = keystone(
        &a,
        "DELETE",
        &format!("{base}/{}", ac["id"].as_str().unwrap()),
        &[("X-Auth-Token", &demo)],
        None,
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(
        nova(&b, "GET", "/v2.1/os-keypairs", &token).await.status,
        401
    );

    // The demo user's TWCC key, deleted through A's Keystone.
    assert_eq!(twcc_status(&b).await, 200);
    let cred = novakeys::domain::credentials::credential_id(twcc::DEMO);
    let r = keystone(
        &a,
        "DELETE",
        &format!("/v3/credentials/{cred}"),
        &[("X-Auth-Token", &admin)],
        None,
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(twcc_status(&b).await, 401);
}

#[actix_web::test]
async fn a_reset_through_a_is_what_b_serves() {
    let (a, b, _) = pair().await;
    let token = login(a.identity, "demo", "demo").await;
    assert_eq!(nova_import(&b, &token, "before", KEY).await.status, 200);
    assert_eq!(nova_names(&b, &token).await, ["before"]);
    assert_eq!(ali_names(&b).await, ["before"]);
    assert_eq!(tencent::names(&b, tencent::DEMO).await, ["before"]);
    assert_eq!(twcc::names(b.front("twcc"), twcc::DEMO).await, ["before"]);
    let r = call(
        a.identity,
        "POST",
        "/_novakeys/reset",
        &[("Content-Type", "application/json")],
        "",
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    // The fixtures' signing keys stay, so the token still verifies; the key pair is gone.
    assert!(nova_names(&b, &token).await.is_empty());
    assert!(ali_names(&b).await.is_empty());
    assert!(tencent::names(&b, tencent::DEMO).await.is_empty());
    assert!(twcc::names(b.front("twcc"), twcc::DEMO).await.is_empty());
}

/// A reset through either process returns to one baseline: the one the database was first
/// served with (B started on A's data, so its own fixtures run would have made new ids).
#[actix_web::test]
async fn a_reset_through_either_returns_to_one_baseline() {
    let (a, b, _) = pair().await;
    let admin = login(a.identity, "admin", "admin").await;
    let before = demo_id(&a, &admin).await;
    let token = login(a.identity, "demo", "demo").await;
    for app in [&b, &a, &b] {
        let r = call(
            app.identity,
            "POST",
            "/_novakeys/reset",
            &[("Content-Type", "application/json")],
            "",
        )
        .await;
        assert_eq!(r.status, 204, "{}", r.text());
        assert_eq!(demo_id(&b, &admin).await, before);
        assert_eq!(
            nova(&b, "GET", "/v2.1/os-keypairs", &token).await.status,
            200
        );
        assert_eq!(
            nova(&a, "GET", "/v2.1/os-keypairs", &token).await.status,
            200
        );
    }
}

/// Processes starting at once on an empty database (threads here, each with its own store
/// and identity service, released together): one bootstrap, one signing key, and each
/// accepts the others' tokens.
#[test]
fn processes_starting_together_bootstrap_once_and_share_their_keys() {
    use novakeys::determinism::Determinism;
    use novakeys::domain::identity::{Identity, IdentitySettings};
    use std::sync::{Arc, Barrier};
    const N: usize = 4;
    for _ in 0..3 {
        let db = super::fresh_database();
        // The schema first: migrations are serialised anyway; the race is in the bootstrap.
        drop(novakeys::store::open(&db, novakeys::store::Durability::Normal).unwrap());
        let gate = Arc::new(Barrier::new(N));
        let threads: Vec<_> = (0..N)
            .map(|_| {
                let (db, gate) = (db.clone(), gate.clone());
                std::thread::spawn(move || {
                    let store =
                        novakeys::store::open(&db, novakeys::store::Durability::Normal).unwrap();
                    let settings = IdentitySettings {
                        fixtures: None,
                        token_expiration: 3600,
                        password_hash_cost: 4,
                    };
                    gate.wait();
                    Identity::new(&settings, store, Arc::new(Determinism::new(None, None))).unwrap()
                })
            })
            .collect();
        let ids: Vec<Identity> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let name = super::name_of(&db);
        let psql = |sql: &str| super::server().psql_in(name, sql).trim().to_string();
        assert_eq!(psql("SELECT count(*) FROM id_signing_keys"), "1");
        assert_eq!(
            psql("SELECT count(*) FROM id_users WHERE name = 'demo'"),
            "1"
        );
        let demo = ids[0]
            .store()
            .get_user_by_name("default", "demo")
            .unwrap()
            .unwrap();
        for (i, signer) in ids.iter().enumerate() {
            let token = signer.sign(&claims(&demo.id, i)).unwrap();
            for verifier in &ids {
                assert!(verifier.verify(&token, false).is_ok(), "{i}");
            }
        }
    }
}

/// Unscoped claims for `user_id`, valid for an hour.
fn claims(user_id: &str, n: usize) -> novakeys::domain::identity::jws::TokenClaims {
    let now = chrono::Utc::now().timestamp();
    serde_json::from_value(json!({
        "sub": user_id, "iat": now, "exp": now + 3600,
        "openstack_audit_ids": [format!("audit{n}")],
        "openstack_methods": ["password"],
    }))
    .unwrap()
}

/// `novakeys rotate-signing-key` beside two running apps: both sign with the new key from
/// then on, and verify each other's (and a newly started third's) tokens.
#[actix_web::test]
async fn a_key_rotation_reaches_every_running_app() {
    let (a, b, db) = pair().await;
    let old = login(a.identity, "demo", "demo").await;
    assert_eq!(nova(&b, "GET", "/v2.1/os-keypairs", &old).await.status, 200);
    for _ in 0..2 {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_novakeys"))
            .args(["rotate-signing-key", "--db", &db])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let c = app_on(&db).await;
    let from_a = login(a.identity, "demo", "demo").await;
    let from_c = login(c.identity, "demo", "demo").await;
    for (app, token) in [(&c, &from_a), (&b, &from_a), (&a, &from_c), (&b, &from_c)] {
        assert_eq!(
            nova(app, "GET", "/v2.1/os-keypairs", token).await.status,
            200
        );
    }
    // Two rotations ago: no longer valid anywhere.
    for app in [&a, &b, &c] {
        assert_eq!(
            nova(app, "GET", "/v2.1/os-keypairs", &old).await.status,
            401
        );
    }
}

/// The tokens of a store follow another store's writes after one refresh, and only then; a
/// refresh without writes anywhere moves nothing (so caches keep answering). Prints what a
/// refresh costs (debug build, Unix socket to the local test server).
#[actix_web::test]
async fn a_refresh_follows_other_writers_and_moves_only_on_their_writes() {
    use novakeys::store::{keypairs::Owner, Durability};
    let db = super::fresh_database();
    let a = novakeys::store::open(&db, Durability::Normal).unwrap();
    let b = novakeys::store::open(&db, Durability::Normal).unwrap();
    assert!(a.shared());
    b.refresh_tokens().await;
    let (k0, i0) = (b.keypairs_token(), b.identity_token());
    b.refresh_tokens().await;
    assert_eq!((b.keypairs_token(), b.identity_token()), (k0, i0));

    let own = b.keypairs_token();
    b.create_keypair(
        crate::store_conformance::new("u", "own"),
        Owner::User("u".into()),
        None,
    )
    .await
    .unwrap();
    let after_own = b.keypairs_token();
    assert!(after_own > own, "its own write moves it at once");
    b.refresh_tokens().await;
    assert_eq!(
        b.keypairs_token(),
        after_own,
        "and the refresh finds nothing more"
    );

    a.create_keypair(
        crate::store_conformance::new("u", "k"),
        Owner::User("u".into()),
        None,
    )
    .await
    .unwrap();
    assert_eq!(b.keypairs_token(), after_own, "not seen before a refresh");
    b.refresh_tokens().await;
    let k1 = b.keypairs_token();
    assert!(k1 > after_own);
    assert_eq!(
        b.identity_token(),
        i0,
        "a key pair write leaves identity alone"
    );
    a.revoke_token("audit", chrono::Utc::now().timestamp() + 60)
        .unwrap();
    b.refresh_tokens().await;
    assert!(b.identity_token() > i0);
    assert_eq!(b.keypairs_token(), k1);

    const N: u32 = 2000;
    let start = std::time::Instant::now();
    for _ in 0..N {
        b.refresh_tokens().await;
    }
    let each = start.elapsed() / N;
    // For scale: a one-row read, the cheapest other round trip.
    let owner = Owner::User("u".into());
    let start = std::time::Instant::now();
    for _ in 0..N {
        b.get_keypair(&owner, "k").await.unwrap();
    }
    let read = start.elapsed() / N;
    // 32 requests at once, as under load: what each waits for its refresh.
    let start = std::time::Instant::now();
    let waits = futures_util::future::join_all((0..32).map(|_| {
        let b = b.clone();
        async move {
            for _ in 0..N / 32 {
                b.refresh_tokens().await;
            }
        }
    }));
    waits.await;
    let concurrent = start.elapsed() / (N / 32 * 32);

    // Refreshes that share reads: one asked right after a write is never answered by a read
    // sent before it, however many are in flight around it.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let noise: Vec<_> = (0..16)
        .map(|_| {
            let (b, stop) = (b.clone(), stop.clone());
            actix_web::rt::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    b.refresh_tokens().await;
                }
            })
        })
        .collect();
    for i in 0..400 {
        let before = b.keypairs_token();
        a.create_keypair(
            crate::store_conformance::new("w", &format!("k{i}")),
            Owner::User("w".into()),
            None,
        )
        .await
        .unwrap();
        b.refresh_tokens().await;
        assert!(
            b.keypairs_token() > before,
            "write {i} seen by the next refresh"
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for n in noise {
        n.await.unwrap();
    }
    eprintln!(
        "refresh_tokens: {} µs each, get_keypair: {} µs (debug build, {N} in a row); \
         32 at once: one per {} µs",
        each.as_micros(),
        read.as_micros(),
        concurrent.as_micros()
    );
}

/// `--seed` is per process (README): each process draws its own sequence, and a reset
/// rewinds only the sequence of the process it went through; the fixture ids are the
/// database's whatever the seeds.
#[actix_web::test]
async fn the_seed_is_per_process() {
    async fn seeded(db: &str, seed: u64) -> TestApp {
        let mut config = test_config(AuthMode::Keystone);
        config.db = db.to_string();
        config.seed = Some(seed);
        spawn_app(config).await
    }
    fn audit(token: &str) -> String {
        use base64::Engine;
        let payload = token.split('.').nth(1).unwrap();
        let claims: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap();
        claims["openstack_audit_ids"][0]
            .as_str()
            .unwrap()
            .to_string()
    }
    let db = super::fresh_database();
    let a = seeded(&db, 7).await;
    let b = seeded(&db, 8).await;
    let a1 = audit(&login(a.identity, "demo", "demo").await);
    let b1 = audit(&login(b.identity, "demo", "demo").await);
    assert_ne!(a1, b1);
    let r = call(
        a.identity,
        "POST",
        "/_novakeys/reset",
        &[("Content-Type", "application/json")],
        "",
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(
        audit(&login(a.identity, "demo", "demo").await),
        a1,
        "A rewound"
    );
    assert_ne!(
        audit(&login(b.identity, "demo", "demo").await),
        b1,
        "B did not"
    );
    let admin = login(a.identity, "admin", "admin").await;
    assert_eq!(demo_id(&a, &admin).await, demo_id(&b, &admin).await);
}

/// A snapshot restored through A brings back the signing keys it holds; B signs and verifies
/// with them from its next request (a rotation between the save and the restore had moved
/// both to other keys).
#[actix_web::test]
async fn a_restore_through_a_brings_back_its_signing_keys_at_b() {
    let (a, b, db) = pair().await;
    let ctl = |app: &TestApp, method: &'static str, path: &'static str| {
        let addr = app.identity;
        async move {
            let r = call(
                addr,
                method,
                path,
                &[("Content-Type", "application/json")],
                "",
            )
            .await;
            assert!(r.status < 300, "{path}: {}", r.text());
        }
    };
    let saved = login(a.identity, "demo", "demo").await;
    ctl(&a, "PUT", "/_novakeys/snapshots/keys").await;
    for _ in 0..2 {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_novakeys"))
            .args(["rotate-signing-key", "--db", &db])
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    assert_eq!(
        nova(&b, "GET", "/v2.1/os-keypairs", &saved).await.status,
        401
    );
    ctl(&a, "POST", "/_novakeys/snapshots/keys/restore").await;
    assert_eq!(
        nova(&b, "GET", "/v2.1/os-keypairs", &saved).await.status,
        200
    );
    let from_b = login(b.identity, "demo", "demo").await;
    assert_eq!(
        nova(&a, "GET", "/v2.1/os-keypairs", &from_b).await.status,
        200
    );
}
