//! # The Alibaba Cloud ECS front: key pairs (API version 2014-05-26)
//!
//! CreateKeyPair, ImportKeyPair, DescribeKeyPairs, DeleteKeyPairs, AttachKeyPair and
//! DetachKeyPair over the one key pair store, signed with an AccessKey (ACS3-HMAC-SHA256 or
//! RPC HMAC-SHA1), wire-exact as `../shared/spec/seed-clouds.md` §1 describes.
//!
//! One pipeline for every call (`POST /` or `GET /`, parameters in the query or a form
//! body): size → parameters → action and version → signature → nonce → region → RAM (a
//! `reader` may only describe) → the action's handler (parse → domain call → view). The
//! observe hook's `describe` runs the pipeline up to the signature and leaves the outcome in
//! the request for the handler, so a request is parsed and verified once.

pub mod attach;
pub mod auth;
pub mod errors;
pub mod ids;
mod injected;
pub mod keypairs;
pub mod nonce;
mod pipeline;
pub mod request;
pub mod rules;
mod setup;
pub mod signature;
pub mod views;

pub use pipeline::Call;
pub use setup::client_setup;

use crate::domain::Services;
use crate::http::{Described, Front, Injected};
use actix_web::http::header::HeaderMap;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use pipeline::{dispatch, Asked, Prepared};
use request::{Params, MAX_REQUEST_BYTES};
use std::sync::Arc;

/// The one API version served.
pub const API_VERSION: &str = "2014-05-26";

/// The region name Alibaba's clients use by default; it and the configured region are the
/// same region here.
pub const REGION_ALIAS: &str = "cn-hangzhou";

/// What the Alibaba front is set up with.
#[derive(Debug, Clone)]
pub struct AlibabaSettings {
    /// Alibaba's own limit of key pairs per region (`None`: unlimited).
    pub keypair_quota: Option<i64>,
}

pub struct AlibabaFront {
    settings: AlibabaSettings,
    services: Services,
    nonces: nonce::Nonces,
    /// `DescribeKeyPairs` answers as rendered (without their `RequestId`), until the next
    /// write: SDK polling loops describe the same page over and over.
    described: crate::http::rendered::Rendered,
}

/// The six actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    CreateKeyPair,
    ImportKeyPair,
    DescribeKeyPairs,
    DeleteKeyPairs,
    AttachKeyPair,
    DetachKeyPair,
}

const ACTIONS: &[Action] = &[
    Action::CreateKeyPair,
    Action::ImportKeyPair,
    Action::DescribeKeyPairs,
    Action::DeleteKeyPairs,
    Action::AttachKeyPair,
    Action::DetachKeyPair,
];

/// The metrics route labels: `/<Action>`.
const ROUTE_WORDS: &[&str] = &[
    "CreateKeyPair",
    "ImportKeyPair",
    "DescribeKeyPairs",
    "DeleteKeyPairs",
    "AttachKeyPair",
    "DetachKeyPair",
];

impl Action {
    pub fn as_str(self) -> &'static str {
        ROUTE_WORDS[ACTIONS.iter().position(|a| *a == self).expect("listed")]
    }

    fn parse(name: &str) -> Option<Action> {
        ROUTE_WORDS
            .iter()
            .position(|n| *n == name)
            .map(|i| ACTIONS[i])
    }

    /// Whether a `reader` is refused (RAM: only Describe is a read).
    fn writes(self) -> bool {
        self != Action::DescribeKeyPairs
    }
}

impl AlibabaFront {
    pub fn new(settings: AlibabaSettings, services: Services) -> AlibabaFront {
        AlibabaFront {
            settings,
            services,
            nonces: nonce::Nonces::default(),
            described: Default::default(),
        }
    }
}

impl Front for AlibabaFront {
    fn name(&self) -> &'static str {
        "alibaba"
    }

    fn configure(self: Arc<Self>, cfg: &mut web::ServiceConfig, _mount: &str) {
        cfg.app_data(web::Data::from(self))
            .default_service(web::to(dispatch));
    }

    fn route_words(&self) -> &'static [&'static str] {
        ROUTE_WORDS
    }

    fn body_limit(&self) -> usize {
        MAX_REQUEST_BYTES
    }

    /// The caller of a validly signed request (the signature is checked here, once, and the
    /// outcome kept for the handler; the nonce is left to the handler), with `detail` the key
    /// pair it names (`KeyPairName`, or DeleteKeyPairs' first name) and the API version.
    fn describe(&self, req: &HttpRequest, _path: &str, body: &[u8], detail: bool) -> Described {
        let prepared = self.prepare(req, body);
        let asked = match &prepared {
            Ok(call) => Asked {
                action: Some(call.action),
                version_ok: true,
            },
            // Refused before or at the signature: what it asked for, if that can be read.
            Err(_) => match Params::parse(req.query_string(), b"", false) {
                Ok(params) => {
                    let (action, version) = Self::asked(req, &params);
                    Asked {
                        action: action.and_then(Action::parse),
                        version_ok: version == Some(API_VERSION),
                    }
                }
                Err(_) => Asked {
                    action: None,
                    version_ok: false,
                },
            },
        };
        let described = match &prepared {
            Ok(call) => {
                let p = call.principal();
                Described {
                    user_id: Some(p.user_id.clone()),
                    project_id: Some(p.project_id.clone()),
                    name: detail.then(|| keypairs::named(call)).flatten(),
                    version: Some(API_VERSION.to_string()),
                }
            }
            Err(_) => Described {
                version: asked.version_ok.then(|| API_VERSION.to_string()),
                ..Described::default()
            },
        };
        let mut ext = req.extensions_mut();
        ext.insert(Prepared(prepared));
        ext.insert(asked);
        described
    }

    fn answered_version(&self, req: &HttpRequest, _path: &str, _: &HeaderMap) -> Option<String> {
        let asked = req.extensions().get::<Asked>().copied()?;
        asked.version_ok.then(|| API_VERSION.to_string())
    }

    fn route_path(&self, req: &HttpRequest, _path: &str) -> Option<String> {
        let asked = req.extensions().get::<Asked>().copied()?;
        asked.action.map(|a| format!("/{}", a.as_str()))
    }

    fn render_fault(
        &self,
        _req: &HttpRequest,
        _path: &str,
        fault: &Injected,
        facts: &Described,
    ) -> HttpResponse {
        injected::render(fault, facts, &self.request_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip() {
        for a in ACTIONS {
            assert_eq!(Action::parse(a.as_str()), Some(*a));
        }
        assert_eq!(Action::parse("RunInstances"), None);
        assert!(!Action::DescribeKeyPairs.writes());
        assert!(Action::DetachKeyPair.writes());
    }
}
