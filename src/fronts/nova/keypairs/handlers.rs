//! # Key pair handlers
//!
//! Thin, in Nova's controller order: validate → authorize → domain → view. Microversion
//! differences come from `KeypairFeatures` and the schema tables, never from version checks
//! here; every refusal goes through `Fault::keypair` (Nova's one table).

use super::schema::{self, KeypairFeatures};
use super::view;
use crate::domain::{CreateRules, KeypairSpec, Material, Page, Target};
use crate::fronts::nova::fault::{Fault, KeypairCall};
use crate::fronts::nova::microversion::{select, VersionRange};
use crate::fronts::nova::reply::Reply;
use crate::fronts::nova::request::ComputeRequest;
use crate::fronts::nova::NovaFront;
use crate::http::rendered::BodyKey;
use crate::keys::{Fingerprint, KeyKind, PrivateKeyEncoding, SshKeyOptions};
use crate::pycompat::jsonschema::{validate, Origin};
use crate::store::keypairs::{Order, Owner};
use actix_web::http::StatusCode;
use actix_web::web;
use serde_json::Value;

/// The comment Nova puts on the public keys it generates.
const GENERATED_COMMENT: &str = "Generated-by-Nova";

/// Whose key pairs a request addresses: with `user_id` (from 2.10; empty = the caller) that
/// user's own, else the caller's (or the token's project under `keypair_scope = project`);
/// refused by Nova's policy unless the caller is an admin or that user.
fn addressed(
    front: &NovaFront,
    req: &ComputeRequest,
    f: KeypairFeatures,
    requested: Option<&str>,
    call: KeypairCall,
) -> Result<Target, Fault> {
    let user = requested.filter(|_| f.user_id);
    front
        .keypairs
        .target(&req.auth, user)
        .map_err(|e| Fault::keypair(e, call, "", ""))
}

/// The start of a rendered body's key: the view (version, endpoint) and the owner.
fn body_key(kind: &str, req: &ComputeRequest, owner: &Owner) -> BodyKey {
    let (owner_kind, owner_id) = match owner {
        Owner::User(id) => ("user", id),
        Owner::Project(id) => ("project", id),
    };
    BodyKey::new(kind)
        .part(&req.version.label())
        .part(if req.legacy_v2 { "v2" } else { "v2.1" })
        .part(owner_kind)
        .part(owner_id)
}

fn validate_query(
    req: &ComputeRequest,
    table: &[(VersionRange, schema::Schema)],
) -> Result<(), Fault> {
    // No query schema requires a parameter (`schema::tests` checks), so an empty query passes.
    if req.legacy_v2 || req.query.is_empty() {
        return Ok(());
    }
    let schema: schema::Schema = select(table, req.version);
    validate(schema, &req.query_instance(), Origin::Query)?;
    Ok(())
}

/// `POST /os-keypairs`
pub async fn create(
    front: web::Data<NovaFront>,
    req: ComputeRequest,
    body: Value,
) -> Result<Reply, Fault> {
    let f = KeypairFeatures::at(req.version);
    validate(
        schema::create_schema_for(req.version, req.legacy_v2),
        &body,
        Origin::Body,
    )?;
    let kp = &body["keypair"];
    let mut name = kp["name"].as_str().unwrap_or_default().to_string();
    if req.legacy_v2 {
        name = name.trim().to_string();
    }
    let kind = match kp.get("type").and_then(Value::as_str) {
        Some("x509") if f.key_type && !req.legacy_v2 => KeyKind::X509,
        _ => KeyKind::Ssh,
    };
    let material = match kp.get("public_key").and_then(Value::as_str) {
        Some(pk) => Material::Import(pk.to_string()),
        None => Material::Generate(SshKeyOptions {
            comment: GENERATED_COMMENT.into(),
            encoding: PrivateKeyEncoding::Pkcs1,
        }),
    };
    let call = KeypairCall::Create;
    let target = addressed(
        &front,
        &req,
        f,
        kp.get("user_id").and_then(Value::as_str),
        call,
    )?;
    let spec = KeypairSpec {
        name: name.clone(),
        kind,
        material,
        fingerprint: Fingerprint::NovaMd5,
        extra: Default::default(),
        tags: Vec::new(),
        rules: CreateRules::default(),
    };
    let created = front
        .keypairs
        .create(&req.auth, &target, spec)
        .await
        .map_err(|e| Fault::keypair(e, call, &name, target.user_id()))?;
    Ok(Reply::serialize(
        view::create_status(f),
        &view::create(
            f,
            &created.keypair,
            created.private_key.as_deref().map(String::as_str),
        ),
    ))
}

/// `GET /os-keypairs`
pub async fn index(front: web::Data<NovaFront>, req: ComputeRequest) -> Result<Reply, Fault> {
    let f = KeypairFeatures::at(req.version);
    validate_query(&req, schema::INDEX_QUERY)?;
    let call = KeypairCall::Index;
    let target = addressed(&front, &req, f, req.first("user_id"), call)?;
    let max = front.max_limit;
    let (marker, page_size) = if f.paging {
        let limit = req
            .last("limit")
            .map(|l| l.parse::<u64>().unwrap_or(u64::MAX));
        let size = limit.map(|l| l.min(u64::from(max)) as u32).unwrap_or(max);
        (req.last("marker").map(str::to_string), Some(size))
    } else {
        (None, None)
    };
    // Everything the rendered body depends on (the URL carries user_id, limit, marker and
    // what the next link is built from).
    let key = body_key("index", &req, target.owner())
        .part(&req.full_url)
        .part(&req.application_url)
        .part(&req.auth.project_id);
    let token = front.keypairs.change_token();
    if let Some(body) = front.rendered.get(&key, token) {
        return Ok(Reply::rendered(StatusCode::OK, body));
    }
    let page = Page::Marker {
        limit: page_size,
        marker: marker.clone(),
    };
    let listing = front
        .keypairs
        .list(&target, page, Order::Name)
        .await
        .map_err(|e| Fault::keypair(e, call, marker.as_deref().unwrap_or_default(), ""))?;
    let reply = Reply::serialize(
        StatusCode::OK,
        &view::index(f, &req, &listing.items, page_size),
    )
    .public();
    if let Some(body) = reply.body() {
        front.rendered.put(key, token, body.clone());
    }
    Ok(reply)
}

/// The show/delete preamble: query schema, addressed owner, policy.
fn authorize_member(
    front: &NovaFront,
    req: &ComputeRequest,
    call: KeypairCall,
) -> Result<(KeypairFeatures, Target), Fault> {
    let f = KeypairFeatures::at(req.version);
    validate_query(req, schema::MEMBER_QUERY)?;
    let target = addressed(front, req, f, req.first("user_id"), call)?;
    Ok((f, target))
}

/// `GET /os-keypairs/{name}`
pub async fn show(
    front: web::Data<NovaFront>,
    req: ComputeRequest,
    name: String,
) -> Result<Reply, Fault> {
    let call = KeypairCall::Show;
    let (f, target) = authorize_member(&front, &req, call)?;
    // The body depends on the microversion's view, the owner and the name only.
    let key = body_key("show", &req, target.owner()).part(&name);
    let token = front.keypairs.change_token();
    if let Some(body) = front.rendered.get(&key, token) {
        return Ok(Reply::rendered(StatusCode::OK, body));
    }
    let found = front
        .keypairs
        .get(&target, &name)
        .await
        .map_err(|e| Fault::keypair(e, call, &name, target.user_id()))?;
    let reply = Reply::json(StatusCode::OK, &view::show(f, &found)).public();
    if let Some(body) = reply.body() {
        front.rendered.put(key, token, body.clone());
    }
    Ok(reply)
}

/// `DELETE /os-keypairs/{name}`
pub async fn delete(
    front: web::Data<NovaFront>,
    req: ComputeRequest,
    name: String,
) -> Result<Reply, Fault> {
    let call = KeypairCall::Delete;
    let (f, target) = authorize_member(&front, &req, call)?;
    front
        .keypairs
        .delete(&target, &name)
        .await
        .map_err(|e| Fault::keypair(e, call, &name, target.user_id()))?;
    Ok(Reply::empty(view::delete_status(f)))
}
