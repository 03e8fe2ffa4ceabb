//! # The TWCC front: VCS key pairs
//!
//! `/api/v2/{site}/keypairs/` and `/api/v3/{site}/keypairs/` (create, list, show, delete) over
//! the one key pair store, with an API key in `x-api-key` and the site in `x-api-host`, as
//! `twcc-cli` and TWCC's API docs use them (`../shared/spec/seed-clouds.md` §3).

use crate::domain::Services;
use crate::http::{Described, Front, Injected};
use actix_web::{web, HttpRequest, HttpResponse};
use std::sync::Arc;

/// What the TWCC front is set up with.
#[derive(Debug, Clone, Default)]
pub struct TwccSettings {}

pub struct TwccFront {
    #[allow(dead_code)]
    settings: TwccSettings,
    #[allow(dead_code)]
    services: Services,
}

impl TwccFront {
    pub fn new(settings: TwccSettings, services: Services) -> TwccFront {
        TwccFront { settings, services }
    }
}

fn error(status: u16, detail: &str) -> HttpResponse {
    HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR),
    )
    .content_type("application/json")
    .body(serde_json::json!({ "detail": detail }).to_string())
}

async fn dispatch() -> HttpResponse {
    error(404, "Not found.")
}

impl Front for TwccFront {
    fn name(&self) -> &'static str {
        "twcc"
    }

    fn configure(self: Arc<Self>, cfg: &mut web::ServiceConfig, _mount: &str) {
        cfg.app_data(web::Data::from(self))
            .default_service(web::to(dispatch));
    }

    fn route_words(&self) -> &'static [&'static str] {
        &["api", "v2", "v3", "keypairs"]
    }

    fn describe(&self, _req: &HttpRequest, _path: &str, _body: &[u8], _detail: bool) -> Described {
        Described::default()
    }

    fn render_fault(
        &self,
        _req: &HttpRequest,
        _path: &str,
        fault: &Injected,
        _facts: &Described,
    ) -> HttpResponse {
        error(fault.status, "A server error occurred.")
    }
}

/// What `novakeys credentials --cloud twcc` prints.
pub fn client_setup(setup: &super::ClientSetup) -> anyhow::Result<String> {
    Ok(format!(
        "export _TWCC_API_KEY_={}\n# twcc-cli has no endpoint option or variable: set production.host in its packaged twccli/yaml/TWCC_API.yaml:\n#   host: \"{}\"\n",
        setup.access, setup.endpoint
    ))
}
