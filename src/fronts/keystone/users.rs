//! `/v3/users` (keystone/api/users.py).

use super::common::*;
use super::error::IdentityError;
use super::views::*;
use super::{Reply, Req};
use crate::domain::identity::*;
use crate::pycompat::pyrepr::py_repr;
use crate::store::identity::*;
use crate::store::StoreError;
use serde_json::{Map, Value};

pub(super) fn list_users(id: &Identity, r: &Req, me: &ValidToken) -> Result<Reply, IdentityError> {
    require_admin(me, "list_users")?;
    let enabled = enabled_filter(r);
    let items = id
        .store()
        .list_users()?
        .iter()
        .filter(|u| r.query("name").is_none_or(|n| n == u.name))
        .filter(|u| r.query("domain_id").is_none_or(|d| d == u.domain_id))
        .filter(|u| enabled.is_none_or(|e| e == u.enabled))
        .map(|u| user_view(u, &r.base))
        .collect();
    Ok(list_reply("users", items, r))
}

pub(super) fn show_user(
    id: &Identity,
    r: &Req,
    me: &ValidToken,
    uid: &str,
) -> Result<Reply, IdentityError> {
    if !me.is_admin() && me.user.id != uid {
        return Err(IdentityError::Forbidden("get_user"));
    }
    let u = id
        .store()
        .get_user(uid)?
        .ok_or_else(|| IdentityError::not_found("user", uid))?;
    Ok(one("user", user_view(&u, &r.base), 200))
}

/// Applies a user create/update body onto `u`.
pub(super) fn apply_user_fields(
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
                    Value::String(p) => Some(id.hash_secret(p)?),
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

pub(super) fn create_user(id: &Identity, r: &Req, me: &ValidToken) -> Result<Reply, IdentityError> {
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
    let st = id.store();
    if st.get_domain(&domain_id)?.is_none() {
        return Err(IdentityError::not_found("domain", &domain_id));
    }
    match st.insert_user(&u) {
        Err(StoreError::Duplicate) => {
            return Err(IdentityError::Conflict(format!(
                "Conflict occurred attempting to store user - Duplicate entry found with name {} at domain ID {domain_id}.",
                u.name
            )))
        }
        other => other?,
    }
    Ok(one("user", user_view(&u, &r.base), 201))
}

pub(super) fn update_user(
    id: &Identity,
    r: &Req,
    me: &ValidToken,
    uid: &str,
) -> Result<Reply, IdentityError> {
    let obj = body_object(r, "user", false)?;
    require_admin(me, "update_user")?;
    let mut u = id
        .store()
        .get_user(uid)?
        .ok_or_else(|| IdentityError::not_found("user", uid))?;
    let was_enabled = u.enabled;
    apply_user_fields(id, &mut u, &obj)?;
    match id.store().update_user(&u) {
        Err(StoreError::Duplicate) => {
            return Err(IdentityError::Conflict(format!(
                "Conflict occurred attempting to store user - Duplicate entry found with name {} at domain ID {}.",
                u.name, u.domain_id
            )))
        }
        other => other?,
    }
    // keystone/identity/core.py `update_user`: disabling the user or setting a password
    // revokes every token the user holds (a revocation event), so enabling the user again
    // does not bring the old tokens back.
    let disabled = was_enabled && obj.get("enabled") == Some(&Value::Bool(false));
    let password_set = obj.get("password").is_some_and(|p| !p.is_null());
    if disabled || password_set {
        id.revoke_user_tokens(uid)?;
    }
    Ok(one("user", user_view(&u, &r.base), 200))
}

pub(super) fn delete_user(
    id: &Identity,
    me: &ValidToken,
    uid: &str,
) -> Result<Reply, IdentityError> {
    require_admin(me, "delete_user")?;
    match id.store().delete_user(uid) {
        Err(StoreError::NotFound) => return Err(IdentityError::not_found("user", uid)),
        other => other?,
    }
    Ok(Reply::empty(204))
}

/// `POST /v3/users/{id}/password` (`UserChangePasswordResource`): self-service, no token
/// needed (the original password is the proof; a user whose password expired can still
/// change it). Every refusal is Keystone's one 401. The user's tokens are revoked.
pub(super) fn change_password(id: &Identity, r: &Req, uid: &str) -> Result<Reply, IdentityError> {
    let body: Value = if r.body.iter().all(|b| b.is_ascii_whitespace()) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(&r.body)
            .map_err(|_| IdentityError::expecting("valid JSON", "request body"))?
    };
    let data = match body.get("user") {
        Some(v) => v.clone(),
        None => Value::Object(Map::new()),
    };
    // The passwords are not echoed back in a validation error (Keystone would).
    let mut shown = data.clone();
    if let Some(o) = shown.as_object_mut() {
        for k in ["password", "original_password"] {
            if let Some(v @ Value::String(_)) = o.get_mut(k) {
                *v = Value::String("***".into());
            }
        }
    }
    super::schema::validate(super::schema::password_change_schema(), &shown)
        .map_err(IdentityError::BadRequest)?;
    let original = data["original_password"].as_str().unwrap_or_default();
    let new = data["password"].as_str().unwrap_or_default();
    let st = id.store();
    let Some(mut user) = st.get_user(uid)? else {
        return Err(IdentityError::unauthorized());
    };
    let matches = user
        .password_hash
        .as_deref()
        .is_some_and(|h| id.check_secret(original, h));
    if !matches || !user.enabled {
        return Err(IdentityError::unauthorized());
    }
    user.password_hash = Some(id.hash_secret(new)?);
    match st.update_user(&user) {
        Err(StoreError::NotFound) => return Err(IdentityError::unauthorized()),
        other => other?,
    }
    id.revoke_user_tokens(uid)?;
    Ok(Reply::empty(204))
}
