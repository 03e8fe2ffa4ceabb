//! # Who is calling, and which site
//!
//! TWCC's API gateway takes a static API key in `x-api-key` (no signature: twcc-cli sends
//! `x-API-KEY`, header names are case-insensitive) and the VCS site in `x-api-host`. An API
//! key is a credential of cloud `twcc` owned by one user in one project (the fixture users'
//! keys are `nk-twcc-<user>-key-0001`); it acts as that user there, with the roles the user
//! has on that project. Sites map onto the configured region: production
//! `openstack-taichung-default-2`, staging `openstack-taichung-default` (TWCC's VCS API docs)
//! and the region's own name.

use super::errors::TwccError;
use super::TwccFront;
use crate::domain::Principal;
use actix_web::{HttpMessage, HttpRequest};

/// The VCS sites TWCC's docs name: production, staging.
pub const SITES: &[&str] = &["openstack-taichung-default-2", "openstack-taichung-default"];

/// Who the observe hook found a request to be from (a request extension), so the handler
/// does not resolve the same key a second time.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Result<Principal, TwccError>);

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The caller of `req`: the principal its API key acts as.
pub fn caller(front: &TwccFront, req: &HttpRequest) -> Result<Principal, TwccError> {
    let key = header(req, "x-api-key")
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or(TwccError::NotAuthenticated)?;
    match front.services.credentials.resolve("twcc", key) {
        Ok(Some(resolved)) => Ok(resolved.principal.clone()),
        Ok(None) => Err(TwccError::BadApiKey),
        Err(e) => Err(TwccError::from_domain(e)),
    }
}

/// The caller, as the observe hook already found it, else worked out now.
pub fn authenticate(front: &TwccFront, req: &HttpRequest) -> Result<Principal, TwccError> {
    if let Some(done) = req.extensions_mut().remove::<Authenticated>() {
        return done.0;
    }
    caller(front, req)
}

/// Whether `site` is one of this cloud's sites (or the configured region's name).
pub fn known_site(site: &str, region: &str) -> bool {
    SITES.contains(&site) || site == region
}

/// The site `x-api-host` names: required, and one this cloud has.
pub fn site_header(req: &HttpRequest, region: &str) -> Result<String, TwccError> {
    let site = header(req, "x-api-host")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(TwccError::NoSite)?;
    if known_site(site, region) {
        Ok(site.to_string())
    } else {
        Err(TwccError::UnknownSite(site.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_map_onto_the_region() {
        assert!(known_site("openstack-taichung-default-2", "RegionOne"));
        assert!(known_site("openstack-taichung-default", "RegionOne"));
        assert!(known_site("RegionOne", "RegionOne"));
        assert!(!known_site("openstack-nowhere-1", "RegionOne"));
        assert!(!known_site("OPENSTACK-TAICHUNG-DEFAULT-2", "RegionOne"));
    }
}
