//! # The Nova front: `/os-keypairs` and what its clients read around it
//!
//! Nova's key pair API (microversions 2.1–2.104, the legacy `/v2`), its version documents,
//! limits and quota sets, wire-exact. Everything Nova-shaped lives here: the microversion
//! tables (schema + view per resource), Python-style error texts, the `Generated-by-Nova`
//! comment, Nova's fingerprint quirk, `created_at` text, marker paging. The rules themselves
//! are the domain's (`KeypairService`).

pub mod auth;
pub mod fault;
mod injected;
pub mod keypairs;
pub mod limits;
pub mod microversion;
mod pipeline;
pub mod quota_sets;
mod reply;
pub mod request;
mod usage;
pub mod versions;

pub use auth::AuthMode;

use crate::determinism::Determinism;
use crate::domain::identity::Identity;
use crate::domain::KeypairService;
use crate::http::{Described, Endpoint, Front, Injected};
use actix_web::http::header::HeaderMap;
use actix_web::http::Method;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde_json::Value;
use std::sync::Arc;

/// What the Nova front is set up with.
#[derive(Debug, Clone)]
pub struct NovaSettings {
    pub auth: AuthMode,
    /// Largest list page.
    pub max_limit: u32,
    /// The base URL clients are told (links, version documents); else the request's host.
    pub public_url: Option<String>,
    /// Where the identity API is, for keystonemiddleware's `WWW-Authenticate`.
    pub identity: Endpoint,
}

pub struct NovaFront {
    keypairs: Arc<KeypairService>,
    identity: Arc<Identity>,
    det: Arc<Determinism>,
    auth: AuthMode,
    max_limit: u32,
    public_url: Option<String>,
    identity_endpoint: Endpoint,
    /// Rendered key pair lists and shows, valid until the next write.
    rendered: crate::http::rendered::Rendered,
}

impl NovaFront {
    pub fn new(
        settings: NovaSettings,
        keypairs: Arc<KeypairService>,
        identity: Arc<Identity>,
        det: Arc<Determinism>,
    ) -> NovaFront {
        NovaFront {
            keypairs,
            identity,
            det,
            auth: settings.auth,
            max_limit: settings.max_limit,
            public_url: settings.public_url,
            identity_endpoint: settings.identity,
            rendered: Default::default(),
        }
    }
}

/// Path segments kept in the metrics route label.
const ROUTE_WORDS: &[&str] = &[
    "v2",
    "v2.1",
    "os-keypairs",
    "limits",
    "os-quota-sets",
    "detail",
    "defaults",
];

/// The key pair a compute request names (URL, or the create body).
fn keypair_name(path: &str, method: &Method, body: &[u8]) -> Option<String> {
    let segs: Vec<&str> = path.split('/').collect();
    let i = segs.iter().position(|s| *s == "os-keypairs")?;
    match segs.get(i + 1) {
        Some(name) if !name.is_empty() => Some(
            percent_encoding::percent_decode_str(name)
                .decode_utf8_lossy()
                .into_owned(),
        ),
        _ if method == Method::POST => serde_json::from_slice::<Value>(body)
            .ok()?
            .pointer("/keypair/name")?
            .as_str()
            .map(str::to_string),
        _ => None,
    }
}

/// The microversion a request asks for (`/v2.1` only), as its header would say it.
fn asked_microversion(path: &str, headers: &HeaderMap) -> Option<String> {
    if !path.starts_with("/v2.1") {
        return None;
    }
    let version = microversion::negotiate(headers).ok()?;
    Some(version.to_string())
}

impl Front for NovaFront {
    fn name(&self) -> &'static str {
        "compute"
    }

    fn configure(self: Arc<Self>, cfg: &mut web::ServiceConfig, mount: &str) {
        cfg.app_data(web::Data::from(self))
            .app_data(web::Data::new(pipeline::ComputeMount(mount.to_string())))
            .default_service(web::to(pipeline::dispatch));
    }

    fn route_words(&self) -> &'static [&'static str] {
        ROUTE_WORDS
    }

    fn describe(&self, req: &HttpRequest, path: &str, body: &[u8], detail: bool) -> Described {
        let caller = auth::caller(self, req);
        let who = caller.clone().ok().flatten();
        let described = Described {
            user_id: who.as_ref().map(|w| w.user_id.clone()),
            project_id: who
                .as_ref()
                .map(|w| w.project_id.clone())
                .filter(|p| !p.is_empty()),
            name: detail
                .then(|| keypair_name(path, req.method(), body))
                .flatten(),
            version: detail
                .then(|| asked_microversion(path, req.headers()))
                .flatten(),
        };
        req.extensions_mut().insert(auth::Authenticated(caller));
        described
    }

    fn answered_version(
        &self,
        req: &HttpRequest,
        path: &str,
        response: &HeaderMap,
    ) -> Option<String> {
        // The version the answer carries, else (an error before negotiation) the one asked for.
        match response.get(&microversion::NOVA_VERSION_HEADER) {
            Some(v) => v.to_str().ok().map(str::to_string),
            None => asked_microversion(path, req.headers()),
        }
    }

    fn render_fault(
        &self,
        req: &HttpRequest,
        path: &str,
        fault: &Injected,
        facts: &Described,
    ) -> HttpResponse {
        injected::render(self, req, path, fault, facts)
    }
}
