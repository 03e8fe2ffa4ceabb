//! # Version documents
//!
//! Mirrors nova/api/openstack/compute/versions.py and views/versions.py: `GET /` lists v2.0 and
//! v2.1; `GET /v2.1[/]` describes v2.1; `/v2/` the deprecated legacy endpoint.

use super::microversion::Microversion;
use serde_json::{json, Value};

fn v20(href: &str) -> Value {
    json!({"id": "v2.0", "status": "DEPRECATED", "version": "", "min_version": "",
           "updated": "2025-07-04T12:00:00Z", "links": [{"rel": "self", "href": href}]})
}

fn v21(href: &str) -> Value {
    json!({"id": "v2.1", "status": "CURRENT", "version": Microversion::MAX.to_string(),
           "min_version": Microversion::MIN.to_string(), "updated": "2013-07-23T11:33:21Z",
           "links": [{"rel": "self", "href": href}]})
}

/// `GET /` (`base` = scheme://host plus mount prefix).
pub fn root(base: &str) -> Value {
    json!({"versions": [v20(&format!("{base}/v2/")), v21(&format!("{base}/v2.1/"))]})
}

fn with_details(mut doc: Value, media_version: &str) -> Value {
    let links = doc["links"].as_array_mut().expect("links is a list");
    links.push(
        json!({"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"}),
    );
    doc["media-types"] = json!([{"base": "application/json",
        "type": format!("application/vnd.openstack.compute+json;version={media_version}")}]);
    doc
}

/// `GET /v2.1` and `GET /v2.1/`.
pub fn v21_document(base: &str) -> Value {
    json!({"version": with_details(v21(&format!("{base}/v2.1/")), "2.1")})
}

/// `GET /v2/` (legacy).
pub fn v20_document(base: &str) -> Value {
    json!({"version": with_details(v20(&format!("{base}/v2/")), "2")})
}

/// 300 `{"choices": [...]}` for other top-level paths.
pub fn choices(base: &str, path: &str) -> Value {
    let rest = path.trim_matches('/');
    let entry = |id: &str, status: &str, root: &str, media: &str| {
        json!({"id": id, "status": status,
               "links": [{"rel": "self", "href": format!("{base}/{root}/{rest}")}],
               "media-types": [{"base": "application/json",
                   "type": format!("application/vnd.openstack.compute+json;version={media}")}]})
    };
    json!({"choices": [entry("v2.0", "DEPRECATED", "v2", "2"), entry("v2.1", "CURRENT", "v2.1", "2.1")]})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pycompat::pyjson::to_vec;

    #[test]
    fn documents_match_captures() {
        let base = "http://127.0.0.1:38774";
        assert_eq!(
            String::from_utf8(to_vec(&root(base))).unwrap(),
            r#"{"versions": [{"id": "v2.0", "status": "DEPRECATED", "version": "", "min_version": "", "updated": "2025-07-04T12:00:00Z", "links": [{"rel": "self", "href": "http://127.0.0.1:38774/v2/"}]}, {"id": "v2.1", "status": "CURRENT", "version": "2.104", "min_version": "2.1", "updated": "2013-07-23T11:33:21Z", "links": [{"rel": "self", "href": "http://127.0.0.1:38774/v2.1/"}]}]}"#
        );
        assert_eq!(
            String::from_utf8(to_vec(&v21_document(base))).unwrap(),
            r#"{"version": {"id": "v2.1", "status": "CURRENT", "version": "2.104", "min_version": "2.1", "updated": "2013-07-23T11:33:21Z", "links": [{"rel": "self", "href": "http://127.0.0.1:38774/v2.1/"}, {"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"}], "media-types": [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}]}}"#
        );
    }
}
