//! `/v3/projects` (keystone/api/projects.py).

use super::common::*;
use super::error::IdentityError;
use super::views::*;
use super::{Reply, Req};
use crate::domain::identity::*;
use crate::store::identity::*;
use crate::store::StoreError;
use serde_json::{Map, Value};

pub(super) fn list_projects(
    id: &Identity,
    r: &Req,
    me: &ValidToken,
) -> Result<Reply, IdentityError> {
    require_admin(me, "list_projects")?;
    let enabled = enabled_filter(r);
    let items = id
        .store()
        .list_projects()?
        .iter()
        .filter(|p| r.query("name").is_none_or(|n| n == p.name))
        .filter(|p| r.query("domain_id").is_none_or(|d| d == p.domain_id))
        .filter(|p| enabled.is_none_or(|e| e == p.enabled))
        .map(|p| project_view(p, &r.base))
        .collect();
    Ok(list_reply("projects", items, r))
}

pub(super) fn show_project(
    id: &Identity,
    r: &Req,
    me: &ValidToken,
    pid: &str,
) -> Result<Reply, IdentityError> {
    if !me.is_admin() && me.project_id() != Some(pid) {
        return Err(IdentityError::Forbidden("get_project"));
    }
    let p = id
        .store()
        .get_project(pid)?
        .ok_or_else(|| IdentityError::not_found("project", pid))?;
    Ok(one("project", project_view(&p, &r.base), 200))
}

pub(super) fn project_conflict(p: &Project) -> IdentityError {
    IdentityError::Conflict(format!(
        "Conflict occurred attempting to store project - Duplicate entry found with name {} at domain ID {}.",
        p.name, p.domain_id
    ))
}

pub(super) fn apply_project_fields(p: &mut Project, obj: &Map<String, Value>) {
    if let Some(n) = obj.get("name").and_then(Value::as_str) {
        p.name = n.to_string();
    }
    if let Some(d) = obj.get("description") {
        p.description = d.as_str().unwrap_or_default().to_string();
    }
    if let Some(e) = obj.get("enabled").and_then(Value::as_bool) {
        p.enabled = e;
    }
}

pub(super) fn create_project(
    id: &Identity,
    r: &Req,
    me: &ValidToken,
) -> Result<Reply, IdentityError> {
    let obj = body_object(r, "project", true)?;
    require_admin(me, "create_project")?;
    let mut p = Project {
        id: id.determinism().hex_id(),
        name: String::new(),
        domain_id: obj
            .get("domain_id")
            .and_then(Value::as_str)
            .map(String::from)
            .unwrap_or_else(|| token_domain(me)),
        description: String::new(),
        enabled: true,
    };
    apply_project_fields(&mut p, &obj);
    let st = id.store();
    if st.get_domain(&p.domain_id)?.is_none() {
        return Err(IdentityError::not_found("domain", &p.domain_id));
    }
    match st.insert_project(&p) {
        Err(StoreError::Duplicate) => return Err(project_conflict(&p)),
        other => other?,
    }
    Ok(one("project", project_view(&p, &r.base), 201))
}

pub(super) fn update_project(
    id: &Identity,
    r: &Req,
    me: &ValidToken,
    pid: &str,
) -> Result<Reply, IdentityError> {
    let obj = body_object(r, "project", false)?;
    require_admin(me, "update_project")?;
    let mut p = id
        .store()
        .get_project(pid)?
        .ok_or_else(|| IdentityError::not_found("project", pid))?;
    apply_project_fields(&mut p, &obj);
    match id.store().update_project(&p) {
        Err(StoreError::Duplicate) => return Err(project_conflict(&p)),
        other => other?,
    }
    Ok(one("project", project_view(&p, &r.base), 200))
}

pub(super) fn delete_project(
    id: &Identity,
    me: &ValidToken,
    pid: &str,
) -> Result<Reply, IdentityError> {
    require_admin(me, "delete_project")?;
    match id.store().delete_project(pid) {
        Err(StoreError::NotFound) => return Err(IdentityError::not_found("project", pid)),
        other => other?,
    }
    Ok(Reply::empty(204))
}
