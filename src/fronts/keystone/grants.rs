//! `/v3/projects/{p}/users/{u}/roles[/{r}]` and `/v3/domains/{d}/users/{u}/roles[/{r}]`: role
//! grants on a project or a domain.

use super::common::*;
use super::error::IdentityError;
use super::views::*;
use super::{Reply, Req};
use crate::domain::identity::*;
use crate::store::identity::*;
use crate::store::StoreError;
use actix_web::http::Method;

pub(super) fn list_grants(
    id: &Identity,
    r: &Req,
    me: &ValidToken,
    target: &Target,
    uid: &str,
) -> Result<Reply, IdentityError> {
    require_admin(me, "list_grants")?;
    let roles = id.store().direct_roles(uid, target)?;
    let items = roles.iter().map(|x| role_view(x, &r.base)).collect();
    Ok(list_reply("roles", items, r))
}

pub(super) fn grant(
    id: &Identity,
    me: &ValidToken,
    m: &Method,
    target: &Target,
    uid: &str,
    rid: &str,
) -> Result<Reply, IdentityError> {
    let action = match *m {
        Method::PUT => "create_grant",
        Method::DELETE => "revoke_grant",
        Method::GET | Method::HEAD => "check_grant",
        _ => return Err(super::not_found()),
    };
    require_admin(me, action)?;
    let a = Assignment {
        user_id: uid.to_string(),
        target: target.clone(),
        role_id: rid.to_string(),
    };
    let st = id.store();
    if st.get_role(rid)?.is_none() {
        return Err(IdentityError::not_found("role", rid));
    }
    if st.get_user(uid)?.is_none() {
        return Err(IdentityError::not_found("user", uid));
    }
    let on = match target {
        Target::Project(pid) if st.get_project(pid)?.is_none() => {
            return Err(IdentityError::not_found("project", pid))
        }
        Target::Domain(did) if st.get_domain(did)?.is_none() => {
            return Err(IdentityError::not_found("domain", did))
        }
        Target::Project(id) | Target::Domain(id) => id.as_str(),
        Target::System => "all",
    };
    let missing = || {
        IdentityError::NotFound(format!(
            "Could not find role assignment with role: {rid}, user or group: {uid}, project, domain, or system: {on}."
        ))
    };
    match action {
        "create_grant" => st.grant(&a)?,
        "revoke_grant" => match st.revoke_grant(&a) {
            Err(StoreError::NotFound) => return Err(missing()),
            other => other?,
        },
        _ => {
            if !st.direct_roles(uid, &a.target)?.iter().any(|x| x.id == rid) {
                return Err(missing());
            }
        }
    }
    Ok(Reply::empty(204))
}
