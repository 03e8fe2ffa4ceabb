//! # Tencent Cloud API 3.0 errors
//!
//! Every answer, error or not, is HTTP 200 with `Content-Type: application/json` exactly (the
//! Python SDK looks for `Error` only under that type, and turns any other status into a
//! `ServerNetworkError`): `{"Response": {"Error": {"Code", "Message"}, "RequestId"}}`. The one
//! table from `DomainError` is [`TcError::domain`]; injected faults are [`injected`].

use crate::domain::DomainError;
use crate::http::{Injected, Spliced};
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use serde_json::{json, Map, Value};

/// One Tencent error: its code and its English message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcError {
    pub code: &'static str,
    pub message: String,
}

/// What a refused key pair call was about, for the messages of the domain table.
#[derive(Debug, Clone, Copy, Default)]
pub struct About<'a> {
    pub key_id: &'a str,
    pub key_name: &'a str,
}

impl TcError {
    pub fn new(code: &'static str, message: impl Into<String>) -> TcError {
        TcError {
            code,
            message: message.into(),
        }
    }

    pub fn missing(name: &str) -> TcError {
        TcError::new(
            "MissingParameter",
            format!("The request is missing a required parameter `{name}`."),
        )
    }

    pub fn unknown_parameter(name: &str) -> TcError {
        TcError::new(
            "UnknownParameter",
            format!("The parameter `{name}` is not recognized."),
        )
    }

    /// A value of the wrong type (`what`: `Integer`, `String`, `Boolean`, `Array`, `Object`).
    pub fn wrong_type(name: &str, what: &str) -> TcError {
        TcError::new(
            "InvalidParameter",
            format!("The parameter `{name}` must be of type {what}."),
        )
    }

    pub fn invalid_value(message: impl Into<String>) -> TcError {
        TcError::new("InvalidParameterValue", message)
    }

    pub fn key_id_malformed(id: &str) -> TcError {
        TcError::new(
            "InvalidKeyPairId.Malformed",
            format!("The key pair id `{id}` is malformed; key pair ids look like `skey-11112222`."),
        )
    }

    pub fn key_id_not_found(id: &str) -> TcError {
        TcError::new(
            "InvalidKeyPairId.NotFound",
            format!("The key pair `{id}` does not exist."),
        )
    }

    pub fn name_duplicate(name: &str) -> TcError {
        TcError::new(
            "InvalidKeyPairName.Duplicate",
            format!("The key pair name `{name}` already exists."),
        )
    }

    pub fn limit_exceeded(name: &str, max: usize) -> TcError {
        TcError::new(
            "InvalidParameterValue.LimitExceeded",
            format!("The parameter `{name}` accepts at most {max} values."),
        )
    }

    pub fn key_pair_in_use(id: &str) -> TcError {
        TcError::new(
            "InvalidParameterValue.KeyPairNotSupported",
            format!(
                "The key pair `{id}` is associated with an instance and does not support this operation."
            ),
        )
    }

    /// CAM's refusal, as real denials read (`cvm:<Action>` on the key pair resource).
    pub fn unauthorized(action: &str, region: &str, user_id: &str, request_id: &str) -> TcError {
        TcError::new(
            "AuthFailure.UnauthorizedOperation",
            format!(
                "You are not authorized to perform this operation. Check your CAM policies, and ensure that you are using the correct access keys. [request id:{request_id}]you are not authorized to perform operation (cvm:{action})\nresource (qcs::cvm:{region}:uin/{user_id}:keypair/*) has no permission"
            ),
        )
    }

    pub fn internal() -> TcError {
        TcError::new(
            "InternalError",
            "An internal error has occurred. Retry your request, but if the problem persists, contact us.",
        )
    }

    /// Tencent's answer to a refused domain call: the one table.
    pub fn domain(e: DomainError, about: About<'_>) -> TcError {
        match e {
            DomainError::NotFound => TcError::key_id_not_found(about.key_id),
            DomainError::Duplicate => TcError::name_duplicate(about.key_name),
            DomainError::QuotaExceeded { limit } => TcError::new(
                "InvalidKeyPair.LimitExceeded",
                format!("The number of key pairs has reached the quota of {limit}."),
            ),
            DomainError::InvalidKey(_) => TcError::new(
                "InvalidPublicKey.Malformed",
                "The public key is not a valid OpenSSH RSA public key.",
            ),
            DomainError::InUse => TcError::key_pair_in_use(about.key_id),
            DomainError::SameKey { id } => TcError::new(
                "InvalidPublicKey.Duplicate",
                format!(
                    "The public key is already used by the key pair `{}`.",
                    super::ids::key_id(id)
                ),
            ),
            DomainError::Forbidden => TcError::new(
                "AuthFailure.UnauthorizedOperation",
                "You are not authorized to perform this operation. Check your CAM policies, and ensure that you are using the correct access keys.",
            ),
            DomainError::Invalid(detail) => TcError::invalid_value(detail),
            DomainError::InvalidPage | DomainError::Internal(_) => {
                log::error!("tencent internal error: {e}");
                TcError::internal()
            }
            // The injected 503's code, in the HTTP 200 envelope like every Tencent error.
            DomainError::Unavailable(detail) => {
                log::warn!("tencent unavailable: {detail}");
                TcError::new(
                    "ResourceUnavailable",
                    "The resource is unavailable. Please try again later.",
                )
            }
        }
    }

    /// The error as Tencent answers it.
    pub fn response(&self, request_id: &str) -> HttpResponse {
        let body = json!({"Response": {
            "Error": {"Code": self.code, "Message": self.message},
            "RequestId": request_id,
        }});
        answer(body.to_string())
    }
}

/// What an action answers: the members of `Response` before its `RequestId`.
pub enum Fields {
    Members(Map<String, Value>),
    /// A JSON object already rendered from typed views (a listing, perhaps a cached one).
    Rendered(Bytes),
}

/// A successful answer: `fields` plus the request id, inside `Response`.
pub fn success(fields: Fields, request_id: &str) -> HttpResponse {
    match fields {
        Fields::Members(mut fields) => {
            fields.insert("RequestId".into(), Value::String(request_id.into()));
            answer(json!({ "Response": fields }).to_string())
        }
        Fields::Rendered(object) => {
            // The object's members, then the request id, inside `Response`: the members are
            // sent from the (cached) object itself, not copied (see `Spliced`).
            let members = match object.trim_ascii_end().strip_suffix(b"}") {
                Some(members) => object.slice(..members.len()),
                None => Bytes::from_static(b"{"),
            };
            let comma = if members.trim_ascii_end().ends_with(b"{") {
                ""
            } else {
                ","
            };
            let id = Value::String(request_id.into());
            let end = format!(r#"{comma}"RequestId":{id}}}}}"#);
            Spliced::new([
                Bytes::from_static(br#"{"Response":"#),
                members,
                Bytes::from(end),
            ])
            .respond(ok())
        }
    }
}

fn answer(body: impl actix_web::body::MessageBody + 'static) -> HttpResponse {
    ok().body(body)
}

/// HTTP 200 with Tencent's `Content-Type`, exactly.
fn ok() -> actix_web::HttpResponseBuilder {
    let mut ok = HttpResponse::Ok();
    ok.insert_header(("Content-Type", "application/json"));
    ok
}

/// An injected fault (`POST /_novakeys/faults`) as Tencent's own error, inside the HTTP 200
/// envelope like every other answer. Named faults pick the key pair error they stand for; a
/// bare status picks the common code of that class:
///
/// | status / fault | code |
/// |---|---|
/// | 400 `bad_request` / `invalid_key` | `InvalidParameter` / `InvalidPublicKey.Malformed` |
/// | 401 `token_expired` | `AuthFailure.SignatureExpire` (the client re-signs) |
/// | 403 `forbidden` / `quota_exceeded` | `AuthFailure.UnauthorizedOperation` / `InvalidKeyPair.LimitExceeded` |
/// | 404 `not_found` | `InvalidKeyPairId.NotFound` (a key pair named), else `ResourceNotFound` |
/// | 405 | `UnsupportedProtocol` |
/// | 409 `conflict` | `InvalidKeyPairName.Duplicate` |
/// | 413 | `RequestSizeLimitExceeded` |
/// | 429 `rate_limited` | `RequestLimitExceeded` |
/// | 503 `service_unavailable` | `ResourceUnavailable` |
/// | 500 `internal_error`, `compute_fault`, any other 5xx | `InternalError` |
/// | any other 4xx | `InvalidParameter` |
pub fn injected(
    fault: &Injected,
    action: &str,
    user_id: &str,
    key_name: Option<&str>,
    request_id: &str,
) -> TcError {
    let name = fault.fault.as_deref().unwrap_or("");
    let key = key_name.unwrap_or("");
    match (name, fault.status) {
        ("invalid_key", _) => TcError::domain(
            DomainError::InvalidKey(crate::keys::KeyError::InvalidSsh),
            About::default(),
        ),
        ("quota_exceeded", _) => TcError::new(
            "InvalidKeyPair.LimitExceeded",
            "The number of key pairs has reached the quota.",
        ),
        ("token_expired", _) | (_, 401) => TcError::new(
            "AuthFailure.SignatureExpire",
            "Signature expired. Timestamp and server time cannot differ by more than five minutes.",
        ),
        ("forbidden", _) | (_, 403) => {
            TcError::unauthorized(action, "ap-guangzhou", user_id, request_id)
        }
        (_, 404) if key_name.is_some() => TcError::new(
            "InvalidKeyPairId.NotFound",
            format!("The key pair `{key}` does not exist."),
        ),
        (_, 404) => TcError::new("ResourceNotFound", "The resource does not exist."),
        (_, 405) => TcError::new(
            "UnsupportedProtocol",
            "The HTTP request method is not supported; only GET and POST are.",
        ),
        (_, 409) => TcError::name_duplicate(key),
        (_, 413) => TcError::new(
            "RequestSizeLimitExceeded",
            "The request size exceeds the limit.",
        ),
        (_, 429) => TcError::new(
            "RequestLimitExceeded",
            "The request frequency exceeds the limit. Please reduce the frequency of calls.",
        ),
        (_, 503) => TcError::new(
            "ResourceUnavailable",
            "The resource is unavailable. Please try again later.",
        ),
        (_, s) if s >= 500 => TcError::internal(),
        _ => TcError::new("InvalidParameter", "The request parameters are invalid."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(r: HttpResponse) -> String {
        let b = actix_web::body::to_bytes(r.into_body()).await.unwrap();
        String::from_utf8(b.to_vec()).unwrap()
    }

    /// A pre-rendered object gets the request id spliced in exactly where the map form puts
    /// it, so a listing reads the same either way.
    #[actix_web::test]
    async fn a_rendered_object_answers_as_its_members_would() {
        for object in [
            json!({"TotalCount": 2, "KeyPairSet": [{"KeyId": "skey-1", "Tags": []}]}),
            json!({}),
        ] {
            let Value::Object(members) = object.clone() else {
                unreachable!()
            };
            let as_map = body(success(Fields::Members(members), "req-\"1\"")).await;
            let rendered = Bytes::from(object.to_string());
            let as_text = body(success(Fields::Rendered(rendered), "req-\"1\"")).await;
            assert_eq!(as_text, as_map);
            let v: Value = serde_json::from_str(&as_text).unwrap();
            assert_eq!(v["Response"]["RequestId"], "req-\"1\"");
        }
    }
}
