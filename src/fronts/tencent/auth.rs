//! # Who signed a request
//!
//! A SecretId is a credential of one user in one project (`CredentialService`); a request it
//! signs acts as that user there. Failures are reported in the order the stock clients were
//! seen to get them: an unknown SecretId first (`AuthFailure.SecretIdNotFound`), then a
//! timestamp more than five minutes from the novakeys clock (`AuthFailure.SignatureExpire`, so
//! `--clock` and `/_novakeys/clock` exercise it), then a wrong signature
//! (`AuthFailure.SignatureFailure`).

use super::errors::TcError;
use super::request::{header, Call, Mode};
use super::signature::{self, LegacyMethod, Tc3Input};
use super::TencentFront;
use crate::domain::credentials::Resolved;
use crate::domain::Principal;
use actix_web::HttpRequest;
use std::sync::Arc;

/// Tencent's window for `Timestamp`, either way.
const MAX_SKEW_SECONDS: i64 = 300;

/// The SecretId a request names, unverified (for the journal).
pub fn claimed_secret_id(req: &HttpRequest, call: &Call) -> Option<String> {
    match &call.mode {
        Mode::Tc3(a) => signature::parse_authorization(a).map(|a| a.secret_id),
        Mode::Legacy => call.form_value("SecretId").map(str::to_string),
    }
    .or_else(|| {
        // A TC3 header too malformed to parse may still name one after `Credential=`.
        let a = header(req, "authorization")?;
        let id = a.split("Credential=").nth(1)?.split('/').next()?;
        Some(id.to_string())
    })
}

fn resolve(front: &TencentFront, id: &str) -> Result<Arc<Resolved>, TcError> {
    match front.services.credentials.resolve("tencent", id) {
        Ok(Some(r)) => Ok(r),
        Ok(None) if !id.starts_with("AKID") => Err(TcError::new(
            "AuthFailure.InvalidSecretId",
            "Invalid key (not a TencentCloud API key type).",
        )),
        Ok(None) => Err(TcError::new(
            "AuthFailure.SecretIdNotFound",
            "The SecretId is not found, please ensure that your SecretId is correct.",
        )),
        Err(e) => Err(TcError::domain(e, Default::default())),
    }
}

fn check_timestamp(front: &TencentFront, name: &str, value: Option<&str>) -> Result<(), TcError> {
    let value = value.ok_or_else(|| TcError::missing(name))?;
    let ts: i64 = value.trim().parse().map_err(|_| {
        TcError::invalid_value(format!(
            "The parameter `{name}` must be a Unix timestamp in seconds."
        ))
    })?;
    let now = front.services.determinism.timestamp();
    if ts.abs_diff(now) > MAX_SKEW_SECONDS as u64 {
        return Err(TcError::new(
            "AuthFailure.SignatureExpire",
            format!("Signature expired. Timestamp and server time cannot differ by more than five minutes. Timestamp is {ts}, server time is {now}."),
        ));
    }
    Ok(())
}

fn signature_failure() -> TcError {
    TcError::new(
        "AuthFailure.SignatureFailure",
        "The provided credentials could not be validated. Please check your signature is correct.",
    )
}

/// The caller of `req`, once its signature holds.
pub fn authenticate(
    front: &TencentFront,
    req: &HttpRequest,
    call: &Call,
    body: &[u8],
) -> Result<Principal, TcError> {
    match &call.mode {
        Mode::Tc3(value) => tc3(front, req, call, value, body),
        Mode::Legacy => legacy(front, req, call),
    }
}

fn tc3(
    front: &TencentFront,
    req: &HttpRequest,
    call: &Call,
    value: &str,
    body: &[u8],
) -> Result<Principal, TcError> {
    let auth = signature::parse_authorization(value).ok_or_else(|| {
        TcError::new(
            "AuthFailure.InvalidAuthorization",
            "The Authorization header is not a valid TC3-HMAC-SHA256 authorization.",
        )
    })?;
    let resolved = resolve(front, &auth.secret_id)?;
    check_timestamp(front, "X-TC-Timestamp", call.timestamp.as_deref())?;
    let timestamp = call.timestamp.as_deref().unwrap_or("").trim();
    // The scope's date is the timestamp's UTC date, as every client derives it.
    let date_ok = timestamp
        .parse::<i64>()
        .ok()
        .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .is_some_and(|t| t.date_naive().to_string() == auth.date);
    let signs_basics = ["content-type", "host"]
        .iter()
        .all(|h| auth.signed_headers.iter().any(|s| s == h));
    if !date_ok || !signs_basics {
        return Err(signature_failure());
    }
    let get = call.method == actix_web::http::Method::GET;
    let unsigned = header(req, "x-tc-content-sha256") == Some("UNSIGNED-PAYLOAD");
    let payload_hash = signature::payload_hash(match (unsigned, get) {
        (true, _) => b"UNSIGNED-PAYLOAD".as_slice(),
        (false, true) => b"".as_slice(),
        (false, false) => body,
    });
    let query = if get { req.query_string() } else { "" };
    let host = header(req, "host").unwrap_or("");
    // Host as received (tccli signs `http://127.0.0.1:PORT`, its literal Host header); the
    // Node SDK signs the host without the port it sends, so that is tried second.
    let mut hosts = vec![host];
    if let Some((name, port)) = host.rsplit_once(':') {
        if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
            hosts.push(name);
        }
    }
    for host in hosts {
        let headers: Vec<(String, String)> = auth
            .signed_headers
            .iter()
            .map(|name| {
                let value = match name.as_str() {
                    "host" => host.to_string(),
                    other => req
                        .headers()
                        .get(other)
                        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                        .unwrap_or_default(),
                };
                (name.clone(), value)
            })
            .collect();
        let input = Tc3Input {
            method: call.method.as_str(),
            query,
            headers: &headers,
            payload_hash: &payload_hash,
            timestamp,
        };
        if signature::tc3_matches(&resolved.secret, &auth, &input, &auth.signature) {
            return Ok(resolved.principal.clone());
        }
    }
    Err(signature_failure())
}

fn legacy(front: &TencentFront, req: &HttpRequest, call: &Call) -> Result<Principal, TcError> {
    if header(req, "x-tc-action").is_some() {
        // The API 3.0 envelope without its Authorization header.
        return Err(TcError::new(
            "AuthFailure.InvalidAuthorization",
            "The Authorization header is missing.",
        ));
    }
    let params = call.form.as_deref().unwrap_or_default();
    let secret_id = call
        .form_value("SecretId")
        .ok_or_else(|| TcError::missing("SecretId"))?;
    let given = call
        .form_value("Signature")
        .ok_or_else(|| TcError::missing("Signature"))?;
    let method = LegacyMethod::parse(call.form_value("SignatureMethod")).ok_or_else(|| {
        TcError::invalid_value("The parameter `SignatureMethod` must be HmacSHA1 or HmacSHA256.")
    })?;
    if call.form_value("Nonce").is_none() {
        return Err(TcError::missing("Nonce"));
    }
    let resolved = resolve(front, secret_id)?;
    check_timestamp(front, "Timestamp", call.timestamp.as_deref())?;
    let host = header(req, "host").unwrap_or("");
    let text = signature::legacy_string_to_sign(call.method.as_str(), host, params);
    if signature::legacy_matches(method, &resolved.secret, &text, given) {
        Ok(resolved.principal.clone())
    } else {
        Err(signature_failure())
    }
}
