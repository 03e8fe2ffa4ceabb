//! # Key pair handlers
//!
//! Thin, in Nova's controller order: validate → authorize → store/keys → view. Microversion
//! differences come from `KeypairFeatures` and the schema tables, never from version checks here.

use super::rendered::BodyKey;
use super::schema::{self, KeypairFeatures};
use super::view;
use crate::app::AppState;
use crate::compute::fault::Fault;
use crate::compute::microversion::{select, VersionRange};
use crate::compute::policy::{enforce, KeypairAction};
use crate::compute::request::ComputeRequest;
use crate::compute::validation::{validate, Origin};
use crate::compute::Reply;
use crate::config::KeypairScope;
use crate::keys::{self, KeyKind};
use crate::store::keypairs::{self as store, NewKeypair, Owner};
use crate::store::StoreError;
use actix_web::web;
use serde_json::Value;

/// Runs blocking work (SQLite, RSA generation) off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Fault> + Send + 'static,
) -> Result<T, Fault> {
    web::block(f)
        .await
        .map_err(|e| Fault::Internal(format!("blocking task failed: {e}")))?
}

/// Whose key pairs a request addresses, and the user the policy checks against: with
/// `user_id` (from 2.10; empty = the caller) that user's own; otherwise the caller's, or, with
/// `keypair_scope = project`, those of the project the token is scoped to.
fn addressed(
    state: &AppState,
    req: &ComputeRequest,
    f: KeypairFeatures,
    requested: Option<&str>,
) -> (String, Owner) {
    match requested.filter(|u| f.user_id && !u.is_empty()) {
        Some(u) => (u.to_string(), Owner::User(u.to_string())),
        None => {
            let owner = match state.config.keypair_scope {
                KeypairScope::User => Owner::User(req.auth.user_id.clone()),
                KeypairScope::Project => Owner::Project(req.auth.project_id.clone()),
            };
            (req.auth.user_id.clone(), owner)
        }
    }
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
    state: web::Data<AppState>,
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
    let public_key = kp
        .get("public_key")
        .and_then(Value::as_str)
        .map(str::to_string);
    let (user_id, owner) = addressed(&state, &req, f, kp.get("user_id").and_then(Value::as_str));
    enforce(&req.auth, KeypairAction::Create, &user_id)?;

    let limit = state.config.quota_key_pairs;
    if let Some(limit) = limit {
        // Early, so a user at the limit never waits for a key generation; `create` checks
        // again inside the write.
        if state.store.read(|c| store::count(c, &owner))? + 1 > limit {
            return Err(StoreError::LimitReached { limit }.into());
        }
    }
    let (public_key, fingerprint, private_key) = match public_key {
        // Parsing a public key takes microseconds: right here.
        Some(pk) => {
            let fp = keys::fingerprint(kind, &pk)?;
            (pk, fp, None)
        }
        None => {
            // A pooled key when one is ready (never in deterministic mode: the pool is off
            // there), else generated off the async workers (RSA takes a quarter second).
            let generated = match state.keypool.take(kind) {
                Some(pooled) => pooled,
                None => {
                    let st = state.clone();
                    let owner_id = user_id.clone();
                    blocking(move || {
                        Ok(keys::generate_at(
                            kind,
                            &owner_id,
                            &mut st.determinism.rng(),
                            st.determinism.system_time(),
                        )?)
                    })
                    .await?
                }
            };
            (
                generated.public_key.clone(),
                generated.fingerprint.clone(),
                Some(generated.private_key.clone()),
            )
        }
    };
    let new = NewKeypair {
        user_id: user_id.clone(),
        project_id: req.auth.project_id.clone(),
        name: name.clone(),
        kind,
        public_key,
        fingerprint,
        created_at: state.determinism.now().naive_utc(),
    };
    let keypair = match state
        .store
        .write_grouped_async(move |c| store::create(c, &new, &owner, limit))
        .await
    {
        Ok(kp) => kp,
        Err(StoreError::Duplicate) => {
            return Err(Fault::Conflict(format!(
                "Key pair '{name}' already exists."
            )))
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Reply::serialize(
        view::create_status(f),
        &view::create(f, &keypair, private_key.as_deref()),
    ))
}

/// `GET /os-keypairs`
pub async fn index(state: web::Data<AppState>, req: ComputeRequest) -> Result<Reply, Fault> {
    let f = KeypairFeatures::at(req.version);
    validate_query(&req, schema::INDEX_QUERY)?;
    let (user_id, owner) = addressed(&state, &req, f, req.first("user_id"));
    enforce(&req.auth, KeypairAction::Index, &user_id)?;
    let max = state.config.max_limit;
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
    let key = body_key("index", &req, &owner)
        .part(&req.full_url)
        .part(&req.application_url)
        .part(&req.auth.project_id);
    let generation = state.store.generation();
    if let Some(body) = state.keypair_bodies.get(&key, generation) {
        return Ok(Reply::rendered(actix_web::http::StatusCode::OK, body));
    }
    // Up to a thousand rows: off the async workers.
    let st = state.clone();
    let items = blocking(move || {
        st.store
            .read(|c| store::list(c, &owner, marker.as_deref(), page_size))
            .map_err(|e| match e {
                StoreError::MarkerNotFound => Fault::BadRequest(format!(
                    "Marker {} could not be found.",
                    marker.as_deref().unwrap_or_default()
                )),
                other => other.into(),
            })
    })
    .await?;
    let reply = Reply::serialize(
        actix_web::http::StatusCode::OK,
        &view::index(f, &req, &items, page_size),
    );
    if let Some(body) = reply.body() {
        state.keypair_bodies.put(key, generation, body.clone());
    }
    Ok(reply)
}

/// The show/delete preamble: query schema, addressed owner, policy.
fn authorize_member(
    state: &AppState,
    req: &ComputeRequest,
    action: KeypairAction,
) -> Result<(KeypairFeatures, String, Owner), Fault> {
    let f = KeypairFeatures::at(req.version);
    validate_query(req, schema::MEMBER_QUERY)?;
    let (user_id, owner) = addressed(state, req, f, req.first("user_id"));
    enforce(&req.auth, action, &user_id)?;
    Ok((f, user_id, owner))
}

/// `GET /os-keypairs/{name}`
pub async fn show(
    state: web::Data<AppState>,
    req: ComputeRequest,
    name: String,
) -> Result<Reply, Fault> {
    let (f, user_id, owner) = authorize_member(&state, &req, KeypairAction::Show)?;
    // The body depends on the microversion's view, the owner and the name only.
    let key = body_key("show", &req, &owner).part(&name);
    let generation = state.store.generation();
    if let Some(body) = state.keypair_bodies.get(&key, generation) {
        return Ok(Reply::rendered(actix_web::http::StatusCode::OK, body));
    }
    // One indexed row from a reader connection (never waits for the writer): cheaper right
    // here than a round trip through the blocking pool.
    let found = match state.store.read(|c| store::get(c, &owner, &name))? {
        Some(kp) => kp,
        None => return Err(Fault::keypair_not_found(&name, &user_id)),
    };
    let reply = Reply::json(actix_web::http::StatusCode::OK, &view::show(f, &found));
    if let Some(body) = reply.body() {
        state.keypair_bodies.put(key, generation, body.clone());
    }
    Ok(reply)
}

/// `DELETE /os-keypairs/{name}`
pub async fn delete(
    state: web::Data<AppState>,
    req: ComputeRequest,
    name: String,
) -> Result<Reply, Fault> {
    let (f, user_id, owner) = authorize_member(&state, &req, KeypairAction::Delete)?;
    let target = name.clone();
    match state
        .store
        .write_grouped_async(move |c| store::delete(c, &owner, &target))
        .await
    {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(Fault::keypair_not_found(&name, &user_id)),
        Err(e) => return Err(e.into()),
    }
    Ok(Reply::empty(view::delete_status(f)))
}
