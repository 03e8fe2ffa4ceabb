//! # The request log: one line per API call, as operators read nova-api's
//!
//! Written by the observe hook for every call a front answers (the controls, `/healthcheck`
//! and `/metrics` are not API calls and are not logged), at `info` on target
//! `novakeys::request`, modelled on oslo's WSGI line:
//!
//! ```text
//! [req-… <user> <project>] compute 127.0.0.1:50312 "GET /v2.1/os-keypairs HTTP/1.1" status: 200 len: 1234 time: 0.000812
//! ```
//!
//! The query string is the journal's redacted one (signatures, access keys and tokens
//! masked); no header and no body is ever logged, so neither a private key nor a secret can
//! reach the log. `--log-format json` carries the same fields as typed members.

use super::front::RequestId;
use actix_web::http::header::HeaderMap;

pub const TARGET: &str = "novakeys::request";

/// Whether a line would be written (when not, none is formatted).
pub fn enabled() -> bool {
    log::log_enabled!(target: TARGET, log::Level::Info)
}

/// One answered call.
pub struct Line<'a> {
    pub front: &'a str,
    pub client: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    /// Redacted already.
    pub query: &'a str,
    pub version: &'a str,
    pub status: u16,
    pub bytes: usize,
    pub seconds: f64,
    pub request_id: &'a str,
    pub user_id: &'a str,
    pub project_id: &'a str,
}

impl Line<'_> {
    pub fn write(&self) {
        let q = if self.query.is_empty() { "" } else { "?" };
        log::info!(
            target: TARGET,
            request_id = self.request_id,
            front = self.front,
            client = self.client,
            method = self.method,
            path = self.path,
            query = self.query,
            status = self.status,
            bytes = self.bytes as u64,
            seconds = self.seconds,
            user_id = self.user_id,
            project_id = self.project_id;
            "[{} {} {}] {} {} \"{} {}{q}{} {}\" status: {} len: {} time: {:.6}",
            self.request_id,
            self.user_id,
            self.project_id,
            self.front,
            self.client,
            self.method,
            self.path,
            self.query,
            self.version,
            self.status,
            self.bytes,
            self.seconds,
        );
    }
}

/// The request id an answer carries: the front's own (`RequestId` in the response's
/// extensions: the cloud APIs put theirs in the body), else OpenStack's header, else `-`.
pub fn request_id<'a>(ext: Option<&'a RequestId>, headers: &'a HeaderMap) -> &'a str {
    if let Some(RequestId(id)) = ext {
        return id;
    }
    ["x-openstack-request-id", "x-compute-request-id"]
        .iter()
        .find_map(|h| headers.get(*h).and_then(|v| v.to_str().ok()))
        .unwrap_or("-")
}
