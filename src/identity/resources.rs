//! # Users, projects, domains, roles, grants, role assignments, application credentials
//!
//! keystone/api/{users,projects,domains,roles,role_assignments,auth}.py, with the default
//! policies reduced to what the captures show: listing and writing need the `admin` role;
//! a user may read itself and its project; application credentials belong to their user.

use super::error::IdentityError;
use super::tokens::caller;
use super::{effective_roles, implications, Identity, Reply, Req, Scope, ValidToken};
use crate::compute::pyrepr::py_repr;
use crate::store::identity::{
    self as db, AppCred, Assignment, Domain, Project, Role, Target, User,
};
use crate::store::StoreError;
use actix_web::http::Method;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};

pub fn route(id: &Identity, r: &Req, m: &Method, rest: &[&str]) -> Result<Reply, IdentityError> {
    let me = caller(id, r)?;
    let get = *m == Method::GET || *m == Method::HEAD;
    match rest {
        ["auth", "projects"] if get => auth_projects(id, r, &me),
        ["users"] if get => list_users(id, r, &me),
        ["users"] if *m == Method::POST => create_user(id, r, &me),
        ["users", uid] if get => show_user(id, r, &me, uid),
        ["users", uid] if *m == Method::PATCH => update_user(id, r, &me, uid),
        ["users", uid] if *m == Method::DELETE => delete_user(id, &me, uid),
        ["users", uid, "projects"] if get => user_projects(id, r, &me, uid),
        ["users", uid, "application_credentials"] if get => list_app_creds(id, r, &me, uid),
        ["users", uid, "application_credentials"] if *m == Method::POST => {
            create_app_cred(id, r, &me, uid)
        }
        ["users", uid, "application_credentials", acid] if get => {
            show_app_cred(id, r, &me, uid, acid)
        }
        ["users", uid, "application_credentials", acid] if *m == Method::DELETE => {
            delete_app_cred(id, &me, uid, acid)
        }
        ["projects"] if get => list_projects(id, r, &me),
        ["projects"] if *m == Method::POST => create_project(id, r, &me),
        ["projects", pid] if get => show_project(id, r, &me, pid),
        ["projects", pid] if *m == Method::PATCH => update_project(id, r, &me, pid),
        ["projects", pid] if *m == Method::DELETE => delete_project(id, &me, pid),
        ["projects", pid, "users", uid, "roles"] if get => list_grants(id, r, &me, pid, uid),
        ["projects", pid, "users", uid, "roles", rid] => grant(id, &me, m, pid, uid, rid),
        ["domains"] if get => list_domains(id, r, &me),
        ["domains", did] if get => show_domain(id, r, &me, did),
        ["roles"] if get => list_roles(id, r, &me),
        ["roles", rid] if get => show_role(id, r, &me, rid),
        ["role_assignments"] if get => role_assignments(id, r, &me),
        _ => Err(super::not_found()),
    }
}

fn require_admin(me: &ValidToken, action: &'static str) -> Result<(), IdentityError> {
    if me.is_admin() {
        Ok(())
    } else {
        Err(IdentityError::Forbidden(action))
    }
}

fn links(self_url: String) -> Value {
    json!({"next": null, "self": self_url, "previous": null})
}

fn list_reply(key: &str, items: Vec<Value>, self_url: String) -> Reply {
    let mut o = Map::new();
    o.insert(key.into(), Value::Array(items));
    o.insert("links".into(), links(self_url));
    Reply::json(200, &Value::Object(o))
}

fn one(key: &str, item: Value, status: u16) -> Reply {
    let mut o = Map::new();
    o.insert(key.into(), item);
    Reply::json(status, &Value::Object(o))
}

/// The `enabled` query filter (keystone's `query_filter_is_true`).
fn enabled_filter(r: &Req) -> Option<bool> {
    r.query("enabled").map(|v| {
        !matches!(
            v.to_ascii_lowercase().as_str(),
            "0" | "false" | "no" | "off"
        )
    })
}

/// The body's `key` object, with keystone's validation error for a missing or bad `name`.
fn body_object(
    r: &Req,
    key: &str,
    name_required: bool,
) -> Result<Map<String, Value>, IdentityError> {
    let body: Value = if r.body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&r.body)
            .map_err(|_| IdentityError::expecting("valid JSON", "request body"))?
    };
    let obj = match body.get(key) {
        Some(Value::Object(o)) => o.clone(),
        None => Map::new(),
        Some(other) => {
            return Err(invalid(
                key,
                other,
                &format!("{} is not of type 'object'", py_repr(other)),
            ))
        }
    };
    if name_required && !obj.contains_key("name") {
        return Err(invalid(
            key,
            &Value::Object(obj),
            "'name' is a required property",
        ));
    }
    for (field, kind) in [
        ("name", "string"),
        ("enabled", "boolean"),
        ("domain_id", "string"),
        ("description", "string"),
    ] {
        if let Some(v) = obj.get(field) {
            let ok = match kind {
                "string" => v.is_string() || (field == "description" && v.is_null()),
                _ => v.is_boolean(),
            };
            if !ok {
                return Err(invalid(
                    field,
                    v,
                    &format!("{} is not of type '{kind}'", py_repr(v)),
                ));
            }
        }
    }
    if let Some(Value::String(n)) = obj.get("name") {
        if n.is_empty() || n.chars().count() > 255 {
            return Err(invalid(
                "name",
                &obj["name"],
                &format!("{} is too short", py_repr(&obj["name"])),
            ));
        }
    }
    Ok(obj)
}

fn invalid(field: &str, value: &Value, msg: &str) -> IdentityError {
    IdentityError::BadRequest(format!(
        "Invalid input for field/attribute {field}. Value: {}. {msg}",
        py_repr(value)
    ))
}

/// The domain new users and projects land in: the token's (project's) domain.
fn token_domain(me: &ValidToken) -> String {
    match &me.scope {
        Scope::Project { project, .. } => project.domain_id.clone(),
        Scope::Domain(d) => d.id.clone(),
        _ => me.user.domain_id.clone(),
    }
}

// ---- views ---------------------------------------------------------------------------------

fn user_view(u: &User, base: &str) -> Value {
    let mut o = u.extra.clone();
    o.insert("id".into(), json!(u.id));
    o.insert("name".into(), json!(u.name));
    o.insert("domain_id".into(), json!(u.domain_id));
    o.insert("enabled".into(), json!(u.enabled));
    if let Some(p) = &u.default_project_id {
        o.insert("default_project_id".into(), json!(p));
    }
    o.insert("password_expires_at".into(), Value::Null);
    o.insert("options".into(), json!({}));
    o.insert(
        "links".into(),
        json!({"self": format!("{base}/v3/users/{}", u.id)}),
    );
    Value::Object(o)
}

fn project_view(p: &Project, base: &str) -> Value {
    json!({
        "id": p.id, "name": p.name, "domain_id": p.domain_id, "description": p.description,
        "enabled": p.enabled, "parent_id": p.domain_id, "is_domain": false, "tags": [],
        "options": {}, "links": {"self": format!("{base}/v3/projects/{}", p.id)}
    })
}

fn domain_view(d: &Domain, base: &str) -> Value {
    json!({
        "id": d.id, "name": d.name, "description": d.description, "enabled": d.enabled,
        "tags": [], "options": {}, "links": {"self": format!("{base}/v3/domains/{}", d.id)}
    })
}

fn role_ref_full(r: &Role) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("id".into(), json!(r.id));
    o.insert("name".into(), json!(r.name));
    o.insert("domain_id".into(), Value::Null);
    o.insert("description".into(), Value::Null);
    o.insert(
        "options".into(),
        if r.immutable {
            json!({"immutable": true})
        } else {
            json!({})
        },
    );
    o
}

fn role_view(r: &Role, base: &str) -> Value {
    let mut o = role_ref_full(r);
    o.insert(
        "links".into(),
        json!({"self": format!("{base}/v3/roles/{}", r.id)}),
    );
    Value::Object(o)
}

// ---- auth/projects -------------------------------------------------------------------------

fn projects_with_roles(id: &Identity, user_id: &str) -> Result<Vec<Project>, IdentityError> {
    Ok(id.store().read(|c| {
        let mut out = Vec::new();
        for p in db::list_projects(c)? {
            if p.enabled && !effective_roles(c, user_id, &Target::Project(p.id.clone()))?.is_empty()
            {
                out.push(p);
            }
        }
        Ok(out)
    })?)
}

fn auth_projects(id: &Identity, r: &Req, me: &ValidToken) -> Result<Reply, IdentityError> {
    let items = projects_with_roles(id, &me.user.id)?
        .iter()
        .map(|p| project_view(p, &r.base))
        .collect();
    Ok(list_reply("projects", items, r.self_url()))
}

fn user_projects(
    id: &Identity,
    r: &Req,
    me: &ValidToken,
    uid: &str,
) -> Result<Reply, IdentityError> {
    if !me.is_admin() && me.user.id != uid {
        return Err(IdentityError::Forbidden("list_user_projects"));
    }
    if id.store().read(|c| db::get_user(c, uid))?.is_none() {
        return Err(IdentityError::not_found("user", uid));
    }
    let items = projects_with_roles(id, uid)?
        .iter()
        .map(|p| project_view(p, &r.base))
        .collect();
    Ok(list_reply("projects", items, r.self_url()))
}

// ---- users ---------------------------------------------------------------------------------

fn list_users(id: &Identity, r: &Req, me: &ValidToken) -> Result<Reply, IdentityError> {
    require_admin(me, "list_users")?;
    let enabled = enabled_filter(r);
    let items = id
        .store()
        .read(db::list_users)?
        .iter()
        .filter(|u| r.query("name").is_none_or(|n| n == u.name))
        .filter(|u| r.query("domain_id").is_none_or(|d| d == u.domain_id))
        .filter(|u| enabled.is_none_or(|e| e == u.enabled))
        .map(|u| user_view(u, &r.base))
        .collect();
    Ok(list_reply("users", items, r.self_url()))
}

fn show_user(id: &Identity, r: &Req, me: &ValidToken, uid: &str) -> Result<Reply, IdentityError> {
    if !me.is_admin() && me.user.id != uid {
        return Err(IdentityError::Forbidden("get_user"));
    }
    let u = id
        .store()
        .read(|c| db::get_user(c, uid))?
        .ok_or_else(|| IdentityError::not_found("user", uid))?;
    Ok(one("user", user_view(&u, &r.base), 200))
}

fn hash(id: &Identity, secret: &str) -> Result<String, IdentityError> {
    bcrypt::hash_with_salt(secret, id.hash_cost(), id.determinism().bytes::<16>())
        .map(|h| h.to_string())
        .map_err(|e| IdentityError::Internal(e.to_string()))
}

/// Applies a user create/update body onto `u`.
fn apply_user_fields(
    id: &Identity,
    u: &mut User,
    obj: &Map<String, Value>,
) -> Result<(), IdentityError> {
    for (k, v) in obj {
        match k.as_str() {
            "id" | "domain_id" | "links" | "options" | "password_expires_at" => {}
            "name" => u.name = v.as_str().unwrap_or_default().to_string(),
            "enabled" => u.enabled = v.as_bool().unwrap_or(true),
            "default_project_id" => u.default_project_id = v.as_str().map(String::from),
            "password" => {
                u.password_hash = match v {
                    Value::String(p) => Some(hash(id, p)?),
                    Value::Null => None,
                    other => {
                        return Err(invalid(
                            "password",
                            other,
                            &format!("{} is not of type 'string', 'null'", py_repr(other)),
                        ))
                    }
                }
            }
            _ => {
                u.extra.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(())
}

fn create_user(id: &Identity, r: &Req, me: &ValidToken) -> Result<Reply, IdentityError> {
    let obj = body_object(r, "user", true)?;
    require_admin(me, "create_user")?;
    let domain_id = obj
        .get("domain_id")
        .and_then(Value::as_str)
        .map(String::from)
        .unwrap_or_else(|| token_domain(me));
    let mut u = User {
        id: id.determinism().hex_id(),
        name: String::new(),
        domain_id: domain_id.clone(),
        enabled: true,
        default_project_id: None,
        password_hash: None,
        extra: Map::new(),
    };
    apply_user_fields(id, &mut u, &obj)?;
    let res = id.store().write(|c| {
        if db::get_domain(c, &domain_id)?.is_none() {
            return Ok(Err(IdentityError::not_found("domain", &domain_id)));
        }
        match db::insert_user(c, &u) {
            Err(StoreError::Duplicate) => Ok(Err(IdentityError::Conflict(format!(
                "Conflict occurred attempting to store user - Duplicate entry found with name {} at domain ID {domain_id}.",
                u.name
            )))),
            other => other.map(Ok),
        }
    })?;
    res?;
    Ok(one("user", user_view(&u, &r.base), 201))
}

fn update_user(id: &Identity, r: &Req, me: &ValidToken, uid: &str) -> Result<Reply, IdentityError> {
    let obj = body_object(r, "user", false)?;
    require_admin(me, "update_user")?;
    let mut u = id
        .store()
        .read(|c| db::get_user(c, uid))?
        .ok_or_else(|| IdentityError::not_found("user", uid))?;
    apply_user_fields(id, &mut u, &obj)?;
    match id.store().write(|c| db::update_user(c, &u)) {
        Err(StoreError::Duplicate) => {
            return Err(IdentityError::Conflict(format!(
                "Conflict occurred attempting to store user - Duplicate entry found with name {} at domain ID {}.",
                u.name, u.domain_id
            )))
        }
        other => other?,
    }
    id.invalidate();
    Ok(one("user", user_view(&u, &r.base), 200))
}

fn delete_user(id: &Identity, me: &ValidToken, uid: &str) -> Result<Reply, IdentityError> {
    require_admin(me, "delete_user")?;
    match id.store().write(|c| db::delete_user(c, uid)) {
        Err(StoreError::NotFound) => return Err(IdentityError::not_found("user", uid)),
        other => other?,
    }
    id.invalidate();
    Ok(Reply::empty(204))
}

// ---- projects ------------------------------------------------------------------------------

fn list_projects(id: &Identity, r: &Req, me: &ValidToken) -> Result<Reply, IdentityError> {
    require_admin(me, "list_projects")?;
    let enabled = enabled_filter(r);
    let items = id
        .store()
        .read(db::list_projects)?
        .iter()
        .filter(|p| r.query("name").is_none_or(|n| n == p.name))
        .filter(|p| r.query("domain_id").is_none_or(|d| d == p.domain_id))
        .filter(|p| enabled.is_none_or(|e| e == p.enabled))
        .map(|p| project_view(p, &r.base))
        .collect();
    Ok(list_reply("projects", items, r.self_url()))
}

fn show_project(
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
        .read(|c| db::get_project(c, pid))?
        .ok_or_else(|| IdentityError::not_found("project", pid))?;
    Ok(one("project", project_view(&p, &r.base), 200))
}

fn project_conflict(p: &Project) -> IdentityError {
    IdentityError::Conflict(format!(
        "Conflict occurred attempting to store project - Duplicate entry found with name {} at domain ID {}.",
        p.name, p.domain_id
    ))
}

fn apply_project_fields(p: &mut Project, obj: &Map<String, Value>) {
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

fn create_project(id: &Identity, r: &Req, me: &ValidToken) -> Result<Reply, IdentityError> {
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
    let res = id.store().write(|c| {
        if db::get_domain(c, &p.domain_id)?.is_none() {
            return Ok(Err(IdentityError::not_found("domain", &p.domain_id)));
        }
        match db::insert_project(c, &p) {
            Err(StoreError::Duplicate) => Ok(Err(project_conflict(&p))),
            other => other.map(Ok),
        }
    })?;
    res?;
    Ok(one("project", project_view(&p, &r.base), 201))
}

fn update_project(
    id: &Identity,
    r: &Req,
    me: &ValidToken,
    pid: &str,
) -> Result<Reply, IdentityError> {
    let obj = body_object(r, "project", false)?;
    require_admin(me, "update_project")?;
    let mut p = id
        .store()
        .read(|c| db::get_project(c, pid))?
        .ok_or_else(|| IdentityError::not_found("project", pid))?;
    apply_project_fields(&mut p, &obj);
    match id.store().write(|c| db::update_project(c, &p)) {
        Err(StoreError::Duplicate) => return Err(project_conflict(&p)),
        other => other?,
    }
    id.invalidate();
    Ok(one("project", project_view(&p, &r.base), 200))
}

fn delete_project(id: &Identity, me: &ValidToken, pid: &str) -> Result<Reply, IdentityError> {
    require_admin(me, "delete_project")?;
    match id.store().write(|c| {
        let tx = c.transaction()?;
        db::delete_project(&tx, pid)?;
        tx.commit()?;
        Ok(())
    }) {
        Err(StoreError::NotFound) => return Err(IdentityError::not_found("project", pid)),
        other => other?,
    }
    id.invalidate();
    Ok(Reply::empty(204))
}

// ---- grants --------------------------------------------------------------------------------

fn list_grants(
    id: &Identity,
    r: &Req,
    me: &ValidToken,
    pid: &str,
    uid: &str,
) -> Result<Reply, IdentityError> {
    require_admin(me, "list_grants")?;
    let roles = id
        .store()
        .read(|c| db::direct_roles(c, uid, &Target::Project(pid.to_string())))?;
    let items = roles.iter().map(|x| role_view(x, &r.base)).collect();
    Ok(list_reply("roles", items, r.self_url()))
}

fn grant(
    id: &Identity,
    me: &ValidToken,
    m: &Method,
    pid: &str,
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
        target: Target::Project(pid.to_string()),
        role_id: rid.to_string(),
    };
    let res = id.store().write(|c| {
        if db::get_role(c, rid)?.is_none() {
            return Ok(Err(IdentityError::not_found("role", rid)));
        }
        if db::get_user(c, uid)?.is_none() {
            return Ok(Err(IdentityError::not_found("user", uid)));
        }
        if db::get_project(c, pid)?.is_none() {
            return Ok(Err(IdentityError::not_found("project", pid)));
        }
        let missing = || {
            IdentityError::NotFound(format!(
                "Could not find role assignment with role: {rid}, user or group: {uid}, project, domain, or system: {pid}."
            ))
        };
        match action {
            "create_grant" => db::grant(c, &a).map(Ok),
            "revoke_grant" => match db::revoke_grant(c, &a) {
                Err(StoreError::NotFound) => Ok(Err(missing())),
                other => other.map(Ok),
            },
            _ => {
                let has = db::direct_roles(c, uid, &a.target)?.iter().any(|x| x.id == rid);
                Ok(if has { Ok(()) } else { Err(missing()) })
            }
        }
    })?;
    res?;
    if action != "check_grant" {
        id.invalidate();
    }
    Ok(Reply::empty(204))
}

// ---- domains and roles ---------------------------------------------------------------------

fn list_domains(id: &Identity, r: &Req, me: &ValidToken) -> Result<Reply, IdentityError> {
    require_admin(me, "list_domains")?;
    let enabled = enabled_filter(r);
    let items = id
        .store()
        .read(db::list_domains)?
        .iter()
        .filter(|d| r.query("name").is_none_or(|n| n == d.name))
        .filter(|d| enabled.is_none_or(|e| e == d.enabled))
        .map(|d| domain_view(d, &r.base))
        .collect();
    Ok(list_reply("domains", items, r.self_url()))
}

fn show_domain(id: &Identity, r: &Req, me: &ValidToken, did: &str) -> Result<Reply, IdentityError> {
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
        .read(|c| db::get_domain(c, did))?
        .ok_or_else(|| IdentityError::not_found("domain", did))?;
    Ok(one("domain", domain_view(&d, &r.base), 200))
}

fn list_roles(id: &Identity, r: &Req, me: &ValidToken) -> Result<Reply, IdentityError> {
    require_admin(me, "list_roles")?;
    let items = id
        .store()
        .read(db::list_roles)?
        .iter()
        .filter(|x| r.query("name").is_none_or(|n| n == x.name))
        .map(|x| role_view(x, &r.base))
        .collect();
    Ok(list_reply("roles", items, r.self_url()))
}

fn show_role(id: &Identity, r: &Req, me: &ValidToken, rid: &str) -> Result<Reply, IdentityError> {
    require_admin(me, "get_role")?;
    let role = id
        .store()
        .read(|c| db::get_role(c, rid))?
        .ok_or_else(|| IdentityError::not_found("role", rid))?;
    Ok(one("role", role_view(&role, &r.base), 200))
}

// ---- role assignments ----------------------------------------------------------------------

fn role_assignments(id: &Identity, r: &Req, me: &ValidToken) -> Result<Reply, IdentityError> {
    require_admin(me, "list_role_assignments")?;
    let names = r.flag("include_names");
    let effective = r.has_query("effective") && r.flag("effective");
    let (assignments, roles, users, projects, domains) = id.store().read(|c| {
        Ok((
            db::list_assignments(c)?,
            db::list_roles(c)?,
            db::list_users(c)?,
            db::list_projects(c)?,
            db::list_domains(c)?,
        ))
    })?;
    let implied = implications(&roles);
    let domain_ref = |did: &str| {
        let name = domains.iter().find(|d| d.id == did).map(|d| d.name.clone());
        json!({"id": did, "name": name})
    };
    let base = &r.base;
    let mut items = Vec::new();
    for a in &assignments {
        if r.query("user.id").is_some_and(|u| u != a.user_id) {
            continue;
        }
        match &a.target {
            Target::Project(p) => {
                if r.query("scope.project.id").is_some_and(|x| x != p)
                    || r.has_query("scope.domain.id")
                    || r.has_query("scope.system")
                {
                    continue;
                }
            }
            Target::Domain(d) => {
                if r.query("scope.domain.id").is_some_and(|x| x != d)
                    || r.has_query("scope.project.id")
                    || r.has_query("scope.system")
                {
                    continue;
                }
            }
            Target::System => {
                if r.has_query("scope.project.id") || r.has_query("scope.domain.id") {
                    continue;
                }
            }
        }
        let link = match &a.target {
            Target::Project(p) => format!(
                "{base}/v3/projects/{p}/users/{}/roles/{}",
                a.user_id, a.role_id
            ),
            Target::Domain(d) => format!(
                "{base}/v3/domains/{d}/users/{}/roles/{}",
                a.user_id, a.role_id
            ),
            Target::System => format!("{base}/v3/system/users/{}/roles/{}", a.user_id, a.role_id),
        };
        let scope = match &a.target {
            Target::Project(p) => {
                if names {
                    let proj = projects.iter().find(|x| &x.id == p);
                    json!({"project": {"id": p, "name": proj.map(|x| x.name.clone()),
                        "domain": domain_ref(proj.map(|x| x.domain_id.as_str()).unwrap_or(""))}})
                } else {
                    json!({"project": {"id": p}})
                }
            }
            Target::Domain(d) => {
                if names {
                    json!({ "domain": domain_ref(d) })
                } else {
                    json!({"domain": {"id": d}})
                }
            }
            Target::System => json!({"system": {"all": true}}),
        };
        let user = if names {
            let u = users.iter().find(|u| u.id == a.user_id);
            json!({"id": a.user_id, "name": u.map(|u| u.name.clone()),
                   "domain": domain_ref(u.map(|u| u.domain_id.as_str()).unwrap_or(""))})
        } else {
            json!({"id": a.user_id})
        };
        let role_ref = |rid: &str| {
            if names {
                let name = roles.iter().find(|x| x.id == rid).map(|x| x.name.clone());
                json!({"id": rid, "name": name})
            } else {
                json!({ "id": rid })
            }
        };
        let mut emit = |role_id: &str, prior: Option<&str>| {
            if r.query("role.id").is_some_and(|x| x != role_id) {
                return;
            }
            let mut l = Map::new();
            l.insert("assignment".into(), json!(link));
            if let Some(prior) = prior {
                // keystone renders the implied role first here.
                l.insert(
                    "prior_role".into(),
                    json!(format!("{base}/v3/prior_role/{role_id}/implies/{prior}")),
                );
            }
            items.push(json!({"links": Value::Object(l), "scope": scope, "user": user, "role": role_ref(role_id)}));
        };
        emit(&a.role_id, None);
        if effective {
            // Walk the implication chain from this grant.
            let mut frontier = vec![a.role_id.clone()];
            let mut seen = vec![a.role_id.clone()];
            while let Some(prior) = frontier.pop() {
                for (p, i) in implied.iter().filter(|(p, _)| p.id == prior) {
                    if !seen.contains(&i.id) {
                        seen.push(i.id.clone());
                        emit(&i.id, Some(&p.id));
                        frontier.push(i.id.clone());
                    }
                }
            }
        }
    }
    Ok(list_reply("role_assignments", items, r.self_url()))
}

// ---- application credentials ---------------------------------------------------------------

fn app_cred_view(ac: &AppCred, roles: &[Role], base: &str, secret: Option<&str>) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), json!(ac.id));
    o.insert("name".into(), json!(ac.name));
    o.insert("description".into(), json!(ac.description));
    o.insert("user_id".into(), json!(ac.user_id));
    o.insert("project_id".into(), json!(ac.project_id));
    o.insert("system".into(), Value::Null);
    o.insert("expires_at".into(), json!(ac.expires_at));
    o.insert(
        "unrestricted".into(),
        if ac.unrestricted {
            json!(true)
        } else {
            Value::Null
        },
    );
    o.insert(
        "roles".into(),
        Value::Array(
            ac.role_ids
                .iter()
                .filter_map(|rid| roles.iter().find(|r| &r.id == rid))
                .map(|r| Value::Object(role_ref_full(r)))
                .collect(),
        ),
    );
    if let Some(s) = secret {
        o.insert("secret".into(), json!(s));
    }
    o.insert(
        "links".into(),
        json!({"self": format!("{base}/v3/application_credentials/{}", ac.id)}),
    );
    Value::Object(o)
}

fn own(me: &ValidToken, uid: &str, action: &'static str) -> Result<(), IdentityError> {
    if me.user.id == uid || me.is_admin() {
        Ok(())
    } else {
        Err(IdentityError::Forbidden(action))
    }
}

fn create_app_cred(
    id: &Identity,
    r: &Req,
    me: &ValidToken,
    uid: &str,
) -> Result<Reply, IdentityError> {
    let obj = body_object(r, "application_credential", true)?;
    if me.user.id != uid {
        return Err(IdentityError::Forbidden("create_application_credential"));
    }
    let Some(project_id) = me.project_id().map(String::from) else {
        return Err(IdentityError::Forbidden("create_application_credential"));
    };
    // keystone/api/users.py: `if not app_cred_data.get('secret')` generates one, so a null or
    // empty secret (OSC sends `"secret": null`) gets a generated one too.
    let secret = match obj.get("secret").and_then(Value::as_str) {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => URL_SAFE_NO_PAD.encode(id.determinism().bytes::<64>()),
    };
    // `_get_roles`: `if app_cred_data.get('roles')`, so an empty list (what OSC sends without
    // --role) means the token's roles, like no list at all.
    let wanted: Vec<String> = match obj.get("roles").and_then(Value::as_array) {
        Some(list) if !list.is_empty() => {
            let mut out = Vec::new();
            for item in list {
                let role = me.roles.iter().find(|x| {
                    item.get("id").and_then(Value::as_str) == Some(x.id.as_str())
                        || item.get("name").and_then(Value::as_str) == Some(x.name.as_str())
                });
                match role {
                    Some(x) => out.push(x.id.clone()),
                    None => return Err(IdentityError::Forbidden("create_application_credential")),
                }
            }
            out
        }
        _ => me.roles.iter().map(|x| x.id.clone()).collect(),
    };
    let ac = AppCred {
        id: id.determinism().hex_id(),
        name: obj
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        description: obj
            .get("description")
            .and_then(Value::as_str)
            .map(String::from),
        user_id: uid.to_string(),
        project_id,
        secret_hash: hash(id, &secret)?,
        expires_at: obj
            .get("expires_at")
            .and_then(Value::as_str)
            .map(String::from),
        unrestricted: obj
            .get("unrestricted")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        role_ids: wanted,
    };
    match id.store().write(|c| db::insert_app_cred(c, &ac)) {
        Err(StoreError::Duplicate) => {
            return Err(IdentityError::Conflict(format!(
                "Conflict occurred attempting to store application_credential - Duplicate entry found with name {}.",
                ac.name
            )))
        }
        other => other?,
    }
    let roles = id.store().read(db::list_roles)?;
    Ok(one(
        "application_credential",
        app_cred_view(&ac, &roles, &r.base, Some(&secret)),
        201,
    ))
}

fn list_app_creds(
    id: &Identity,
    r: &Req,
    me: &ValidToken,
    uid: &str,
) -> Result<Reply, IdentityError> {
    own(me, uid, "list_application_credentials")?;
    let (acs, roles) = id
        .store()
        .read(|c| Ok((db::list_app_creds(c, uid)?, db::list_roles(c)?)))?;
    let items = acs
        .iter()
        .filter(|a| r.query("name").is_none_or(|n| n == a.name))
        .map(|a| app_cred_view(a, &roles, &r.base, None))
        .collect();
    Ok(list_reply("application_credentials", items, r.self_url()))
}

fn show_app_cred(
    id: &Identity,
    r: &Req,
    me: &ValidToken,
    uid: &str,
    acid: &str,
) -> Result<Reply, IdentityError> {
    own(me, uid, "get_application_credential")?;
    let (ac, roles) = id
        .store()
        .read(|c| Ok((db::get_app_cred(c, acid)?, db::list_roles(c)?)))?;
    let ac = ac
        .filter(|a| a.user_id == uid)
        .ok_or_else(|| IdentityError::not_found("application credential", acid))?;
    Ok(one(
        "application_credential",
        app_cred_view(&ac, &roles, &r.base, None),
        200,
    ))
}

fn delete_app_cred(
    id: &Identity,
    me: &ValidToken,
    uid: &str,
    acid: &str,
) -> Result<Reply, IdentityError> {
    own(me, uid, "delete_application_credential")?;
    match id.store().write(|c| db::delete_app_cred(c, uid, acid)) {
        Err(StoreError::NotFound) => {
            return Err(IdentityError::not_found("application credential", acid))
        }
        other => other?,
    }
    id.invalidate();
    Ok(Reply::empty(204))
}
