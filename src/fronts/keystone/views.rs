//! The JSON shapes of users, projects, domains and roles (keystone/common/render).

use crate::store::identity::*;
use serde_json::{json, Map, Value};

pub(super) fn user_view(u: &User, base: &str) -> Value {
    let mut o = u.extra.clone();
    o.insert("id".into(), json!(u.id));
    o.insert("name".into(), json!(u.name));
    o.insert("domain_id".into(), json!(u.domain_id));
    o.insert("enabled".into(), json!(u.enabled));
    if let Some(p) = &u.default_project_id {
        o.insert("default_project_id".into(), json!(p));
    }
    o.insert("password_expires_at".into(), Value::Null);
    o.insert("options".into(), json!({}));
    o.insert(
        "links".into(),
        json!({"self": format!("{base}/v3/users/{}", u.id)}),
    );
    Value::Object(o)
}

pub(super) fn project_view(p: &Project, base: &str) -> Value {
    json!({
        "id": p.id, "name": p.name, "domain_id": p.domain_id, "description": p.description,
        "enabled": p.enabled, "parent_id": p.domain_id, "is_domain": false, "tags": [],
        "options": {}, "links": {"self": format!("{base}/v3/projects/{}", p.id)}
    })
}

pub(super) fn domain_view(d: &Domain, base: &str) -> Value {
    json!({
        "id": d.id, "name": d.name, "description": d.description, "enabled": d.enabled,
        "tags": [], "options": {}, "links": {"self": format!("{base}/v3/domains/{}", d.id)}
    })
}

pub(super) fn role_ref_full(r: &Role) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("id".into(), json!(r.id));
    o.insert("name".into(), json!(r.name));
    o.insert("domain_id".into(), Value::Null);
    o.insert("description".into(), Value::Null);
    o.insert(
        "options".into(),
        if r.immutable {
            json!({"immutable": true})
        } else {
            json!({})
        },
    );
    o
}

pub(super) fn role_view(r: &Role, base: &str) -> Value {
    let mut o = role_ref_full(r);
    o.insert(
        "links".into(),
        json!({"self": format!("{base}/v3/roles/{}", r.id)}),
    );
    Value::Object(o)
}
