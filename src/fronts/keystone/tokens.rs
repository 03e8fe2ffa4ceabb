//! # `/v3/auth/tokens`
//!
//! keystone/api/auth.py + keystone/auth/core.py (request parsing and scope), the password,
//! token and application_credential auth plugins, and keystone/common/render_token.py (the
//! body). Tokens are stateless JWS; revocation records the token's audit id.

use super::error::IdentityError;
use super::{catalog, schema, Reply, Req};
use crate::domain::identity::jws::TokenClaims;
use crate::domain::identity::{app_creds, effective_roles, Identity, Invalid, Scope, ValidToken};
use crate::store::identity::{AppCred, Domain, Role, Target, User};
use crate::store::{Store, StoreError};
use serde_json::{json, Map, Value};

const SUPPORTED: [&str; 7] = [
    "external",
    "password",
    "token",
    "oauth1",
    "mapped",
    "application_credential",
    "ec2credential",
];

/// How far past expiry `allow_expired` still validates (keystone `allow_expired_window`).
const ALLOW_EXPIRED_WINDOW: i64 = 48 * 3600;

/// `%Y-%m-%dT%H:%M:%S.%fZ` of an epoch second.
pub fn isotime(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S.000000Z")
        .to_string()
}

/// What the request asked to be scoped to.
enum ScopeRequest {
    Default,
    Unscoped,
    Project(Value),
    Domain(Value),
    System,
}

fn str_field<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get(name).and_then(Value::as_str)
}

fn parse_scope(auth: &Value) -> Result<ScopeRequest, IdentityError> {
    let bad = || {
        IdentityError::expecting(
            "system, project, domain, OS-TRUST:trust or unscoped",
            "scope",
        )
    };
    match auth.get("scope") {
        None => Ok(ScopeRequest::Default),
        Some(Value::String(s)) if s == "unscoped" => Ok(ScopeRequest::Unscoped),
        Some(Value::Object(o)) => {
            let keys = ["project", "domain", "OS-TRUST:trust", "system"];
            if keys.iter().filter(|k| o.contains_key(**k)).count() != 1 {
                return Err(bad());
            }
            if let Some(p) = o.get("project") {
                if str_field(p, "id").is_none() {
                    if str_field(p, "name").is_none() {
                        return Err(IdentityError::expecting("id or name", "project"));
                    }
                    match p.get("domain") {
                        None => return Err(IdentityError::expecting("domain", "project")),
                        Some(d)
                            if str_field(d, "id").is_none() && str_field(d, "name").is_none() =>
                        {
                            return Err(IdentityError::expecting("id or name", "domain"))
                        }
                        _ => {}
                    }
                }
                Ok(ScopeRequest::Project(p.clone()))
            } else if let Some(d) = o.get("domain") {
                if str_field(d, "id").is_none() && str_field(d, "name").is_none() {
                    return Err(IdentityError::expecting("id or name", "domain"));
                }
                Ok(ScopeRequest::Domain(d.clone()))
            } else if let Some(s) = o.get("system") {
                if s.get("all") == Some(&Value::Bool(true)) {
                    Ok(ScopeRequest::System)
                } else {
                    Err(IdentityError::unauthorized())
                }
            } else {
                // Trusts are not supported.
                Err(IdentityError::unauthorized())
            }
        }
        Some(_) => Err(bad()),
    }
}

fn find_domain(st: &dyn Store, d: &Value) -> Result<Option<Domain>, StoreError> {
    if let Some(id) = str_field(d, "id") {
        st.get_domain(id)
    } else if let Some(name) = str_field(d, "name") {
        st.get_domain_by_name(name)
    } else {
        Ok(None)
    }
}

/// `{"id"}` or `{"name", "domain": {...}}` → the user, or None (Keystone's 401).
fn find_user(st: &dyn Store, u: &Value) -> Result<Option<User>, IdentityError> {
    if let Some(id) = str_field(u, "id") {
        return Ok(st.get_user(id)?);
    }
    let Some(name) = str_field(u, "name") else {
        return Err(IdentityError::expecting("id or name", "user"));
    };
    let Some(d) = u.get("domain") else {
        return Err(IdentityError::expecting("domain", "user"));
    };
    if str_field(d, "id").is_none() && str_field(d, "name").is_none() {
        return Err(IdentityError::expecting("id or name", "domain"));
    }
    match find_domain(st, d)? {
        Some(domain) => Ok(st.get_user_by_name(&domain.id, name)?),
        None => Ok(None),
    }
}

fn user_usable(st: &dyn Store, user: &User) -> Result<bool, StoreError> {
    Ok(user.enabled
        && st
            .get_domain(&user.domain_id)?
            .map(|d| d.enabled)
            .unwrap_or(false))
}

/// Everything decided before signing.
struct Issue {
    user: User,
    methods: Vec<String>,
    audit_ids: Vec<String>,
    exp: i64,
    scope: ScopeRequest,
    /// Scope inherited from the token method when none was requested.
    inherited: Option<ValidToken>,
    app_cred: Option<AppCred>,
}

pub fn issue(id: &Identity, r: &Req) -> Result<Reply, IdentityError> {
    if !r.body.is_empty() {
        let ct = r.content_type.as_deref().unwrap_or("");
        let mime = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !ct.is_empty() && mime != "application/json" {
            return Err(IdentityError::expecting(
                "application/json",
                "Content-Type header",
            ));
        }
    }
    let body: Value = if r.body.iter().all(|b| b.is_ascii_whitespace()) {
        json!({})
    } else {
        serde_json::from_slice(&r.body)
            .map_err(|_| IdentityError::expecting("valid JSON", "request body"))?
    };
    let Some(auth) = body.as_object().and_then(|o| o.get("auth")) else {
        return Err(IdentityError::expecting("auth", "request body"));
    };
    schema::validate_auth(auth).map_err(IdentityError::BadRequest)?;
    let identity = &auth["identity"];
    let methods: Vec<String> = identity["methods"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    for m in &methods {
        if identity.get(m).is_none() {
            return Err(IdentityError::expecting(m, "identity"));
        }
    }
    if methods.is_empty()
        || methods
            .iter()
            .any(|m| !matches!(m.as_str(), "password" | "token" | "application_credential"))
    {
        return Err(IdentityError::Unauthorized {
            message: Some("Attempted to authenticate with an unsupported method.".into()),
            identity: Some(json!({ "methods": SUPPORTED })),
        });
    }
    let scope = parse_scope(auth)?;
    let now = id.determinism().timestamp();
    let mut plan = Issue {
        user: placeholder_user(),
        methods: Vec::new(),
        audit_ids: vec![id.determinism().audit_id()],
        exp: now + id.token_expiration(),
        scope,
        inherited: None,
        app_cred: None,
    };
    let mut user_id: Option<String> = None;
    for m in &methods {
        let payload = &identity[m.as_str()];
        let user = match m.as_str() {
            "password" => password(id, payload)?,
            "token" => {
                let token = str_field(payload, "id").unwrap_or_default();
                let v = id
                    .verify(token, false)
                    .map_err(|e| token_not_found(e, token))?;
                if v.app_cred.is_some() {
                    return Err(IdentityError::Forbidden("token_rescope"));
                }
                plan.exp = v.claims.exp;
                plan.audit_ids
                    .extend(v.claims.openstack_audit_ids.first().cloned());
                for om in &v.claims.openstack_methods {
                    if !plan.methods.contains(om) {
                        plan.methods.push(om.clone());
                    }
                }
                let user = v.user.clone();
                plan.inherited = Some(v);
                user
            }
            _ => {
                if !matches!(plan.scope, ScopeRequest::Default) {
                    return Err(IdentityError::Unauthorized {
                        message: Some("Error authenticating with application credential: Application credentials cannot request a scope.".into()),
                        identity: Some(json!({})),
                    });
                }
                let (user, ac) = application_credential(id, payload)?;
                plan.app_cred = Some(ac);
                user
            }
        };
        if user_id.as_ref().is_some_and(|u| *u != user.id) {
            return Err(IdentityError::unauthorized());
        }
        user_id = Some(user.id.clone());
        plan.user = user;
        if !plan.methods.contains(m) {
            plan.methods.push(m.clone());
        }
    }
    let token = finish(id, plan, now)?;
    let signed = id.sign(&token.claims)?;
    let body = render(&token, r, !r.has_query("nocatalog"));
    Ok(Reply::json(201, &body).header("X-Subject-Token", signed))
}

fn placeholder_user() -> User {
    User {
        id: String::new(),
        name: String::new(),
        domain_id: String::new(),
        enabled: false,
        default_project_id: None,
        password_hash: None,
        extra: Map::new(),
    }
}

fn token_not_found(e: Invalid, token: &str) -> IdentityError {
    match e {
        Invalid::Unknown => IdentityError::not_found("token", token),
        Invalid::Failed => IdentityError::NotFound("Failed to validate token".into()),
        Invalid::Unavailable => unavailable(),
    }
}

fn unavailable() -> IdentityError {
    IdentityError::Unavailable("the store cannot check the token".into())
}

fn password(id: &Identity, payload: &Value) -> Result<User, IdentityError> {
    let u = payload.get("user").cloned().unwrap_or(Value::Null);
    if !u.is_object() {
        return Err(IdentityError::expecting("user", "password"));
    }
    let st = id.store();
    let user = match find_user(st, &u)? {
        Some(user) if user_usable(st, &user)? => user,
        _ => return Err(IdentityError::unauthorized()),
    };
    let given = str_field(&u, "password").ok_or_else(IdentityError::unauthorized)?;
    let hash = user
        .password_hash
        .as_deref()
        .ok_or_else(IdentityError::unauthorized)?;
    if id.check_secret(given, hash) {
        Ok(user)
    } else {
        Err(IdentityError::unauthorized())
    }
}

fn application_credential(
    id: &Identity,
    payload: &Value,
) -> Result<(User, AppCred), IdentityError> {
    let secret = str_field(payload, "secret").ok_or_else(IdentityError::unauthorized)?;
    let st = id.store();
    let ac = if let Some(acid) = str_field(payload, "id") {
        st.get_app_cred(acid)?
    } else {
        let (Some(name), Some(u)) = (str_field(payload, "name"), payload.get("user")) else {
            return Err(IdentityError::expecting(
                "id or name and user",
                "application_credential",
            ));
        };
        match find_user(st, u)? {
            Some(user) => st.get_app_cred_by_name(&user.id, name)?,
            None => None,
        }
    };
    let ac = ac.ok_or_else(IdentityError::unauthorized)?;
    let user = match st.get_user(&ac.user_id)? {
        Some(user) if user_usable(st, &user)? => user,
        _ => return Err(IdentityError::unauthorized()),
    };
    // Keystone's `_check_expired`, on instants (a naive expiry is UTC).
    if app_creds::is_expired(ac.expires_at.as_deref(), id.determinism().now()) {
        return Err(IdentityError::unauthorized());
    }
    if !id.check_secret(secret, &ac.secret_hash) {
        return Err(IdentityError::unauthorized());
    }
    Ok((user, ac))
}

/// Resolves the scope and roles, and builds the claims.
fn finish(id: &Identity, plan: Issue, now: i64) -> Result<ValidToken, IdentityError> {
    let Issue {
        user,
        methods,
        audit_ids,
        exp,
        scope,
        inherited,
        app_cred,
    } = plan;
    let st = id.store();
    let target: Option<Target> = if let Some(ac) = &app_cred {
        Some(Target::Project(ac.project_id.clone()))
    } else {
        match &scope {
            ScopeRequest::Unscoped => None,
            ScopeRequest::System => Some(Target::System),
            ScopeRequest::Project(p) => {
                let project = if let Some(pid) = str_field(p, "id") {
                    st.get_project(pid)?
                } else {
                    match find_domain(st, &p["domain"])? {
                        Some(d) => {
                            st.get_project_by_name(&d.id, str_field(p, "name").unwrap_or(""))?
                        }
                        None => None,
                    }
                };
                match project {
                    Some(p) => Some(Target::Project(p.id)),
                    None => return Err(IdentityError::unauthorized()),
                }
            }
            ScopeRequest::Domain(d) => match find_domain(st, d)? {
                Some(d) => Some(Target::Domain(d.id)),
                None => return Err(IdentityError::unauthorized()),
            },
            ScopeRequest::Default => match &inherited {
                Some(v) => match &v.scope {
                    Scope::Unscoped => None,
                    Scope::Project { project, .. } => Some(Target::Project(project.id.clone())),
                    Scope::Domain(d) => Some(Target::Domain(d.id.clone())),
                    Scope::System => Some(Target::System),
                },
                None => {
                    // The default project, if it is usable; else unscoped.
                    let mut t = None;
                    if let Some(pid) = &user.default_project_id {
                        if let Some(p) = st.get_project(pid)? {
                            let ok = p.enabled
                                && !effective_roles(st, &user.id, &Target::Project(p.id.clone()))?
                                    .is_empty();
                            if ok {
                                t = Some(Target::Project(p.id));
                            }
                        }
                    }
                    t
                }
            },
        }
    };
    // CVE-2022-2447: a token from an application credential expires no later than it.
    let exp = match app_cred
        .as_ref()
        .and_then(|a| a.expires_at.as_deref())
        .and_then(app_creds::stored_instant)
    {
        Some(at) => exp.min(at.timestamp()),
        None => exp,
    };
    let claims = TokenClaims {
        sub: user.id.clone(),
        iat: id.issued_at(&user.id)?.max(now),
        exp,
        openstack_methods: methods,
        openstack_audit_ids: audit_ids,
        openstack_project_id: match &target {
            Some(Target::Project(p)) => Some(p.clone()),
            _ => None,
        },
        openstack_domain_id: match &target {
            Some(Target::Domain(d)) => Some(d.clone()),
            _ => None,
        },
        openstack_system: matches!(target, Some(Target::System)).then(|| "all".to_string()),
        openstack_app_cred_id: app_cred.as_ref().map(|a| a.id.clone()),
    };
    // The same checks a presented token gets: enabled project/domain, roles present.
    id.check_claims(claims)?
        .map_err(|_| IdentityError::unauthorized())
}

fn domain_ref(d: &Domain) -> Value {
    json!({"id": d.id, "name": d.name})
}

fn roles_ref(roles: &[Role]) -> Value {
    Value::Array(
        roles
            .iter()
            .map(|r| json!({"id": r.id, "name": r.name}))
            .collect(),
    )
}

/// keystone/common/render_token.py.
pub fn render(v: &ValidToken, r: &Req, with_catalog: bool) -> Value {
    let mut t = Map::new();
    t.insert("methods".into(), json!(v.claims.openstack_methods));
    t.insert(
        "user".into(),
        json!({"domain": domain_ref(&v.user_domain), "id": v.user.id, "name": v.user.name, "password_expires_at": null}),
    );
    t.insert("audit_ids".into(), json!(v.claims.openstack_audit_ids));
    t.insert("expires_at".into(), json!(isotime(v.claims.exp)));
    t.insert("issued_at".into(), json!(isotime(v.claims.iat)));
    let cat = || catalog::catalog(&r.region, &r.catalog_identity_url, &r.catalog_compute_url);
    match &v.scope {
        Scope::Unscoped => {}
        Scope::Project { project, domain } => {
            t.insert(
                "project".into(),
                json!({"domain": domain_ref(domain), "id": project.id, "name": project.name}),
            );
            t.insert("is_domain".into(), json!(false));
            t.insert("roles".into(), roles_ref(&v.roles));
            if with_catalog {
                t.insert("catalog".into(), cat());
            }
        }
        Scope::Domain(d) => {
            t.insert("domain".into(), domain_ref(d));
            t.insert("roles".into(), roles_ref(&v.roles));
            if with_catalog {
                t.insert("catalog".into(), cat());
            }
        }
        Scope::System => {
            t.insert("roles".into(), roles_ref(&v.roles));
            t.insert("system".into(), json!({"all": true}));
            if with_catalog {
                t.insert("catalog".into(), cat());
            }
        }
    }
    if let Some(ac) = &v.app_cred {
        t.insert(
            "application_credential".into(),
            json!({"id": ac.id, "name": ac.name, "restricted": ac.unrestricted != Some(true)}),
        );
    }
    json!({ "token": Value::Object(t) })
}

/// The caller of an API request, from `X-Auth-Token` (401 if absent or invalid).
pub fn caller(id: &Identity, r: &Req) -> Result<ValidToken, IdentityError> {
    let token = r
        .auth_token
        .as_deref()
        .ok_or_else(IdentityError::unauthorized)?;
    id.verify(token, false).map_err(|e| match e {
        Invalid::Unavailable => unavailable(),
        _ => IdentityError::unauthorized(),
    })
}

fn subject(id: &Identity, r: &Req, allow_expired: bool) -> Result<ValidToken, IdentityError> {
    let token = r
        .subject_token
        .as_deref()
        .ok_or_else(|| IdentityError::NotFound("No token in the request".into()))?;
    let v = id
        .verify(token, allow_expired)
        .map_err(|e| token_not_found(e, token))?;
    if allow_expired && v.claims.exp + ALLOW_EXPIRED_WINDOW <= id.determinism().timestamp() {
        return Err(IdentityError::NotFound("Failed to validate token".into()));
    }
    Ok(v)
}

/// `GET`/`HEAD /v3/auth/tokens`.
pub fn validate(id: &Identity, r: &Req) -> Result<Reply, IdentityError> {
    let me = caller(id, r)?;
    let v = subject(id, r, r.flag("allow_expired"))?;
    if !me.is_admin() && me.user.id != v.user.id {
        return Err(IdentityError::Forbidden("validate_token"));
    }
    let body = render(&v, r, !r.has_query("nocatalog"));
    Ok(Reply::json(200, &body).header(
        "X-Subject-Token",
        r.subject_token.clone().unwrap_or_default(),
    ))
}

/// `DELETE /v3/auth/tokens`.
pub fn revoke(id: &Identity, r: &Req) -> Result<Reply, IdentityError> {
    let me = caller(id, r)?;
    let v = subject(id, r, false)?;
    if !me.is_admin() && me.user.id != v.user.id {
        return Err(IdentityError::Forbidden("revoke_token"));
    }
    let audit = v
        .claims
        .openstack_audit_ids
        .first()
        .cloned()
        .unwrap_or_default();
    id.store().revoke_token(&audit, v.claims.exp)?;
    Ok(Reply::empty(204))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isotime_has_microseconds_and_z() {
        assert_eq!(isotime(1_795_425_375), "2026-11-23T09:16:15.000000Z");
    }
}
