//! # The identity (Keystone v3) API subset
//!
//! What stock clients need to log in and look names up: discovery, `/v3/auth/tokens` (JWS
//! tokens), the catalog, and users, projects, domains, roles, role assignments and application
//! credentials. `Identity` also verifies tokens for the compute API (keystonemiddleware's job).

pub mod catalog;
pub mod discovery;
pub mod error;
pub mod fixtures;
pub mod jws;
pub mod resources;
pub mod schema;
pub mod tokens;

use crate::app::AppState;
use crate::auth::AuthContext;
use crate::config::Config;
use crate::determinism::Determinism;
use crate::store::identity::{self as db, AppCred, Domain, Project, Role, Target, User};
use crate::store::{Store, StoreError};
use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use error::IdentityError;
use jws::{Signer, TokenClaims};
use rusqlite::Connection;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// How many verified tokens the compute hot path remembers.
const CACHE_SIZE: usize = 4096;
/// How many signing keys verify: the current one and the one before it.
const KEYS_KEPT: usize = 2;

/// Identity service state shared by both listeners.
pub struct Identity {
    store: Store,
    signer: RwLock<Arc<Signer>>,
    /// Bumped by every revocation and every identity change that can invalidate a token
    /// (disable/delete of a user or project, role changes, key rotation): cached
    /// verifications from an older generation are re-checked.
    generation: AtomicU64,
    cache: Mutex<HashMap<String, Cached>>,
    token_expiration: i64,
    hash_cost: u32,
    /// Secrets that already passed bcrypt: stored hash → salted SHA-256 of the secret.
    verified: Mutex<HashMap<String, [u8; 32]>>,
    /// Per-process random salt for `verified`.
    verified_salt: [u8; 32],
    det: Arc<Determinism>,
}

/// How many verified secrets `check_secret` remembers.
const VERIFIED_SIZE: usize = 1024;

struct Cached {
    ctx: Arc<AuthContext>,
    generation: u64,
    exp: i64,
}

/// What a token is scoped to.
#[derive(Debug, Clone)]
pub enum Scope {
    Unscoped,
    Project { project: Project, domain: Domain },
    Domain(Domain),
    System,
}

/// A token that verified, with everything needed to render it.
#[derive(Debug, Clone)]
pub struct ValidToken {
    pub claims: TokenClaims,
    pub user: User,
    pub user_domain: Domain,
    pub scope: Scope,
    pub roles: Vec<Role>,
    pub app_cred: Option<AppCred>,
}

impl ValidToken {
    pub fn is_admin(&self) -> bool {
        self.roles.iter().any(|r| r.name == "admin")
    }
    pub fn project_id(&self) -> Option<&str> {
        match &self.scope {
            Scope::Project { project, .. } => Some(&project.id),
            _ => None,
        }
    }
}

/// Why a token did not verify.
#[derive(Debug, PartialEq, Eq)]
pub enum Invalid {
    /// Not one of our tokens at all ("Could not find token").
    Unknown,
    /// Ours, but expired, revoked, or its user/scope is gone or disabled.
    Failed,
}

/// Keystone's role implications (keystone-manage bootstrap): admin ⇒ manager ⇒ member ⇒ reader.
fn implied(name: &str) -> &'static [&'static str] {
    match name {
        "admin" => &["manager", "member"],
        "manager" => &["member"],
        "member" => &["reader"],
        _ => &[],
    }
}

/// Direct roles on `target` plus the roles they imply (existing ones only), without repeats.
pub fn effective_roles(
    conn: &Connection,
    user_id: &str,
    target: &Target,
) -> Result<Vec<Role>, StoreError> {
    let mut roles = db::direct_roles(conn, user_id, target)?;
    if roles.is_empty() {
        return Ok(roles);
    }
    let all = db::list_roles(conn)?;
    let mut i = 0;
    while i < roles.len() {
        for name in implied(&roles[i].name) {
            if !roles.iter().any(|r| r.name == *name) {
                if let Some(r) = all.iter().find(|r| r.name == *name) {
                    roles.push(r.clone());
                }
            }
        }
        i += 1;
    }
    Ok(roles)
}

/// The implications among `roles` as (prior, implied) pairs, for `effective` assignments.
pub fn implications(all: &[Role]) -> Vec<(Role, Role)> {
    let mut out = Vec::new();
    for prior in all {
        for name in implied(&prior.name) {
            if let Some(r) = all.iter().find(|r| r.name == *name) {
                out.push((prior.clone(), r.clone()));
            }
        }
    }
    out
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Identity {
    pub fn new(config: &Config, store: &Store) -> anyhow::Result<Identity> {
        Identity::new_with(config, store, Arc::new(Determinism::default()))
    }

    /// `new`, taking ids, keys and time from `det`.
    pub fn new_with(
        config: &Config,
        store: &Store,
        det: Arc<Determinism>,
    ) -> anyhow::Result<Identity> {
        let fixtures = fixtures::Fixtures::load(config.fixtures.as_deref())?;
        let origin = config
            .fixtures
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "fixtures/default.yaml".into());
        fixtures.apply_with(store, config.password_hash_cost, &origin, &det)?;
        let mut keys = store.read(|c| db::signing_keys(c, KEYS_KEPT))?;
        if keys.is_empty() {
            let key = jws::generate_key_with(&mut det.rng())?;
            store.write(|c| db::add_signing_key(c, &key, &det.now().to_rfc3339(), KEYS_KEPT))?;
            keys = store.read(|c| db::signing_keys(c, KEYS_KEPT))?;
        }
        store.write(|c| db::purge_revocations(c, det.timestamp() - 7 * 86400))?;
        Ok(Identity {
            store: store.clone(),
            signer: RwLock::new(Arc::new(Signer::new(&keys)?)),
            generation: AtomicU64::new(0),
            cache: Mutex::new(HashMap::new()),
            token_expiration: config.token_expiration as i64,
            hash_cost: config.password_hash_cost,
            verified: Mutex::new(HashMap::new()),
            verified_salt: rand::random(),
            det,
        })
    }

    /// Where ids, keys and time come from.
    pub fn determinism(&self) -> &Determinism {
        &self.det
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn hash_cost(&self) -> u32 {
        self.hash_cost
    }

    pub fn token_expiration(&self) -> i64 {
        self.token_expiration
    }

    fn signer(&self) -> Arc<Signer> {
        self.signer
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether `secret` matches the bcrypt `hash`. A secret that already matched this very hash
    /// is recognised by its salted SHA-256 (kept in memory only, for at most `VERIFIED_SIZE`
    /// hashes) instead of running bcrypt again: a changed password has a new hash, so it can
    /// never match a stale entry. Failures are never cached.
    pub fn check_secret(&self, secret: &str, hash: &str) -> bool {
        use sha2::{Digest, Sha256};
        let digest: [u8; 32] = Sha256::new()
            .chain_update(self.verified_salt)
            .chain_update(secret.as_bytes())
            .finalize()
            .into();
        {
            let cache = self.verified.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(known) = cache.get(hash) {
                // Constant-time comparison.
                if known
                    .iter()
                    .zip(digest)
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
                {
                    return true;
                }
            }
        }
        if !bcrypt::verify(secret, hash).unwrap_or(false) {
            return false;
        }
        let mut cache = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= VERIFIED_SIZE {
            cache.clear();
        }
        cache.insert(hash.to_string(), digest);
        true
    }

    /// Makes every cached verification stale (call after any change that can invalidate one).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Makes a new signing key current; tokens signed with the previous key still verify,
    /// older ones no longer do.
    pub fn rotate_signing_key(&self) -> anyhow::Result<()> {
        let key = jws::generate_key_with(&mut self.det.rng())?;
        let created = self.det.now().to_rfc3339();
        self.store
            .write(|c| db::add_signing_key(c, &key, &created, KEYS_KEPT))?;
        let keys = self.store.read(|c| db::signing_keys(c, KEYS_KEPT))?;
        *self.signer.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(Signer::new(&keys)?);
        self.invalidate();
        Ok(())
    }

    /// Re-reads the signing keys from the store (after a reset or snapshot restore).
    pub fn reload_signing_keys(&self) -> anyhow::Result<()> {
        let keys = self.store.read(|c| db::signing_keys(c, KEYS_KEPT))?;
        *self.signer.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(Signer::new(&keys)?);
        self.invalidate();
        Ok(())
    }

    pub fn sign(&self, claims: &TokenClaims) -> Result<String, IdentityError> {
        self.signer()
            .sign(claims)
            .map_err(|e| IdentityError::Internal(e.to_string()))
    }

    /// Full verification: signature, expiry (unless `allow_expired`), revocation, and that
    /// the user, its domain and the scope still exist, are enabled and still carry roles.
    pub fn verify(&self, token: &str, allow_expired: bool) -> Result<ValidToken, Invalid> {
        let claims = self.signer().verify(token).ok_or(Invalid::Unknown)?;
        if !allow_expired && claims.exp <= self.det.timestamp() {
            return Err(Invalid::Failed);
        }
        self.store
            .read(|conn| check_claims(conn, claims))
            .unwrap_or(Err(Invalid::Failed))
    }

    /// Verifies a compute request's token (keystonemiddleware): project-scoped and unscoped
    /// tokens pass; domain-scoped ones do not.
    pub fn authenticate(&self, token: &str) -> Option<Arc<AuthContext>> {
        let generation = self.generation.load(Ordering::SeqCst);
        let now = self.det.timestamp();
        {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(c) = cache.get(token) {
                if c.generation == generation && c.exp > now {
                    return Some(c.ctx.clone());
                }
            }
        }
        let valid = self.verify(token, false).ok()?;
        let roles = valid.roles.iter().map(|r| r.name.clone()).collect();
        let ctx = Arc::new(match &valid.scope {
            Scope::Project { project, .. } => AuthContext {
                user_id: valid.user.id.clone(),
                project_id: project.id.clone(),
                roles,
                system_scope: false,
            },
            Scope::Unscoped => AuthContext {
                user_id: valid.user.id.clone(),
                project_id: String::new(),
                roles: Vec::new(),
                system_scope: false,
            },
            // Nova's key pair policies are project-scoped: a system token gets their 403.
            Scope::System => AuthContext {
                user_id: valid.user.id.clone(),
                project_id: String::new(),
                roles,
                system_scope: true,
            },
            Scope::Domain(_) => return None,
        });
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHE_SIZE {
            cache.retain(|_, c| c.generation == generation && c.exp > now);
            if cache.len() >= CACHE_SIZE {
                cache.clear();
            }
        }
        cache.insert(
            token.to_string(),
            Cached {
                ctx: ctx.clone(),
                generation,
                exp: valid.claims.exp,
            },
        );
        Some(ctx)
    }

    /// keystonemiddleware's 401.
    pub fn unauthorized_response(&self, req: &HttpRequest) -> HttpResponse {
        let uri = req
            .app_data::<web::Data<AppState>>()
            .map(|s| public_identity_base(s, req))
            .unwrap_or_default();
        HttpResponse::Unauthorized()
            .content_type("application/json")
            .insert_header(("WWW-Authenticate", format!("Keystone uri=\"{uri}\"")))
            .body(r#"{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}"#)
    }
}

fn check_claims(
    conn: &Connection,
    claims: TokenClaims,
) -> Result<Result<ValidToken, Invalid>, StoreError> {
    let fail = Ok(Err(Invalid::Failed));
    if let Some(audit) = claims.openstack_audit_ids.first() {
        if db::is_revoked(conn, audit)? {
            return fail;
        }
    } else {
        return fail;
    }
    let Some(user) = db::get_user(conn, &claims.sub)? else {
        return fail;
    };
    let Some(user_domain) = db::get_domain(conn, &user.domain_id)? else {
        return fail;
    };
    if !user.enabled || !user_domain.enabled {
        return fail;
    }
    let (scope, target) = match (
        &claims.openstack_project_id,
        &claims.openstack_domain_id,
        &claims.openstack_system,
    ) {
        (Some(pid), None, None) => {
            let Some(project) = db::get_project(conn, pid)? else {
                return fail;
            };
            let Some(domain) = db::get_domain(conn, &project.domain_id)? else {
                return fail;
            };
            if !project.enabled || !domain.enabled {
                return fail;
            }
            (
                Scope::Project { project, domain },
                Some(Target::Project(pid.clone())),
            )
        }
        (None, Some(did), None) => {
            let Some(domain) = db::get_domain(conn, did)? else {
                return fail;
            };
            if !domain.enabled {
                return fail;
            }
            (Scope::Domain(domain), Some(Target::Domain(did.clone())))
        }
        (None, None, Some(s)) if s == "all" => (Scope::System, Some(Target::System)),
        (None, None, None) => (Scope::Unscoped, None),
        _ => return fail,
    };
    let mut roles = match &target {
        Some(t) => effective_roles(conn, &user.id, t)?,
        None => Vec::new(),
    };
    let app_cred = match &claims.openstack_app_cred_id {
        Some(id) => {
            let Some(ac) = db::get_app_cred(conn, id)? else {
                return fail;
            };
            if ac.user_id != user.id
                || Some(ac.project_id.as_str()) != claims.openstack_project_id.as_deref()
            {
                return fail;
            }
            let ac_roles: Vec<Role> = ac
                .role_ids
                .iter()
                .filter_map(|rid| roles.iter().find(|r| &r.id == rid).cloned())
                .collect();
            roles = ac_roles;
            Some(ac)
        }
        None => None,
    };
    if target.is_some() && roles.is_empty() {
        return fail;
    }
    Ok(Ok(ValidToken {
        claims,
        user,
        user_domain,
        scope,
        roles,
        app_cred,
    }))
}

/// Where the identity API is mounted on its listener.
fn identity_mount(state: &AppState) -> &'static str {
    if state.bound.single_port {
        "/identity"
    } else {
        ""
    }
}

/// `http://host:port` of a bound address; an unspecified IP takes the request's host name.
fn bound_origin(addr: std::net::SocketAddr, req: &HttpRequest) -> String {
    if addr.ip().is_unspecified() {
        let info = req.connection_info();
        let host = info.host();
        let name = match host.rsplit_once(':') {
            Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h.to_string(),
            _ => host.to_string(),
        };
        format!("http://{name}:{}", addr.port())
    } else {
        format!("http://{addr}")
    }
}

/// The identity base URL clients are told about (catalog, keystonemiddleware's header).
pub fn public_identity_base(state: &AppState, req: &HttpRequest) -> String {
    match &state.config.public_identity_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => format!(
            "{}{}",
            bound_origin(state.bound.identity, req),
            identity_mount(state)
        ),
    }
}

/// The compute base URL for the catalog (without `/v2.1`).
pub fn public_compute_base(state: &AppState, req: &HttpRequest) -> String {
    match &state.config.public_compute_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => format!(
            "{}{}",
            bound_origin(state.bound.compute, req),
            if state.bound.single_port {
                "/compute"
            } else {
                ""
            }
        ),
    }
}

/// One identity request, detached from actix so it can run on the blocking pool.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: Method,
    /// Path below the mount, without trailing slashes.
    pub path: String,
    pub raw_query: String,
    pub query: Vec<(String, String)>,
    /// Base URL of this request (`scheme://host[/identity]`), for links and discovery.
    pub base: String,
    pub auth_token: Option<String>,
    pub subject_token: Option<String>,
    pub content_type: Option<String>,
    pub catalog_identity_url: String,
    pub catalog_compute_url: String,
    pub region: String,
    pub body: Vec<u8>,
}

impl Req {
    pub fn has_query(&self, name: &str) -> bool {
        self.query.iter().any(|(k, _)| k == name)
    }
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// `?flag`, `?flag=1`, `?flag=true`: Keystone's `query_filter_is_true` semantics.
    pub fn flag(&self, name: &str) -> bool {
        match self.query(name) {
            None => false,
            Some(v) => !matches!(
                v.to_ascii_lowercase().as_str(),
                "0" | "false" | "no" | "off"
            ),
        }
    }
    /// The request's own URL (for `links.self`).
    pub fn self_url(&self) -> String {
        if self.raw_query.is_empty() {
            format!("{}{}", self.base, self.path)
        } else {
            format!("{}{}?{}", self.base, self.path, self.raw_query)
        }
    }
}

/// A finished answer (Send, unlike `HttpResponse`).
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, value: &serde_json::Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: crate::pyjson::to_vec(value),
        }
    }
    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
    pub fn header(mut self, name: &'static str, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }
}

fn error_reply(e: &IdentityError, base: &str) -> Reply {
    let mut r = Reply {
        status: e.status(),
        headers: Vec::new(),
        body: e.body(),
    };
    if e.status() == 401 {
        r.headers
            .push(("WWW-Authenticate", format!("Keystone uri=\"{base}/v3\"")));
    }
    r
}

/// Mounts the identity API.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.default_service(web::to(dispatch));
}

async fn dispatch(req: HttpRequest, body: web::Bytes, state: web::Data<AppState>) -> HttpResponse {
    let mount = identity_mount(&state);
    let raw = req.path().strip_prefix(mount).unwrap_or(req.path());
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .into_owned();
    let path = decoded.trim_end_matches('/').to_string();
    let info = req.connection_info().clone();
    let base = match &state.config.public_identity_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => format!("{}://{}{}", info.scheme(), info.host(), mount),
    };
    let header = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let r = Req {
        method: req.method().clone(),
        path,
        raw_query: req.query_string().to_string(),
        query: form_urlencoded::parse(req.query_string().as_bytes())
            .into_owned()
            .collect(),
        base: base.clone(),
        auth_token: header(crate::auth::X_AUTH_TOKEN.as_str()).filter(|t| !t.is_empty()),
        subject_token: header("x-subject-token").filter(|t| !t.is_empty()),
        content_type: header("content-type"),
        catalog_identity_url: format!("{}/v3/", public_identity_base(&state, &req)),
        catalog_compute_url: format!("{}/v2.1", public_compute_base(&state, &req)),
        region: state.config.region.clone(),
        body: body.to_vec(),
    };
    let st = state.clone();
    let reply = web::block(move || route(&st, &r))
        .await
        .unwrap_or_else(|_| Err(IdentityError::Internal("blocking task failed".into())))
        .unwrap_or_else(|e| error_reply(&e, &base));
    let mut resp = HttpResponse::build(
        actix_web::http::StatusCode::from_u16(reply.status)
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR),
    );
    if reply.status != 204 {
        resp.insert_header(("Content-Type", "application/json"));
    }
    for (k, v) in reply.headers {
        resp.insert_header((k, v));
    }
    resp.insert_header(("Vary", "X-Auth-Token"));
    resp.insert_header((
        "x-openstack-request-id",
        state.identity.determinism().request_id(),
    ));
    if reply.status == 204 {
        return resp.finish();
    }
    // On HEAD, actix sends the GET's headers (Content-Length included) without the body, as
    // Keystone does.
    resp.body(reply.body)
}

fn route(state: &AppState, r: &Req) -> Result<Reply, IdentityError> {
    let id = &state.identity;
    let segs: Vec<&str> = if r.path.is_empty() {
        Vec::new()
    } else {
        r.path[1..].split('/').collect()
    };
    let m = &r.method;
    let get = *m == Method::GET || *m == Method::HEAD;
    match segs.as_slice() {
        [] if get => Ok(discovery::root(&r.base)),
        ["v3"] if get => Ok(discovery::v3(&r.base)),
        ["v3", "auth", "tokens"] => match *m {
            Method::POST => tokens::issue(id, r),
            Method::GET | Method::HEAD => tokens::validate(id, r),
            Method::DELETE => tokens::revoke(id, r),
            _ => Err(not_found()),
        },
        ["v3", rest @ ..] => resources::route(id, r, m, rest),
        _ => Err(not_found()),
    }
}

/// Flask's 404 for an unknown URL, in Keystone's error format.
pub fn not_found() -> IdentityError {
    IdentityError::NotFound("The resource could not be found.".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Durability;

    fn config(db: &str) -> Config {
        Config {
            db: db.into(),
            ..Config::default()
        }
    }

    fn claims_for(id: &Identity, user: &str, project: &str, exp: i64) -> TokenClaims {
        let (u, p) = id
            .store
            .read(|c| {
                let u = db::list_users(c)?
                    .into_iter()
                    .find(|x| x.name == user)
                    .unwrap();
                let p = db::list_projects(c)?
                    .into_iter()
                    .find(|x| x.name == project)
                    .unwrap();
                Ok((u, p))
            })
            .unwrap();
        TokenClaims {
            sub: u.id,
            iat: now(),
            exp,
            openstack_methods: vec!["password".into()],
            openstack_audit_ids: vec![jws::random_audit_id()],
            openstack_project_id: Some(p.id),
            openstack_domain_id: None,
            openstack_system: None,
            openstack_app_cred_id: None,
        }
    }

    #[test]
    fn verified_secrets_are_remembered_only_for_their_hash() {
        let store = Store::open(":memory:", Durability::Normal).unwrap();
        let id = Identity::new(&config(":memory:"), &store).unwrap();
        let h1 = bcrypt::hash("s3cret", 4).unwrap();
        let h2 = bcrypt::hash("other", 4).unwrap();
        assert!(!id.check_secret("wrong", &h1));
        assert!(id.check_secret("s3cret", &h1));
        assert!(id.check_secret("s3cret", &h1), "cached");
        assert!(
            !id.check_secret("wrong", &h1),
            "the cache never accepts another secret"
        );
        assert!(
            !id.check_secret("s3cret", &h2),
            "a new hash needs bcrypt again"
        );
        assert!(id.check_secret("other", &h2));
    }

    #[test]
    fn old_tokens_survive_one_rotation_not_two() {
        let store = Store::open(":memory:", Durability::Normal).unwrap();
        let id = Identity::new(&config(":memory:"), &store).unwrap();
        let token = id
            .sign(&claims_for(&id, "demo", "demo", now() + 600))
            .unwrap();
        let ctx = id.authenticate(&token).expect("valid");
        assert_eq!(ctx.roles, vec!["member".to_string(), "reader".to_string()]);
        id.rotate_signing_key().unwrap();
        assert!(
            id.authenticate(&token).is_some(),
            "previous key still verifies"
        );
        let fresh = id
            .sign(&claims_for(&id, "demo", "demo", now() + 600))
            .unwrap();
        id.rotate_signing_key().unwrap();
        assert!(id.authenticate(&token).is_none(), "two rotations ago");
        assert!(id.verify(&token, true).is_err());
        assert!(id.authenticate(&fresh).is_some());
    }

    #[test]
    fn keys_and_data_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nk.db").to_string_lossy().into_owned();
        let token = {
            let store = Store::open(&path, Durability::Normal).unwrap();
            let id = Identity::new(&config(&path), &store).unwrap();
            id.sign(&claims_for(&id, "admin", "admin", now() + 600))
                .unwrap()
        };
        let store = Store::open(&path, Durability::Normal).unwrap();
        let id = Identity::new(&config(&path), &store).unwrap();
        let ctx = id.authenticate(&token).expect("same key after restart");
        assert!(ctx.is_admin());
        assert_eq!(
            store.read(db::list_users).unwrap().len(),
            3,
            "fixtures applied once"
        );
    }

    #[test]
    fn expired_and_revoked() {
        let store = Store::open(":memory:", Durability::Normal).unwrap();
        let id = Identity::new(&config(":memory:"), &store).unwrap();
        let expired = id
            .sign(&claims_for(&id, "demo", "demo", now() - 10))
            .unwrap();
        assert!(id.authenticate(&expired).is_none());
        assert_eq!(id.verify(&expired, false).unwrap_err(), Invalid::Failed);
        assert!(id.verify(&expired, true).is_ok(), "allow_expired");
        let claims = claims_for(&id, "demo", "demo", now() + 600);
        let token = id.sign(&claims).unwrap();
        assert!(id.authenticate(&token).is_some());
        store
            .write(|c| db::revoke_token(c, &claims.openstack_audit_ids[0], claims.exp))
            .unwrap();
        id.invalidate();
        assert!(id.authenticate(&token).is_none());
        assert_eq!(id.verify("garbage", false).unwrap_err(), Invalid::Unknown);
    }

    #[test]
    fn passwords_are_bcrypt_hashed() {
        let store = Store::open(":memory:", Durability::Normal).unwrap();
        let _id = Identity::new(&config(":memory:"), &store).unwrap();
        for u in store.read(db::list_users).unwrap() {
            let h = u.password_hash.unwrap();
            assert!(h.starts_with("$2b$04$"), "cost 4 by default");
            assert!(!h.contains(&u.name));
            assert!(bcrypt::verify(&u.name, &h).unwrap());
        }
    }
}
