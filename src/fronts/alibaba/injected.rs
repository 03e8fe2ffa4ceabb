//! Injected faults (`POST /_novakeys/faults`) as Alibaba's own error answers, with the rule's
//! status. A named fault picks its Alibaba code; a bare status the code Alibaba answers with
//! it: 400 `InvalidParameter`, 401 `InvalidSecurityToken.Expired` (Alibaba has no 401; the
//! nearest is an expired STS token), 403 `Forbidden.RAM`, 404 `InvalidKeyPairName.NotFound`
//! when the request names a key pair (else `InvalidAction.NotFound`), 409
//! `KeyPair.AlreadyExist`, 429 `Throttling.User` (with `Retry-After`), 500 `InternalError`,
//! 503 `ServiceUnavailable` (with `Retry-After`), any other 5xx `InternalError`, 4xx
//! `InvalidParameter`.

use super::errors::AliError;
use crate::http::{Described, Injected};
use actix_web::http::header::RETRY_AFTER;
use actix_web::HttpResponse;

fn code_for(fault: Option<&str>, status: u16, names_keypair: bool) -> (&'static str, String) {
    let named = match fault {
        Some("invalid_key") => Some(AliError::public_key_malformed()),
        Some("bad_request") => Some(AliError::new(
            400,
            "InvalidParameter",
            "The specified parameter is not valid.",
        )),
        Some("quota_exceeded") => Some(AliError::quota_exceeded()),
        Some("forbidden") => Some(AliError::forbidden()),
        Some("not_found") if names_keypair => Some(AliError::keypair_not_found()),
        Some("conflict") => Some(AliError::from_domain(crate::domain::DomainError::Duplicate)),
        Some("compute_fault" | "internal_error") => Some(AliError::internal()),
        _ => None,
    };
    if let Some(e) = named {
        return (e.code, e.message);
    }
    let e = match status {
        401 => AliError::new(
            401,
            "InvalidSecurityToken.Expired",
            "Specified SecurityToken is expired.",
        ),
        403 => AliError::forbidden(),
        404 if names_keypair => AliError::keypair_not_found(),
        404 => AliError::unknown_action(),
        409 => AliError::from_domain(crate::domain::DomainError::Duplicate),
        429 => AliError::new(
            429,
            "Throttling.User",
            "Request was denied due to user flow control.",
        ),
        503 => AliError::new(
            503,
            "ServiceUnavailable",
            "The request has failed due to a temporary failure of the server.",
        ),
        s if s >= 500 => AliError::internal(),
        _ => AliError::new(
            400,
            "InvalidParameter",
            "The specified parameter is not valid.",
        ),
    };
    (e.code, e.message)
}

pub fn render(fault: &Injected, facts: &Described, request_id: &str) -> HttpResponse {
    let (code, message) = code_for(fault.fault.as_deref(), fault.status, facts.name.is_some());
    let mut resp = AliError::new(fault.status, code, message).response(request_id);
    if matches!(fault.status, 429 | 503) {
        if let Ok(v) =
            actix_web::http::header::HeaderValue::from_str(&fault.retry_after.to_string())
        {
            resp.headers_mut().insert(RETRY_AFTER, v);
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_status_gets_an_alibaba_code() {
        let c = |f: Option<&str>, s: u16, named: bool| code_for(f, s, named).0;
        assert_eq!(c(None, 503, false), "ServiceUnavailable");
        assert_eq!(c(None, 500, false), "InternalError");
        assert_eq!(c(None, 502, false), "InternalError");
        assert_eq!(c(None, 403, false), "Forbidden.RAM");
        assert_eq!(c(None, 404, true), "InvalidKeyPairName.NotFound");
        assert_eq!(c(None, 404, false), "InvalidAction.NotFound");
        assert_eq!(c(None, 429, false), "Throttling.User");
        assert_eq!(c(None, 418, false), "InvalidParameter");
        assert_eq!(c(Some("quota_exceeded"), 403, false), "QuotaExceed.KeyPair");
        assert_eq!(
            c(Some("service_unavailable"), 503, false),
            "ServiceUnavailable"
        );
        assert_eq!(
            c(Some("invalid_key"), 400, false),
            "InvalidPublicKeyBody.Malformed"
        );
    }
}
