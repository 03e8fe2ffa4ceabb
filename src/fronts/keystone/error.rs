//! # Keystone errors
//!
//! keystone/exception.py + keystone/server/flask/application.py: every error is
//! `{"error":{"code":N,"message":"…","title":"…"}}` rendered by Flask's `jsonify` (compact,
//! sorted keys, ASCII only, a trailing newline); a 401 adds
//! `WWW-Authenticate: Keystone uri="<base>/v3"`.

use crate::store::StoreError;
use serde_json::{Map, Value};

const CLIENT_ERROR: &str = "The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.";
pub const AUTH_REQUIRED: &str = "The request you have made requires authentication.";

/// Every error the identity API answers with.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// 400 with a complete message.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 401; `identity` is Keystone's extra `identity` member (unsupported method, app creds).
    #[error("unauthorized")]
    Unauthorized {
        message: Option<String>,
        identity: Option<Value>,
    },
    /// 403 for a policy rule (`identity:<action>`).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// 403 `ForbiddenAction(action=...)` with a sentence as the action (Keystone adds a
    /// period after it, so a sentence ends in two).
    #[error("forbidden: {0}")]
    ForbiddenAction(String),
    /// 404 with a complete message.
    #[error("not found: {0}")]
    NotFound(String),
    /// 405 (werkzeug's `MethodNotAllowed`).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409 with a complete message.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// 503: the store's database is away for now.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl IdentityError {
    /// keystone ValidationError: "Expecting to find {attr} in {target}. <client error>".
    pub fn expecting(attribute: &str, target: &str) -> IdentityError {
        IdentityError::BadRequest(format!(
            "Expecting to find {attribute} in {target}. {CLIENT_ERROR}"
        ))
    }

    pub fn unauthorized() -> IdentityError {
        IdentityError::Unauthorized {
            message: None,
            identity: None,
        }
    }

    pub fn not_found(kind: &str, id: &str) -> IdentityError {
        IdentityError::NotFound(format!("Could not find {kind}: {id}."))
    }

    pub fn status(&self) -> u16 {
        match self {
            IdentityError::BadRequest(_) => 400,
            IdentityError::Unauthorized { .. } => 401,
            IdentityError::Forbidden(_) | IdentityError::ForbiddenAction(_) => 403,
            IdentityError::NotFound(_) => 404,
            IdentityError::MethodNotAllowed => 405,
            IdentityError::Conflict(_) => 409,
            IdentityError::Internal(_) => 500,
            IdentityError::Unavailable(_) => 503,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            IdentityError::BadRequest(_) => "Bad Request",
            IdentityError::Unauthorized { .. } => "Unauthorized",
            IdentityError::Forbidden(_) | IdentityError::ForbiddenAction(_) => "Forbidden",
            IdentityError::NotFound(_) => "Not Found",
            IdentityError::MethodNotAllowed => "Method Not Allowed",
            IdentityError::Conflict(_) => "Conflict",
            IdentityError::Internal(_) => "Internal Server Error",
            IdentityError::Unavailable(_) => "Service Unavailable",
        }
    }

    fn message(&self) -> String {
        match self {
            IdentityError::BadRequest(m)
            | IdentityError::NotFound(m)
            | IdentityError::Conflict(m) => m.clone(),
            IdentityError::Unauthorized { message, .. } => {
                message.clone().unwrap_or_else(|| AUTH_REQUIRED.into())
            }
            IdentityError::Forbidden(action) => format!(
                "You are not authorized to perform the requested action: identity:{action}."
            ),
            IdentityError::ForbiddenAction(action) => {
                format!("You are not authorized to perform the requested action: {action}.")
            }
            IdentityError::MethodNotAllowed => {
                "The method is not allowed for the requested URL.".into()
            }
            // The injected 503's text (see `injected`).
            IdentityError::Unavailable(_) => {
                "The server is currently unavailable. Please try again at a later time.".into()
            }
            IdentityError::Internal(_) => {
                "An unexpected error prevented the server from fulfilling your request.".into()
            }
        }
    }

    /// The Flask-rendered body.
    pub fn body(&self) -> Vec<u8> {
        let mut inner = Map::new();
        inner.insert("code".into(), Value::from(self.status()));
        if let IdentityError::Unauthorized {
            identity: Some(identity),
            ..
        } = self
        {
            inner.insert("identity".into(), identity.clone());
        }
        inner.insert("message".into(), Value::String(self.message()));
        inner.insert("title".into(), Value::String(self.title().into()));
        let mut outer = Map::new();
        outer.insert("error".into(), Value::Object(inner));
        let mut out = compact_ascii(&Value::Object(outer));
        out.push(b'\n');
        out
    }
}

impl From<crate::domain::DomainError> for IdentityError {
    fn from(e: crate::domain::DomainError) -> Self {
        match e {
            crate::domain::DomainError::Unavailable(detail) => IdentityError::Unavailable(detail),
            e => IdentityError::Internal(e.to_string()),
        }
    }
}

impl From<StoreError> for IdentityError {
    fn from(e: StoreError) -> Self {
        if let StoreError::Unavailable(detail) = e {
            log::warn!("identity store unavailable: {detail}");
            return IdentityError::Unavailable(detail);
        }
        log::error!("identity store error: {e}");
        IdentityError::Internal(e.to_string())
    }
}

/// Compact JSON with non-ASCII escaped (Flask's `jsonify`; keys already in order).
pub fn compact_ascii(value: &Value) -> Vec<u8> {
    let text = serde_json::to_string(value).unwrap_or_default();
    let mut out = String::with_capacity(text.len());
    let mut units = [0u16; 2];
    for ch in text.chars() {
        if ch.is_ascii() {
            out.push(ch);
        } else {
            for unit in ch.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_flask() {
        assert_eq!(
            String::from_utf8(IdentityError::unauthorized().body()).unwrap(),
            "{\"error\":{\"code\":401,\"message\":\"The request you have made requires authentication.\",\"title\":\"Unauthorized\"}}\n"
        );
        assert_eq!(
            String::from_utf8(IdentityError::expecting("auth", "request body").body()).unwrap(),
            "{\"error\":{\"code\":400,\"message\":\"Expecting to find auth in request body. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.\",\"title\":\"Bad Request\"}}\n"
        );
        let e = IdentityError::Unauthorized {
            message: Some("x".into()),
            identity: Some(serde_json::json!({})),
        };
        assert_eq!(
            String::from_utf8(e.body()).unwrap(),
            "{\"error\":{\"code\":401,\"identity\":{},\"message\":\"x\",\"title\":\"Unauthorized\"}}\n"
        );
        assert_eq!(compact_ascii(&serde_json::json!("é")), b"\"\\u00e9\"");
    }
}
