//! Compute API behaviour beyond the captures: configuration, routing quirks, paging, hostile
//! input. Every test starts its own app (noauth, in-memory store).

use crate::common::{call, raw_request, spawn_app, test_config, TestApp};
use novakeys::config::AuthMode;
use novakeys::config::Config;
use serde_json::{json, Value};

const ED25519: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII5J04CljaeVO5LeIXMByG9K0Yy+5h481th5PkWvlFm9 ed@oracle";

async fn app_with(f: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = test_config(AuthMode::Noauth);
    f(&mut config);
    spawn_app(config).await
}

async fn import(
    app: &TestApp,
    token: &str,
    version: &str,
    name: &str,
) -> crate::common::RawResponse {
    let body = json!({"keypair": {"name": name, "public_key": ED25519}}).to_string();
    call(
        app.compute,
        "POST",
        "/v2.1/os-keypairs",
        &[
            ("X-Auth-Token", token),
            ("OpenStack-API-Version", &format!("compute {version}")),
            ("Content-Type", "application/json"),
        ],
        &body,
    )
    .await
}

#[actix_web::test]
async fn url_project_must_match_the_token() {
    let app = app_with(|_| {}).await;
    let r = call(
        app.compute,
        "GET",
        "/v2.1/0123abcd/os-keypairs",
        &[("X-Auth-Token", "alice:beef")],
        "",
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.text(),
        r#"{"badRequest": {"code": 400, "message": "Malformed request URL: URL's project_id '0123abcd' doesn't match Context's project_id 'beef'"}}"#
    );
    let ok = call(
        app.compute,
        "GET",
        "/v2.1/beef/os-keypairs",
        &[("X-Auth-Token", "alice:beef")],
        "",
    )
    .await;
    assert_eq!(ok.status, 200);
}

#[actix_web::test]
async fn unsupported_media_type_applies_to_every_method() {
    let app = app_with(|_| {}).await;
    for method in ["GET", "DELETE"] {
        let path = if method == "GET" {
            "/v2.1/os-keypairs"
        } else {
            "/v2.1/os-keypairs/x"
        };
        let r = call(
            app.compute,
            method,
            path,
            &[
                ("X-Auth-Token", "alice"),
                ("Content-Type", "application/xml"),
            ],
            "",
        )
        .await;
        assert_eq!(r.status, 415, "{method}");
        assert_eq!(
            r.text(),
            r#"{"badMediaType": {"code": 415, "message": "Unsupported Content-Type"}}"#
        );
        assert_eq!(r.header("OpenStack-API-Version"), Some("compute 2.1"));
    }
}

#[actix_web::test]
async fn webob_404_follows_accept() {
    let app = app_with(|_| {}).await;
    let plain = call(
        app.compute,
        "GET",
        "/v2.1/nothing",
        &[("X-Auth-Token", "alice")],
        "",
    )
    .await;
    assert_eq!(plain.status, 404);
    assert_eq!(
        plain.header("Content-Type"),
        Some("text/plain; charset=UTF-8")
    );
    assert_eq!(
        plain.text(),
        "404 Not Found\n\nThe resource could not be found.\n\n   "
    );
    let html = call(
        app.compute,
        "GET",
        "/v2.1/nothing",
        &[("X-Auth-Token", "alice"), ("Accept", "*/*")],
        "",
    )
    .await;
    assert_eq!(
        html.header("Content-Type"),
        Some("text/html; charset=UTF-8")
    );
    assert!(html.text().contains("<h1>404 Not Found</h1>"));
    assert!(
        html.header("OpenStack-API-Version").is_none(),
        "routing 404s carry no version headers"
    );
}

#[actix_web::test]
async fn quota_is_configurable_and_unlimited_with_minus_one() {
    let app = app_with(|c| c.quota_key_pairs = Some(2)).await;
    assert_eq!(import(&app, "u", "2.92", "a").await.status, 201);
    assert_eq!(import(&app, "u", "2.92", "b").await.status, 201);
    let third = import(&app, "u", "2.92", "c").await;
    assert_eq!(third.status, 403);
    assert_eq!(
        third.text(),
        r#"{"forbidden": {"code": 403, "message": "Quota exceeded, too many key pairs."}}"#
    );
    assert_eq!(
        import(&app, "other", "2.92", "c").await.status,
        201,
        "the quota is per user"
    );

    let unlimited = app_with(|c| c.quota_key_pairs = None).await;
    for i in 0..101 {
        assert_eq!(
            import(&unlimited, "u", "2.92", &format!("k{i:03}"))
                .await
                .status,
            201
        );
    }
}

#[actix_web::test]
async fn paging_walks_every_key_once_with_links() {
    let app = app_with(|_| {}).await;
    for name in ["d", "a", "c", "b", "e"] {
        assert_eq!(import(&app, "walker", "2.92", name).await.status, 201);
    }
    let mut seen = Vec::new();
    let mut path = "/v2.1/os-keypairs?limit=2".to_string();
    loop {
        let r = call(
            app.compute,
            "GET",
            &path,
            &[
                ("X-Auth-Token", "walker"),
                ("OpenStack-API-Version", "compute 2.35"),
            ],
            "",
        )
        .await;
        assert_eq!(r.status, 200);
        let body = r.json();
        let names: Vec<String> = body["keypairs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["keypair"]["name"].as_str().unwrap().to_string())
            .collect();
        seen.extend(names.clone());
        match body.get("keypairs_links") {
            Some(links) => {
                let href = links[0]["href"].as_str().unwrap();
                assert!(
                    href.ends_with(&format!("marker={}", names.last().unwrap())),
                    "{href}"
                );
                path = href
                    .split_once("/v2.1")
                    .map(|(_, p)| format!("/v2.1{p}"))
                    .unwrap();
            }
            None => break,
        }
    }
    assert_eq!(seen, ["a", "b", "c", "d", "e"]);
}

#[actix_web::test]
async fn limit_zero_and_max_limit() {
    let app = app_with(|c| c.max_limit = 2).await;
    for name in ["a", "b", "c"] {
        import(&app, "u", "2.92", name).await;
    }
    let h = [
        ("X-Auth-Token", "u"),
        ("OpenStack-API-Version", "compute 2.35"),
    ];
    let zero = call(app.compute, "GET", "/v2.1/os-keypairs?limit=0", &h, "")
        .await
        .json();
    assert_eq!(zero, json!({"keypairs": []}));
    let capped = call(app.compute, "GET", "/v2.1/os-keypairs?limit=50", &h, "")
        .await
        .json();
    assert_eq!(
        capped["keypairs"].as_array().unwrap().len(),
        2,
        "max_limit caps the page"
    );
    assert!(capped.get("keypairs_links").is_some());
    let all_old = call(
        app.compute,
        "GET",
        "/v2.1/os-keypairs",
        &[("X-Auth-Token", "u")],
        "",
    )
    .await
    .json();
    assert_eq!(
        all_old["keypairs"].as_array().unwrap().len(),
        3,
        "below 2.35 everything is listed"
    );
}

#[actix_web::test]
async fn oversized_chunked_body_is_refused_without_buffering() {
    let app = app_with(|_| {}).await;
    let big = "x".repeat(200_000);
    let body = format!("{:x}\r\n{big}\r\n0\r\n\r\n", big.len());
    let headers = vec![
        ("X-Auth-Token".to_string(), "alice".to_string()),
        ("Accept".to_string(), "application/json".to_string()),
        ("Transfer-Encoding".to_string(), "chunked".to_string()),
    ];
    let r = raw_request(
        app.compute,
        "POST",
        "/v2.1/os-keypairs",
        &headers,
        body.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 413);
    assert!(r.text().contains("Request is too large."));
}

#[actix_web::test]
async fn hostile_bodies_get_nova_errors_and_never_change_data() {
    let app = app_with(|_| {}).await;
    let bodies: Vec<String> = vec![
        "[".repeat(100_000),
        "{\"keypair\": {\"name\": \"a\\u0000b\", \"public_key\": \"x\"}}".into(),
        json!({"keypair": {"name": "../etc", "public_key": ED25519}}).to_string(),
        json!({"keypair": {"name": "a'; DROP TABLE key_pairs;--", "public_key": ED25519}}).to_string(),
        json!({"keypair": {"name": "ok", "public_key": "ssh-rsa ".to_string() + &"A".repeat(100_000)}}).to_string(),
        json!({"keypair": {"name": "ok", "public_key": ["x"]}}).to_string(),
        json!({"keypair": {"name": "x", "user_id": {"nested": [1, 2]}}}).to_string(),
        "{\"keypair\": {\"name\": 1e999}}".into(),
        "\u{feff}{}".into(),
        "{\"keypair\": {\"name\": \"\u{1F600}\", \"public_key\": \"x\"}}".into(),
    ];
    for body in &bodies {
        let r = call(
            app.compute,
            "POST",
            "/v2.1/os-keypairs",
            &[
                ("X-Auth-Token", "alice"),
                ("OpenStack-API-Version", "compute 2.92"),
                ("Content-Type", "application/json"),
            ],
            body,
        )
        .await;
        assert!(
            matches!(r.status, 400 | 413),
            "{} for {:.80}",
            r.status,
            body
        );
        let v: Value = r.json();
        assert!(
            v.get("badRequest").is_some() || v.get("message").is_some(),
            "{v}"
        );
    }
    let list = call(
        app.compute,
        "GET",
        "/v2.1/os-keypairs",
        &[("X-Auth-Token", "alice")],
        "",
    )
    .await;
    assert_eq!(list.json(), json!({"keypairs": []}));
}

#[actix_web::test]
async fn options_is_answered_before_auth() {
    let app = app_with(|_| {}).await;
    let r = call(app.compute, "OPTIONS", "/v2.1/os-keypairs", &[], "").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Length"), Some("0"));
}

#[actix_web::test]
async fn limits_show_the_key_pair_quota_per_version() {
    let app = app_with(|c| c.quota_key_pairs = Some(7)).await;
    let r = call(
        app.compute,
        "GET",
        "/v2.1/limits",
        &[("X-Auth-Token", "alice")],
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    let body = r.json();
    assert_eq!(body["limits"]["absolute"]["maxTotalKeypairs"], 7);
    assert_eq!(body["limits"]["rate"], json!([]));
    assert!(
        body["limits"]["absolute"]
            .get("maxTotalFloatingIps")
            .is_some(),
        "2.1 still shows network limits"
    );
    assert!(
        r.text()
            .starts_with(r#"{"limits": {"rate": [], "absolute": {"maxTotalCores": 20"#),
        "{}",
        r.text()
    );
    let latest = call(
        app.compute,
        "GET",
        "/v2.1/limits",
        &[
            ("X-Auth-Token", "alice"),
            ("OpenStack-API-Version", "compute latest"),
        ],
        "",
    )
    .await
    .json();
    assert!(latest["limits"]["absolute"]
        .get("maxTotalFloatingIps")
        .is_none());
    assert!(latest["limits"]["absolute"].get("maxPersonality").is_none());
    let other = call(
        app.compute,
        "GET",
        "/v2.1/limits?tenant_id=x",
        &[("X-Auth-Token", "alice")],
        "",
    )
    .await;
    assert_eq!(other.status, 403);
    assert_eq!(
        other.text(),
        r#"{"forbidden": {"code": 403, "message": "Policy doesn't allow os_compute_api:limits:other_project to be performed."}}"#
    );
    let strict = call(
        app.compute,
        "GET",
        "/v2.1/limits?foo=1",
        &[
            ("X-Auth-Token", "alice"),
            ("OpenStack-API-Version", "compute 2.75"),
        ],
        "",
    )
    .await;
    assert_eq!(strict.status, 400);
}

#[actix_web::test]
async fn quota_sets_follow_nova_policy() {
    let app = app_with(|c| c.quota_key_pairs = None).await;
    let own = call(
        app.compute,
        "GET",
        "/v2.1/os-quota-sets/proj-a",
        &[("X-Auth-Token", "alice:proj-a")],
        "",
    )
    .await;
    assert_eq!(own.status, 200);
    let body = own.json();
    assert_eq!(body["quota_set"]["id"], "proj-a");
    assert_eq!(body["quota_set"]["key_pairs"], -1, "unlimited shows as -1");
    let detail = call(
        app.compute,
        "GET",
        "/v2.1/os-quota-sets/proj-a/detail",
        &[("X-Auth-Token", "alice:proj-a")],
        "",
    )
    .await
    .json();
    assert_eq!(
        detail["quota_set"]["key_pairs"],
        json!({"limit": -1, "in_use": 0, "reserved": 0})
    );
    let other = call(
        app.compute,
        "GET",
        "/v2.1/os-quota-sets/proj-b",
        &[("X-Auth-Token", "alice:proj-a")],
        "",
    )
    .await;
    assert_eq!(other.status, 403);
    assert!(other.text().contains("os_compute_api:os-quota-sets:show"));
    let admin = call(
        app.compute,
        "GET",
        "/v2.1/os-quota-sets/proj-b",
        &[("X-Auth-Token", "admin")],
        "",
    )
    .await;
    assert_eq!(admin.status, 200);
    let defaults = call(
        app.compute,
        "GET",
        "/v2.1/os-quota-sets/proj-b/defaults",
        &[("X-Auth-Token", "alice:proj-a")],
        "",
    )
    .await;
    assert_eq!(defaults.status, 200, "defaults are readable by anyone");
}

#[actix_web::test]
async fn project_scope_shares_key_pairs_between_members() {
    let app = app_with(|c| c.keypair_scope = novakeys::config::KeypairScope::Project).await;
    assert_eq!(
        import(&app, "alice:proj-x", "2.92", "shared").await.status,
        201
    );
    assert_eq!(
        import(&app, "bob:proj-x", "2.92", "shared").await.status,
        409,
        "names are unique per project"
    );
    let h = |t: &'static str| {
        [
            ("X-Auth-Token", t),
            ("OpenStack-API-Version", "compute 2.10"),
        ]
    };
    let listed = call(
        app.compute,
        "GET",
        "/v2.1/os-keypairs",
        &h("bob:proj-x"),
        "",
    )
    .await
    .json();
    assert_eq!(listed["keypairs"][0]["keypair"]["name"], "shared");
    let shown = call(
        app.compute,
        "GET",
        "/v2.1/os-keypairs/shared",
        &h("bob:proj-x"),
        "",
    )
    .await
    .json();
    assert_eq!(
        shown["keypair"]["user_id"], "alice",
        "the creator stays the owner of record"
    );
    let outsider = call(
        app.compute,
        "GET",
        "/v2.1/os-keypairs/shared",
        &h("carol:proj-y"),
        "",
    )
    .await;
    assert_eq!(outsider.status, 404);
    let foreign = call(
        app.compute,
        "GET",
        "/v2.1/os-keypairs?user_id=alice",
        &h("bob:proj-x"),
        "",
    )
    .await;
    assert_eq!(foreign.status, 403, "user_id still follows Nova's policy");
    assert_eq!(
        call(
            app.compute,
            "DELETE",
            "/v2.1/os-keypairs/shared",
            &h("bob:proj-x"),
            ""
        )
        .await
        .status,
        204
    );
    let gone = call(
        app.compute,
        "GET",
        "/v2.1/os-keypairs",
        &h("alice:proj-x"),
        "",
    )
    .await
    .json();
    assert_eq!(gone, json!({"keypairs": []}));
}

/// Lists are answered from rendered bodies between writes (`keypairs::list_cache`); every kind
/// of write must show in the very next identical list request.
#[actix_web::test]
async fn a_repeated_list_shows_every_write_at_once() {
    let app = app_with(|_| {}).await;
    let token = "alice:beef";
    let names = |app: &TestApp, version: &'static str| {
        let compute = app.compute;
        async move {
            let r = call(
                compute,
                "GET",
                "/v2.1/os-keypairs?limit=5",
                &[
                    ("X-Auth-Token", token),
                    ("OpenStack-API-Version", &format!("compute {version}")),
                ],
                "",
            )
            .await;
            assert_eq!(r.status, 200, "{}", r.text());
            let v: Value = serde_json::from_str(&r.text()).unwrap();
            v["keypairs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["keypair"]["name"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert!(names(&app, "2.35").await.is_empty());
    assert!(names(&app, "2.35").await.is_empty());
    assert_eq!(import(&app, token, "2.35", "a").await.status, 201);
    assert_eq!(names(&app, "2.35").await, ["a"]);
    assert_eq!(import(&app, token, "2.35", "b").await.status, 201);
    assert_eq!(names(&app, "2.35").await, ["a", "b"]);
    // another microversion renders its own body from the same rows
    assert_eq!(names(&app, "2.1").await, ["a", "b"]);
    let del = call(
        app.compute,
        "DELETE",
        "/v2.1/os-keypairs/a",
        &[("X-Auth-Token", token)],
        "",
    )
    .await;
    assert_eq!(del.status, 202);
    assert_eq!(names(&app, "2.35").await, ["b"]);
    assert_eq!(names(&app, "2.1").await, ["b"]);
    let reset = call(
        app.compute,
        "POST",
        "/_novakeys/reset",
        &[("Content-Type", "application/json")],
        "",
    )
    .await;
    assert_eq!(reset.status, 204);
    assert!(names(&app, "2.35").await.is_empty());
}

/// Shows are answered from rendered bodies between writes too: a re-created key pair of the
/// same name shows its new key, a deleted one is gone at once.
#[actix_web::test]
async fn a_repeated_show_shows_every_write_at_once() {
    let app = app_with(|_| {}).await;
    let token = "alice:beef";
    let show = |app: &TestApp| {
        let compute = app.compute;
        async move {
            call(
                compute,
                "GET",
                "/v2.1/os-keypairs/k",
                &[("X-Auth-Token", token)],
                "",
            )
            .await
        }
    };
    assert_eq!(show(&app).await.status, 404);
    assert_eq!(import(&app, token, "2.1", "k").await.status, 200);
    let first = show(&app).await;
    assert_eq!(first.status, 200);
    assert_eq!(show(&app).await.body, first.body);
    let del = call(
        app.compute,
        "DELETE",
        "/v2.1/os-keypairs/k",
        &[("X-Auth-Token", token)],
        "",
    )
    .await;
    assert_eq!(del.status, 202);
    assert_eq!(show(&app).await.status, 404);
    assert_eq!(import(&app, token, "2.1", "k").await.status, 200);
    let second = show(&app).await;
    assert_eq!(second.status, 200);
    assert_ne!(
        second.json()["keypair"]["id"],
        first.json()["keypair"]["id"],
        "the re-created key pair, not the cached old one"
    );
}
