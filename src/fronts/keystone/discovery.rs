//! # Version discovery
//!
//! keystone/api/discovery.py: `GET /` is a 300 with the version list and a `Location` to
//! `/v3/`; `GET /v3` the version document. No authentication.

use super::Reply;
use serde_json::{json, Value};

fn version(base: &str) -> Value {
    json!({
        "id": "v3.14",
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": format!("{base}/v3/")}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]
    })
}

pub fn root(base: &str) -> Reply {
    Reply::json(300, &json!({"versions": {"values": [version(base)]}}))
        .header("Location", format!("{base}/v3/"))
}

pub fn v3(base: &str) -> Reply {
    Reply::json(200, &json!({ "version": version(base) }))
}
