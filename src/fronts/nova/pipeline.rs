//! # Nova's request pipeline
//!
//! One dispatcher reproduces Nova's WSGI pipeline order (api-paste.ini + wsgi.py): request id →
//! size limit → auth → routing (plain webob 404s) → microversion → media type → body → URL
//! project id → controller → version headers. Routes live in `route()`; controllers per resource.

use super::auth::{authenticate, unauthorized, Unavailable};
use super::fault::{Fault, WebobError};
use super::microversion::{
    negotiate, Microversion, VersionError, API_VERSION_HEADER, NOVA_VERSION_HEADER,
};
use super::reply::Reply;
use super::request::{content_type_ok, header, parse_body, ComputeRequest};
use super::{keypairs, usage, versions, NovaFront};
use crate::domain::Principal;
use crate::http::body::{read_limited, OSLO_MAX_BODY};
use crate::pycompat::pyjson;
use actix_web::http::header::{HeaderName, HeaderValue, ACCEPT, CONTENT_TYPE};
use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;
use std::sync::Arc;

/// eventlet.wsgi's limits (Nova's own server): the request line, one header line, all headers.
const MAX_REQUEST_LINE: usize = 8192;
const MAX_HEADER_LINE: usize = 8192;
const MAX_TOTAL_HEADER_SIZE: usize = 65536;

/// eventlet's answer to a request line or headers over its limits: a bare status, no body.
fn too_long(req: &HttpRequest) -> Option<HttpResponse> {
    let uri = req.uri();
    let target = match (uri.scheme(), uri.authority(), uri.path_and_query()) {
        // origin-form (`/path?query`), as clients send it: displayed exactly as it came
        (None, None, Some(pq)) => pq.as_str().len(),
        _ => display_len(uri),
    };
    let request_line = req.method().as_str().len() + 1 + target + 11;
    let reason = if request_line >= MAX_REQUEST_LINE {
        Some(StatusCode::URI_TOO_LONG)
    } else {
        let lines = req
            .headers()
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len() + 4);
        let (longest, total) = lines.fold((0, 0), |(m, t), l| (m.max(l), t + l));
        (longest > MAX_HEADER_LINE || total > MAX_TOTAL_HEADER_SIZE)
            .then_some(StatusCode::BAD_REQUEST)
    }?;
    Some(
        HttpResponse::build(reason)
            .insert_header(("Connection", "close"))
            .insert_header(("Content-Length", "0"))
            .finish(),
    )
}

/// The length of `value` as displayed, without building the string.
fn display_len(value: &impl std::fmt::Display) -> usize {
    struct Count(usize);
    impl std::fmt::Write for Count {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0 += s.len();
            Ok(())
        }
    }
    let mut n = Count(0);
    let _ = std::fmt::write(&mut n, format_args!("{value}"));
    n.0
}

/// Where the compute API is mounted on its listener ("" or "/compute").
#[derive(Clone)]
pub struct ComputeMount(pub String);

enum Route {
    KeypairIndex,
    KeypairCreate,
    KeypairShow(String),
    KeypairDelete(String),
    Limits,
    QuotaSet(String, usage::QuotaView),
}

impl Route {
    /// Whether the route's view renders links (needs the request's URLs).
    fn renders_links(&self) -> bool {
        matches!(self, Route::KeypairIndex)
    }
}

/// Matches `[/{project_id}]/os-keypairs[/{name}]` like Nova's Routes mapper (exact, no
/// trailing slash, only the mapped methods).
fn route(method: &Method, segments: &[&str]) -> Option<(Option<String>, Route)> {
    let is_project = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase() || b == b'-')
    };
    let (project, rest) = match segments {
        [first, rest @ ..] if !rest.is_empty() && is_project(first) => {
            (Some(first.to_string()), rest)
        }
        _ => (None, segments),
    };
    let route = match (method, rest) {
        (&Method::GET, ["os-keypairs"]) => Route::KeypairIndex,
        (&Method::POST, ["os-keypairs"]) => Route::KeypairCreate,
        (&Method::GET, ["os-keypairs", name]) if !name.is_empty() => {
            Route::KeypairShow(name.to_string())
        }
        (&Method::DELETE, ["os-keypairs", name]) if !name.is_empty() => {
            Route::KeypairDelete(name.to_string())
        }
        (&Method::GET, ["limits"]) => Route::Limits,
        (&Method::GET, ["os-quota-sets", id]) if !id.is_empty() => {
            Route::QuotaSet(id.to_string(), usage::QuotaView::Show)
        }
        (&Method::GET, ["os-quota-sets", id, "detail"]) if !id.is_empty() => {
            Route::QuotaSet(id.to_string(), usage::QuotaView::Detail)
        }
        (&Method::GET, ["os-quota-sets", id, "defaults"]) if !id.is_empty() => {
            Route::QuotaSet(id.to_string(), usage::QuotaView::Defaults)
        }
        _ => return None,
    };
    Some((project, route))
}

static X_OPENSTACK_REQUEST_ID: HeaderName = HeaderName::from_static("x-openstack-request-id");
static X_COMPUTE_REQUEST_ID: HeaderName = HeaderName::from_static("x-compute-request-id");

pub(super) fn stamp_request_id(resp: &mut HttpResponse, rid: &str) {
    if let Ok(v) = HeaderValue::from_str(rid) {
        resp.headers_mut()
            .insert(X_OPENSTACK_REQUEST_ID.clone(), v.clone());
        resp.headers_mut().insert(X_COMPUTE_REQUEST_ID.clone(), v);
    }
}

/// The two version header values (`compute 2.x`, `2.x`) of a version.
fn version_header_values(version: Microversion) -> (HeaderValue, HeaderValue) {
    let v = version.to_string();
    (
        HeaderValue::from_str(&format!("compute {v}")).expect("ascii"),
        HeaderValue::from_str(&v).expect("ascii"),
    )
}

fn stamp_version(resp: &mut HttpResponse, version: Microversion) {
    // Made once for the supported versions (every answer carries them); an unsupported
    // version echoed in a 406 is rendered on the spot.
    static SUPPORTED: std::sync::LazyLock<Vec<(HeaderValue, HeaderValue)>> =
        std::sync::LazyLock::new(|| {
            Microversion::supported()
                .map(version_header_values)
                .collect()
        });
    let (api_version, nova_version) = match version.supported_index() {
        Some(i) => SUPPORTED[i].clone(),
        None => version_header_values(version),
    };
    let h = resp.headers_mut();
    h.insert(API_VERSION_HEADER.clone(), api_version);
    h.insert(NOVA_VERSION_HEADER.clone(), nova_version);
    h.append(
        actix_web::http::header::VARY,
        HeaderValue::from_static("OpenStack-API-Version"),
    );
    h.append(
        actix_web::http::header::VARY,
        HeaderValue::from_static("X-OpenStack-Nova-API-Version"),
    );
}

/// `scheme://host[:port]` plus the mount prefix, or the configured public URL.
fn base_url(front: &NovaFront, req: &HttpRequest, mount: &str) -> String {
    crate::http::base::request_base(req, mount, front.public_url.as_deref())
}

/// Reads the body, refusing more than oslo's limit without buffering it.
async fn read_body(req: &HttpRequest, payload: web::Payload) -> Result<Vec<u8>, WebobError> {
    read_limited(req, payload, OSLO_MAX_BODY)
        .await
        .map_err(|_| WebobError::TooLarge)
}

pub(super) async fn dispatch(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<NovaFront>,
    mount: web::Data<ComputeMount>,
) -> HttpResponse {
    if let Some(refused) = too_long(&req) {
        return refused;
    }
    let raw_path = req
        .path()
        .strip_prefix(mount.0.as_str())
        .unwrap_or(req.path());
    let mut path = percent_encoding::percent_decode_str(raw_path).decode_utf8_lossy();
    while path.contains("//") {
        path = path.replace("//", "/").into();
    }
    let base = || base_url(&state, &req, &mount.0);
    let accept = header(&req, ACCEPT).map(str::to_string);
    let is_head = req.method() == Method::HEAD;

    if req.method() == Method::OPTIONS {
        // Answered by the CORS middleware in front of everything else.
        return HttpResponse::Ok()
            .insert_header(("Content-Length", "0"))
            .finish();
    }
    let (api, rest) = if path == "/" || path.is_empty() {
        return json_response(StatusCode::OK, &versions::root(&base()));
    } else if let Some(rest) = path.strip_prefix("/v2.1") {
        ("v2.1", rest)
    } else if let Some(rest) = path.strip_prefix("/v2") {
        ("v2", rest)
    } else {
        return json_response(
            StatusCode::MULTIPLE_CHOICES,
            &versions::choices(&base(), &path),
        );
    };
    if !rest.is_empty() && !rest.starts_with('/') {
        // e.g. /v2.10: not one of our APIs
        return json_response(
            StatusCode::MULTIPLE_CHOICES,
            &versions::choices(&base(), &path),
        );
    }
    let rid = state.det.request_id();
    let legacy = api == "v2";
    let mut resp = if rest.is_empty() || rest == "/" {
        version_document(&req, &base(), legacy)
    } else {
        api_request(
            &req,
            payload,
            &state,
            &mount.0,
            api,
            rest,
            legacy,
            accept.as_deref(),
            is_head,
        )
        .await
    };
    stamp_request_id(&mut resp, &rid);
    resp
}

fn json_response(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .body(pyjson::to_vec(body))
}

fn version_document(req: &HttpRequest, base: &str, legacy: bool) -> HttpResponse {
    if legacy {
        return json_response(StatusCode::OK, &versions::v20_document(base));
    }
    match negotiate(req.headers()) {
        Ok(version) => {
            let mut resp = json_response(StatusCode::OK, &versions::v21_document(base));
            stamp_version(&mut resp, version);
            resp
        }
        Err(e) => version_fault(e),
    }
}

fn version_fault(e: VersionError) -> HttpResponse {
    let echoed = match &e {
        VersionError::Unsupported(v) => Some(*v),
        VersionError::Malformed(_) => None,
    };
    let mut resp = Fault::from(e).response();
    if let Some(v) = echoed {
        stamp_version(&mut resp, v);
    }
    resp
}

#[allow(clippy::too_many_arguments)]
async fn api_request(
    req: &HttpRequest,
    payload: web::Payload,
    state: &web::Data<NovaFront>,
    mount: &str,
    api: &str,
    rest: &str,
    legacy: bool,
    accept: Option<&str>,
    is_head: bool,
) -> HttpResponse {
    let body = match read_body(req, payload).await {
        Ok(body) => body,
        Err(e) => return e.response(accept, is_head),
    };
    let auth = match authenticate(state, req) {
        Ok(Some(auth)) => auth,
        Ok(None) => return unauthorized(state, req),
        // keystonemiddleware's answer when it cannot reach Keystone: 503.
        Err(Unavailable(detail)) => return Fault::Unavailable(detail).response(),
    };
    let segments: Vec<&str> = rest[1..].split('/').collect();
    let Some((url_project, route)) = route(req.method(), &segments) else {
        return WebobError::NotFound.response(accept, is_head);
    };
    let version = if legacy {
        Microversion::MIN
    } else {
        match negotiate(req.headers()) {
            Ok(v) => v,
            Err(e) => return version_fault(e),
        }
    };
    let outcome = controller(
        req,
        state,
        mount,
        api,
        &body,
        auth,
        version,
        legacy,
        url_project,
        route,
    )
    .await;
    let mut resp = match outcome {
        Ok(reply) => reply.response(),
        Err(fault) => fault.response(),
    };
    if !legacy {
        stamp_version(&mut resp, version);
    }
    resp
}

#[allow(clippy::too_many_arguments)]
async fn controller(
    req: &HttpRequest,
    state: &web::Data<NovaFront>,
    mount: &str,
    api: &str,
    body: &[u8],
    auth: Arc<Principal>,
    version: Microversion,
    legacy: bool,
    url_project: Option<String>,
    route: Route,
) -> Result<Reply, Fault> {
    if !content_type_ok(header(req, CONTENT_TYPE)) {
        return Err(Fault::UnsupportedMediaType);
    }
    let parsed = match route {
        Route::KeypairCreate => Some(parse_body(body)?),
        _ => None,
    };
    if let Some(p) = &url_project {
        if *p != auth.project_id {
            return Err(Fault::BadRequest(format!(
                "Malformed request URL: URL's project_id '{p}' doesn't match Context's project_id '{}'",
                auth.project_id
            )));
        }
    }
    let query: Vec<(String, String)> = form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let (application_url, full_url) = if route.renders_links() {
        let base = base_url(state, req, mount);
        let full_url = if req.query_string().is_empty() {
            format!("{base}{}", req.path())
        } else {
            format!("{base}{}?{}", req.path(), req.query_string())
        };
        (format!("{base}/{api}"), full_url)
    } else {
        (String::new(), String::new())
    };
    let creq = ComputeRequest {
        auth,
        version,
        legacy_v2: legacy,
        query,
        application_url,
        full_url,
    };
    let state = state.clone();
    match route {
        Route::KeypairIndex => keypairs::handlers::index(state, creq).await,
        Route::KeypairCreate => {
            keypairs::handlers::create(state, creq, parsed.unwrap_or(Value::Null)).await
        }
        Route::KeypairShow(name) => keypairs::handlers::show(state, creq, name).await,
        Route::KeypairDelete(name) => keypairs::handlers::delete(state, creq, name).await,
        Route::Limits => usage::limits(state, creq).await,
        Route::QuotaSet(id, view) => usage::quota_set(state, creq, id, view).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_like_nova() {
        let r =
            |m: Method, p: &str| route(&m, &p.split('/').collect::<Vec<_>>()).map(|(proj, _)| proj);
        assert_eq!(r(Method::GET, "os-keypairs"), Some(None));
        assert_eq!(
            r(Method::GET, "0123abcd/os-keypairs"),
            Some(Some("0123abcd".into()))
        );
        assert!(
            r(Method::GET, "alice/os-keypairs").is_none(),
            "project ids are [0-9a-f-]+"
        );
        assert!(
            r(Method::GET, "os-keypairs/").is_none(),
            "no trailing slash"
        );
        assert!(r(Method::PUT, "os-keypairs/x").is_none());
        assert!(r(Method::DELETE, "os-keypairs").is_none());
        assert!(r(Method::HEAD, "os-keypairs").is_none());
        assert!(r(Method::GET, "os-keypairs/a.b@c d").is_some());
    }
}
