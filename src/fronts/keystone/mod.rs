//! # The Keystone front: the identity (Keystone v3) API subset
//!
//! What stock clients need to log in and look names up: discovery, `/v3/auth/tokens` (JWS
//! tokens), the catalog, and users, projects, domains, roles, role assignments and application
//! credentials (one file per resource). The rules are the domain's identity service; this front
//! parses Keystone's requests and renders Keystone's bodies and errors.

mod application_credentials;
mod auth_projects;
pub mod catalog;
pub mod clouds_yaml;
mod common;
mod credentials;
mod discovery;
mod domains;
pub mod error;
mod grants;
mod injected;
mod projects;
mod role_assignments;
mod roles;
pub mod schema;
pub mod tokens;
mod users;
mod views;

use crate::domain::credentials::CredentialService;
use crate::domain::identity::Identity;
use crate::http::{Described, Endpoint, Front, Injected};
use crate::store::identity::Target;
use actix_web::http::header::HeaderMap;
use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use error::IdentityError;
use std::sync::Arc;

/// What the Keystone front is set up with.
#[derive(Debug, Clone)]
pub struct KeystoneSettings {
    /// Where clients reach the identity API (catalog, discovery links).
    pub identity: Endpoint,
    /// Where clients reach the compute API (its catalog entry).
    pub compute: Endpoint,
    /// The catalog's region.
    pub region: String,
    /// Keystone's `[DEFAULT] list_limit`: longer lists are cut and marked `truncated`.
    pub list_limit: Option<usize>,
}

pub struct KeystoneFront {
    identity: Arc<Identity>,
    credentials: Arc<CredentialService>,
    settings: KeystoneSettings,
}

impl KeystoneFront {
    pub fn new(
        settings: KeystoneSettings,
        identity: Arc<Identity>,
        credentials: Arc<CredentialService>,
    ) -> KeystoneFront {
        KeystoneFront {
            identity,
            credentials,
            settings,
        }
    }
}

/// Path segments kept in the metrics route label.
const ROUTE_WORDS: &[&str] = &[
    "v3",
    "auth",
    "tokens",
    "catalog",
    "projects",
    "domains",
    "system",
    "users",
    "roles",
    "groups",
    "role_assignments",
    "application_credentials",
    "password",
    "credentials",
    "services",
    "endpoints",
    "regions",
    "OS-TRUST",
];

/// The Keystone token header.
static X_AUTH_TOKEN: &str = "x-auth-token";

impl Front for KeystoneFront {
    fn name(&self) -> &'static str {
        "identity"
    }

    fn configure(self: Arc<Self>, cfg: &mut web::ServiceConfig, _mount: &str) {
        cfg.app_data(web::Data::from(self))
            .default_service(web::to(dispatch));
    }

    fn route_words(&self) -> &'static [&'static str] {
        ROUTE_WORDS
    }

    fn describe(&self, req: &HttpRequest, _path: &str, _body: &[u8], _detail: bool) -> Described {
        let who = req
            .headers()
            .get(X_AUTH_TOKEN)
            .and_then(|v| v.to_str().ok())
            .filter(|t| !t.is_empty())
            .and_then(|t| self.identity.authenticate(t));
        Described {
            user_id: who.as_ref().map(|w| w.user_id.clone()),
            project_id: who
                .as_ref()
                .map(|w| w.project_id.clone())
                .filter(|p| !p.is_empty()),
            name: None,
            version: None,
        }
    }

    fn answered_version(&self, _: &HttpRequest, _: &str, _: &HeaderMap) -> Option<String> {
        None
    }

    fn render_fault(
        &self,
        req: &HttpRequest,
        _path: &str,
        fault: &Injected,
        _facts: &Described,
    ) -> HttpResponse {
        injected::render(self, req, fault)
    }

    fn issued_token(&self, method: &Method, path: &str, status: u16) -> bool {
        method == Method::POST && path.trim_end_matches('/') == "/v3/auth/tokens" && status == 201
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
    pub list_limit: Option<usize>,
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
            body: crate::pycompat::pyjson::to_vec(value),
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

async fn dispatch(
    req: HttpRequest,
    body: web::Bytes,
    front: web::Data<KeystoneFront>,
) -> HttpResponse {
    let mount = front.settings.identity.mount.as_str();
    let raw = req.path().strip_prefix(mount).unwrap_or(req.path());
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .into_owned();
    let path = decoded.trim_end_matches('/').to_string();
    let base =
        crate::http::base::request_base(&req, mount, front.settings.identity.public_url.as_deref());
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
        auth_token: header(X_AUTH_TOKEN).filter(|t| !t.is_empty()),
        subject_token: header("x-subject-token").filter(|t| !t.is_empty()),
        content_type: header("content-type"),
        catalog_identity_url: format!("{}/v3/", front.settings.identity.base(&req)),
        catalog_compute_url: format!("{}/v2.1", front.settings.compute.base(&req)),
        region: front.settings.region.clone(),
        list_limit: front.settings.list_limit,
        body: body.to_vec(),
    };
    let st = front.clone();
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
        front.identity.determinism().request_id(),
    ));
    if reply.status == 204 {
        return resp.finish();
    }
    // On HEAD, actix sends the GET's headers (Content-Length included) without the body, as
    // Keystone does.
    resp.body(reply.body)
}

fn route(front: &KeystoneFront, r: &Req) -> Result<Reply, IdentityError> {
    let id = &*front.identity;
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
        // Unenforced in Keystone: the original password authenticates, no token needed.
        ["v3", "users", uid, "password"] => match *m {
            Method::POST => users::change_password(id, r, uid),
            _ => Err(IdentityError::MethodNotAllowed),
        },
        ["v3", rest @ ..] => resource(front, r, m, rest),
        _ => Err(not_found()),
    }
}

/// `/v3/...` below the token routes: every one needs a valid `X-Auth-Token`.
fn resource(
    front: &KeystoneFront,
    r: &Req,
    m: &Method,
    rest: &[&str],
) -> Result<Reply, IdentityError> {
    let (id, creds) = (&*front.identity, &*front.credentials);
    let me = tokens::caller(id, r)?;
    let get = *m == Method::GET || *m == Method::HEAD;
    match rest {
        ["auth", "projects"] if get => auth_projects::auth_projects(id, r, &me),
        ["users"] if get => users::list_users(id, r, &me),
        ["users"] if *m == Method::POST => users::create_user(id, r, &me),
        ["users", uid] if get => users::show_user(id, r, &me, uid),
        ["users", uid] if *m == Method::PATCH => users::update_user(id, r, &me, uid),
        ["users", uid] if *m == Method::DELETE => users::delete_user(id, &me, uid),
        ["users", uid, "projects"] if get => auth_projects::user_projects(id, r, &me, uid),
        ["users", uid, "application_credentials"] if get => {
            application_credentials::list_app_creds(id, r, &me, uid)
        }
        ["users", uid, "application_credentials"] if *m == Method::POST => {
            application_credentials::create_app_cred(id, r, &me, uid)
        }
        ["users", uid, "application_credentials", acid] if get => {
            application_credentials::show_app_cred(id, r, &me, uid, acid)
        }
        ["users", uid, "application_credentials", acid] if *m == Method::DELETE => {
            application_credentials::delete_app_cred(id, &me, uid, acid)
        }
        ["projects"] if get => projects::list_projects(id, r, &me),
        ["projects"] if *m == Method::POST => projects::create_project(id, r, &me),
        ["projects", pid] if get => projects::show_project(id, r, &me, pid),
        ["projects", pid] if *m == Method::PATCH => projects::update_project(id, r, &me, pid),
        ["projects", pid] if *m == Method::DELETE => projects::delete_project(id, &me, pid),
        ["projects", pid, "users", uid, "roles"] if get => {
            grants::list_grants(id, r, &me, &Target::Project(pid.to_string()), uid)
        }
        ["projects", pid, "users", uid, "roles", rid] => {
            grants::grant(id, &me, m, &Target::Project(pid.to_string()), uid, rid)
        }
        ["domains", did, "users", uid, "roles"] if get => {
            grants::list_grants(id, r, &me, &Target::Domain(did.to_string()), uid)
        }
        ["domains", did, "users", uid, "roles", rid] => {
            grants::grant(id, &me, m, &Target::Domain(did.to_string()), uid, rid)
        }
        ["domains"] if get => domains::list_domains(id, r, &me),
        ["domains", did] if get => domains::show_domain(id, r, &me, did),
        ["roles"] if get => roles::list_roles(id, r, &me),
        ["roles", rid] if get => roles::show_role(id, r, &me, rid),
        ["roles", rid, "implies"] if get => roles::list_implies(id, r, &me, rid),
        ["role_inferences"] if get => roles::role_inferences(id, r, &me),
        ["role_assignments"] if get => role_assignments::role_assignments(id, r, &me),
        ["credentials"] if get => credentials::list(creds, r, &me),
        ["credentials"] if *m == Method::POST => credentials::create(id, creds, r, &me),
        ["credentials", cid] if get => credentials::show(creds, r, &me, cid),
        ["credentials", cid] if *m == Method::DELETE => credentials::delete(creds, &me, cid),
        _ => Err(not_found()),
    }
}

/// Flask's 404 for an unknown URL, in Keystone's error format.
pub fn not_found() -> IdentityError {
    IdentityError::NotFound("The resource could not be found.".into())
}
