//! Request bodies with a size limit, refused without buffering what is over it.

use actix_web::http::header::CONTENT_LENGTH;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;

/// The body was over the limit (or broke off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge;

/// oslo.middleware sizelimit's default `max_request_body_size`, the OpenStack fronts' limit.
pub const OSLO_MAX_BODY: usize = 114_688;

/// Reads the whole body, refusing more than `limit` bytes (a declared `Content-Length` over it
/// is refused before reading anything).
pub async fn read_limited(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<Vec<u8>, TooLarge> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| l.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| TooLarge)?;
        if body.len() + chunk.len() > limit {
            return Err(TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
