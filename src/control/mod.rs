//! # Test controls
//!
//! Served on every listener, never on an API path: `/healthcheck` and `/metrics`, and under
//! `/_novakeys/` reset, snapshots, the request journal, fault injection, the clock and the
//! OpenAPI document of all that. `/_novakeys/` needs the control token
//! (`X-Novakeys-Control-Token`) when one is configured, else a loopback peer, and passes the
//! cross-site checks of [`access`] (JSON content type, our own `Origin`, a local `Host`).
//!
//! The controls know no front: the observe hook (`http::observe`) asks each front what it
//! needs and records the call here.

mod access;
pub mod faults;
pub mod health;
mod instances;
pub mod journal;
pub mod metrics;

use crate::determinism::Determinism;
use crate::domain::identity::fixtures::Fixtures;
use crate::domain::identity::Identity;
use crate::domain::instances::InstanceService;
use crate::store::image::Image;
use crate::store::{valid_snapshot_name, Store, StoreError};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use std::sync::Arc;

pub const CONTROL_TOKEN_HEADER: &str = "x-novakeys-control-token";
pub const FAULT_HEADER: &str = "x-novakeys-fault";
pub const OPENAPI: &str = include_str!("openapi.json");

/// What the controls are set up with.
#[derive(Debug, Clone, Default)]
pub struct ControlSettings {
    /// Required in `X-Novakeys-Control-Token` when set; else loopback clients only.
    pub token: Option<String>,
    /// API calls the journal keeps.
    pub journal_size: usize,
    /// The fault rules' seed (`--seed`).
    pub seed: Option<u64>,
    /// The fixtures a reset returns to (`None`: the built-in ones).
    pub fixtures: Option<std::path::PathBuf>,
    pub password_hash_cost: u32,
    /// Where new instances are, unless told.
    pub region: String,
    /// The configured public base URLs: their hosts and origins are the server's own.
    pub public_urls: Vec<String>,
}

/// The controls' state.
pub struct Control {
    token: Option<String>,
    site: access::Site,
    pub journal: journal::Journal,
    pub faults: faults::Faults,
    pub metrics: metrics::Metrics,
    store: Arc<dyn Store>,
    identity: Arc<Identity>,
    instances: Arc<InstanceService>,
    region: String,
    det: Arc<Determinism>,
    /// The state `reset` returns to: the fixtures, as applied to this store.
    baseline: Image,
}

impl Control {
    /// Call right after the identity fixtures were applied. `fresh`: the store held no data
    /// before, so its current state is the fixtures' state. Otherwise the fixtures are applied
    /// to a scratch store (keeping this store's signing keys, so tokens stay verifiable).
    pub fn new(
        settings: &ControlSettings,
        store: Arc<dyn Store>,
        identity: Arc<Identity>,
        instances: Arc<InstanceService>,
        det: Arc<Determinism>,
        fresh: bool,
    ) -> anyhow::Result<Control> {
        let baseline = if fresh {
            store.capture()?
        } else {
            // Only the signing keys are taken from the store: capturing everything would hold
            // a copy of a large database in memory just to throw it away.
            let scratch = store.scratch()?;
            Fixtures::load(settings.fixtures.as_deref())?.apply(
                &*scratch,
                settings.password_hash_cost,
                "fixtures",
            )?;
            let mut fixtures = scratch.capture()?;
            fixtures.overlay(store.capture_signing_keys()?);
            fixtures
        };
        // Processes sharing a database share the baseline of the first one to start.
        let baseline = store.shared_baseline(baseline)?;
        Ok(Control {
            token: settings.token.clone().filter(|t| !t.is_empty()),
            site: access::Site::new(settings.public_urls.iter().map(String::as_str)),
            journal: journal::Journal::new(settings.journal_size),
            faults: faults::Faults::new(settings.seed),
            metrics: metrics::Metrics::default(),
            store,
            identity,
            instances,
            region: settings.region.clone(),
            det,
            baseline,
        })
    }

    /// What an API call awaits before anything reads a change token: on a store other
    /// processes write to, the tokens catch up with their writes (one round trip), so every
    /// cache above the store (listings, rendered bodies, verified tokens, access keys) is
    /// current for this call. Nothing for SQLite.
    pub async fn catch_up(&self) {
        if self.store.shared() {
            self.store.refresh_tokens().await;
        }
    }

    /// The time a journal entry is stamped with.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.det.now()
    }

    /// Back to the fixtures: one transaction for the store, then the in-memory parts.
    /// On a store shared by several processes the store part is what all of them serve (the
    /// apply moves the counters they read); the journal, the fault rules, the clock offset
    /// and the deterministic sequences are this process's own and reset here only.
    pub fn reset(&self) -> Result<(), StoreError> {
        let applied = self.store.apply(&self.baseline)?;
        self.after_restore(applied.signing_keys);
        self.journal.clear();
        self.faults.clear(true);
        self.det.reset();
        Ok(())
    }

    /// What any wholesale state change needs: signing keys reloaded (when they changed),
    /// cached tokens dropped.
    fn after_restore(&self, signing_keys: bool) {
        if signing_keys {
            if let Err(e) = self.identity.reload_signing_keys() {
                log::error!("reloading signing keys: {e}");
            }
        }
        self.identity.invalidate();
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

/// `/_novakeys/...`, `/healthcheck`, `/metrics`: never an API call.
pub fn is_control_path(path: &str) -> bool {
    path == "/_novakeys"
        || path.starts_with("/_novakeys/")
        || path == "/healthcheck"
        || path == "/metrics"
}

fn header(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

pub(crate) fn error_json(status: StatusCode, message: &str) -> HttpResponse {
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

/// Why a control request is refused (None: it may pass): the token or loopback rule, then
/// the cross-site checks (`access`).
fn refusal(control: &Control, req: &HttpRequest) -> Option<HttpResponse> {
    let given = header(req, CONTROL_TOKEN_HEADER);
    if !control_allowed(
        control.token.as_deref(),
        given.as_deref(),
        req.peer_addr().map(|a| a.ip()),
    ) {
        let msg = "novakeys controls need the X-Novakeys-Control-Token header, or (without --control-token) a loopback client";
        return Some(error_json(StatusCode::FORBIDDEN, msg));
    }
    let headers = req.headers();
    // A header that is not text counts as one naming nobody we know.
    let text = |v: &actix_web::http::header::HeaderValue| v.to_str().unwrap_or("\u{0}").to_string();
    let host = headers.get(actix_web::http::header::HOST).map(text);
    if control.token.is_none() && !control.site.host_allowed(host.as_deref()) {
        let msg = format!(
            "novakeys controls answer only requests for a loopback address, localhost or a configured public URL's host, not '{}' (or use --control-token)",
            host.unwrap_or_default()
        );
        return Some(error_json(StatusCode::FORBIDDEN, &msg));
    }
    for origin in headers.get_all(actix_web::http::header::ORIGIN).map(text) {
        if !control.site.origin_allowed(&origin, host.as_deref()) {
            let msg = format!(
                "novakeys controls refuse cross-origin requests (Origin '{origin}' is not this server's)"
            );
            return Some(error_json(StatusCode::FORBIDDEN, &msg));
        }
    }
    if access::changes_state(req.method())
        && !access::is_json(header(req, "content-type").as_deref())
    {
        let msg = format!(
            "novakeys controls take {} only with Content-Type: application/json (even without a body)",
            req.method()
        );
        return Some(error_json(StatusCode::UNSUPPORTED_MEDIA_TYPE, &msg));
    }
    None
}

async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let refused = match req.app_data::<web::Data<Control>>() {
        Some(c) => refusal(c, req.request()),
        None => Some(error_json(
            StatusCode::FORBIDDEN,
            "novakeys controls are not set up on this listener",
        )),
    };
    if let Some(r) = refused {
        return Ok(req.into_response(r));
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
            .route("/instances", web::get().to(instances::list))
            .route("/instances", web::post().to(instances::create))
            .route("/instances/{id}", web::get().to(instances::show))
            .route("/instances/{id}", web::delete().to(instances::delete))
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

async fn metrics_handler(state: web::Data<Control>) -> HttpResponse {
    let st = state.clone();
    let counts = web::block(move || -> Result<(i64, i64), StoreError> {
        let keypairs = st.store.count_all_keypairs()?;
        let users = st.store.list_users()?.len() as i64;
        Ok((keypairs, users))
    })
    .await;
    let (kp, users) = match counts {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return internal(e),
        Err(e) => return internal(e),
    };
    let text = state.metrics.render(&[
        ("novakeys_keypairs", "Key pairs stored.", kp),
        ("novakeys_users", "Identity users.", users),
    ]);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}

async fn reset(state: web::Data<Control>) -> HttpResponse {
    let st = state.clone();
    match web::block(move || st.reset()).await {
        Ok(Ok(())) => HttpResponse::NoContent().finish(),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

fn bad_name(name: &str) -> Option<HttpResponse> {
    (!valid_snapshot_name(name)).then(|| {
        error_json(
            StatusCode::BAD_REQUEST,
            &format!("invalid snapshot name '{name}': use 1-64 of [A-Za-z0-9_.-]"),
        )
    })
}

async fn list_snapshots(state: web::Data<Control>) -> HttpResponse {
    let st = state.clone();
    match web::block(move || st.store.list_snapshots()).await {
        Ok(Ok(list)) => HttpResponse::Ok().json(json!({ "snapshots": list })),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

async fn save_snapshot(state: web::Data<Control>, name: web::Path<String>) -> HttpResponse {
    let name = name.into_inner();
    if let Some(r) = bad_name(&name) {
        return r;
    }
    let st = state.clone();
    match web::block(move || st.store.save_snapshot(&name)).await {
        Ok(Ok(v)) => HttpResponse::Created().json(v),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

async fn restore_snapshot(state: web::Data<Control>, name: web::Path<String>) -> HttpResponse {
    let name = name.into_inner();
    if let Some(r) = bad_name(&name) {
        return r;
    }
    let st = state.clone();
    let n = name.clone();
    match web::block(move || {
        let applied = st.store.restore_snapshot(&n)?;
        if let Some(a) = &applied {
            st.after_restore(a.signing_keys);
        }
        Ok::<_, StoreError>(applied.is_some())
    })
    .await
    {
        Ok(Ok(true)) => HttpResponse::NoContent().finish(),
        Ok(Ok(false)) => error_json(StatusCode::NOT_FOUND, &format!("no snapshot '{name}'")),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

async fn delete_snapshot(state: web::Data<Control>, name: web::Path<String>) -> HttpResponse {
    let name = name.into_inner();
    if let Some(r) = bad_name(&name) {
        return r;
    }
    let st = state.clone();
    let n = name.clone();
    match web::block(move || st.store.delete_snapshot(&n)).await {
        Ok(Ok(true)) => HttpResponse::NoContent().finish(),
        Ok(Ok(false)) => error_json(StatusCode::NOT_FOUND, &format!("no snapshot '{name}'")),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

async fn get_journal(state: web::Data<Control>, req: HttpRequest) -> HttpResponse {
    let filter: journal::Filter =
        match web::Query::<journal::Filter>::from_query(req.query_string()) {
            Ok(q) => q.into_inner(),
            Err(e) => return error_json(StatusCode::BAD_REQUEST, &e.to_string()),
        };
    let entries = state.journal.query(&filter);
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

fn clock_doc(state: &Control) -> Value {
    let d = &state.det;
    json!({
        "now": d.now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "frozen": d.frozen(),
        "seed": d.seed(),
    })
}

async fn get_clock(state: web::Data<Control>) -> HttpResponse {
    HttpResponse::Ok().json(clock_doc(&state))
}

/// `{"set": "<RFC 3339>"}` freezes the clock there, `{"set": null}` lets it run again,
/// `{"advance_seconds": N}` moves it (freezing it if it was running).
async fn set_clock(state: web::Data<Control>, body: web::Bytes) -> HttpResponse {
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
        (Some(t), None) => state.det.set_clock(t),
        (None, Some(s)) if s.is_finite() && s.abs() < 1e12 => {
            state
                .det
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

async fn list_faults(state: web::Data<Control>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "faults": state.faults.list() }))
}

async fn add_fault(state: web::Data<Control>, body: web::Bytes) -> HttpResponse {
    let spec: faults::RuleSpec = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => return error_json(StatusCode::BAD_REQUEST, &format!("invalid rule: {e}")),
    };
    match state.faults.add(spec) {
        Ok(v) => HttpResponse::Created().json(v),
        Err(e) => error_json(StatusCode::BAD_REQUEST, &format!("invalid rule: {e}")),
    }
}

async fn clear_faults(state: web::Data<Control>) -> HttpResponse {
    state.faults.clear(false);
    HttpResponse::NoContent().finish()
}

async fn delete_fault(state: web::Data<Control>, id: web::Path<String>) -> HttpResponse {
    if state.faults.remove(&id) {
        HttpResponse::NoContent().finish()
    } else {
        error_json(StatusCode::NOT_FOUND, &format!("no fault rule '{id}'"))
    }
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
    use crate::domain::identity::IdentitySettings;
    use std::time::Instant;

    #[test]
    fn reset_is_fast_for_a_small_store() {
        let store = crate::store::open(":memory:", crate::store::Durability::Normal).unwrap();
        let det: Arc<Determinism> = Arc::default();
        let settings = IdentitySettings {
            fixtures: None,
            token_expiration: 3600,
            password_hash_cost: 4,
        };
        let identity = Arc::new(Identity::new(&settings, store.clone(), det.clone()).unwrap());
        let instances = Arc::new(InstanceService::new(store.clone(), det.clone()));
        let control = Control::new(
            &ControlSettings {
                journal_size: 10,
                password_hash_cost: 4,
                ..Default::default()
            },
            store,
            identity,
            instances,
            det,
            true,
        )
        .unwrap();
        // the fastest of a few runs (the machine may be busy with other work)
        let each = (0..50)
            .map(|_| {
                let t = Instant::now();
                control.reset().unwrap();
                t.elapsed()
            })
            .min()
            .unwrap();
        // Timings belong to the benchmark, not to tests: report it only.
        eprintln!("fastest reset of 50: {each:?}");
    }
}
