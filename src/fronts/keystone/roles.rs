//! `GET /v3/roles[/{id}]`.

use super::common::*;
use super::error::IdentityError;
use super::views::*;
use super::{Reply, Req};
use crate::domain::identity::*;

pub(super) fn list_roles(id: &Identity, r: &Req, me: &ValidToken) -> Result<Reply, IdentityError> {
    require_admin(me, "list_roles")?;
    let items = id
        .store()
        .list_roles()?
        .iter()
        .filter(|x| r.query("name").is_none_or(|n| n == x.name))
        .map(|x| role_view(x, &r.base))
        .collect();
    Ok(list_reply("roles", items, r))
}

pub(super) fn show_role(
    id: &Identity,
    r: &Req,
    me: &ValidToken,
    rid: &str,
) -> Result<Reply, IdentityError> {
    require_admin(me, "get_role")?;
    let role = id
        .store()
        .get_role(rid)?
        .ok_or_else(|| IdentityError::not_found("role", rid))?;
    Ok(one("role", role_view(&role, &r.base), 200))
}

/// Keystone's `{id, links, name}` of a role in an inference rule.
fn inference_ref(role: &crate::store::identity::Role, base: &str) -> serde_json::Value {
    serde_json::json!({
        "id": role.id,
        "links": {"self": format!("{base}/v3/roles/{}", role.id)},
        "name": role.name,
    })
}

/// `GET /v3/roles/{prior_role_id}/implies` (keystone/api/roles.py RoleImplicationListResource).
pub(super) fn list_implies(
    id: &Identity,
    r: &Req,
    me: &ValidToken,
    rid: &str,
) -> Result<Reply, IdentityError> {
    require_admin(me, "list_implied_roles")?;
    let all = id.store().list_roles()?;
    let prior = all
        .iter()
        .find(|x| x.id == rid)
        .ok_or_else(|| IdentityError::not_found("role", rid))?;
    let implies: Vec<serde_json::Value> = implications(&all)
        .iter()
        .filter(|(p, _)| p.id == prior.id)
        .map(|(_, i)| inference_ref(i, &r.base))
        .collect();
    Ok(Reply::json(
        200,
        &serde_json::json!({
            "role_inference": {"prior_role": inference_ref(prior, &r.base), "implies": implies},
            "links": {"self": format!("{}/v3/roles/{rid}/implies", r.base)},
        }),
    ))
}

/// `GET /v3/role_inferences`: every rule, grouped by prior role.
pub(super) fn role_inferences(
    id: &Identity,
    r: &Req,
    me: &ValidToken,
) -> Result<Reply, IdentityError> {
    require_admin(me, "list_role_inference_rules")?;
    let all = id.store().list_roles()?;
    let mut inferences: Vec<serde_json::Value> = Vec::new();
    for (prior, implied) in implications(&all) {
        inferences.push(serde_json::json!({
            "prior_role": inference_ref(&prior, &r.base),
            "implies": [inference_ref(&implied, &r.base)],
        }));
    }
    Ok(Reply::json(
        200,
        &serde_json::json!({ "role_inferences": inferences }),
    ))
}
