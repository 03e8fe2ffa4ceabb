//! # Who signed a request, checked as Alibaba's gateway checks it
//!
//! An `Authorization: ACS3-HMAC-SHA256 …` header means ACS3; otherwise the query's
//! `AccessKeyId`/`Signature` mean RPC v1. Then, in order: the access key must resolve (to a
//! user in a project, `CredentialService`), the timestamp must be within 15 minutes of the
//! novakeys clock, the signature must be exactly the one the secret gives. The nonce is
//! checked last, by the handler (`Nonces`), so only signed requests are remembered.

use super::errors::AliError;
use super::request::Params;
use super::signature;
use crate::domain::credentials::Resolved;
use actix_web::HttpRequest;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// How far a request's time may be from the novakeys clock.
const MAX_SKEW_SECONDS: i64 = 15 * 60;

/// The access key of every Alibaba credential.
const CLOUD: &str = "alibaba";

/// A request whose signature checked out.
#[derive(Debug)]
pub struct Authenticated {
    pub resolved: Arc<Resolved>,
    pub access: String,
    /// `SignatureNonce` / `x-acs-signature-nonce`, for the replay check.
    pub nonce: String,
}

fn header_values(req: &HttpRequest, name: &str) -> Vec<String> {
    req.headers()
        .get_all(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect()
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// `yyyy-MM-ddTHH:mm:ssZ` (fractions of a second allowed, as the gateway takes them), within
/// 15 minutes of `now`.
fn check_time(value: Option<&str>, name: &str, now: DateTime<Utc>) -> Result<(), AliError> {
    let value = value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AliError::missing(name))?;
    if !value.ends_with('Z') {
        return Err(AliError::timestamp_format());
    }
    let t = DateTime::parse_from_rfc3339(value).map_err(|_| AliError::timestamp_format())?;
    if (now - t.with_timezone(&Utc)).num_seconds().abs() > MAX_SKEW_SECONDS {
        return Err(AliError::timestamp_expired());
    }
    Ok(())
}

fn resolve(
    credentials: &crate::domain::credentials::CredentialService,
    access: &str,
) -> Result<Arc<Resolved>, AliError> {
    credentials
        .resolve(CLOUD, access)
        .map_err(AliError::from_domain)?
        .ok_or_else(AliError::unknown_access_key)
}

/// Checks the signature of `req` (with its decoded `params` and raw `body`).
pub fn authenticate(
    credentials: &crate::domain::credentials::CredentialService,
    now: DateTime<Utc>,
    req: &HttpRequest,
    params: &Params,
    body: &[u8],
) -> Result<Authenticated, AliError> {
    match header(req, "authorization") {
        Some(value) => acs3(credentials, now, req, value, params, body),
        None if req.headers().contains_key("authorization") => {
            Err(AliError::incomplete_signature(None))
        }
        None => rpc(credentials, now, req, params),
    }
}

fn acs3(
    credentials: &crate::domain::credentials::CredentialService,
    now: DateTime<Utc>,
    req: &HttpRequest,
    value: &str,
    params: &Params,
    body: &[u8],
) -> Result<Authenticated, AliError> {
    let (auth, problem) = match signature::parse_authorization(value) {
        Ok(a) => (a, None),
        Err((p, Some(a))) => (a, Some(p)),
        Err((_, None)) => return Err(AliError::incomplete_signature(None)),
    };
    let body_hash = signature::sha256_hex(body);
    let sent_hash = header(req, "x-acs-content-sha256");
    let canonical = signature::acs3_canonical_request(
        req.method().as_str(),
        req.uri().path(),
        params.query.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &auth.signed_headers,
        |name| header_values(req, name),
        sent_hash.unwrap_or(&body_hash),
    );
    let sts = signature::acs3_string_to_sign(&canonical);
    if problem.is_some() {
        return Err(AliError::incomplete_signature(Some(&sts)));
    }
    let resolved = resolve(credentials, &auth.credential)?;
    check_time(header(req, "x-acs-date"), "x-acs-date", now)?;
    let nonce = header(req, "x-acs-signature-nonce")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| AliError::missing("x-acs-signature-nonce"))?;
    // Host and every x-acs-* header must be signed (Alibaba's rule, and what the routing and
    // these checks read), or a signed request could be altered on the way.
    let unsigned = req
        .headers()
        .keys()
        .map(|k| k.as_str())
        .filter(|k| *k == "host" || k.starts_with("x-acs-"))
        .any(|k| !auth.signed_headers.iter().any(|s| s == k));
    if unsigned || !auth.signed_headers.iter().any(|s| s == "host") {
        return Err(AliError::incomplete_signature(Some(&sts)));
    }
    if sent_hash.is_some_and(|h| !h.eq_ignore_ascii_case(&body_hash))
        || !signature::acs3_verify(&resolved.secret, &sts, &auth.signature)
    {
        return Err(AliError::signature_mismatch(&sts));
    }
    Ok(Authenticated {
        resolved,
        access: auth.credential,
        nonce: nonce.to_string(),
    })
}

fn rpc(
    credentials: &crate::domain::credentials::CredentialService,
    now: DateTime<Utc>,
    req: &HttpRequest,
    params: &Params,
) -> Result<Authenticated, AliError> {
    let access = params.required("AccessKeyId")?;
    let sts = signature::rpc_string_to_sign(req.method().as_str(), params.all());
    let given = params
        .get("Signature")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AliError::incomplete_signature(Some(&sts)))?;
    if params.required("SignatureMethod")? != "HMAC-SHA1" {
        return Err(AliError::invalid("SignatureMethod"));
    }
    if params.required("SignatureVersion")? != "1.0" {
        return Err(AliError::invalid("SignatureVersion"));
    }
    let resolved = resolve(credentials, access)?;
    check_time(params.get("Timestamp"), "Timestamp", now)?;
    let nonce = params.required("SignatureNonce")?;
    if !signature::rpc_verify(&resolved.secret, &sts, given) {
        return Err(AliError::signature_mismatch(&sts));
    }
    Ok(Authenticated {
        resolved,
        access: access.to_string(),
        nonce: nonce.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        let now = DateTime::parse_from_rfc3339("2026-12-02T11:23:44Z")
            .unwrap()
            .with_timezone(&Utc);
        let check = |v: Option<&str>| check_time(v, "Timestamp", now).map_err(|e| e.code);
        assert_eq!(check(Some("2026-12-02T11:23:44Z")), Ok(()));
        assert_eq!(
            check(Some("2026-12-02T11:38:44Z")),
            Ok(()),
            "15 minutes ahead"
        );
        assert_eq!(check(Some("2026-12-02T11:08:44.973Z")), Ok(()), "fractions");
        assert_eq!(
            check(Some("2026-12-02T11:38:45Z")),
            Err("InvalidTimeStamp.Expired")
        );
        assert_eq!(
            check(Some("2026-12-02T11:08:43Z")),
            Err("InvalidTimeStamp.Expired")
        );
        for bad in [
            "2026-12-02 11:23:44",
            "2026-12-02T11:23:44+08:00",
            "yesterday",
            "2026-13-02T11:23:44Z",
        ] {
            assert_eq!(check(Some(bad)), Err("InvalidTimeStamp.Format"), "{bad}");
        }
        assert_eq!(check(None), Err("MissingParameter"));
        assert_eq!(check(Some("")), Err("MissingParameter"));
    }
}
