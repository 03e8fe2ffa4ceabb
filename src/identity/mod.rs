//! # The identity (Keystone v3) API subset
//!
//! Placeholder surface the rest of the crate relies on; the Keystone implementation replaces
//! the body of this module.

use crate::auth::AuthContext;
use crate::config::Config;
use crate::store::Store;
use actix_web::{web, HttpRequest, HttpResponse};

/// Identity service state shared by both listeners.
pub struct Identity {}

impl Identity {
    pub fn new(_config: &Config, _store: &Store) -> anyhow::Result<Identity> {
        Ok(Identity {})
    }

    /// Verifies a compute request's token.
    pub fn authenticate(&self, _token: &str) -> Option<AuthContext> {
        None
    }

    /// keystonemiddleware's 401.
    pub fn unauthorized_response(&self, _req: &HttpRequest) -> HttpResponse {
        HttpResponse::Unauthorized()
            .content_type("application/json")
            .body(r#"{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}"#)
    }
}

/// Mounts the identity API.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.default_service(web::to(HttpResponse::NotFound));
}
