//! Keystone as current clouds ship it: the bootstrap roles and their implications, domain
//! role grants, scope rules, and `list_limit` truncation.

use crate::common::{call, login, spawn_app, test_config, RawResponse};
use novakeys::config::AuthMode;
use serde_json::{json, Value};
use std::net::SocketAddr;

async fn ks(addr: SocketAddr, method: &str, path: &str, token: &str, body: &str) -> RawResponse {
    crate::common::with_token(addr, method, path, token, body).await
}

async fn id_of(addr: SocketAddr, admin: &str, what: &str, name: &str) -> String {
    let r = ks(addr, "GET", &format!("/v3/{what}?name={name}"), admin, "").await;
    r.json()[what][0]["id"].as_str().unwrap().to_string()
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

/// `POST /v3/auth/tokens` for a password user with `scope`.
async fn token(addr: SocketAddr, user: &str, scope: Value) -> RawResponse {
    let body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": user, "domain": {"id": "default"}, "password": user}}}, "scope": scope}});
    call(
        addr,
        "POST",
        "/v3/auth/tokens",
        &[("Content-Type", "application/json")],
        &body.to_string(),
    )
    .await
}

#[actix_web::test]
async fn bootstrap_roles_imply_down_the_chain() {
    let app = spawn_app(test_config(AuthMode::Keystone)).await;
    let r = token(
        app.identity,
        "admin",
        json!({"project": {"name": "admin", "domain": {"id": "default"}}}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        names(&r.json()["token"]["roles"]),
        ["admin", "manager", "member", "reader"],
        "admin's token lists the roles it implies"
    );
    let admin = login(app.identity, "admin", "admin").await;
    let admin_role = id_of(app.identity, &admin, "roles", "admin").await;
    let r = ks(
        app.identity,
        "GET",
        &format!("/v3/roles/{admin_role}/implies"),
        &admin,
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let inf = &r.json()["role_inference"];
    assert_eq!(inf["prior_role"]["name"], "admin");
    assert_eq!(names(&inf["implies"]), ["manager"]);
    assert!(inf["implies"][0]["links"]["self"]
        .as_str()
        .unwrap()
        .ends_with(&format!(
            "/v3/roles/{}",
            inf["implies"][0]["id"].as_str().unwrap()
        )));
    let r = ks(app.identity, "GET", "/v3/role_inferences", &admin, "").await;
    assert_eq!(r.status, 200);
    let rules: Vec<(String, String)> = r.json()["role_inferences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["prior_role"]["name"].as_str().unwrap().to_string(),
                x["implies"][0]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("member", "reader"),
        ("manager", "member"),
        ("admin", "manager"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(rules, want);
    let demo = login(app.identity, "demo", "demo").await;
    let r = ks(app.identity, "GET", "/v3/role_inferences", &demo, "").await;
    assert_eq!(r.status, 403);
    let r = ks(app.identity, "GET", "/v3/roles/nope/implies", &admin, "").await;
    assert_eq!(r.status, 404);
}

#[actix_web::test]
async fn domain_grants_and_the_domain_scoped_token_they_allow() {
    let app = spawn_app(test_config(AuthMode::Keystone)).await;
    let admin = login(app.identity, "admin", "admin").await;
    let demo = id_of(app.identity, &admin, "users", "demo").await;
    let role = id_of(app.identity, &admin, "roles", "admin").await;
    let scope = json!({"domain": {"name": "Default"}});
    // No role on the domain: Keystone's 401.
    let r = token(app.identity, "demo", scope.clone()).await;
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(r.header("www-authenticate").is_some());
    let grant = format!("/v3/domains/default/users/{demo}/roles/{role}");
    assert_eq!(
        ks(app.identity, "HEAD", &grant, &admin, "").await.status,
        404
    );
    assert_eq!(
        ks(app.identity, "PUT", &grant, &admin, "").await.status,
        204
    );
    assert_eq!(
        ks(app.identity, "HEAD", &grant, &admin, "").await.status,
        204
    );
    let r = ks(
        app.identity,
        "GET",
        &format!("/v3/domains/default/users/{demo}/roles"),
        &admin,
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(names(&r.json()["roles"]), ["admin"]);
    let r = token(app.identity, "demo", scope.clone()).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["token"]["domain"]["id"], "default");
    // Unknown parts: Keystone's 404s, each naming what is missing.
    let cases = [
        (
            format!("/v3/domains/nodomain/users/{demo}/roles/{role}"),
            "domain",
        ),
        (
            format!("/v3/domains/default/users/nouser/roles/{role}"),
            "user",
        ),
        (
            format!("/v3/domains/default/users/{demo}/roles/norole"),
            "role",
        ),
    ];
    for (path, what) in cases {
        let r = ks(app.identity, "PUT", &path, &admin, "").await;
        assert_eq!(r.status, 404, "{path}");
        assert!(
            r.text().contains(&format!("Could not find {what}")),
            "{}",
            r.text()
        );
    }
    let demo_token = login(app.identity, "demo", "demo").await;
    assert_eq!(
        ks(app.identity, "PUT", &grant, &demo_token, "")
            .await
            .status,
        403
    );
    assert_eq!(
        ks(app.identity, "DELETE", &grant, &admin, "").await.status,
        204
    );
    assert_eq!(
        ks(app.identity, "DELETE", &grant, &admin, "").await.status,
        404
    );
    let r = token(app.identity, "demo", scope).await;
    assert_eq!(r.status, 401, "the grant is gone");
    // A system-scoped token needs a role on the system.
    let r = token(app.identity, "demo", json!({"system": {"all": true}})).await;
    assert_eq!(r.status, 401);
    let r = token(app.identity, "admin", json!({"system": {"all": true}})).await;
    assert_eq!(r.status, 201);
}

#[actix_web::test]
async fn list_limit_cuts_lists_and_says_so() {
    let mut config = test_config(AuthMode::Keystone);
    config.list_limit = Some(2);
    let app = spawn_app(config).await;
    let admin = login(app.identity, "admin", "admin").await;
    let r = ks(app.identity, "GET", "/v3/users", &admin, "").await;
    let doc = r.json();
    assert_eq!(doc["users"].as_array().unwrap().len(), 2);
    assert_eq!(doc["truncated"], true);
    let r = ks(app.identity, "GET", "/v3/projects", &admin, "").await;
    assert_eq!(r.json()["projects"].as_array().unwrap().len(), 2);
    assert!(r.json().get("truncated").is_none(), "two projects fit");
}

/// `unrestricted` as given: Keystone shows `null` when it was left out (the captured create
/// shows it), `false` and `true` when given; only `true` lifts the restriction.
#[actix_web::test]
async fn application_credentials_show_unrestricted_as_given() {
    let app = spawn_app(test_config(AuthMode::Keystone)).await;
    let r = token(
        app.identity,
        "demo",
        json!({"project": {"name": "demo", "domain": {"id": "default"}}}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let demo = r.header("x-subject-token").unwrap().to_string();
    let uid = r.json()["token"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/v3/users/{uid}/application_credentials");
    for (name, given, shown) in [
        ("left-out", None, Value::Null),
        ("false", Some(false), json!(false)),
        ("true", Some(true), json!(true)),
    ] {
        let mut ac = json!({"name": name});
        if let Some(g) = given {
            ac["unrestricted"] = json!(g);
        }
        let r = ks(
            app.identity,
            "POST",
            &path,
            &demo,
            &json!({"application_credential": ac}).to_string(),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text());
        let made = r.json()["application_credential"].clone();
        assert_eq!(made["unrestricted"], shown, "create {name}");
        let id = made["id"].as_str().unwrap();
        let r = ks(app.identity, "GET", &format!("{path}/{id}"), &demo, "").await;
        assert_eq!(
            r.json()["application_credential"]["unrestricted"],
            shown,
            "show {name}"
        );
        let login = json!({"auth": {"identity": {"methods": ["application_credential"],
            "application_credential": {"id": id, "secret": made["secret"]}}}});
        let r = call(
            app.identity,
            "POST",
            "/v3/auth/tokens",
            &[("Content-Type", "application/json")],
            &login.to_string(),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(
            r.json()["token"]["application_credential"]["restricted"],
            json!(given != Some(true)),
            "token of {name}"
        );
    }
}
