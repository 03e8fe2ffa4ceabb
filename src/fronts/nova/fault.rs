//! # Compute API errors
//!
//! Mirrors nova/api/openstack/wsgi.py `Fault`: one enum, one table of status and fault name,
//! rendered as `{"<faultName>": {"code": N, "message": "..."}}` with
//! `application/json; charset=UTF-8`. All conversions from domain errors live here, with Nova's
//! exact texts. The plain webob errors (404 routing, 401 noauth, 413 size limit) are `WebobError`.

use super::microversion::{Microversion, VersionError};
use crate::domain::DomainError;
use crate::keys::{KeyError, X509Problem};
use crate::pycompat::jsonschema::ValidationFailure;
use crate::pycompat::pyjson;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::json;

/// A Nova fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    BadRequest(String),
    Forbidden(String),
    NotFound(String),
    Conflict(String),
    /// 406 for an unsupported microversion (`computeFault`, as Nova names it).
    NotAcceptable(String),
    UnsupportedMediaType,
    /// 500: something broke inside novakeys.
    Internal(String),
    /// 503: the store's database is away for now (the detail is for logs).
    Unavailable(String),
}

impl Fault {
    /// Status and fault name (the table from wsgi.py `Fault._fault_names`).
    pub fn status_and_name(&self) -> (StatusCode, &'static str) {
        match self {
            Fault::BadRequest(_) => (StatusCode::BAD_REQUEST, "badRequest"),
            Fault::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Fault::NotFound(_) => (StatusCode::NOT_FOUND, "itemNotFound"),
            Fault::Conflict(_) => (StatusCode::CONFLICT, "conflictingRequest"),
            Fault::NotAcceptable(_) => (StatusCode::NOT_ACCEPTABLE, "computeFault"),
            Fault::UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "badMediaType"),
            Fault::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "computeFault"),
            Fault::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "serviceUnavailable"),
        }
    }

    pub fn message(&self) -> String {
        match self {
            Fault::BadRequest(m) | Fault::Forbidden(m) | Fault::NotFound(m) | Fault::Conflict(m) => m.clone(),
            Fault::NotAcceptable(m) => m.clone(),
            Fault::UnsupportedMediaType => "Unsupported Content-Type".into(),
            // webob's HTTPServiceUnavailable explanation, as the injected 503 has it.
            Fault::Unavailable(_) => {
                "The server is currently unavailable. Please try again at a later time.".into()
            }
            Fault::Internal(_) => {
                "Unexpected API Error. Please contact the administrator\n<class 'novakeys.InternalError'>".into()
            }
        }
    }

    pub fn response(&self) -> HttpResponse {
        let (status, name) = self.status_and_name();
        match self {
            Fault::Internal(detail) => log::error!("compute internal error: {detail}"),
            Fault::Unavailable(detail) => log::warn!("compute unavailable: {detail}"),
            _ => {}
        }
        let body = json!({ name: { "code": status.as_u16(), "message": self.message() } });
        HttpResponse::build(status)
            .insert_header(("Content-Type", "application/json; charset=UTF-8"))
            .body(pyjson::to_vec(&body))
    }

    pub fn policy(action: &str) -> Fault {
        Fault::Forbidden(format!(
            "Policy doesn't allow os_compute_api:os-keypairs:{action} to be performed."
        ))
    }

    /// Nova's answer to a refused key pair call: the one table from `DomainError`. `name` is
    /// the key pair (or, for a list, the marker) and `user_id` the addressed user.
    pub fn keypair(e: DomainError, call: KeypairCall, name: &str, user_id: &str) -> Fault {
        match e {
            DomainError::Forbidden => Fault::policy(call.policy_name()),
            DomainError::NotFound => Fault::keypair_not_found(name, user_id),
            // Nova deletes bound key pairs (the instance keeps its key): never asked.
            DomainError::InUse => Fault::Internal(format!("key pair {name} is bound")),
            // Nova stores one public key under many names: never asked.
            DomainError::SameKey { id } => {
                Fault::Internal(format!("key pair {name} refused as the same key as {id}"))
            }
            DomainError::Duplicate => Fault::Conflict(format!("Key pair '{name}' already exists.")),
            DomainError::QuotaExceeded { .. } => {
                Fault::Forbidden("Quota exceeded, too many key pairs.".into())
            }
            DomainError::InvalidPage => {
                Fault::BadRequest(format!("Marker {name} could not be found."))
            }
            DomainError::InvalidKey(k) => Fault::from(k),
            DomainError::Internal(detail) | DomainError::Invalid(detail) => Fault::Internal(detail),
            DomainError::Unavailable(detail) => Fault::Unavailable(detail),
        }
    }

    pub fn keypair_not_found(name: &str, user_id: &str) -> Fault {
        Fault::NotFound(format!("Keypair {name} not found for user {user_id}"))
    }
}

impl From<ValidationFailure> for Fault {
    fn from(v: ValidationFailure) -> Self {
        Fault::BadRequest(v.0)
    }
}

impl From<VersionError> for Fault {
    fn from(e: VersionError) -> Self {
        match e {
            VersionError::Malformed(v) => Fault::BadRequest(format!(
                "API Version String {v} is of invalid format. Must be of format MajorNum.MinorNum."
            )),
            VersionError::Unsupported(v) => Fault::NotAcceptable(format!(
                "Version {v} is not supported by the API. Minimum is {} and maximum is {}.",
                Microversion::MIN,
                Microversion::MAX
            )),
        }
    }
}

/// The texts Python's `cryptography` 43 gives for certificates it cannot load.
fn x509_detail(problem: &X509Problem) -> String {
    const PEM: &str = "Unable to load PEM file. See https://cryptography.io/en/latest/faq/#why-can-t-i-import-my-pem-file for more details.";
    match problem {
        X509Problem::MalformedFraming => format!("{PEM} MalformedFraming"),
        X509Problem::MissingBeginTag => format!("{PEM} MissingBeginTag"),
        X509Problem::MissingEndTag => format!("{PEM} MissingEndTag"),
        X509Problem::MismatchedTags(b, e) => format!("{PEM} MismatchedTags({b:?}, {e:?})"),
        X509Problem::MissingData => format!("{PEM} MissingData"),
        X509Problem::InvalidData(d) => format!("{PEM} InvalidData({d})"),
        X509Problem::InvalidHeader(h) => format!("{PEM} InvalidHeader({h:?})"),
        X509Problem::NotUtf8(u) => format!("{PEM} NotUtf8({u})"),
        X509Problem::NotACertificate => {
            "Valid PEM but no BEGIN CERTIFICATE/END CERTIFICATE delimiters. Are you sure this is a certificate?".into()
        }
        X509Problem::BadDer(detail) => format!("error parsing asn1 value: {detail}"),
        // cryptography raises InvalidVersion, which real Nova lets escape as a 500; we answer
        // the 400 its other certificate errors get, with cryptography's text.
        X509Problem::InvalidVersion(v) => format!("{v} is not a valid X509 version"),
    }
}

impl From<KeyError> for Fault {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::InvalidSsh => {
                Fault::BadRequest("Keypair data is invalid: failed to generate fingerprint".into())
            }
            KeyError::InvalidX509(problem) => Fault::BadRequest(format!(
                "Keypair data is invalid: failed to generate X509 fingerprint. Error message: {}",
                x509_detail(&problem)
            )),
            KeyError::Generation(detail) => {
                Fault::Internal(format!("key generation failed: {detail}"))
            }
        }
    }
}

impl From<crate::store::StoreError> for Fault {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Unavailable(detail) => Fault::Unavailable(detail),
            e => Fault::Internal(format!("store: {e}")),
        }
    }
}

/// The key pair actions Nova names in its policy (`os_compute_api:os-keypairs:<name>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeypairCall {
    Index,
    Create,
    Show,
    Delete,
}

impl KeypairCall {
    fn policy_name(self) -> &'static str {
        match self {
            KeypairCall::Index => "index",
            KeypairCall::Create => "create",
            KeypairCall::Show => "show",
            KeypairCall::Delete => "delete",
        }
    }
}

/// webob's plain `HTTPException` bodies, negotiated on `Accept` like webob 1.8 does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebobError {
    NotFound,
    Unauthorized,
    TooLarge,
}

impl WebobError {
    fn parts(self) -> (StatusCode, &'static str, &'static str) {
        match self {
            WebobError::NotFound => (StatusCode::NOT_FOUND, "Not Found", "The resource could not be found."),
            WebobError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "This server could not verify that you are authorized to access the document you requested. Either you supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the credentials required.",
            ),
            WebobError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request Entity Too Large",
                "Request is too large. Larger than max_request_body_size (%s).",
            ),
        }
    }

    /// Renders the error for a request with this `Accept` header and method.
    pub fn response(self, accept: Option<&str>, method_is_head: bool) -> HttpResponse {
        let (status, title, explanation) = self.parts();
        let status_line = format!("{} {}", status.as_u16(), title);
        if method_is_head {
            // webob answers HEAD with its default (empty) Response.
            return HttpResponse::build(status)
                .content_type("text/html; charset=UTF-8")
                .finish();
        }
        let body = format!("{explanation}<br /><br />\n\n\n");
        match accept_offer(accept.unwrap_or("")) {
            Offer::Html => HttpResponse::build(status).content_type("text/html; charset=UTF-8").body(format!(
                "<html>\n <head>\n  <title>{status_line}</title>\n </head>\n <body>\n  <h1>{status_line}</h1>\n  {body}\n </body>\n</html>"
            )),
            Offer::Json => HttpResponse::build(status)
                .content_type("application/json")
                .body(pyjson::to_vec(&json!({"message": body, "code": status_line, "title": title}))),
            Offer::Plain => HttpResponse::build(status)
                .content_type("text/plain; charset=UTF-8")
                .body(format!("{status_line}\n\n{explanation}\n\n   ")),
        }
    }
}

enum Offer {
    Html,
    Json,
    Plain,
}

/// webob `acceptable_offers(['text/html', 'application/json'])[0]`, or plain text.
fn accept_offer(accept: &str) -> Offer {
    let mut best: Option<(f32, usize, Offer)> = None;
    for (index, offer) in [("text", "html"), ("application", "json")]
        .iter()
        .enumerate()
    {
        let mut q_for_offer: Option<(f32, u8)> = None; // (q, specificity)
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let Some((t, s)) = media.split_once('/') else {
                continue;
            };
            let mut q = 1.0f32;
            for p in parts {
                if let Some(v) = p.trim().strip_prefix("q=") {
                    q = v.trim().parse().unwrap_or(0.0);
                }
            }
            let specificity = match (t == offer.0 || t == "*", s == offer.1 || s == "*") {
                (true, true) if t == "*" => 0,
                (true, true) if s == "*" => 1,
                (true, true) => 2,
                _ => continue,
            };
            if q_for_offer.is_none_or(|(_, sp)| specificity > sp) {
                q_for_offer = Some((q, specificity));
            }
        }
        if let Some((q, _)) = q_for_offer.filter(|(q, _)| *q > 0.0) {
            let candidate = if index == 0 { Offer::Html } else { Offer::Json };
            if best.as_ref().is_none_or(|(bq, _, _)| q > *bq) {
                best = Some((q, index, candidate));
            }
        }
    }
    best.map(|(_, _, o)| o).unwrap_or(Offer::Plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_negotiation_like_webob() {
        assert!(matches!(accept_offer(""), Offer::Plain));
        assert!(matches!(accept_offer("text/plain"), Offer::Plain));
        assert!(matches!(accept_offer("application/json"), Offer::Json));
        assert!(matches!(accept_offer("*/*"), Offer::Html));
        assert!(matches!(
            accept_offer("text/html;q=0.5, application/json"),
            Offer::Json
        ));
        assert!(matches!(accept_offer("application/*"), Offer::Json));
    }
}
