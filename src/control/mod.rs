//! # Test controls
//!
//! Served on every listener, never on an OpenStack path: `/healthcheck` and `/metrics`, and
//! under `/_novakeys/` reset, snapshots, the request journal, fault injection and the OpenAPI
//! document of all that. `/_novakeys/` needs the control token (`X-Novakeys-Control-Token`)
//! when one is configured, else a loopback peer.
//!
//! `observe` is the one hook into the APIs: a middleware around each listener's app that
//! journals every API call, applies fault rules and counts metrics. It leaves the control
//! paths alone.

pub mod authorized_keys;
pub mod faults;
pub mod health;
pub mod journal;
pub mod metrics;
pub mod snapshots;
pub mod state;

use crate::app::AppState;
use crate::auth::{noauth_context, AuthMode};
use crate::compute::microversion::{API_VERSION_HEADER, NOVA_VERSION_HEADER};
use crate::compute::MAX_BODY;
use crate::config::Config;
use crate::identity::fixtures::Fixtures;
use crate::store::{Durability, Store, StoreError};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::time::Instant;

pub const CONTROL_TOKEN_HEADER: &str = "x-novakeys-control-token";
pub const FAULT_HEADER: &str = "x-novakeys-fault";
pub const OPENAPI: &str = include_str!("openapi.json");

/// Which API a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Compute,
    Identity,
}

impl Api {
    pub fn name(self) -> &'static str {
        match self {
            Api::Compute => "compute",
            Api::Identity => "identity",
        }
    }
}

/// The API a listener serves (None: both, told apart by the `/compute`, `/identity` mounts).
#[derive(Debug, Clone, Copy)]
pub struct ListenerApi(pub Option<Api>);

/// The controls' state, in `AppState`.
pub struct Control {
    pub token: Option<String>,
    pub journal: journal::Journal,
    pub faults: faults::Faults,
    pub metrics: metrics::Metrics,
    pub snapshots: snapshots::Snapshots,
    /// The state `reset` returns to: the fixtures, as applied to this store.
    baseline: state::Image,
}

impl Control {
    /// Call right after the identity fixtures were applied. `fresh`: the store held no data
    /// before, so its current state is the fixtures' state. Otherwise the fixtures are applied
    /// to a scratch store (keeping this store's signing keys, so tokens stay verifiable).
    pub fn new(config: &Config, store: &Store, fresh: bool) -> anyhow::Result<Control> {
        let baseline = if fresh {
            store.write(|c| state::capture(c))?
        } else {
            // Only the signing keys are taken from the store: capturing everything would hold
            // a copy of a large database in memory just to throw it away.
            let t = "id_signing_keys";
            let mut real = store.write(|c| state::capture_where(c, |n| n == t))?;
            let scratch = Store::open(":memory:", Durability::Normal)?;
            Fixtures::load(config.fixtures.as_deref())?.apply(
                &scratch,
                config.password_hash_cost,
                "fixtures",
            )?;
            let mut fixtures = scratch.write(|c| state::capture(c))?;
            if let Some(keys) = real.tables.remove(t) {
                fixtures.tables.insert(t.into(), keys);
            }
            match real.sequences.get(t) {
                Some(s) => fixtures.sequences.insert(t.into(), *s),
                None => fixtures.sequences.remove(t),
            };
            fixtures
        };
        Ok(Control {
            token: config.control_token.clone().filter(|t| !t.is_empty()),
            journal: journal::Journal::new(config.journal_size),
            faults: faults::Faults::new(config.seed),
            metrics: metrics::Metrics::default(),
            snapshots: snapshots::Snapshots::for_store(store),
            baseline,
        })
    }

    /// Back to the fixtures: one transaction for the store, then the in-memory parts.
    pub fn reset(&self, state: &AppState) -> Result<(), StoreError> {
        let rewritten = state
            .store
            .write(|c| state::apply_checked(c, &self.baseline))?;
        if rewritten.iter().any(|t| t == "id_signing_keys") {
            self.after_restore(state);
        } else {
            state.identity.invalidate();
        }
        self.journal.clear();
        self.faults.clear(true);
        state.determinism.reset();
        Ok(())
    }

    /// What any wholesale state change needs: signing keys reloaded, cached tokens dropped.
    pub fn after_restore(&self, state: &AppState) {
        if let Err(e) = state.identity.reload_signing_keys() {
            log::error!("reloading signing keys: {e}");
        }
        state.identity.invalidate();
    }
}

/// `*` matches any run of characters (including `/`), everything else itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] != '*' && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            pi += 1;
            mark = ti;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn is_control_path(path: &str) -> bool {
    path == "/_novakeys"
        || path.starts_with("/_novakeys/")
        || path == "/healthcheck"
        || path == "/metrics"
}

fn strip_mount<'a>(path: &'a str, mount: &str) -> Option<&'a str> {
    let rest = path.strip_prefix(mount)?;
    if rest.is_empty() {
        Some("/")
    } else if rest.starts_with('/') {
        Some(rest)
    } else {
        None
    }
}

/// The API and the path below its mount, for API requests (None: controls, or unmounted).
fn classify(req: &HttpRequest) -> Option<(Api, String)> {
    let path = req.path();
    if is_control_path(path) {
        return None;
    }
    match req.app_data::<ListenerApi>().and_then(|l| l.0) {
        Some(api) => Some((api, path.to_string())),
        None => {
            if let Some(rest) = strip_mount(path, "/compute") {
                Some((Api::Compute, rest.to_string()))
            } else {
                strip_mount(path, "/identity").map(|rest| (Api::Identity, rest.to_string()))
            }
        }
    }
}

fn header(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn error_json(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .body(
            json!({"error": {"code": status.as_u16(), "title": status.canonical_reason().unwrap_or(""), "message": message}})
                .to_string(),
        )
}

/// Whether a control request may pass: the token when configured, else a loopback peer.
pub fn control_allowed(
    token: Option<&str>,
    given: Option<&str>,
    peer: Option<std::net::IpAddr>,
) -> bool {
    match token {
        Some(t) => given.is_some_and(|g| {
            g.len() == t.len() && g.bytes().zip(t.bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0
        }),
        None => peer.is_some_and(|ip| ip.is_loopback()),
    }
}

async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let ok = state.is_some_and(|s| {
        control_allowed(
            s.control.token.as_deref(),
            header(req.request(), CONTROL_TOKEN_HEADER).as_deref(),
            req.peer_addr().map(|a| a.ip()),
        )
    });
    if !ok {
        let msg = "novakeys controls need the X-Novakeys-Control-Token header, or (without --control-token) a loopback client";
        return Ok(req.into_response(error_json(StatusCode::FORBIDDEN, msg)));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// Mounts `/healthcheck`, `/metrics` and `/_novakeys/*` (before the APIs).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/healthcheck")
            .route(web::get().to(health::healthcheck))
            .route(web::head().to(health::healthcheck)),
    )
    .service(web::resource("/metrics").route(web::get().to(metrics_handler)))
    .service(
        web::scope("/_novakeys")
            .wrap(actix_web::middleware::from_fn(guard))
            .route("/openapi.json", web::get().to(openapi))
            .route("/reset", web::post().to(reset))
            .route("/snapshots", web::get().to(list_snapshots))
            .route("/snapshots/{name}", web::put().to(save_snapshot))
            .route("/snapshots/{name}", web::delete().to(delete_snapshot))
            .route(
                "/snapshots/{name}/restore",
                web::post().to(restore_snapshot),
            )
            .route("/journal", web::get().to(get_journal))
            .route("/clock", web::get().to(get_clock))
            .route("/clock", web::post().to(set_clock))
            .route("/faults", web::get().to(list_faults))
            .route("/faults", web::post().to(add_fault))
            .route("/faults", web::delete().to(clear_faults))
            .route("/faults/{id}", web::delete().to(delete_fault))
            .default_service(web::to(|| async {
                error_json(StatusCode::NOT_FOUND, "no such novakeys control")
            })),
    );
}

fn internal(e: impl std::fmt::Display) -> HttpResponse {
    error_json(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI)
}

async fn metrics_handler(state: web::Data<AppState>) -> HttpResponse {
    let st = state.clone();
    let counts = web::block(move || {
        st.store.read(|c| {
            let kp: i64 = c.query_row("SELECT count(*) FROM key_pairs", [], |r| r.get(0))?;
            let users: i64 = c.query_row("SELECT count(*) FROM id_users", [], |r| r.get(0))?;
            Ok((kp, users))
        })
    })
    .await;
    let (kp, users) = match counts {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return internal(e),
        Err(e) => return internal(e),
    };
    let text = state.control.metrics.render(&[
        ("novakeys_keypairs", "Key pairs stored.", kp),
        ("novakeys_users", "Identity users.", users),
    ]);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}

async fn reset(state: web::Data<AppState>) -> HttpResponse {
    let st = state.clone();
    match web::block(move || st.control.reset(&st)).await {
        Ok(Ok(())) => HttpResponse::NoContent().finish(),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

fn bad_name(name: &str) -> Option<HttpResponse> {
    (!snapshots::valid_name(name)).then(|| {
        error_json(
            StatusCode::BAD_REQUEST,
            &format!("invalid snapshot name '{name}': use 1-64 of [A-Za-z0-9_.-]"),
        )
    })
}

async fn list_snapshots(state: web::Data<AppState>) -> HttpResponse {
    let st = state.clone();
    match web::block(move || st.control.snapshots.list()).await {
        Ok(Ok(list)) => HttpResponse::Ok().json(json!({ "snapshots": list })),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

async fn save_snapshot(state: web::Data<AppState>, name: web::Path<String>) -> HttpResponse {
    let name = name.into_inner();
    if let Some(r) = bad_name(&name) {
        return r;
    }
    let st = state.clone();
    match web::block(move || st.control.snapshots.save(&st.store, &name)).await {
        Ok(Ok(v)) => HttpResponse::Created().json(v),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

async fn restore_snapshot(state: web::Data<AppState>, name: web::Path<String>) -> HttpResponse {
    let name = name.into_inner();
    if let Some(r) = bad_name(&name) {
        return r;
    }
    let st = state.clone();
    let n = name.clone();
    match web::block(move || {
        let found = st.control.snapshots.restore(&st.store, &n)?;
        if found {
            st.control.after_restore(&st);
        }
        Ok::<_, StoreError>(found)
    })
    .await
    {
        Ok(Ok(true)) => HttpResponse::NoContent().finish(),
        Ok(Ok(false)) => error_json(StatusCode::NOT_FOUND, &format!("no snapshot '{name}'")),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

async fn delete_snapshot(state: web::Data<AppState>, name: web::Path<String>) -> HttpResponse {
    let name = name.into_inner();
    if let Some(r) = bad_name(&name) {
        return r;
    }
    let st = state.clone();
    let n = name.clone();
    match web::block(move || st.control.snapshots.delete(&n)).await {
        Ok(Ok(true)) => HttpResponse::NoContent().finish(),
        Ok(Ok(false)) => error_json(StatusCode::NOT_FOUND, &format!("no snapshot '{name}'")),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

async fn get_journal(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let filter: journal::Filter =
        match web::Query::<journal::Filter>::from_query(req.query_string()) {
            Ok(q) => q.into_inner(),
            Err(e) => return error_json(StatusCode::BAD_REQUEST, &e.to_string()),
        };
    let entries = state.control.journal.query(&filter);
    if filter.format.as_deref() == Some("ndjson") {
        let mut out = String::new();
        for e in &entries {
            out.push_str(&serde_json::to_string(e).unwrap_or_default());
            out.push('\n');
        }
        return HttpResponse::Ok()
            .content_type("application/x-ndjson")
            .body(out);
    }
    HttpResponse::Ok().json(json!({ "entries": entries }))
}

fn clock_doc(state: &AppState) -> Value {
    let d = &state.determinism;
    json!({
        "now": d.now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "frozen": d.frozen(),
        "seed": d.seed(),
    })
}

async fn get_clock(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(clock_doc(&state))
}

/// `{"set": "<RFC 3339>"}` freezes the clock there, `{"set": null}` lets it run again,
/// `{"advance_seconds": N}` moves it (freezing it if it was running).
async fn set_clock(state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ClockChange {
        #[serde(default, with = "serde_with_option")]
        set: Option<Option<chrono::DateTime<chrono::Utc>>>,
        advance_seconds: Option<f64>,
    }
    mod serde_with_option {
        use serde::{Deserialize, Deserializer};
        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<Option<chrono::DateTime<chrono::Utc>>>, D::Error> {
            Option::<chrono::DateTime<chrono::Utc>>::deserialize(d).map(Some)
        }
    }
    let change: ClockChange = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => {
            return error_json(
                StatusCode::BAD_REQUEST,
                &format!("invalid clock change: {e}"),
            )
        }
    };
    match (change.set, change.advance_seconds) {
        (Some(t), None) => state.determinism.set_clock(t),
        (None, Some(s)) if s.is_finite() && s.abs() < 1e12 => {
            state
                .determinism
                .advance(chrono::Duration::microseconds((s * 1e6) as i64));
        }
        _ => {
            return error_json(
                StatusCode::BAD_REQUEST,
                "give exactly one of \"set\" (RFC 3339 time or null) or \"advance_seconds\"",
            )
        }
    }
    // cached token verifications were made against the old time
    state.identity.invalidate();
    HttpResponse::Ok().json(clock_doc(&state))
}

async fn list_faults(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "faults": state.control.faults.list() }))
}

async fn add_fault(state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let spec: faults::RuleSpec = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => return error_json(StatusCode::BAD_REQUEST, &format!("invalid rule: {e}")),
    };
    match state.control.faults.add(spec) {
        Ok(v) => HttpResponse::Created().json(v),
        Err(e) => error_json(StatusCode::BAD_REQUEST, &format!("invalid rule: {e}")),
    }
}

async fn clear_faults(state: web::Data<AppState>) -> HttpResponse {
    state.control.faults.clear(false);
    HttpResponse::NoContent().finish()
}

async fn delete_fault(state: web::Data<AppState>, id: web::Path<String>) -> HttpResponse {
    if state.control.faults.remove(&id) {
        HttpResponse::NoContent().finish()
    } else {
        error_json(StatusCode::NOT_FOUND, &format!("no fault rule '{id}'"))
    }
}

/// Reads up to `MAX_BODY + 1` bytes of the body and puts them back for the API.
async fn buffer_body(req: &mut ServiceRequest) -> Vec<u8> {
    let declared = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Vec::new();
    }
    let mut payload = req.take_payload();
    let mut body = Vec::new();
    let mut error = None;
    while let Some(chunk) = payload.next().await {
        match chunk {
            Ok(c) => {
                body.extend_from_slice(&c);
                if body.len() > MAX_BODY {
                    break;
                }
            }
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    // The API reads the same stream: what was read, any error, then the unread rest.
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

/// The key pair a compute request names (URL, or the create body).
fn keypair_name(path: &str, method: &Method, body: &[u8]) -> Option<String> {
    let segs: Vec<&str> = path.split('/').collect();
    let i = segs.iter().position(|s| *s == "os-keypairs")?;
    match segs.get(i + 1) {
        Some(name) if !name.is_empty() => Some(
            percent_encoding::percent_decode_str(name)
                .decode_utf8_lossy()
                .into_owned(),
        ),
        _ if method == Method::POST => serde_json::from_slice::<Value>(body)
            .ok()?
            .pointer("/keypair/name")?
            .as_str()
            .map(str::to_string),
        _ => None,
    }
}

fn stamp(resp: &mut HttpResponse, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(HeaderName::from_static(name), v);
    }
}

/// Builds the injected answer for `fired`.
fn injected(
    state: &AppState,
    req: &HttpRequest,
    api: Api,
    facts: &faults::Facts,
    fired: &faults::Fired,
) -> HttpResponse {
    let status = fired.spec.status().unwrap_or(500);
    let mut resp = if status == 401 && api == Api::Compute {
        match state.config.auth {
            AuthMode::Keystone => state.identity.unauthorized_response(req),
            AuthMode::Noauth => crate::compute::fault::WebobError::Unauthorized.response(
                header(req, "accept").as_deref(),
                req.method() == Method::HEAD,
            ),
        }
    } else {
        let r = faults::render(&fired.spec, api, facts);
        let mut b = HttpResponse::build(
            StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        );
        b.insert_header(("Content-Type", r.content_type));
        for (k, v) in r.headers {
            b.insert_header((k, v));
        }
        if status == 401 {
            b.insert_header((
                "WWW-Authenticate",
                format!(
                    "Keystone uri=\"{}/v3\"",
                    crate::identity::public_identity_base(state, req)
                ),
            ));
        }
        b.body(r.body)
    };
    let rid = state.determinism.request_id();
    stamp(&mut resp, "x-openstack-request-id", &rid);
    if api == Api::Compute {
        stamp(&mut resp, "x-compute-request-id", &rid);
        if let Some(v) = &facts.microversion {
            stamp(
                &mut resp,
                API_VERSION_HEADER.as_str(),
                &format!("compute {v}"),
            );
            stamp(&mut resp, NOVA_VERSION_HEADER.as_str(), v);
        }
    }
    stamp(&mut resp, FAULT_HEADER, &fired.id);
    resp
}

/// The API middleware: fault rules, then the API, then journal and metrics.
pub async fn observe(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let Some((api, path)) = classify(req.request()) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let started = Instant::now();
    let time = state.determinism.now();
    let body = buffer_body(&mut req).await;
    let method = req.method().clone();
    let who = match (api, state.config.auth) {
        (Api::Compute, AuthMode::Noauth) => {
            noauth_context(|n| header(req.request(), n)).map(std::sync::Arc::new)
        }
        _ => req
            .headers()
            .get(&crate::auth::X_AUTH_TOKEN)
            .and_then(|v| v.to_str().ok())
            .filter(|t| !t.is_empty())
            .and_then(|t| state.identity.authenticate(t)),
    };
    let user_id = who.as_ref().map(|w| w.user_id.clone());
    let project_id = who
        .as_ref()
        .map(|w| w.project_id.clone())
        .filter(|p| !p.is_empty());
    // Rules match on the request's facts; with no rule set (the usual case) none are gathered.
    let fired = if state.control.faults.is_empty() {
        None
    } else {
        let facts = faults::Facts {
            method: method.to_string(),
            path: path.clone(),
            name: if api == Api::Compute {
                keypair_name(&path, &method, &body)
            } else {
                None
            },
            user_id: user_id.clone(),
            project_id: project_id.clone(),
            microversion: request_microversion(api, &path, req.headers()),
        };
        state.control.faults.check(&facts).map(|f| (f, facts))
    };
    if api == Api::Compute {
        req.extensions_mut().insert(crate::auth::Authenticated(who));
    }
    if let Some((f, _)) = &fired {
        if let Some(ms) = f.spec.action.delay_ms {
            actix_web::rt::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
    }
    let res = match fired.as_ref().filter(|(f, _)| f.spec.status().is_some()) {
        Some((f, facts)) => {
            let resp = injected(&state, req.request(), api, facts, f);
            req.into_response(resp)
        }
        None => {
            let mut res = next.call(req).await?.map_into_boxed_body();
            if let Some((f, _)) = &fired {
                if let Ok(v) = HeaderValue::from_str(&f.id) {
                    res.headers_mut()
                        .insert(HeaderName::from_static(FAULT_HEADER), v);
                }
            }
            res
        }
    };
    let (http_req, http_res) = res.into_parts();
    let (head, resp_body) = http_res.into_parts();
    let bytes = actix_web::body::to_bytes(resp_body)
        .await
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()))?;
    let status = head.status().as_u16();
    // The version the answer carries, else (an error before negotiation) the one asked for.
    let mv = match head
        .headers()
        .get(&crate::compute::microversion::NOVA_VERSION_HEADER)
    {
        Some(v) => v.to_str().ok().map(str::to_string),
        None => request_microversion(api, &path, http_req.headers()),
    };
    let seconds = started.elapsed().as_secs_f64();
    let fault_id = fired.map(|(f, _)| f.id);
    state.control.metrics.observe(metrics::Observation {
        api,
        path: &path,
        method: &method,
        status,
        microversion: mv.as_deref().unwrap_or(""),
        seconds,
        token_issued: api == Api::Identity
            && method == Method::POST
            && path.trim_end_matches('/') == "/v3/auth/tokens"
            && status == 201,
        fault: fault_id.as_deref(),
    });
    state.control.journal.record(journal::Entry {
        seq: 0,
        time,
        api: api.name(),
        user_id,
        project_id,
        microversion: mv,
        method,
        path,
        query: http_req.query_string().to_string(),
        status,
        duration_ms: seconds * 1000.0,
        request_body: journal::Body::new(body.into()),
        response_body: journal::Body::new(bytes.clone()),
        fault: fault_id,
    });
    let http_res = head.set_body(bytes).map_into_boxed_body();
    Ok(ServiceResponse::new(http_req, http_res))
}

/// The microversion a compute request asks for (`/v2.1` only), as its header would say it.
fn request_microversion(
    api: Api,
    path: &str,
    headers: &actix_web::http::header::HeaderMap,
) -> Option<String> {
    if api != Api::Compute || !path.starts_with("/v2.1") {
        return None;
    }
    let version = crate::compute::microversion::negotiate(headers).ok()?;
    Some(version.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("/v2.1/os-keypairs*", "/v2.1/os-keypairs"));
        assert!(glob("/v2.1/os-keypairs*", "/v2.1/os-keypairs/a/b"));
        assert!(glob("*/os-keypairs/*", "/v2.1/abc/os-keypairs/k"));
        assert!(!glob("/v2.1/os-keypairs", "/v2.1/os-keypairs/k"));
        assert!(glob("*", ""));
    }

    #[test]
    fn control_access() {
        let lo = Some("127.0.0.1".parse().unwrap());
        let remote = Some("192.0.2.1".parse().unwrap());
        assert!(control_allowed(None, None, lo));
        assert!(!control_allowed(None, None, remote));
        assert!(!control_allowed(Some("s3"), None, lo));
        assert!(!control_allowed(Some("s3"), Some("s4"), lo));
        assert!(control_allowed(Some("s3"), Some("s3"), remote));
    }
}

#[cfg(test)]
mod reset_tests {
    use super::*;
    use crate::app::{AppState, Bound};
    use crate::identity::Identity;

    #[test]
    fn reset_is_fast_for_a_small_store() {
        let config = Config {
            db: ":memory:".into(),
            ..Config::default()
        };
        let store = Store::open(":memory:", Durability::Normal).unwrap();
        let identity = Identity::new(&config, &store).unwrap();
        let control = Control::new(&config, &store, true).unwrap();
        let addr = "127.0.0.1:1".parse().unwrap();
        let state = AppState {
            config,
            store,
            identity,
            determinism: Default::default(),
            control,
            keypool: crate::keys::KeyPool::new(0),
            keypair_bodies: Default::default(),
            bound: Bound {
                compute: addr,
                identity: addr,
                single_port: false,
            },
        };
        // the fastest of a few runs (the machine may be busy with other work)
        let each = (0..50)
            .map(|_| {
                let t = Instant::now();
                state.control.reset(&state).unwrap();
                t.elapsed()
            })
            .min()
            .unwrap();
        // Timings belong to the benchmark, not to tests: report it only.
        eprintln!("fastest reset of 50: {each:?}");
    }
}
