//! What a front is to the rest of novakeys: a name, routes, and the few answers the observe
//! hook needs (who a request is from, its route label, an injected fault in the front's own
//! error format). The composition root mounts fronts; the controls never see one.

use actix_web::http::header::HeaderMap;
use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use std::sync::Arc;

/// What a front tells the observe hook about one request (for the journal and fault rules).
#[derive(Debug, Default, Clone)]
pub struct Described {
    pub user_id: Option<String>,
    pub project_id: Option<String>,
    /// The key pair the request names (URL or body), if any.
    pub name: Option<String>,
    /// The API version the request asks for (Nova's microversion), if the API has them.
    pub version: Option<String>,
}

/// In a response's extensions: the body is a view that holds no secret by construction (a key
/// pair's public fields, a list of them), so the journal keeps it as sent without scanning it
/// for secrets on the request path. Only views that cannot carry a private key, a password or
/// an API secret are marked; what the journal shows is redacted again when read either way.
#[derive(Debug, Clone, Copy)]
pub struct NoSecrets;

/// In a response's extensions: the request id the front gave the call, for the request log
/// (APIs that answer theirs in the body rather than a header set it).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// A fault rule that fired, to be answered in the front's own error format.
#[derive(Debug, Clone)]
pub struct Injected {
    pub status: u16,
    /// The named fault (`quota_exceeded`, ...), when the rule gave one.
    pub fault: Option<String>,
    /// Seconds for `Retry-After` (429, 503).
    pub retry_after: u64,
}

pub trait Front: Send + Sync + 'static {
    /// `compute`, `identity`, ...: the listener's name, the journal's `api`, the metrics label.
    fn name(&self) -> &'static str;

    /// Mounts the front's routes; `mount` is its path prefix on the listener ("" or
    /// `/compute`), already applied by the caller's scope.
    fn configure(self: Arc<Self>, cfg: &mut web::ServiceConfig, mount: &str);

    /// Path segments kept verbatim in the metrics `route` label (others become `{id}`).
    fn route_words(&self) -> &'static [&'static str];

    /// The largest request body the front accepts (the observe hook buffers up to it).
    fn body_limit(&self) -> usize {
        super::body::OSLO_MAX_BODY
    }

    /// Who `req` is from, and with `detail` (fault rules are armed) also what it names and
    /// the version it asks for. `path` is below the mount. A front may keep what it worked out
    /// (its authentication) in the request's extensions for its own handler.
    fn describe(&self, req: &HttpRequest, path: &str, body: &[u8], detail: bool) -> Described;

    /// The API version an answer carries, for the journal and metrics (None: the API has
    /// no versions).
    fn answered_version(
        &self,
        _req: &HttpRequest,
        _path: &str,
        _response: &HeaderMap,
    ) -> Option<String> {
        None
    }

    /// `fault` as the front's genuine error answer to `req` (`path` below the mount).
    fn render_fault(
        &self,
        req: &HttpRequest,
        path: &str,
        fault: &Injected,
        facts: &Described,
    ) -> HttpResponse;

    /// The path the metrics route label is made from, when it is not the request's `path`
    /// (an RPC-style API, all on `/`, routes on an action: e.g. `/DescribeKeyPairs`, whose
    /// segments then go through `route_words` as any path's do). None: `path` itself.
    fn route_path(&self, _req: &HttpRequest, _path: &str) -> Option<String> {
        None
    }

    /// Whether an answer issued a token (the `novakeys_tokens_issued_total` counter).
    fn issued_token(&self, _method: &Method, _path: &str, _status: u16) -> bool {
        false
    }
}

/// The fronts one listener serves, each under its mount.
#[derive(Clone)]
pub struct Mounted(pub Vec<(String, Arc<dyn Front>)>);

impl Mounted {
    /// The front `path` belongs to, and the path below its mount (None: no front's, e.g. a
    /// control path).
    pub fn classify<'a>(
        &self,
        path: &'a str,
    ) -> Option<(&Arc<dyn Front>, std::borrow::Cow<'a, str>)> {
        for (mount, front) in &self.0 {
            if mount.is_empty() {
                return Some((front, path.into()));
            }
            if let Some(rest) = path.strip_prefix(mount.as_str()) {
                if rest.is_empty() {
                    return Some((front, "/".into()));
                }
                if rest.starts_with('/') {
                    return Some((front, rest.into()));
                }
            }
        }
        None
    }
}
