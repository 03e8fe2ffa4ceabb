//! `GET /v3/auth/projects` and `GET /v3/users/{id}/projects`: the projects a user has a role on.

use super::common::*;
use super::error::IdentityError;
use super::views::*;
use super::{Reply, Req};
use crate::domain::identity::*;
use crate::store::identity::*;

pub(super) fn projects_with_roles(
    id: &Identity,
    user_id: &str,
) -> Result<Vec<Project>, IdentityError> {
    let st = id.store();
    let mut out = Vec::new();
    for p in st.list_projects()? {
        if p.enabled && !effective_roles(st, user_id, &Target::Project(p.id.clone()))?.is_empty() {
            out.push(p);
        }
    }
    Ok(out)
}

pub(super) fn auth_projects(
    id: &Identity,
    r: &Req,
    me: &ValidToken,
) -> Result<Reply, IdentityError> {
    let items = projects_with_roles(id, &me.user.id)?
        .iter()
        .map(|p| project_view(p, &r.base))
        .collect();
    Ok(list_reply("projects", items, r))
}

pub(super) fn user_projects(
    id: &Identity,
    r: &Req,
    me: &ValidToken,
    uid: &str,
) -> Result<Reply, IdentityError> {
    if !me.is_admin() && me.user.id != uid {
        return Err(IdentityError::Forbidden("list_user_projects"));
    }
    if id.store().get_user(uid)?.is_none() {
        return Err(IdentityError::not_found("user", uid));
    }
    let items = projects_with_roles(id, uid)?
        .iter()
        .map(|p| project_view(p, &r.base))
        .collect();
    Ok(list_reply("projects", items, r))
}
