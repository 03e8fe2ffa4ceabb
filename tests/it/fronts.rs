//! A front the controls have never heard of gets every control (journal, metrics, fault
//! injection in its own error format, reset) from the `Front` trait alone: adding a front
//! touches nothing in `control/`.

use crate::common::{call, test_config};
use actix_web::http::header::HeaderMap;
use actix_web::{web, HttpRequest, HttpResponse};
use novakeys::app;
use novakeys::config::AuthMode;
use novakeys::http::{Described, Front, Injected, Mounted};
use std::sync::Arc;

/// A made-up API: `GET /hello/{who}` answers `hi <who>`, errors are `{"oops": status}`.
struct Echo;

impl Front for Echo {
    fn name(&self) -> &'static str {
        "echo"
    }

    fn configure(self: Arc<Self>, cfg: &mut web::ServiceConfig, _mount: &str) {
        cfg.route(
            "/hello/{who}",
            web::get().to(|who: web::Path<String>| async move {
                HttpResponse::Ok().body(format!("hi {who}"))
            }),
        );
    }

    fn route_words(&self) -> &'static [&'static str] {
        &["hello"]
    }

    fn describe(&self, req: &HttpRequest, path: &str, _body: &[u8], detail: bool) -> Described {
        Described {
            user_id: req
                .headers()
                .get("x-echo-user")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            project_id: None,
            name: detail
                .then(|| path.strip_prefix("/hello/").map(str::to_string))
                .flatten(),
            version: Some("e1".into()),
        }
    }

    fn answered_version(&self, _: &HttpRequest, _: &str, _: &HeaderMap) -> Option<String> {
        Some("e1".into())
    }

    fn render_fault(
        &self,
        _req: &HttpRequest,
        _path: &str,
        fault: &Injected,
        _facts: &Described,
    ) -> HttpResponse {
        HttpResponse::build(actix_web::http::StatusCode::from_u16(fault.status).unwrap())
            .content_type("application/json")
            .body(format!("{{\"oops\": {}}}", fault.status))
    }
}

#[actix_web::test]
async fn a_new_front_gets_every_control_through_the_trait() {
    let config = test_config(AuthMode::Keystone);
    let services = app::services(&config).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = app::serve(
        listener,
        Mounted(vec![(String::new(), Arc::new(Echo) as Arc<dyn Front>)]),
        services.control.clone(),
        1,
        std::time::Duration::from_secs(5),
    )
    .unwrap();
    actix_web::rt::spawn(server);

    let r = call(addr, "GET", "/hello/ann", &[("x-echo-user", "u1")], "").await;
    assert_eq!((r.status, r.text()), (200, "hi ann".to_string()));

    // The journal names the front, its caller and version.
    let j = call(addr, "GET", "/_novakeys/journal", &[], "")
        .await
        .json();
    let e = &j["entries"][0];
    assert_eq!(
        (&e["api"], &e["user_id"], &e["microversion"], &e["path"]),
        (
            &"echo".into(),
            &"u1".into(),
            &"e1".into(),
            &"/hello/ann".into()
        ),
        "{j}"
    );

    // Metrics label its routes with its own words.
    let m = call(addr, "GET", "/metrics", &[], "").await.text();
    assert!(
        m.contains(r#"novakeys_requests_total{api="echo",route="/hello/{id}",method="GET",status="200",microversion="e1"} 1"#),
        "{m}"
    );

    // A fault rule matching the name the front reported answers in the front's format.
    let rule = r#"{"match": {"name": "bob"}, "action": {"status": 503}}"#;
    let added = call(
        addr,
        "POST",
        "/_novakeys/faults",
        &[("Content-Type", "application/json")],
        rule,
    )
    .await;
    assert_eq!(added.status, 201, "{}", added.text());
    let ok = call(addr, "GET", "/hello/ann", &[], "").await;
    assert_eq!(ok.status, 200);
    let hit = call(addr, "GET", "/hello/bob", &[], "").await;
    assert_eq!(
        (hit.status, hit.text()),
        (503, "{\"oops\": 503}".to_string())
    );
    assert_eq!(hit.header("x-novakeys-fault"), Some("fault-1"));

    // Reset clears the journal and the rules.
    let reset = call(
        addr,
        "POST",
        "/_novakeys/reset",
        &[("Content-Type", "application/json")],
        "",
    )
    .await;
    assert_eq!(reset.status, 204);
    assert_eq!(call(addr, "GET", "/hello/bob", &[], "").await.status, 200);
    let j = call(addr, "GET", "/_novakeys/journal", &[], "")
        .await
        .json();
    assert_eq!(j["entries"].as_array().unwrap().len(), 1, "{j}");
}
