//! # Who is calling the compute API
//!
//! keystonemiddleware's job (a Keystone token, verified by the identity service), or Nova's
//! old noauth2 headers; and the 401 each of them answers.

use super::fault::WebobError;
use super::request::header;
use super::NovaFront;
use crate::domain::Principal;
use actix_web::http::Method;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use std::sync::Arc;

/// The Keystone token header.
pub static X_AUTH_TOKEN: actix_web::http::header::HeaderName =
    actix_web::http::header::HeaderName::from_static("x-auth-token");

/// Who the observe hook found a request to be from (a request extension), so the dispatcher
/// does not check the same token a second time.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Result<Option<Arc<Principal>>, Unavailable>);

/// The token could not be checked: the store is away (the detail is for the log).
#[derive(Debug, Clone)]
pub struct Unavailable(pub String);

/// The caller of `req` (None: no valid credentials).
pub fn caller(front: &NovaFront, req: &HttpRequest) -> Result<Option<Arc<Principal>>, Unavailable> {
    match front.auth {
        AuthMode::Noauth => {
            Ok(noauth_context(|name| header(req, name).map(str::to_string)).map(Arc::new))
        }
        AuthMode::Keystone => match header(req, &X_AUTH_TOKEN).filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(t) => front
                .identity
                .try_authenticate(t)
                .map_err(|e| Unavailable(e.to_string())),
        },
    }
}

/// The caller, as the observe hook already found it when it ran, else worked out now.
pub fn authenticate(
    front: &NovaFront,
    req: &HttpRequest,
) -> Result<Option<Arc<Principal>>, Unavailable> {
    if let Some(done) = req.extensions_mut().remove::<Authenticated>() {
        return done.0;
    }
    caller(front, req)
}

/// The 401 of the auth mode: keystonemiddleware's (pointing at the identity API), or webob's.
pub fn unauthorized(front: &NovaFront, req: &HttpRequest) -> HttpResponse {
    match front.auth {
        AuthMode::Noauth => {
            WebobError::Unauthorized.response(header(req, "accept"), req.method() == Method::HEAD)
        }
        AuthMode::Keystone => {
            let uri = front.identity_endpoint.base(req);
            HttpResponse::Unauthorized()
                .content_type("application/json")
                .insert_header(("WWW-Authenticate", format!("Keystone uri=\"{uri}\"")))
                .body(r#"{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}"#)
        }
    }
}

/// How the compute API authenticates requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// Keystone tokens issued by novakeys' identity API (verified locally).
    Keystone,
    /// Nova's old noauth2: `X-Auth-Token: <user>[:<project>]`, or `X-User-Id`/`X-Project-Id`.
    Noauth,
}

/// Identity from noauth headers: explicit `X-User-Id`/`X-Project-Id`/`X-Roles` win over the
/// token `user[:project]`; project defaults to the user; roles default to
/// `admin,member,reader` for the user `admin`, else `member,reader`.
pub fn noauth_context(header: impl Fn(&str) -> Option<String>) -> Option<Principal> {
    let token = header(X_AUTH_TOKEN.as_str()).filter(|t| !t.is_empty());
    let (token_user, token_project) = match token.as_deref() {
        Some(t) => match t.split_once(':') {
            Some((u, p)) => (Some(u.to_string()), Some(p.to_string())),
            None => (Some(t.to_string()), None),
        },
        None => (None, None),
    };
    let user_id = header("x-user-id")
        .filter(|u| !u.is_empty())
        .or(token_user)
        .filter(|u| !u.is_empty())?;
    let project_id = header("x-project-id")
        .or_else(|| header("x-tenant-id"))
        .filter(|p| !p.is_empty())
        .or(token_project)
        .unwrap_or_else(|| user_id.clone());
    let roles = match header("x-roles") {
        Some(r) => r
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        None if user_id == "admin" => vec!["admin".into(), "member".into(), "reader".into()],
        None => vec!["member".into(), "reader".into()],
    };
    Some(Principal {
        user_id,
        project_id,
        roles,
        system_scope: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn ctx(pairs: &[(&str, &str)]) -> Option<Principal> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        noauth_context(|k| map.get(k).cloned())
    }

    #[test]
    fn noauth_rules() {
        assert_eq!(ctx(&[]), None);
        let alice = ctx(&[("x-auth-token", "alice")]).unwrap();
        assert_eq!(
            (alice.user_id.as_str(), alice.project_id.as_str()),
            ("alice", "alice")
        );
        assert!(!alice.is_admin());
        let admin = ctx(&[("x-auth-token", "admin:admin")]).unwrap();
        assert!(admin.is_admin());
        let hdr = ctx(&[
            ("x-user-id", "bob"),
            ("x-project-id", "pb"),
            ("x-roles", "reader"),
        ])
        .unwrap();
        assert_eq!(
            (
                hdr.user_id.as_str(),
                hdr.project_id.as_str(),
                hdr.roles.clone()
            ),
            ("bob", "pb", vec!["reader".to_string()])
        );
        assert!(ctx(&[("x-auth-token", "alice:p"), ("x-roles", "admin")])
            .unwrap()
            .is_admin());
    }
}
