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
    Ok(list_reply("roles", items, r.self_url()))
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
