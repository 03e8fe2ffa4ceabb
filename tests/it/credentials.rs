//! Access keys of the cloud APIs through Keystone's `/v3/credentials`, and the instance
//! registry of the controls.

use crate::common::{call, login, spawn_app, test_config, RawResponse};
use novakeys::config::AuthMode;
use serde_json::{json, Value};
use std::net::SocketAddr;

async fn ks(addr: SocketAddr, method: &str, path: &str, token: &str, body: &str) -> RawResponse {
    crate::common::with_token(addr, method, path, token, body).await
}

async fn user_id(addr: SocketAddr, admin: &str, name: &str) -> String {
    let r = ks(addr, "GET", &format!("/v3/users?name={name}"), admin, "").await;
    r.json()["users"][0]["id"].as_str().unwrap().to_string()
}

fn blob(c: &Value) -> Value {
    serde_json::from_str(c["blob"].as_str().unwrap()).unwrap()
}

#[actix_web::test]
async fn credentials_are_made_listed_and_deleted_with_the_secret_shown_once() {
    let app = spawn_app(test_config(AuthMode::Keystone)).await;
    let admin = login(app.identity, "admin", "admin").await;
    let demo = login(app.identity, "demo", "demo").await;
    let demo_id = user_id(app.identity, &admin, "demo").await;
    let admin_id = user_id(app.identity, &admin, "admin").await;

    // The fixture access keys, secrets hidden.
    let r = ks(
        app.identity,
        "GET",
        "/v3/credentials?type=alibaba",
        &demo,
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let listed = r.json()["credentials"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 1, "demo sees only its own: {listed:?}");
    assert_eq!(
        blob(&listed[0]),
        json!({"access": "LTAI5tNovakeysDemo000001", "secret": "***"})
    );
    assert_eq!(listed[0]["user_id"], demo_id.as_str());
    let r = ks(app.identity, "GET", "/v3/credentials", &admin, "").await;
    assert_eq!(
        r.json()["credentials"].as_array().unwrap().len(),
        9,
        "3 users × 3 clouds"
    );

    // Made by the user, with generated values in Tencent's style; the secret once.
    let body = json!({"credential": {"type": "tencent", "user_id": demo_id, "blob": "{}"}});
    let r = ks(
        app.identity,
        "POST",
        "/v3/credentials",
        &demo,
        &body.to_string(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let made = r.json()["credential"].clone();
    let b = blob(&made);
    let access = b["access"].as_str().unwrap();
    let secret = b["secret"].as_str().unwrap();
    assert!(access.starts_with("AKID") && access.len() == 36, "{access}");
    assert_eq!(secret.len(), 32);
    let id = made["id"].as_str().unwrap();
    let r = ks(
        app.identity,
        "GET",
        &format!("/v3/credentials/{id}"),
        &demo,
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(blob(&r.json()["credential"])["secret"], "***");
    // Neither the create answer's secret nor the blob reached the journal.
    let j = call(app.identity, "GET", "/_novakeys/journal", &[], "")
        .await
        .text();
    assert!(!j.contains(secret), "{j}");

    // Given values are kept; a taken access key is a conflict.
    let given = json!({"access": "LTAIgivenByTheUser0000001", "secret": "s3"}).to_string();
    let body = json!({"credential": {"type": "alibaba", "user_id": demo_id, "blob": given}});
    let r = ks(
        app.identity,
        "POST",
        "/v3/credentials",
        &demo,
        &body.to_string(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = ks(
        app.identity,
        "POST",
        "/v3/credentials",
        &demo,
        &body.to_string(),
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.text());

    // Someone else's: forbidden to a user, fine for an admin.
    let body = json!({"credential": {"type": "twcc", "user_id": admin_id, "blob": "{}"}});
    let r = ks(
        app.identity,
        "POST",
        "/v3/credentials",
        &demo,
        &body.to_string(),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.text());
    let bad = json!({"credential": {"type": "ec2", "user_id": demo_id, "blob": "{}"}});
    let r = ks(
        app.identity,
        "POST",
        "/v3/credentials",
        &admin,
        &bad.to_string(),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text());
    let missing = json!({"credential": {"type": "twcc", "user_id": demo_id}});
    let r = ks(
        app.identity,
        "POST",
        "/v3/credentials",
        &admin,
        &missing.to_string(),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(
        r.text().contains("'blob' is a required property"),
        "{}",
        r.text()
    );

    let r = ks(
        app.identity,
        "DELETE",
        &format!("/v3/credentials/{id}"),
        &demo,
        "",
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let r = ks(
        app.identity,
        "GET",
        &format!("/v3/credentials/{id}"),
        &demo,
        "",
    )
    .await;
    assert_eq!(r.status, 404);

    // A reset brings back exactly the fixtures' keys.
    assert_eq!(
        call(
            app.identity,
            "POST",
            "/_novakeys/reset",
            &[("Content-Type", "application/json")],
            ""
        )
        .await
        .status,
        204
    );
    let admin = login(app.identity, "admin", "admin").await;
    let r = ks(app.identity, "GET", "/v3/credentials", &admin, "").await;
    assert_eq!(r.json()["credentials"].as_array().unwrap().len(), 9);
}

#[actix_web::test]
async fn instances_are_registered_through_the_controls_and_reset() {
    let app = spawn_app(test_config(AuthMode::Keystone)).await;
    let post = |body: Value| async move {
        call(
            app.compute,
            "POST",
            "/_novakeys/instances",
            &[("Content-Type", "application/json")],
            &body.to_string(),
        )
        .await
    };
    let r =
        post(json!({"cloud": "tencent", "name": "vm", "user": "demo", "project": "demo"})).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let i = r.json()["instance"].clone();
    let id = i["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("ins-") && id.len() == 12, "{id}");
    assert_eq!(
        (&i["os"], &i["state"], &i["region"]),
        (&json!("linux"), &json!("running"), &json!("RegionOne"))
    );
    let r = post(json!({"cloud": "alibaba", "name": "w", "user": "demo", "project": "demo", "os": "windows", "state": "stopped"})).await;
    assert_eq!(r.status, 201);
    assert!(r.json()["instance"]["id"]
        .as_str()
        .unwrap()
        .starts_with("i-"));
    for bad in [
        json!({"cloud": "aws", "name": "x", "user": "demo", "project": "demo"}),
        json!({"cloud": "tencent", "name": "x", "user": "nobody", "project": "demo"}),
        json!({"cloud": "tencent", "name": "x", "user": "demo", "project": "demo", "os": "beos"}),
        json!({"cloud": "tencent", "name": "x", "user": "demo", "project": "demo", "colour": 1}),
    ] {
        assert_eq!(post(bad.clone()).await.status, 400, "{bad}");
    }
    let list = call(
        app.compute,
        "GET",
        "/_novakeys/instances?cloud=tencent",
        &[],
        "",
    )
    .await;
    assert_eq!(list.json()["instances"].as_array().unwrap().len(), 1);
    let one = call(
        app.compute,
        "GET",
        &format!("/_novakeys/instances/{id}"),
        &[],
        "",
    )
    .await;
    assert_eq!(one.json()["instance"]["name"], "vm");
    assert_eq!(
        call(
            app.compute,
            "POST",
            "/_novakeys/reset",
            &[("Content-Type", "application/json")],
            ""
        )
        .await
        .status,
        204
    );
    let all = call(app.compute, "GET", "/_novakeys/instances", &[], "").await;
    assert_eq!(all.json()["instances"], json!([]));
    let gone = call(
        app.compute,
        "DELETE",
        &format!("/_novakeys/instances/{id}"),
        &[("Content-Type", "application/json")],
        "",
    )
    .await;
    assert_eq!(gone.status, 404);
}
