//! # TWCC's errors
//!
//! The VCS API is a Django REST framework service behind TWCC's API gateway: every error is a
//! JSON object `{"detail": "..."}` (`application/json`), and twcc-cli prints its `detail` as
//! `[TWCC-CLI] Error-<detail>`. A body without `detail`, or one that is not JSON, makes the
//! CLI print a Python repr or crash, so every refusal of this front, from any layer (routing,
//! API key, site, body, domain, injected faults), goes through [`TwccError::response`].
//!
//! The texts are DRF's own defaults where DRF has one (`Not found.`, `Authentication
//! credentials were not provided.`, `Incorrect authentication credentials.`, `You do not have
//! permission to perform this action.`, `Method "X" not allowed.`, `JSON parse error - ...`,
//! `Request was throttled. ...`, `A server error occurred.`), Nova's where the request reaches
//! the Nova underneath (an invalid public key, the quota), and the issue's `Keypair already
//! exists.` for a taken name. All conversions from `DomainError` are in [`TwccError::from_domain`].

use crate::domain::DomainError;
use actix_web::http::{Method, StatusCode};
use actix_web::HttpResponse;

/// One refusal of the TWCC front.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TwccError {
    /// 404: no such route, or no such key pair of the caller.
    NotFound,
    /// 401: no `x-api-key` header (DRF `NotAuthenticated`). 401, not DRF's fallback 403: TWCC's
    /// own Terraform provider reads a 401 from the gateway as "Unauthorized API Key".
    NotAuthenticated,
    /// 401: an API key novakeys does not know, or whose user or project is gone or disabled
    /// (DRF `AuthenticationFailed`).
    BadApiKey,
    /// 400: no `x-api-host` header: the gateway cannot tell which site's API is meant.
    NoSite,
    /// 400: an `x-api-host` that is no site of this cloud.
    UnknownSite(String),
    /// 405 with `Allow`.
    MethodNotAllowed { method: Method, allow: &'static str },
    /// 415: a body in a media type DRF's parsers do not read.
    UnsupportedMediaType(String),
    /// 400: a body that is not JSON (the text after DRF's `JSON parse error - `).
    Parse(String),
    /// 400: a body over the front's limit, refused without reading it.
    TooLarge { limit: usize },
    /// 400: a field the serializer refuses (`field: reason`), or a public key Nova refuses.
    Invalid(String),
    /// 400: the caller already has a key pair of that name.
    Duplicate,
    /// 403: a reader's key, or a key pair of another owner.
    PermissionDenied,
    /// 403: the owner's key pair quota is used up (Nova's text).
    QuotaExceeded,
    /// 409: an injected conflict (a real duplicate is a 400).
    Conflict,
    /// 429 (injected): DRF's throttle answer, with `Retry-After`.
    Throttled { wait: u64 },
    /// 503 (injected), with `Retry-After`.
    Unavailable { wait: u64 },
    /// 500: something broke inside novakeys (the text is for the log, never for clients).
    Internal(String),
    /// Any other injected status, with its reason phrase as the detail.
    Status(u16),
}

/// Nova's text for a public key it cannot fingerprint, passed through by the VCS API.
pub const INVALID_KEY: &str = "Keypair data is invalid: failed to generate fingerprint";

/// DRF `ValidationError`'s default text.
pub const INVALID_INPUT: &str = "Invalid input.";

impl TwccError {
    pub fn status(&self) -> StatusCode {
        let code = match self {
            TwccError::NotFound => 404,
            TwccError::NotAuthenticated | TwccError::BadApiKey => 401,
            TwccError::NoSite
            | TwccError::UnknownSite(_)
            | TwccError::Parse(_)
            | TwccError::TooLarge { .. }
            | TwccError::Invalid(_)
            | TwccError::Duplicate => 400,
            TwccError::MethodNotAllowed { .. } => 405,
            TwccError::UnsupportedMediaType(_) => 415,
            TwccError::PermissionDenied | TwccError::QuotaExceeded => 403,
            TwccError::Conflict => 409,
            TwccError::Throttled { .. } => 429,
            TwccError::Unavailable { .. } => 503,
            TwccError::Internal(_) => 500,
            TwccError::Status(s) => *s,
        };
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn detail(&self) -> String {
        match self {
            TwccError::NotFound => "Not found.".into(),
            TwccError::NotAuthenticated => "Authentication credentials were not provided.".into(),
            TwccError::BadApiKey => "Incorrect authentication credentials.".into(),
            TwccError::NoSite => "The x-api-host header is required.".into(),
            TwccError::UnknownSite(site) => format!("Unknown x-api-host \"{site}\"."),
            TwccError::MethodNotAllowed { method, .. } => {
                format!("Method \"{method}\" not allowed.")
            }
            TwccError::UnsupportedMediaType(t) => {
                format!("Unsupported media type \"{t}\" in request.")
            }
            TwccError::Parse(why) => format!("JSON parse error - {why}"),
            TwccError::TooLarge { limit } => {
                format!("Request body exceeded the limit of {limit} bytes.")
            }
            TwccError::Invalid(why) => why.clone(),
            TwccError::Duplicate | TwccError::Conflict => "Keypair already exists.".into(),
            TwccError::PermissionDenied => {
                "You do not have permission to perform this action.".into()
            }
            TwccError::QuotaExceeded => "Quota exceeded, too many key pairs.".into(),
            TwccError::Throttled { wait } => format!(
                "Request was throttled. Expected available in {wait} second{}.",
                if *wait == 1 { "" } else { "s" }
            ),
            TwccError::Unavailable { .. } => {
                "Service temporarily unavailable, try again later.".into()
            }
            TwccError::Internal(_) => "A server error occurred.".into(),
            TwccError::Status(s) => StatusCode::from_u16(*s)
                .ok()
                .and_then(|c| c.canonical_reason())
                .unwrap_or("Error")
                .to_string(),
        }
    }

    /// The answer: `{"detail": ...}` as DRF's JSON renderer writes it (compact, UTF-8).
    pub fn response(&self) -> HttpResponse {
        if let TwccError::Internal(why) = self {
            log::error!("twcc internal error: {why}");
        }
        let mut b = HttpResponse::build(self.status());
        b.content_type("application/json");
        match self {
            TwccError::MethodNotAllowed { allow, .. } => {
                b.insert_header(("Allow", *allow));
            }
            TwccError::Throttled { wait } | TwccError::Unavailable { wait } => {
                b.insert_header(("Retry-After", wait.to_string()));
            }
            _ => {}
        }
        b.body(serde_json::json!({ "detail": self.detail() }).to_string())
    }

    /// The front's one table from domain refusals.
    pub fn from_domain(e: DomainError) -> TwccError {
        match e {
            DomainError::NotFound => TwccError::NotFound,
            DomainError::Duplicate => TwccError::Duplicate,
            DomainError::QuotaExceeded { .. } => TwccError::QuotaExceeded,
            DomainError::InvalidKey(_) => TwccError::Invalid(INVALID_KEY.into()),
            DomainError::Forbidden => TwccError::PermissionDenied,
            // This front deletes with Nova's rule (bound or not) and never pages by marker.
            DomainError::InUse => TwccError::Internal("key pair is bound".into()),
            DomainError::InvalidPage => TwccError::Internal("marker page".into()),
            DomainError::SameKey { .. } => TwccError::Internal("same key refused".into()),
            DomainError::Invalid(why) | DomainError::Internal(why) => TwccError::Internal(why),
            DomainError::Unavailable(why) => {
                log::warn!("twcc unavailable: {why}");
                TwccError::Unavailable { wait: 1 }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_is_a_drf_detail_body() {
        let all = [
            TwccError::NotFound,
            TwccError::NotAuthenticated,
            TwccError::BadApiKey,
            TwccError::NoSite,
            TwccError::UnknownSite("x".into()),
            TwccError::MethodNotAllowed {
                method: Method::PUT,
                allow: "GET, POST, HEAD",
            },
            TwccError::UnsupportedMediaType("text/plain".into()),
            TwccError::Parse("Expecting value: line 1 column 1 (char 0)".into()),
            TwccError::TooLarge { limit: 10 },
            TwccError::Invalid("name: This field is required.".into()),
            TwccError::Duplicate,
            TwccError::PermissionDenied,
            TwccError::QuotaExceeded,
            TwccError::Conflict,
            TwccError::Throttled { wait: 2 },
            TwccError::Unavailable { wait: 1 },
            TwccError::Internal("secret detail".into()),
            TwccError::Status(418),
        ];
        for e in all {
            let d = e.detail();
            assert!(!d.is_empty(), "{e:?}");
            assert!(!d.contains("secret"), "internal details stay in the log");
            assert!(e.status().as_u16() >= 400, "{e:?}");
        }
        assert_eq!(TwccError::NotFound.detail(), "Not found.");
        assert_eq!(TwccError::Duplicate.detail(), "Keypair already exists.");
        assert_eq!(TwccError::Duplicate.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            TwccError::Throttled { wait: 1 }.detail(),
            "Request was throttled. Expected available in 1 second."
        );
        assert_eq!(TwccError::Status(418).detail(), "I'm a teapot");
    }

    #[test]
    fn domain_refusals_map_to_twcc_answers() {
        let m = |e| TwccError::from_domain(e);
        assert_eq!(m(DomainError::NotFound), TwccError::NotFound);
        assert_eq!(m(DomainError::Duplicate), TwccError::Duplicate);
        assert_eq!(
            m(DomainError::QuotaExceeded { limit: 1 }),
            TwccError::QuotaExceeded
        );
        assert_eq!(
            m(DomainError::InvalidKey(crate::keys::KeyError::InvalidSsh)),
            TwccError::Invalid(INVALID_KEY.into())
        );
        assert_eq!(m(DomainError::Forbidden), TwccError::PermissionDenied);
        assert_eq!(
            m(DomainError::Internal("x".into())).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
