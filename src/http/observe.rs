//! # The observe hook: journal, metrics and fault injection around every API call
//!
//! A middleware around each listener's app. For a request that belongs to a front (not the
//! controls, health or metrics) it asks the front who the request is from, applies the fault
//! rules (answering an armed fault with the front's own error), calls the front, and records
//! the call in the journal and the metrics. The journal gets no headers (tokens, API keys,
//! cookies and signatures travel there); the query string and both bodies go through its
//! redaction (`control::journal`).

use super::front::{Injected, Mounted, NoSecrets};
use super::request_log;
use super::spliced::Spliced;
use crate::control::{faults, is_control_path, journal, metrics, Control, FAULT_HEADER};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::HttpMessage;
use futures_util::StreamExt;
use std::time::Instant;

/// Reads up to `limit + 1` bytes of the body and puts them back for the front.
async fn buffer_body(req: &mut ServiceRequest, limit: usize) -> Vec<u8> {
    let declared = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Vec::new();
    }
    let mut payload = req.take_payload();
    let mut body = Vec::new();
    let mut error = None;
    while let Some(chunk) = payload.next().await {
        match chunk {
            Ok(c) => {
                body.extend_from_slice(&c);
                if body.len() > limit {
                    break;
                }
            }
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    // The front reads the same stream: what was read, any error, then the unread rest.
    let mut head: Vec<Result<web::Bytes, actix_http::error::PayloadError>> =
        vec![Ok(web::Bytes::from(body.clone()))];
    if let Some(e) = error {
        head.push(Err(e));
    }
    let stream: actix_http::BoxedPayloadStream =
        Box::pin(futures_util::stream::iter(head).chain(payload));
    req.set_payload(actix_http::Payload::from(stream));
    body
}

fn stamp_fault(res: &mut actix_web::HttpResponse, id: &str) {
    if let Ok(v) = HeaderValue::from_str(id) {
        res.headers_mut()
            .insert(HeaderName::from_static(FAULT_HEADER), v);
    }
}

/// The middleware (install with `actix_web::middleware::from_fn(observe)` on an app that has
/// `web::Data<Control>` and a [`Mounted`]).
pub async fn observe(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let control = req.app_data::<web::Data<Control>>().cloned();
    let mounted = req.app_data::<Mounted>().cloned();
    let (Some(control), Some(mounted)) = (control, mounted) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    if is_control_path(req.path()) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let Some((front, path)) = mounted
        .classify(req.path())
        .map(|(f, p)| (f.clone(), p.into_owned()))
    else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let started = Instant::now();
    let time = control.now();
    let body = buffer_body(&mut req, front.body_limit()).await;
    let method = req.method().clone();
    // Rules match on the request's facts; with no rule set (the usual case) only the caller
    // is worked out (the journal shows it).
    let armed = !control.faults.is_empty();
    // Before `describe`, which may verify a token: everything below sees other processes'
    // writes.
    control.catch_up().await;
    let described = front.describe(req.request(), &path, &body, armed);
    let fired = if !armed {
        None
    } else {
        let facts = faults::Facts {
            method: method.to_string(),
            path: path.clone(),
            name: described.name.clone(),
            user_id: described.user_id.clone(),
            project_id: described.project_id.clone(),
            microversion: described.version.clone(),
        };
        control.faults.check(&facts)
    };
    if let Some(f) = &fired {
        if let Some(ms) = f.spec.action.delay_ms {
            actix_web::rt::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
    }
    let res = match fired.as_ref().and_then(|f| f.spec.status().map(|s| (f, s))) {
        Some((f, status)) => {
            let injected = Injected {
                status,
                fault: f.spec.action.fault.clone(),
                retry_after: f.spec.action.retry_after.unwrap_or(1),
            };
            let mut resp = front.render_fault(req.request(), &path, &injected, &described);
            stamp_fault(&mut resp, &f.id);
            req.into_response(resp)
        }
        None => {
            let mut res = next.call(req).await?.map_into_boxed_body();
            if let Some(f) = &fired {
                if let Ok(v) = HeaderValue::from_str(&f.id) {
                    res.headers_mut()
                        .insert(HeaderName::from_static(FAULT_HEADER), v);
                }
            }
            res
        }
    };
    let (http_req, http_res) = res.into_parts();
    let (mut head, resp_body) = http_res.into_parts();
    let public = head.extensions().contains::<NoSecrets>();
    // An answer sent in parts (see `Spliced`) that holds no secret is journaled as its parts:
    // nothing is collected or copied. Any other body is taken as one buffer; one that already
    // is (most answers) is taken as it is: collecting it would copy it, and a list of key
    // pairs is 50 KB.
    let parts = head.extensions_mut().remove::<Spliced>().filter(|_| public);
    let (bytes, resp_body) = match parts {
        Some(_) => (Bytes::new(), resp_body),
        None => {
            let bytes = match resp_body.try_into_bytes() {
                Ok(bytes) => bytes,
                Err(body) => actix_web::body::to_bytes(body)
                    .await
                    .map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()))?,
            };
            (bytes.clone(), BoxBody::new(bytes))
        }
    };
    let sent_len = parts.as_ref().map_or(bytes.len(), Spliced::len);
    let status = head.status().as_u16();
    let version = front.answered_version(&http_req, &path, head.headers());
    let seconds = started.elapsed().as_secs_f64();
    let fault_id = fired.map(|f| f.id);
    let route_path = front.route_path(&http_req, &path);
    control.metrics.observe(metrics::Observation {
        api: front.name(),
        route_words: front.route_words(),
        path: route_path.as_deref().unwrap_or(&path),
        method: &method,
        status,
        microversion: version.as_deref().unwrap_or(""),
        seconds,
        token_issued: front.issued_token(&method, &path, status),
        fault: fault_id.as_deref(),
    });
    // The request's secrets, to be scrubbed from an error answer that echoes them.
    let (request_body, mut secrets) = journal::Body::request(body.into());
    let query = journal::redact_query_with(http_req.query_string(), &mut secrets);
    if request_log::enabled() {
        let client = http_req
            .peer_addr()
            .map_or_else(|| "-".to_string(), |a| a.to_string());
        let extensions = head.extensions();
        request_log::Line {
            front: front.name(),
            client: &client,
            method: method.as_str(),
            path: http_req.path(),
            query: &query,
            version: http_version(http_req.version()),
            status,
            bytes: sent_len,
            seconds,
            request_id: request_log::request_id(extensions.get(), head.headers()),
            user_id: described.user_id.as_deref().unwrap_or("-"),
            project_id: described.project_id.as_deref().unwrap_or("-"),
        }
        .write();
    }
    control.journal.record(journal::Entry {
        seq: 0,
        time,
        api: front.name(),
        user_id: described.user_id,
        project_id: described.project_id,
        microversion: version,
        method,
        path,
        query,
        status,
        duration_ms: seconds * 1000.0,
        request_body,
        response_body: match parts {
            Some(parts) => journal::Body::Parts(parts.into_parts()),
            None if public => journal::Body::as_sent(bytes),
            None => journal::Body::response(bytes, status, &secrets),
        },
        fault: fault_id,
    });
    let http_res = head.set_body(resp_body);
    Ok(ServiceResponse::new(http_req, http_res))
}

fn http_version(v: actix_web::http::Version) -> &'static str {
    use actix_web::http::Version;
    match v {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}
