//! Injected faults (`POST /_novakeys/faults`) as Keystone's own error answers (Flask's
//! `jsonify` body, `WWW-Authenticate` on a 401, a request id like every answer).

use super::error::AUTH_REQUIRED;
use super::KeystoneFront;
use crate::http::Injected;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

fn reason(status: u16) -> &'static str {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}

pub fn render(front: &KeystoneFront, req: &HttpRequest, injected: &Injected) -> HttpResponse {
    let status = injected.status;
    let message = match status {
        400 => "The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.",
        401 => AUTH_REQUIRED,
        403 => "You are not authorized to perform the requested action.",
        404 => "The resource could not be found.",
        409 => "Conflict occurred attempting to store resource - Duplicate entry.",
        500 => "An unexpected error prevented the server from fulfilling your request.",
        503 => "The server is currently unavailable. Please try again at a later time.",
        s => reason(s),
    };
    // Flask's jsonify: compact, sorted keys, trailing newline.
    let body = format!(
        "{}\n",
        json!({"error": {"code": status, "message": message, "title": reason(status)}})
    );
    let mut b = HttpResponse::build(
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
    );
    b.insert_header(("Content-Type", "application/json"));
    if status == 429 || status == 503 {
        b.insert_header(("Retry-After", injected.retry_after.to_string()));
    }
    if status == 401 {
        b.insert_header((
            "WWW-Authenticate",
            format!("Keystone uri=\"{}/v3\"", front.settings.identity.base(req)),
        ));
    }
    b.insert_header((
        "x-openstack-request-id",
        front.identity.determinism().request_id(),
    ));
    b.body(body)
}
