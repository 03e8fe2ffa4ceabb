//! The twcc front end to end (the real app on port 0).

use crate::common::{call, spawn_app, test_config};
use novakeys::config::AuthMode;

#[actix_web::test]
async fn an_unknown_route_gets_a_drf_error() {
    let app = spawn_app(test_config(AuthMode::Keystone)).await;
    let r = call(app.front("twcc"), "GET", "/api/v2/nowhere/", &[], "").await;
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(r.json()["detail"], "Not found.");
}
