//! Injected faults (`POST /_novakeys/faults`) as the TWCC front's own answers: the same
//! `{"detail": …}` bodies its real refusals have, so twcc-cli prints them as
//! `[TWCC-CLI] Error-<detail>` and never crashes on one.

use super::errors::{TwccError, INVALID_INPUT, INVALID_KEY};
use crate::http::{Described, Injected};
use actix_web::http::Method;

/// The TWCC error a fault rule's status or named fault stands for.
pub fn error(method: &Method, injected: &Injected, facts: &Described) -> TwccError {
    let wait = injected.retry_after;
    let named = injected.fault.as_deref().map(|f| match f {
        "invalid_key" => TwccError::Invalid(INVALID_KEY.into()),
        "bad_request" => TwccError::Invalid(INVALID_INPUT.into()),
        "token_expired" => TwccError::BadApiKey,
        "forbidden" => TwccError::PermissionDenied,
        "quota_exceeded" => TwccError::QuotaExceeded,
        "not_found" => TwccError::NotFound,
        "conflict" => TwccError::Conflict,
        "rate_limited" => TwccError::Throttled { wait },
        "service_unavailable" => TwccError::Unavailable { wait },
        _ => TwccError::Internal("injected fault".into()),
    });
    if let Some(e) = named {
        return e;
    }
    match injected.status {
        // A create's 400 is most often the taken name.
        400 if method == Method::POST && facts.name.is_some() => TwccError::Duplicate,
        400 => TwccError::Invalid(INVALID_INPUT.into()),
        401 => TwccError::BadApiKey,
        403 => TwccError::PermissionDenied,
        404 => TwccError::NotFound,
        405 => TwccError::MethodNotAllowed {
            method: method.clone(),
            allow: if facts.name.is_some() && method != Method::POST {
                "GET, DELETE, HEAD"
            } else {
                "GET, POST, HEAD"
            },
        },
        409 => TwccError::Conflict,
        429 => TwccError::Throttled { wait },
        500 => TwccError::Internal("injected fault".into()),
        503 => TwccError::Unavailable { wait },
        other => TwccError::Status(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn injected(status: u16, fault: Option<&str>) -> Injected {
        Injected {
            status,
            fault: fault.map(str::to_string),
            retry_after: 3,
        }
    }

    #[test]
    fn every_status_keeps_its_status_and_gets_a_detail() {
        let facts = Described::default();
        for status in 400..=599u16 {
            let e = error(&Method::GET, &injected(status, None), &facts);
            assert_eq!(e.status().as_u16(), status, "{e:?}");
            assert!(!e.detail().is_empty());
        }
        for (name, status) in crate::control::faults::NAMED {
            let e = error(&Method::POST, &injected(*status, Some(name)), &facts);
            assert_eq!(e.status().as_u16(), *status, "{name}");
        }
        let named = Described {
            name: Some("k1".into()),
            ..Default::default()
        };
        assert_eq!(
            error(&Method::POST, &injected(400, None), &named).detail(),
            "Keypair already exists."
        );
        assert_eq!(
            error(&Method::GET, &injected(429, None), &facts).detail(),
            "Request was throttled. Expected available in 3 seconds."
        );
    }
}
