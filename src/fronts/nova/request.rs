//! # The compute request context
//!
//! Everything a compute handler needs about its request once the pipeline (auth, routing,
//! microversion, media type) accepted it. Handlers never look at raw headers.

use super::fault::Fault;
use super::microversion::Microversion;
use crate::domain::Principal;
use serde_json::{Map, Value};
use std::sync::Arc;

/// One accepted compute API request.
#[derive(Debug, Clone)]
pub struct ComputeRequest {
    pub auth: Arc<Principal>,
    pub version: Microversion,
    /// Came through the legacy `/v2` endpoint ("2.0": relaxed schemas, no version headers).
    pub legacy_v2: bool,
    /// Query pairs in request order (repeated keys kept).
    pub query: Vec<(String, String)>,
    /// `scheme://host[:port]` plus mount prefix and API root, e.g. `http://h:8774/v2.1`.
    /// Empty on routes whose views render no links (building the URLs is skipped there).
    pub application_url: String,
    /// The full request URL, for Nova's `project_id in request.url` link rule (empty like
    /// `application_url`).
    pub full_url: String,
}

impl ComputeRequest {
    /// First value of a query parameter (Nova takes the first `user_id`).
    pub fn first(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Last value of a query parameter (Nova takes the last `limit` and `marker`).
    pub fn last(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The query as the dict-of-lists Nova validates (`{"limit": ["1", "2"]}`), keys in first-seen order.
    pub fn query_instance(&self) -> Value {
        let mut map = Map::new();
        for (k, v) in &self.query {
            let entry = map
                .entry(k.clone())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(items) = entry {
                items.push(Value::String(v.clone()));
            }
        }
        Value::Object(map)
    }
}

/// A header's value, when it is text.
pub fn header(
    req: &actix_web::HttpRequest,
    name: impl actix_web::http::header::AsHeaderName,
) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Parses a request body as Nova does: empty means `None`, anything unparseable is a 400.
pub fn parse_body(body: &[u8]) -> Result<Value, Fault> {
    if body.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body).map_err(|_| Fault::BadRequest("Malformed request body".into()))
}

/// Nova's accepted request media types; `None` (absent), empty and `text/plain` mean JSON.
pub fn content_type_ok(header: Option<&str>) -> bool {
    let Some(value) = header else { return true };
    let media = value.split(';').next().unwrap_or("").trim();
    matches!(
        media,
        "" | "text/plain" | "application/json" | "application/vnd.openstack.compute+json"
    )
}

/// Python's `urllib.parse.urlencode` of string pairs (`quote_plus`, nothing but `_.-~` safe).
pub fn urlencode(pairs: &[(String, String)]) -> String {
    fn quote_plus(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        for b in s.bytes() {
            match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                    out.push(b as char)
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", quote_plus(k), quote_plus(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        assert!(content_type_ok(None));
        assert!(content_type_ok(Some("")));
        assert!(content_type_ok(Some("text/plain")));
        assert!(content_type_ok(Some("application/json; charset=utf-8")));
        assert!(content_type_ok(Some(
            "application/vnd.openstack.compute+json"
        )));
        assert!(
            !content_type_ok(Some("Application/JSON")),
            "compared case-sensitively"
        );
        assert!(!content_type_ok(Some("application/xml")));
    }

    #[test]
    fn urlencode_like_python() {
        let pairs = vec![
            ("marker".to_string(), "k e@x/y".to_string()),
            ("limit".to_string(), "1".to_string()),
        ];
        assert_eq!(urlencode(&pairs), "marker=k+e%40x%2Fy&limit=1");
    }

    #[test]
    fn bodies() {
        assert_eq!(parse_body(b"").unwrap(), Value::Null);
        assert_eq!(
            parse_body(b"{\"a\":").unwrap_err(),
            Fault::BadRequest("Malformed request body".into())
        );
        let deep = "[".repeat(100_000);
        assert!(
            parse_body(deep.as_bytes()).is_err(),
            "deep nesting is refused, not a stack overflow"
        );
    }
}
