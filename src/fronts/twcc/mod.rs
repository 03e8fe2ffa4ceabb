//! # The TWCC front: VCS key pairs
//!
//! `/api/v2/{site}/keypairs/` (twcc-cli) and `/api/v3/{site}/keypairs/` (TWCC's VCS API
//! docs): create (generate, or import with `public_key`), list, show, delete, over the one key
//! pair store, with an API key in `x-api-key` and the site in `x-api-host`
//! (`../shared/spec/seed-clouds.md` §3). Errors are Django REST framework's `{"detail": …}`.
//! The unmodified twcc-cli works against it once its data folder is written and its packaged
//! API host points here (`novakeys credentials --cloud twcc`, [`setup`]).
//!
//! | file | owns |
//! |---|---|
//! | `pipeline.rs` | routes and the order of checks |
//! | `auth.rs` | API keys, sites |
//! | `params.rs` | the create body (DRF parsing, Nova's name rules) |
//! | `keypairs.rs` | the handlers |
//! | `views.rs` | the list and detail objects |
//! | `errors.rs` | every refusal, the table from `DomainError` |
//! | `injected.rs` | injected faults as TWCC answers |
//! | `setup.rs` | `novakeys credentials --cloud twcc` |

mod auth;
mod errors;
mod injected;
mod keypairs;
mod params;
mod pipeline;
mod setup;
mod views;

pub use auth::SITES;
pub use errors::TwccError;
pub use setup::{client_setup, CLI_VERSION};

use crate::domain::Services;
use crate::http::{Described, Front, Injected};
use actix_web::http::Method;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use std::sync::Arc;

/// What the TWCC front is set up with.
#[derive(Debug, Clone, Default)]
pub struct TwccSettings {}

pub struct TwccFront {
    services: Services,
}

impl TwccFront {
    pub fn new(_settings: TwccSettings, services: Services) -> TwccFront {
        TwccFront { services }
    }
}

/// Path segments kept in the metrics route label (the sites too: others become `{id}`).
const ROUTE_WORDS: &[&str] = &[
    "api",
    "v2",
    "v3",
    "keypairs",
    "openstack-taichung-default-2",
    "openstack-taichung-default",
];

/// The key pair a request names: the path's, or a create body's `name`.
fn keypair_name(path: &str, method: &Method, body: &[u8]) -> Option<String> {
    let route = pipeline::route(path)?;
    match route.name {
        Some(name) => Some(name),
        None if method == Method::POST => params::parse_json(body)
            .ok()?
            .get("name")?
            .as_str()
            .map(str::to_string),
        None => None,
    }
}

impl Front for TwccFront {
    fn name(&self) -> &'static str {
        "twcc"
    }

    fn configure(self: Arc<Self>, cfg: &mut web::ServiceConfig, _mount: &str) {
        cfg.app_data(web::Data::from(self))
            .default_service(web::to(pipeline::dispatch));
    }

    fn route_words(&self) -> &'static [&'static str] {
        ROUTE_WORDS
    }

    fn describe(&self, req: &HttpRequest, path: &str, body: &[u8], detail: bool) -> Described {
        let who = auth::caller(self, req);
        let described = Described {
            user_id: who.as_ref().ok().map(|p| p.user_id.clone()),
            project_id: who.as_ref().ok().map(|p| p.project_id.clone()),
            name: detail
                .then(|| keypair_name(path, req.method(), body))
                .flatten(),
            version: None,
        };
        req.extensions_mut().insert(auth::Authenticated(who));
        described
    }

    fn render_fault(
        &self,
        req: &HttpRequest,
        _path: &str,
        fault: &Injected,
        facts: &Described,
    ) -> HttpResponse {
        injected::error(req.method(), fault, facts).response()
    }
}
