//! # The TWCC request pipeline
//!
//! route (Django's URL patterns, trailing slash included; a miss is DRF's 404) → API key
//! (401) → site (`x-api-host`, and the site in the path) → method (405) → permission (a
//! reader's key may not write: 403) → body (POST only; over the limit or not JSON: 400) →
//! handler. Every refusal is a [`TwccError`], so every answer of this listener is either a
//! success or a `{"detail": …}` body.

use super::auth::{authenticate, known_site, site_header};
use super::errors::TwccError;
use super::params::parse_create;
use super::{keypairs, TwccFront};
use crate::http::body::read_limited;
use crate::http::Front;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};

/// The two API generations: twcc-cli's `/api/v2/` and the VCS API docs' `/api/v3/`, one set of
/// handlers.
const VERSIONS: &[&str] = &["v2", "v3"];

/// What a path addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The site segment of the path (as sent, decoded).
    pub site: String,
    /// `None`: the collection; else the key pair's name (percent-decoded).
    pub name: Option<String>,
}

impl Route {
    /// The methods the route answers (DRF's `Allow`, without OPTIONS, which this front does
    /// not serve).
    fn allow(&self) -> &'static str {
        if self.name.is_some() {
            "GET, DELETE, HEAD"
        } else {
            "GET, POST, HEAD"
        }
    }
}

fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

/// Matches `/api/{v2|v3}/{site}/keypairs/` and `/api/{v2|v3}/{site}/keypairs/{name}/`, trailing
/// slash required (`raw_path` is the path as sent, still percent-encoded: a `%2F` in a name
/// stays inside its segment).
pub fn route(raw_path: &str) -> Option<Route> {
    let rest = raw_path.strip_prefix("/api/")?;
    let rest = rest.strip_suffix('/')?;
    let segments: Vec<&str> = rest.split('/').collect();
    match segments.as_slice() {
        [v, site, "keypairs"] if VERSIONS.contains(v) && !site.is_empty() => Some(Route {
            site: decode(site),
            name: None,
        }),
        [v, site, "keypairs", name]
            if VERSIONS.contains(v) && !site.is_empty() && !name.is_empty() =>
        {
            Some(Route {
                site: decode(site),
                name: Some(decode(name)),
            })
        }
        _ => None,
    }
}

/// Every request of the TWCC listener (below the controls).
pub async fn dispatch(
    req: HttpRequest,
    payload: web::Payload,
    front: web::Data<TwccFront>,
) -> HttpResponse {
    match handle(&req, payload, &front).await {
        Ok(resp) => resp,
        Err(e) => e.response(),
    }
}

async fn handle(
    req: &HttpRequest,
    payload: web::Payload,
    front: &TwccFront,
) -> Result<HttpResponse, TwccError> {
    let route = route(req.path()).ok_or(TwccError::NotFound)?;
    let caller = authenticate(front, req)?;
    let region = &front.services.region;
    // The header picks the site's API at the gateway; the path's site must be one too.
    site_header(req, region)?;
    if !known_site(&route.site, region) {
        return Err(TwccError::NotFound);
    }
    let method = req.method();
    let writes = match (method, &route.name) {
        (&Method::GET | &Method::HEAD, _) => false,
        (&Method::POST, None) | (&Method::DELETE, Some(_)) => true,
        _ => {
            return Err(TwccError::MethodNotAllowed {
                method: method.clone(),
                allow: route.allow(),
            })
        }
    };
    if writes && !caller.can_write() {
        return Err(TwccError::PermissionDenied);
    }
    let ctx = keypairs::Call {
        front,
        caller: &caller,
        site: &route.site,
    };
    match (method, route.name) {
        (&Method::POST, None) => {
            let limit = front.body_limit();
            let body = read_limited(req, payload, limit)
                .await
                .map_err(|_| TwccError::TooLarge { limit })?;
            let content_type = req
                .headers()
                .get(CONTENT_TYPE)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            let create = parse_create(content_type.as_deref(), &body)?;
            keypairs::create(ctx, create).await
        }
        (&Method::DELETE, Some(name)) => keypairs::delete(ctx, &name).await,
        (_, Some(name)) => keypairs::show(ctx, &name).await,
        (_, None) => keypairs::list(ctx).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_need_the_trailing_slash_and_one_name_segment() {
        let r = |p: &str| route(p);
        assert_eq!(
            r("/api/v2/openstack-taichung-default-2/keypairs/"),
            Some(Route {
                site: "openstack-taichung-default-2".into(),
                name: None
            })
        );
        assert_eq!(
            r("/api/v3/s/keypairs/my%20key/").and_then(|r| r.name),
            Some("my key".into())
        );
        assert_eq!(
            r("/api/v2/s/keypairs/a%2Fb/").and_then(|r| r.name),
            Some("a/b".into()),
            "%2F stays inside its segment"
        );
        for miss in [
            "/api/v2/s/keypairs",
            "/api/v2/s/keypairs/k",
            "/api/v2/s/keypairs/a/b/",
            "/api/v1/s/keypairs/",
            "/api/v2//keypairs/",
            "/api/v2/s/keypairs//",
            "/api/v2/s/servers/",
            "/v2/s/keypairs/",
            "/",
        ] {
            assert_eq!(r(miss), None, "{miss}");
        }
    }
}
