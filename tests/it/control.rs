//! The test controls: health, metrics, reset, snapshots, journal, fault injection, control
//! access, export/import and the OpenAPI document.

use crate::common::{call, spawn_app, test_config, RawResponse, TestApp};
use novakeys::config::AuthMode;
use novakeys::config::Config;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Instant;

const ED25519: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII5J04CljaeVO5LeIXMByG9K0Yy+5h481th5PkWvlFm9 ed@oracle";

async fn app_with(auth: AuthMode, f: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = test_config(auth);
    f(&mut config);
    spawn_app(config).await
}

async fn import_key(addr: SocketAddr, token: &str, name: &str) -> RawResponse {
    let body = json!({"keypair": {"name": name, "public_key": ED25519}}).to_string();
    call(
        addr,
        "POST",
        "/v2.1/os-keypairs",
        &[
            ("X-Auth-Token", token),
            ("OpenStack-API-Version", "compute 2.10"),
            ("Content-Type", "application/json"),
        ],
        &body,
    )
    .await
}

async fn names(addr: SocketAddr, token: &str) -> Vec<String> {
    let r = call(
        addr,
        "GET",
        "/v2.1/os-keypairs",
        &[("X-Auth-Token", token)],
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["keypairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["keypair"]["name"].as_str().unwrap().to_string())
        .collect()
}

/// A control call as a client should send it (state-changing ones need the JSON content type,
/// body or not).
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

async fn login(identity: SocketAddr, user: &str) -> String {
    let body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": user, "domain": {"id": "default"}, "password": user}}}, "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}}});
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

#[actix_web::test]
async fn healthcheck_like_oslo_middleware_on_both_listeners() {
    let app = app_with(AuthMode::Noauth, |_| {}).await;
    for addr in [app.compute, app.identity] {
        let r = call(addr, "GET", "/healthcheck", &[], "").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "OK");
        assert_eq!(r.header("content-type"), Some("text/plain; charset=UTF-8"));
        let r = call(addr, "HEAD", "/healthcheck", &[], "").await;
        assert_eq!(r.status, 204);
        let r = call(
            addr,
            "GET",
            "/healthcheck",
            &[("Accept", "application/json")],
            "",
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(
            r.text(),
            "{\n    \"detailed\": false,\n    \"reasons\": [\n        \"OK\"\n    ]\n}"
        );
    }
}

#[actix_web::test]
async fn metrics_count_requests_keypairs_users_and_tokens() {
    let app = app_with(AuthMode::Keystone, |_| {}).await;
    let token = login(app.identity, "demo").await;
    assert_eq!(import_key(app.compute, &token, "k1").await.status, 201);
    assert_eq!(names(app.compute, &token).await, ["k1"]);
    let r = call(app.compute, "GET", "/metrics", &[], "").await;
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = r.text();
    for line in [
        "novakeys_requests_total{api=\"compute\",route=\"/v2.1/os-keypairs\",method=\"POST\",status=\"201\",microversion=\"2.10\"} 1",
        "novakeys_requests_total{api=\"compute\",route=\"/v2.1/os-keypairs\",method=\"GET\",status=\"200\",microversion=\"2.1\"} 1",
        "novakeys_requests_total{api=\"identity\",route=\"/v3/auth/tokens\",method=\"POST\",status=\"201\",microversion=\"\"} 1",
        "novakeys_request_duration_seconds_count{api=\"compute\",route=\"/v2.1/os-keypairs\"} 2",
        "novakeys_tokens_issued_total 1",
        "novakeys_keypairs 1",
        "novakeys_users 3",
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
    // the identity listener serves the same registry
    let r = call(app.identity, "GET", "/metrics", &[], "").await;
    assert!(r.text().contains("novakeys_tokens_issued_total 1"));
}

#[actix_web::test]
async fn reset_returns_to_the_fixtures_quickly() {
    let app = app_with(AuthMode::Keystone, |_| {}).await;
    let demo = login(app.identity, "demo").await;
    let admin = {
        let body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"id": "default"}, "password": "admin"}}}, "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}});
        let r = call(
            app.identity,
            "POST",
            "/v3/auth/tokens",
            &[("Content-Type", "application/json")],
            &body.to_string(),
        )
        .await;
        r.header("x-subject-token").unwrap().to_string()
    };
    assert_eq!(import_key(app.compute, &demo, "k1").await.status, 201);
    let r = call(
        app.identity,
        "POST",
        "/v3/users",
        &[
            ("X-Auth-Token", &admin),
            ("Content-Type", "application/json"),
        ],
        &json!({"user": {"name": "extra", "password": "x"}}).to_string(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    // a revoked token
    let victim = login(app.identity, "reader").await;
    let r = call(
        app.identity,
        "DELETE",
        "/v3/auth/tokens",
        &[("X-Auth-Token", &admin), ("X-Subject-Token", &victim)],
        "",
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        call(
            app.compute,
            "GET",
            "/v2.1/os-keypairs",
            &[("X-Auth-Token", &victim)],
            ""
        )
        .await
        .status,
        401
    );
    let r = ctl(
        app.compute,
        "POST",
        "/_novakeys/faults",
        r#"{"match": {"path": "/nothing"}, "action": {"status": 500}}"#,
    )
    .await;
    assert_eq!(r.status, 201);

    let started = Instant::now();
    let r = ctl(app.identity, "POST", "/_novakeys/reset", "").await;
    assert_eq!(r.status, 204, "{}", r.text());
    eprintln!("reset over HTTP: {:?}", started.elapsed());

    assert!(names(app.compute, &demo).await.is_empty(), "key pairs gone");
    let r = call(
        app.identity,
        "GET",
        "/v3/users",
        &[("X-Auth-Token", &admin)],
        "",
    )
    .await;
    let mut users: Vec<String> = r.json()["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap().to_string())
        .collect();
    users.sort();
    assert_eq!(users, ["admin", "demo", "reader"]);
    assert_eq!(
        call(
            app.compute,
            "GET",
            "/v2.1/os-keypairs",
            &[("X-Auth-Token", &victim)],
            ""
        )
        .await
        .status,
        200,
        "revocations are part of the state"
    );
    let faults = ctl(app.compute, "GET", "/_novakeys/faults", "")
        .await
        .json();
    assert_eq!(faults["faults"], json!([]));
    let journal = ctl(app.compute, "GET", "/_novakeys/journal", "")
        .await
        .json();
    assert!(
        journal["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["method"] == "GET"),
        "journal cleared: {journal}"
    );
    // the quota counts from zero again
    assert_eq!(import_key(app.compute, &demo, "k1").await.status, 201);
}

async fn snapshot_round_trip(app: &TestApp) {
    assert_eq!(import_key(app.compute, "alice", "a").await.status, 201);
    let r = ctl(app.compute, "PUT", "/_novakeys/snapshots/one", "").await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["name"], "one");
    assert_eq!(import_key(app.compute, "alice", "b").await.status, 201);
    let listed = |r: RawResponse| -> Vec<String> {
        r.json()["snapshots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect()
    };
    let r = ctl(app.identity, "GET", "/_novakeys/snapshots", "").await;
    assert!(listed(r).contains(&"one".to_string()));
    let r = ctl(app.compute, "POST", "/_novakeys/snapshots/one/restore", "").await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(names(app.compute, "alice").await, ["a"]);
    // ids continue after the snapshot's last one, as they would have
    let r = import_key(app.compute, "alice", "c").await;
    assert_eq!(r.status, 201);
    for (method, path, status) in [
        ("POST", "/_novakeys/snapshots/nope/restore", 404),
        ("PUT", "/_novakeys/snapshots/bad%20name", 400),
        ("PUT", "/_novakeys/snapshots/..", 400),
        ("DELETE", "/_novakeys/snapshots/one", 204),
        ("DELETE", "/_novakeys/snapshots/one", 404),
    ] {
        let r = ctl(app.compute, method, path, "").await;
        assert_eq!(r.status, status, "{method} {path}: {}", r.text());
    }
    let r = ctl(app.compute, "GET", "/_novakeys/snapshots", "").await;
    assert!(!listed(r).contains(&"one".to_string()));
}

#[actix_web::test]
async fn snapshots_in_memory() {
    let app = app_with(AuthMode::Noauth, |_| {}).await;
    snapshot_round_trip(&app).await;
}

#[actix_web::test]
async fn snapshots_next_to_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nk.db");
    let app = app_with(AuthMode::Noauth, |c| c.db = db.to_string_lossy().into()).await;
    assert_eq!(
        ctl(app.compute, "PUT", "/_novakeys/snapshots/kept", "")
            .await
            .status,
        201
    );
    assert!(dir.path().join("nk.db.snapshots/kept.db").is_file());
    snapshot_round_trip(&app).await;
}

#[actix_web::test]
async fn snapshots_in_postgres() {
    let db = crate::pg::fresh_database();
    let app = app_with(AuthMode::Noauth, |c| c.db = db).await;
    snapshot_round_trip(&app).await;
}

#[actix_web::test]
async fn snapshots_are_consistent_under_concurrent_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nk.db");
    snapshot_under_writes(&db.to_string_lossy()).await;
}

#[actix_web::test]
async fn snapshots_in_postgres_are_consistent_under_concurrent_writes() {
    snapshot_under_writes(&crate::pg::fresh_database()).await;
}

async fn snapshot_under_writes(db: &str) {
    let app = app_with(AuthMode::Noauth, |c| c.db = db.into()).await;
    let writers: Vec<_> = (0..20)
        .map(|i| {
            let addr = app.compute;
            actix_web::rt::spawn(async move { import_key(addr, "bob", &format!("k{i:02}")).await })
        })
        .collect();
    let r = ctl(app.compute, "PUT", "/_novakeys/snapshots/mid", "").await;
    assert_eq!(r.status, 201);
    for w in writers {
        assert_eq!(w.await.unwrap().status, 201);
    }
    assert_eq!(names(app.compute, "bob").await.len(), 20);
    let r = ctl(app.compute, "POST", "/_novakeys/snapshots/mid/restore", "").await;
    assert_eq!(r.status, 204);
    let after = names(app.compute, "bob").await;
    assert!(after.len() <= 20);
    // every key pair in the snapshot is whole (a consistent point in time)
    for n in &after {
        let r = call(
            app.compute,
            "GET",
            &format!("/v2.1/os-keypairs/{n}"),
            &[("X-Auth-Token", "bob")],
            "",
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["keypair"]["public_key"], ED25519);
    }
}

#[actix_web::test]
async fn journal_records_api_calls_with_secrets_redacted() {
    let app = app_with(AuthMode::Keystone, |c| c.journal_size = 5).await;
    let token = login(app.identity, "demo").await;
    // generated key pair: the private key is in the response
    let r = call(
        app.compute,
        "POST",
        "/v2.1/os-keypairs?x=1",
        &[
            ("X-Auth-Token", &token),
            ("Content-Type", "application/json"),
        ],
        r#"{"keypair": {"name": "gen"}}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("PRIVATE KEY"));
    assert_eq!(
        call(
            app.compute,
            "GET",
            "/v2.1/os-keypairs/nope",
            &[("X-Auth-Token", &token)],
            ""
        )
        .await
        .status,
        404
    );
    let _ = ctl(app.compute, "GET", "/healthcheck", "").await;
    let r = ctl(app.compute, "GET", "/_novakeys/journal", "").await;
    assert_eq!(r.status, 200);
    let text = r.text();
    assert!(!text.contains("PRIVATE KEY"), "{text}");
    assert!(!text.contains("\"demo\",\"password\":\"demo\""));
    let entries = r.json()["entries"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 3, "API calls only: {text}");
    let login_entry = &entries[0];
    assert_eq!(login_entry["api"], "identity");
    assert_eq!(login_entry["status"], 201);
    assert_eq!(
        login_entry["request_body"]["auth"]["identity"]["password"]["user"]["password"],
        "***"
    );
    let create = &entries[1];
    assert_eq!(create["method"], "POST");
    assert_eq!(create["path"], "/v2.1/os-keypairs");
    assert_eq!(create["query"], "x=1");
    assert_eq!(create["microversion"], "2.1");
    assert_eq!(create["request_body"], json!({"keypair": {"name": "gen"}}));
    assert_eq!(create["response_body"]["keypair"]["private_key"], "***");
    assert_eq!(create["response_body"]["keypair"]["name"], "gen");
    assert!(create["user_id"].as_str().unwrap().len() == 32);
    assert!(create["project_id"].as_str().unwrap().len() == 32);
    assert!(create["duration_ms"].as_f64().unwrap() > 0.0);

    let q = |qs: &'static str| async move {
        ctl(app.compute, "GET", &format!("/_novakeys/journal?{qs}"), "")
            .await
            .json()["entries"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(q("method=POST").await, 2);
    assert_eq!(q("status=404").await, 1);
    assert_eq!(q("status=2xx").await, 2);
    assert_eq!(q("path=/v2.1/os-keypairs*").await, 2);
    assert_eq!(q("path=/v3/*&method=post").await, 1);
    let seq = entries[1]["seq"].as_u64().unwrap();
    assert_eq!(
        q(Box::leak(format!("since={seq}").into_boxed_str())).await,
        1
    );
    assert_eq!(q("since=2000-01-01T00:00:00Z").await, 3);
    let r = ctl(app.compute, "GET", "/_novakeys/journal?format=ndjson", "").await;
    assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
    let lines: Vec<Value> = r
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    // bounded
    for _ in 0..5 {
        let _ = names(app.compute, &token).await;
    }
    let all = ctl(app.compute, "GET", "/_novakeys/journal", "")
        .await
        .json();
    assert_eq!(all["entries"].as_array().unwrap().len(), 5);
}

async fn add_fault(addr: SocketAddr, rule: Value) -> String {
    let r = ctl(addr, "POST", "/_novakeys/faults", &rule.to_string()).await;
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_string()
}

#[actix_web::test]
async fn faults_render_genuine_nova_errors() {
    let app = app_with(AuthMode::Noauth, |_| {}).await;
    let id = add_fault(
        app.compute,
        json!({"match": {"method": "POST", "path": "/v2.1/os-keypairs*", "name": "q"}, "action": {"fault": "quota_exceeded"}, "times": 1}),
    )
    .await;
    assert_eq!(
        import_key(app.compute, "alice", "other").await.status,
        201,
        "name must match"
    );
    let r = import_key(app.compute, "alice", "q").await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.text(),
        r#"{"forbidden": {"code": 403, "message": "Quota exceeded, too many key pairs."}}"#
    );
    assert_eq!(r.header("x-novakeys-fault"), Some(id.as_str()));
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=UTF-8")
    );
    assert!(r
        .header("x-openstack-request-id")
        .unwrap()
        .starts_with("req-"));
    assert_eq!(r.header("openstack-api-version"), Some("compute 2.10"));
    assert_eq!(
        import_key(app.compute, "alice", "q").await.status,
        201,
        "times: 1"
    );

    let cases = [
        (
            json!({"status": 503}),
            503,
            r#"{"serviceUnavailable": {"code": 503, "message": "The server is currently unavailable. Please try again at a later time."}}"#,
        ),
        (
            json!({"status": 500}),
            500,
            r#"{"computeFault": {"code": 500, "message": "Unexpected API Error. Please contact the administrator\n<class 'novakeys.InternalError'>"}}"#,
        ),
        (
            json!({"fault": "not_found"}),
            404,
            r#"{"itemNotFound": {"code": 404, "message": "Keypair k not found for user alice"}}"#,
        ),
        (
            json!({"fault": "conflict"}),
            409,
            r#"{"conflictingRequest": {"code": 409, "message": "Key pair 'k' already exists."}}"#,
        ),
        (
            json!({"status": 400}),
            400,
            r#"{"badRequest": {"code": 400, "message": "Keypair data is invalid: failed to generate fingerprint"}}"#,
        ),
        (
            json!({"status": 429, "retry_after": 7}),
            429,
            r#"{"overLimit": {"code": 429, "message": "This request was rate-limited.", "retryAfter": "7"}}"#,
        ),
    ];
    for (action, status, body) in cases {
        ctl(app.compute, "DELETE", "/_novakeys/faults", "").await;
        add_fault(
            app.compute,
            json!({"match": {"path": "/v2.1/os-keypairs/k"}, "action": action}),
        )
        .await;
        let r = call(
            app.compute,
            "GET",
            "/v2.1/os-keypairs/k",
            &[("X-Auth-Token", "alice")],
            "",
        )
        .await;
        assert_eq!(r.status, status);
        assert_eq!(r.text(), body);
        if status == 429 {
            assert_eq!(r.header("retry-after"), Some("7"));
        }
    }
    // noauth's 401
    ctl(app.compute, "DELETE", "/_novakeys/faults", "").await;
    add_fault(app.compute, json!({"action": {"fault": "token_expired"}})).await;
    let r = call(
        app.compute,
        "GET",
        "/v2.1/os-keypairs",
        &[("X-Auth-Token", "alice")],
        "",
    )
    .await;
    assert_eq!(r.status, 401);
    // never on the controls or health
    assert_eq!(
        ctl(app.compute, "GET", "/healthcheck", "").await.status,
        200
    );
    assert_eq!(ctl(app.compute, "GET", "/metrics", "").await.status, 200);
    let listed = ctl(app.compute, "GET", "/_novakeys/faults", "").await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json()["faults"][0]["hits"], 1);
    assert_eq!(
        ctl(app.compute, "DELETE", "/_novakeys/faults", "")
            .await
            .status,
        204
    );
    assert_eq!(names(app.compute, "alice").await.len(), 2);
    let metrics = ctl(app.compute, "GET", "/metrics", "").await.text();
    assert!(
        metrics.contains("novakeys_faults_fired_total{rule=\"fault-1\"} 1"),
        "{metrics}"
    );
}

#[actix_web::test]
async fn fault_matching_modes_and_delays() {
    let app = app_with(AuthMode::Noauth, |c| c.seed = Some(3)).await;
    add_fault(
        app.compute,
        json!({"match": {"method": "GET", "microversion": "2.35"}, "action": {"status": 500}, "nth": 2}),
    )
    .await;
    let get = |mv: &'static str| async move {
        call(
            app.compute,
            "GET",
            "/v2.1/os-keypairs",
            &[("X-Auth-Token", "u1"), ("OpenStack-API-Version", mv)],
            "",
        )
        .await
        .status
    };
    assert_eq!(get("compute 2.1").await, 200);
    assert_eq!(get("compute 2.35").await, 200);
    assert_eq!(get("compute 2.1").await, 200);
    assert_eq!(get("compute 2.35").await, 500, "second match");
    assert_eq!(get("compute 2.35").await, 200);
    ctl(app.compute, "DELETE", "/_novakeys/faults", "").await;
    let id = add_fault(
        app.compute,
        json!({"match": {"user_id": "slow"}, "action": {"delay_ms": 200}}),
    )
    .await;
    let started = Instant::now();
    let r = call(
        app.compute,
        "GET",
        "/v2.1/os-keypairs",
        &[("X-Auth-Token", "slow")],
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(started.elapsed().as_millis() >= 200);
    assert_eq!(r.header("x-novakeys-fault"), Some(id.as_str()));
    // probability with a seed: the same sequence every run
    ctl(app.compute, "DELETE", "/_novakeys/faults", "").await;
    add_fault(
        app.compute,
        json!({"match": {"user_id": "p"}, "action": {"status": 503}, "probability": 0.5, "seed": 11}),
    )
    .await;
    let mut seen = Vec::new();
    for _ in 0..12 {
        seen.push(
            call(
                app.compute,
                "GET",
                "/v2.1/os-keypairs",
                &[("X-Auth-Token", "p")],
                "",
            )
            .await
            .status,
        );
    }
    assert!(seen.contains(&503) && seen.contains(&200), "{seen:?}");
    let r = ctl(
        app.compute,
        "POST",
        "/_novakeys/faults",
        r#"{"action": {"fault": "nope"}}"#,
    )
    .await;
    assert_eq!(r.status, 400);
}

#[actix_web::test]
async fn faults_in_keystone_mode_and_on_identity() {
    let app = app_with(AuthMode::Keystone, |_| {}).await;
    let token = login(app.identity, "demo").await;
    add_fault(
        app.compute,
        json!({"match": {"path": "/v2.1/*"}, "action": {"fault": "token_expired"}, "times": 1}),
    )
    .await;
    let r = call(
        app.compute,
        "GET",
        "/v2.1/os-keypairs",
        &[("X-Auth-Token", &token)],
        "",
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.text(),
        r#"{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}"#
    );
    assert!(r
        .header("www-authenticate")
        .unwrap()
        .starts_with("Keystone uri="));
    assert_eq!(
        call(
            app.compute,
            "GET",
            "/v2.1/os-keypairs",
            &[("X-Auth-Token", &token)],
            ""
        )
        .await
        .status,
        200
    );
    add_fault(
        app.identity,
        json!({"match": {"method": "POST", "path": "/v3/auth/tokens"}, "action": {"status": 503}, "times": 1}),
    )
    .await;
    let body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "demo", "domain": {"id": "default"}, "password": "demo"}}}}});
    let r = call(
        app.identity,
        "POST",
        "/v3/auth/tokens",
        &[("Content-Type", "application/json")],
        &body.to_string(),
    )
    .await;
    assert_eq!(r.status, 503);
    assert_eq!(
        r.text(),
        "{\"error\":{\"code\":503,\"message\":\"The server is currently unavailable. Please try again at a later time.\",\"title\":\"Service Unavailable\"}}\n"
    );
    assert!(r.header("x-novakeys-fault").is_some());
}

#[actix_web::test]
async fn control_token_guards_the_controls() {
    let app = app_with(AuthMode::Noauth, |c| {
        c.control_token = Some("s3cret".into())
    })
    .await;
    for addr in [app.compute, app.identity] {
        let r = call(addr, "GET", "/_novakeys/journal", &[], "").await;
        assert_eq!(r.status, 403);
        assert_eq!(r.json()["error"]["code"], 403);
        let r = call(
            addr,
            "GET",
            "/_novakeys/journal",
            &[("X-Novakeys-Control-Token", "wrong")],
            "",
        )
        .await;
        assert_eq!(r.status, 403);
        let r = call(
            addr,
            "POST",
            "/_novakeys/reset",
            &[
                ("X-Novakeys-Control-Token", "s3cret"),
                ("Content-Type", "application/json"),
            ],
            "",
        )
        .await;
        assert_eq!(r.status, 204);
        assert_eq!(call(addr, "GET", "/healthcheck", &[], "").await.status, 200);
    }
    // OpenStack paths are untouched
    assert_eq!(
        call(app.compute, "GET", "/_novakeysx", &[], "")
            .await
            .status,
        300
    );
}

#[actix_web::test]
async fn single_port_serves_the_controls_at_the_root() {
    let mut config = test_config(AuthMode::Noauth);
    config.single_port = Some("127.0.0.1:0".parse().unwrap());
    let app = spawn_app(config).await;
    let addr = app.compute;
    assert_eq!(
        call(addr, "GET", "/healthcheck", &[], "").await.text(),
        "OK"
    );
    let r = call(
        addr,
        "GET",
        "/compute/v2.1/os-keypairs",
        &[("X-Auth-Token", "a")],
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    let j = ctl(addr, "GET", "/_novakeys/journal", "").await.json();
    assert_eq!(j["entries"][0]["api"], "compute");
    assert_eq!(j["entries"][0]["path"], "/v2.1/os-keypairs");
    assert_eq!(ctl(addr, "POST", "/_novakeys/reset", "").await.status, 204);
}

#[actix_web::test]
async fn openapi_document_matches_the_routes() {
    let app = app_with(AuthMode::Noauth, |_| {}).await;
    let r = ctl(app.compute, "GET", "/_novakeys/openapi.json", "").await;
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.0.3");
    let paths = doc["paths"].as_object().unwrap();
    let mut ops = 0;
    for (path, item) in paths {
        for (method, _) in item.as_object().unwrap() {
            ops += 1;
            let concrete = path
                .replace("{name}", "openapi-check")
                .replace("{id}", "fault-999");
            let body = if method == "post" && path == "/_novakeys/faults" {
                r#"{"action": {"delay_ms": 0}, "match": {"path": "/none"}}"#
            } else if method == "post" && path == "/_novakeys/clock" {
                r#"{"advance_seconds": 0}"#
            } else {
                ""
            };
            if path.ends_with("/restore") {
                ctl(app.compute, "PUT", "/_novakeys/snapshots/openapi-check", "").await;
            }
            let r = ctl(app.compute, &method.to_uppercase(), &concrete, body).await;
            assert!(
                r.status != 405 && !r.text().contains("no such novakeys control") && r.status < 500,
                "{method} {path}: {} {}",
                r.status,
                r.text()
            );
            let documented: Vec<String> = item[method]["responses"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            assert!(
                documented.contains(&r.status.to_string()),
                "{method} {path} answered {} (documented {documented:?})",
                r.status
            );
        }
    }
    assert_eq!(ops, 20);
    let r = ctl(app.compute, "GET", "/_novakeys/undocumented", "").await;
    assert_eq!(r.status, 404);
    assert!(r.text().contains("no such novakeys control"));
}

fn novakeys(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_novakeys"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn export_import_and_authorized_keys() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.db");
    let b = dir.path().join("b.db");
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let keys = dir.path().join("authorized_keys");
    std::fs::write(
        &keys,
        format!(
            "# mine\n{ED25519}\nnot a key\nno-pty,command=\"echo hi there\" {}\n\n{}\n",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII5J04CljaeVO5LeIXMByG9K0Yy+5h481th5PkWvlFm9",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII5J04CljaeVO5LeIXMByG9K0Yy+5h481th5PkWvlFm9 ed@oracle",
        ),
    )
    .unwrap();
    let out = novakeys(&[
        "import-authorized-keys",
        "--db",
        a,
        "--user",
        "demo",
        keys.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 3 key pairs"));
    assert!(String::from_utf8_lossy(&out.stderr).contains(":3: not a valid SSH public key"));

    let out = novakeys(&["export", "--db", a]);
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["format"], "novakeys-state");
    assert_eq!(doc["version"], 1);
    let rows = doc["tables"]["key_pairs"]["rows"].as_array().unwrap();
    let cols = doc["tables"]["key_pairs"]["columns"].as_array().unwrap();
    let name_col = cols.iter().position(|c| c == "name").unwrap();
    let fp_col = cols.iter().position(|c| c == "fingerprint").unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r[name_col].as_str().unwrap()).collect();
    assert_eq!(names, ["ed@oracle", "key-2", "key-3"]);
    assert_eq!(
        rows[0][fp_col],
        novakeys::keys::ssh_fingerprint(ED25519, novakeys::keys::Fingerprint::NovaMd5).unwrap()
    );

    let state = dir.path().join("state.json");
    std::fs::write(&state, &out.stdout).unwrap();
    let out = novakeys(&["import", "--db", b, state.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again: Value = serde_json::from_slice(&novakeys(&["export", "--db", b]).stdout).unwrap();
    assert_eq!(again["tables"], doc["tables"]);
    assert_eq!(again["sequences"], doc["sequences"]);

    // invalid documents change nothing
    let mut bad = doc.clone();
    bad["tables"]["key_pairs"]["rows"][0] = json!([1]);
    std::fs::write(&state, bad.to_string()).unwrap();
    let out = novakeys(&["import", "--db", b, state.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let want = format!("1 values for {} columns", cols.len());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&want),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut dangling = doc.clone();
    dangling["tables"]["id_users"]["rows"] = json!([]);
    std::fs::write(&state, dangling.to_string()).unwrap();
    let out = novakeys(&["import", "--db", b, state.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "foreign keys checked at commit");
    let same: Value = serde_json::from_slice(&novakeys(&["export", "--db", b]).stdout).unwrap();
    assert_eq!(same["tables"], doc["tables"]);
}

/// Everything a client sees of one scripted session, for comparing runs.
async fn scripted_session(app: &TestApp) -> Vec<String> {
    let mut seen = Vec::new();
    let body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "demo", "domain": {"id": "default"}, "password": "demo"}}}, "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}}});
    let r = call(
        app.identity,
        "POST",
        "/v3/auth/tokens",
        &[("Content-Type", "application/json")],
        &body.to_string(),
    )
    .await;
    assert_eq!(r.status, 201);
    let token = r.header("x-subject-token").unwrap().to_string();
    seen.push(token.clone());
    seen.push(r.header("x-openstack-request-id").unwrap().to_string());
    let mut doc = r.json();
    // the catalog names the listeners' random ports
    doc["token"]["catalog"] = Value::Null;
    seen.push(doc.to_string());
    let r = call(
        app.compute,
        "POST",
        "/v2.1/os-keypairs",
        &[
            ("X-Auth-Token", &token),
            ("Content-Type", "application/json"),
            ("OpenStack-API-Version", "compute 2.10"),
        ],
        r#"{"keypair": {"name": "gen"}}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    seen.push(r.header("x-openstack-request-id").unwrap().to_string());
    seen.push(r.text());
    seen
}

#[actix_web::test]
async fn seed_and_clock_make_runs_reproducible() {
    let det = |c: &mut Config| {
        c.seed = Some(42);
        c.clock = Some("2026-01-01T00:00:00Z".parse().unwrap());
    };
    let a = app_with(AuthMode::Keystone, det).await;
    let b = app_with(AuthMode::Keystone, det).await;
    let first = scripted_session(&a).await;
    assert_eq!(first, scripted_session(&b).await, "same seed, same answers");
    assert!(first[4].contains("PRIVATE KEY"), "{}", first[4]);
    assert!(
        first[2].contains("\"expires_at\":\"2026-01-01T01:00:00.000000Z\""),
        "{}",
        first[2]
    );
    assert_eq!(
        ctl(a.compute, "POST", "/_novakeys/reset", "").await.status,
        204
    );
    assert_eq!(
        scripted_session(&a).await,
        first,
        "reset starts the sequence again"
    );

    let other = app_with(AuthMode::Keystone, |c| {
        c.seed = Some(43);
        c.clock = Some("2026-01-01T00:00:00Z".parse().unwrap());
    })
    .await;
    assert_ne!(scripted_session(&other).await[4], first[4]);

    // the clock: tokens expire when it moves past them
    let token = &first[0];
    let ok = call(
        a.compute,
        "GET",
        "/v2.1/os-keypairs",
        &[("X-Auth-Token", token)],
        "",
    )
    .await;
    assert_eq!(ok.status, 200);
    let r = ctl(
        a.compute,
        "POST",
        "/_novakeys/clock",
        r#"{"advance_seconds": 7200}"#,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["now"], "2026-01-01T02:00:00.000000Z");
    assert_eq!(r.json()["frozen"], true);
    let expired = call(
        a.compute,
        "GET",
        "/v2.1/os-keypairs",
        &[("X-Auth-Token", token)],
        "",
    )
    .await;
    assert_eq!(expired.status, 401);
    let r = ctl(
        a.compute,
        "POST",
        "/_novakeys/clock",
        r#"{"set": "2026-01-01T00:30:00Z"}"#,
    )
    .await;
    assert_eq!(r.json()["now"], "2026-01-01T00:30:00.000000Z");
    assert_eq!(
        call(
            a.compute,
            "GET",
            "/v2.1/os-keypairs",
            &[("X-Auth-Token", token)],
            ""
        )
        .await
        .status,
        200
    );
    let r = ctl(a.compute, "POST", "/_novakeys/clock", r#"{"set": null}"#).await;
    assert_eq!(r.json()["frozen"], false);
    assert_eq!(
        ctl(a.compute, "POST", "/_novakeys/clock", r#"{"when": 1}"#)
            .await
            .status,
        400
    );
}
