//! The tencent front end to end (the real app on port 0).

use crate::common::{call, spawn_app, test_config};
use novakeys::config::AuthMode;

#[actix_web::test]
async fn an_unknown_action_gets_tencents_error_in_a_200() {
    let app = spawn_app(test_config(AuthMode::Keystone)).await;
    let r = call(
        app.front("tencent"),
        "POST",
        "/",
        &[("X-TC-Action", "Nope")],
        "{}",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json()["Response"]["Error"]["Code"], "InvalidAction");
}
