//! # Key pair views
//!
//! Mirrors nova/api/openstack/compute/views/keypairs.py: field sets and *key order* per
//! microversion, success status codes, and the `keypairs_links` paging rule.

use super::schema::KeypairFeatures;
use crate::fronts::nova::request::{urlencode, ComputeRequest};
use crate::keys::KeyKind;
use crate::store::keypairs::Keypair;
use actix_web::http::StatusCode;
use serde::Serialize;
use serde_json::{json, Map, Value};

fn kind_name(kind: KeyKind) -> &'static str {
    match kind {
        KeyKind::Ssh => "ssh",
        KeyKind::X509 => "x509",
    }
}

/// `{"keypair": {...}}` for a create (serialized straight from the key pair, in Nova's order).
#[derive(Serialize)]
pub struct CreateBody<'a> {
    keypair: CreateEntry<'a>,
}

#[derive(Serialize)]
struct CreateEntry<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    private_key: Option<&'a str>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    name: &'a str,
    public_key: &'a str,
    fingerprint: &'a str,
    user_id: &'a str,
}

/// The create body; `private_key` only for a generated key.
pub fn create<'a>(
    f: KeypairFeatures,
    kp: &'a Keypair,
    private_key: Option<&'a str>,
) -> CreateBody<'a> {
    CreateBody {
        keypair: CreateEntry {
            private_key,
            kind: f.key_type.then(|| kind_name(kp.kind)),
            name: &kp.name,
            public_key: &kp.public_key,
            fingerprint: &kp.fingerprint,
            user_id: &kp.user_id,
        },
    }
}

/// `created_at` as Nova shows it (`%Y-%m-%dT%H:%M:%S%.6f`, no zone), without chrono's
/// format-string interpreter (it showed in list profiles).
pub fn format_time(t: &chrono::NaiveDateTime) -> String {
    use chrono::{Datelike, Timelike};
    let year = t.year();
    if !(0..=9999).contains(&year) {
        return t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
    }
    format!(
        "{year:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}",
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond() % 1_000_000_000 / 1000
    )
}

/// `{"keypair": {...}}` for a show.
pub fn show(f: KeypairFeatures, kp: &Keypair) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(kp.name));
    m.insert("public_key".into(), json!(kp.public_key));
    m.insert("fingerprint".into(), json!(kp.fingerprint));
    m.insert("user_id".into(), json!(kp.user_id));
    m.insert("created_at".into(), json!(format_time(&kp.created_at)));
    m.insert("deleted".into(), json!(false));
    m.insert("deleted_at".into(), Value::Null);
    m.insert("id".into(), json!(kp.id));
    m.insert("updated_at".into(), Value::Null);
    if f.key_type {
        m.insert("type".into(), json!(kind_name(kp.kind)));
    }
    json!({ "keypair": m })
}

/// The list body, serialized straight from the rows (no intermediate `Value` tree: a 1000-item
/// page would otherwise allocate a map per item). Field order is Nova's.
#[derive(Serialize)]
pub struct IndexBody<'a> {
    keypairs: Vec<IndexItem<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keypairs_links: Option<[Link; 1]>,
}

#[derive(Serialize)]
struct IndexItem<'a> {
    keypair: IndexEntry<'a>,
}

#[derive(Serialize)]
struct IndexEntry<'a> {
    name: &'a str,
    public_key: &'a str,
    fingerprint: &'a str,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
}

#[derive(Serialize)]
struct Link {
    rel: &'static str,
    href: String,
}

/// `{"keypairs": [...], ["keypairs_links": [...]]}`; `page_size` is the effective limit when
/// paging applies.
pub fn index<'a>(
    f: KeypairFeatures,
    req: &ComputeRequest,
    items: &'a [Keypair],
    page_size: Option<u32>,
) -> IndexBody<'a> {
    let keypairs = items
        .iter()
        .map(|kp| IndexItem {
            keypair: IndexEntry {
                name: &kp.name,
                public_key: &kp.public_key,
                fingerprint: &kp.fingerprint,
                kind: f.key_type.then(|| kind_name(kp.kind)),
            },
        })
        .collect();
    let mut keypairs_links = None;
    if let (true, Some(size), Some(last)) = (f.paging, page_size, items.last()) {
        if size != 0 && items.len() == size as usize {
            keypairs_links = Some([Link {
                rel: "next",
                href: next_link(req, &last.name),
            }]);
        }
    }
    IndexBody {
        keypairs,
        keypairs_links,
    }
}

/// Nova's `_get_next_link`: sorted query (last duplicate wins, first position kept), `marker`
/// replaced in place or appended, project id only if it appears in the request URL.
fn next_link(req: &ComputeRequest, marker: &str) -> String {
    let mut sorted = req.query.clone();
    sorted.sort();
    let mut params: Vec<(String, String)> = Vec::new();
    for (k, v) in sorted {
        match params.iter_mut().find(|(pk, _)| *pk == k) {
            Some(slot) => slot.1 = v,
            None => params.push((k, v)),
        }
    }
    match params.iter_mut().find(|(k, _)| k == "marker") {
        Some(slot) => slot.1 = marker.to_string(),
        None => params.push(("marker".into(), marker.to_string())),
    }
    let project = &req.auth.project_id;
    let mut url = req.application_url.trim_end_matches('/').to_string();
    if !project.is_empty() && req.full_url.contains(project.as_str()) {
        url.push('/');
        url.push_str(project.trim_matches('/'));
    }
    format!("{url}/os-keypairs?{}", urlencode(&params))
}

/// 200 below 2.2, 201 from 2.2.
pub fn create_status(f: KeypairFeatures) -> StatusCode {
    if f.key_type {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

/// 202 below 2.2, 204 from 2.2.
pub fn delete_status(f: KeypairFeatures) -> StatusCode {
    if f.key_type {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::ACCEPTED
    }
}
