//! `GET /v3/domains[/{id}]`.

use super::common::*;
use super::error::IdentityError;
use super::views::*;
use super::{Reply, Req};
use crate::domain::identity::*;

pub(super) fn list_domains(
    id: &Identity,
    r: &Req,
    me: &ValidToken,
) -> Result<Reply, IdentityError> {
    require_admin(me, "list_domains")?;
    let enabled = enabled_filter(r);
    let items = id
        .store()
        .list_domains()?
        .iter()
        .filter(|d| r.query("name").is_none_or(|n| n == d.name))
        .filter(|d| enabled.is_none_or(|e| e == d.enabled))
        .map(|d| domain_view(d, &r.base))
        .collect();
    Ok(list_reply("domains", items, r))
}

pub(super) fn show_domain(
    id: &Identity,
    r: &Req,
    me: &ValidToken,
    did: &str,
) -> Result<Reply, IdentityError> {
    let own = match &me.scope {
        Scope::Project { project, .. } => project.domain_id == did,
        Scope::Domain(d) => d.id == did,
        _ => false,
    };
    if !me.is_admin() && !own {
        return Err(IdentityError::Forbidden("get_domain"));
    }
    let d = id
        .store()
        .get_domain(did)?
        .ok_or_else(|| IdentityError::not_found("domain", did))?;
    Ok(one("domain", domain_view(&d, &r.base), 200))
}
