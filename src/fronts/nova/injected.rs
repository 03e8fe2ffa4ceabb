//! Injected faults (`POST /_novakeys/faults`) as Nova's own answers: its wsgi `Fault` bodies,
//! keystonemiddleware's 401, request ids and version headers like every compute answer.

use super::auth::unauthorized;
use super::fault::Fault;
use super::microversion::{API_VERSION_HEADER, NOVA_VERSION_HEADER};
use super::pipeline::stamp_request_id;
use super::NovaFront;
use crate::http::{Described, Injected};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

fn reason(status: u16) -> &'static str {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}

/// The named fault a bare status stands for.
fn default_name(status: u16, method: &str, path: &str) -> &'static str {
    match status {
        400 => "invalid_key",
        401 => "token_expired",
        403 if method == "POST" && path.ends_with("os-keypairs") => "quota_exceeded",
        403 => "forbidden",
        404 => "not_found",
        409 => "conflict",
        429 => "rate_limited",
        500 => "compute_fault",
        503 => "service_unavailable",
        _ => "",
    }
}

pub fn render(
    front: &NovaFront,
    req: &HttpRequest,
    path: &str,
    injected: &Injected,
    facts: &Described,
) -> HttpResponse {
    let status = injected.status;
    let mut resp = if status == 401 {
        unauthorized(front, req)
    } else {
        let method = req.method().as_str();
        let name = injected
            .fault
            .as_deref()
            .unwrap_or_else(|| default_name(status, method, path));
        let keypair = facts.name.clone().unwrap_or_else(|| "unknown".into());
        let user = facts.user_id.clone().unwrap_or_default();
        let fault = match name {
            "invalid_key" => Some(Fault::BadRequest(
                "Keypair data is invalid: failed to generate fingerprint".into(),
            )),
            "bad_request" => Some(Fault::BadRequest("Invalid input received.".into())),
            "quota_exceeded" => Some(Fault::Forbidden(
                "Quota exceeded, too many key pairs.".into(),
            )),
            "forbidden" => Some(Fault::policy(match method {
                "POST" => "create",
                "DELETE" => "delete",
                _ if facts.name.is_some() => "show",
                _ => "index",
            })),
            "not_found" if facts.name.is_some() => Some(Fault::keypair_not_found(&keypair, &user)),
            "not_found" => Some(Fault::NotFound("The resource could not be found.".into())),
            "conflict" => Some(Fault::Conflict(format!(
                "Key pair '{keypair}' already exists."
            ))),
            "compute_fault" | "internal_error" => Some(Fault::Internal("injected fault".into())),
            _ => None,
        };
        let body = match fault {
            Some(f) if f.status_and_name().0.as_u16() == status => {
                let (s, n) = f.status_and_name();
                json!({ n: { "code": s.as_u16(), "message": f.message() } })
            }
            _ => {
                // nova/api/openstack/wsgi.py Fault._fault_names
                let n = match status {
                    400 => "badRequest",
                    401 => "unauthorized",
                    403 => "forbidden",
                    404 => "itemNotFound",
                    405 => "badMethod",
                    409 => "conflictingRequest",
                    413 | 429 => "overLimit",
                    415 => "badMediaType",
                    501 => "notImplemented",
                    503 => "serviceUnavailable",
                    _ => "computeFault",
                };
                let message = match status {
                    429 => "This request was rate-limited.".to_string(),
                    503 => "The server is currently unavailable. Please try again at a later time."
                        .to_string(),
                    500 => Fault::Internal(String::new()).message(),
                    s => reason(s).to_string(),
                };
                let mut inner = json!({ "code": status, "message": message });
                if status == 429 || status == 413 {
                    inner["retryAfter"] = json!(injected.retry_after.to_string());
                }
                json!({ n: inner })
            }
        };
        let mut b = HttpResponse::build(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        );
        b.insert_header(("Content-Type", "application/json; charset=UTF-8"));
        if status == 429 || status == 503 {
            b.insert_header(("Retry-After", injected.retry_after.to_string()));
        }
        b.body(crate::pycompat::pyjson::to_vec(&body))
    };
    stamp_request_id(&mut resp, &front.det.request_id());
    // The version asked for (without `Vary`, as injected answers always carried them).
    if let Some(v) = &facts.version {
        let mut put = |name: &HeaderName, value: String| {
            if let Ok(h) = HeaderValue::from_str(&value) {
                resp.headers_mut().insert(name.clone(), h);
            }
        };
        put(&API_VERSION_HEADER, format!("compute {v}"));
        put(&NOVA_VERSION_HEADER, v.clone());
    }
    resp
}
