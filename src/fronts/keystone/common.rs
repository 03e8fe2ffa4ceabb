//! Helpers every Keystone resource handler uses: policy checks, list and item envelopes,
//! request body checks with Keystone's validation texts.

use super::error::IdentityError;
use super::Reply;
use super::Req;
use crate::domain::identity::{Scope, ValidToken};
use crate::pycompat::pyrepr::py_repr;
use serde_json::{json, Map, Value};

pub(super) fn require_admin(me: &ValidToken, action: &'static str) -> Result<(), IdentityError> {
    if me.is_admin() {
        Ok(())
    } else {
        Err(IdentityError::Forbidden(action))
    }
}

pub(super) fn links(self_url: String) -> Value {
    json!({"next": null, "self": self_url, "previous": null})
}

/// A collection as Keystone's `wrap_collection` renders it: the items, `links`, and with a
/// configured `list_limit` that cut the list, `"truncated": true`.
pub(super) fn list_reply(key: &str, mut items: Vec<Value>, r: &Req) -> Reply {
    let truncated = r.list_limit.is_some_and(|limit| items.len() > limit);
    if let Some(limit) = r.list_limit {
        items.truncate(limit);
    }
    let mut o = Map::new();
    o.insert(key.into(), Value::Array(items));
    o.insert("links".into(), links(r.self_url()));
    if truncated {
        o.insert("truncated".into(), Value::Bool(true));
    }
    resource_reply(200, &Value::Object(o))
}

pub(super) fn one(key: &str, item: Value, status: u16) -> Reply {
    let mut o = Map::new();
    o.insert(key.into(), item);
    resource_reply(status, &Value::Object(o))
}

/// Keystone's resource APIs (flask-restful) end their JSON with a newline, unlike its token
/// and discovery documents (k054 and its siblings in tests/data/captures/keystone).
fn resource_reply(status: u16, value: &Value) -> Reply {
    let mut reply = Reply::json(status, value);
    reply.body.push(b'\n');
    reply
}

/// The `enabled` query filter (keystone's `query_filter_is_true`).
pub(super) fn enabled_filter(r: &Req) -> Option<bool> {
    r.query("enabled").map(|v| {
        !matches!(
            v.to_ascii_lowercase().as_str(),
            "0" | "false" | "no" | "off"
        )
    })
}

/// The body's `key` object, with keystone's validation error for a missing or bad `name`.
pub(super) fn body_object(
    r: &Req,
    key: &str,
    name_required: bool,
) -> Result<Map<String, Value>, IdentityError> {
    let body: Value = if r.body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&r.body)
            .map_err(|_| IdentityError::expecting("valid JSON", "request body"))?
    };
    let obj = match body.get(key) {
        Some(Value::Object(o)) => o.clone(),
        None => Map::new(),
        Some(other) => {
            return Err(invalid(
                key,
                other,
                &format!("{} is not of type 'object'", py_repr(other)),
            ))
        }
    };
    if name_required && !obj.contains_key("name") {
        return Err(invalid(
            key,
            &Value::Object(obj),
            "'name' is a required property",
        ));
    }
    for (field, kind) in [
        ("name", "string"),
        ("enabled", "boolean"),
        ("domain_id", "string"),
        ("description", "string"),
    ] {
        if let Some(v) = obj.get(field) {
            let ok = match kind {
                "string" => v.is_string() || (field == "description" && v.is_null()),
                _ => v.is_boolean(),
            };
            if !ok {
                return Err(invalid(
                    field,
                    v,
                    &format!("{} is not of type '{kind}'", py_repr(v)),
                ));
            }
        }
    }
    if let Some(Value::String(n)) = obj.get("name") {
        if n.is_empty() || n.chars().count() > 255 {
            return Err(invalid(
                "name",
                &obj["name"],
                &format!("{} is too short", py_repr(&obj["name"])),
            ));
        }
    }
    Ok(obj)
}

pub(super) fn invalid(field: &str, value: &Value, msg: &str) -> IdentityError {
    IdentityError::BadRequest(format!(
        "Invalid input for field/attribute {field}. Value: {}. {msg}",
        py_repr(value)
    ))
}

/// The domain new users and projects land in: the token's (project's) domain.
pub(super) fn token_domain(me: &ValidToken) -> String {
    match &me.scope {
        Scope::Project { project, .. } => project.domain_id.clone(),
        Scope::Domain(d) => d.id.clone(),
        _ => me.user.domain_id.clone(),
    }
}
