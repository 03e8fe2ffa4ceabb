//! # The Tencent Cloud CVM front: key pairs (API version 2017-03-12)
//!
//! CreateKeyPair, ImportKeyPair, DescribeKeyPairs, ModifyKeyPairAttribute, DeleteKeyPairs,
//! AssociateInstancesKeyPairs and DisassociateInstancesKeyPairs over the one key pair store,
//! signed with a SecretId/SecretKey (TC3-HMAC-SHA256 or the legacy HmacSHA256/HmacSHA1),
//! wire-exact as `../shared/spec/seed-clouds.md` §2 describes: errors inside an HTTP 200.
//!
//! `pipeline` orders a request's checks; `request` reads its envelope, `auth` and `signature`
//! verify it, `params` checks the action's fields; `keypairs` and `instances` are the actions,
//! `views` the `KeyPair` object, `ids` the `skey-` ids, `errors` every error (the one table
//! from `DomainError` and the injected faults), `setup` what `novakeys credentials` prints.

mod auth;
mod errors;
pub mod ids;
mod instances;
mod keypairs;
mod params;
mod pipeline;
mod request;
mod setup;
pub mod signature;
mod views;

pub use setup::{client_setup, write_tccli_profile};

use crate::domain::{Principal, Services};
use crate::http::{Described, Front, Injected};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;
use std::sync::Arc;

/// What the Tencent front is set up with.
#[derive(Debug, Clone, Default)]
pub struct TencentSettings {}

pub struct TencentFront {
    services: Services,
    /// `DescribeKeyPairs` members as rendered, until the next write (SDK polling loops).
    described: crate::http::rendered::Rendered,
}

/// Who a request is from, once its signature holds.
pub struct Ctx {
    pub caller: Principal,
}

impl TencentFront {
    pub fn new(_settings: TencentSettings, services: Services) -> TencentFront {
        TencentFront {
            services,
            described: Default::default(),
        }
    }

    /// A lowercase uuid4 (from the determinism service, so `--seed` makes them repeatable).
    fn request_id(&self) -> String {
        self.services.determinism.uuid4().hyphenated().to_string()
    }
}

/// The key pair name a request's parameters give (`KeyName`), for fault rules.
fn named_key(call: &request::Call, body: &[u8]) -> Option<String> {
    match call.form_value("KeyName") {
        Some(name) => Some(name.to_string()),
        None if call.form.is_none() => serde_json::from_slice::<Value>(body)
            .ok()?
            .get("KeyName")?
            .as_str()
            .map(str::to_string),
        None => None,
    }
}

impl Front for TencentFront {
    fn name(&self) -> &'static str {
        "tencent"
    }

    fn configure(self: Arc<Self>, cfg: &mut web::ServiceConfig, _mount: &str) {
        cfg.app_data(web::Data::from(self))
            .default_service(web::to(pipeline::dispatch));
    }

    fn route_words(&self) -> &'static [&'static str] {
        &[]
    }

    fn body_limit(&self) -> usize {
        pipeline::MAX_TC3_BODY
    }

    /// The caller as the SecretId names it. The signature is not checked here: the journal
    /// and fault rules only need to know whose request it claims to be, and the handler
    /// verifies it before anything is done.
    fn describe(&self, req: &HttpRequest, _path: &str, body: &[u8], detail: bool) -> Described {
        let call = request::Call::read(req, body);
        let who = auth::claimed_secret_id(req, &call).and_then(|id| {
            self.services
                .credentials
                .resolve("tencent", &id)
                .ok()
                .flatten()
        });
        Described {
            user_id: who.as_ref().map(|w| w.principal.user_id.clone()),
            project_id: who.as_ref().map(|w| w.principal.project_id.clone()),
            name: detail.then(|| named_key(&call, body)).flatten(),
            version: detail.then(|| call.version.clone()).flatten(),
        }
    }

    fn render_fault(
        &self,
        req: &HttpRequest,
        _path: &str,
        fault: &Injected,
        facts: &Described,
    ) -> HttpResponse {
        let call = request::Call::read(req, &[]);
        let request_id = self.request_id();
        let action = call.action.as_deref().unwrap_or("*");
        let user = facts.user_id.as_deref().unwrap_or("");
        errors::injected(fault, action, user, facts.name.as_deref(), &request_id)
            .response(&request_id)
    }
}
