//! `/v3/users/{id}/application_credentials` (keystone/api/users.py).

use super::common::*;
use super::error::IdentityError;
use super::views::*;
use super::{Reply, Req};
use crate::domain::identity::app_creds::{self, ExpiryError};
use crate::domain::identity::*;
use crate::store::identity::*;
use crate::store::StoreError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};

pub(super) fn app_cred_view(
    ac: &AppCred,
    roles: &[Role],
    base: &str,
    secret: Option<&str>,
) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), json!(ac.id));
    o.insert("name".into(), json!(ac.name));
    o.insert("description".into(), json!(ac.description));
    o.insert("user_id".into(), json!(ac.user_id));
    o.insert("project_id".into(), json!(ac.project_id));
    o.insert("system".into(), Value::Null);
    o.insert(
        "expires_at".into(),
        json!(ac.expires_at.as_deref().map(app_creds::shown)),
    );
    o.insert("unrestricted".into(), json!(ac.unrestricted));
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

pub(super) fn own(me: &ValidToken, uid: &str, action: &'static str) -> Result<(), IdentityError> {
    if me.user.id == uid || me.is_admin() {
        Ok(())
    } else {
        Err(IdentityError::Forbidden(action))
    }
}

/// keystone/api/users.py `_check_unrestricted_application_credential`: a token from an
/// application credential that is not `unrestricted` may not create or delete application
/// credentials (a new one would outlive its parent; the parent could be deleted).
pub(super) fn check_unrestricted(me: &ValidToken, what: &str) -> Result<(), IdentityError> {
    match &me.app_cred {
        Some(ac) if ac.unrestricted != Some(true) => Err(IdentityError::ForbiddenAction(format!(
            "Using method 'application_credential' is not allowed for managing additional {what}."
        ))),
        _ => Ok(()),
    }
}

/// The body's `expires_at`, read and normalised as Keystone does (`parse_expiration_date`).
fn expires_at(id: &Identity, obj: &Map<String, Value>) -> Result<Option<String>, IdentityError> {
    const CLIENT: &str = " The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.";
    match obj.get("expires_at") {
        None | Some(Value::Null) => Ok(None),
        // `if app_cred_data.get('expires_at')`: an empty string is no expiry.
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => match app_creds::parse_expiration(s, id.determinism().now()) {
            Ok(at) => Ok(Some(app_creds::render(at))),
            Err(ExpiryError::Format) => Err(IdentityError::BadRequest(format!(
                "Timestamp not in expected format.{CLIENT}"
            ))),
            Err(ExpiryError::Past) => Err(IdentityError::BadRequest(format!(
                "The 'expires_at' must not be before now.{CLIENT}"
            ))),
        },
        Some(other) => Err(invalid(
            "expires_at",
            other,
            &format!(
                "{} is not of type 'string', 'null'",
                crate::pycompat::pyrepr::py_repr(other)
            ),
        )),
    }
}

pub(super) fn create_app_cred(
    id: &Identity,
    r: &Req,
    me: &ValidToken,
    uid: &str,
) -> Result<Reply, IdentityError> {
    let obj = body_object(r, "application_credential", true)?;
    if me.user.id != uid {
        return Err(IdentityError::Forbidden("create_application_credential"));
    }
    check_unrestricted(me, "application credentials")?;
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
        secret_hash: id.hash_secret(&secret)?,
        expires_at: expires_at(id, &obj)?,
        unrestricted: obj.get("unrestricted").and_then(Value::as_bool),
        role_ids: wanted,
    };
    match id.store().insert_app_cred(&ac) {
        Err(StoreError::Duplicate) => {
            return Err(IdentityError::Conflict(format!(
                "Conflict occurred attempting to store application_credential - Duplicate entry found with name {}.",
                ac.name
            )))
        }
        other => other?,
    }
    let roles = id.store().list_roles()?;
    Ok(one(
        "application_credential",
        app_cred_view(&ac, &roles, &r.base, Some(&secret)),
        201,
    ))
}

pub(super) fn list_app_creds(
    id: &Identity,
    r: &Req,
    me: &ValidToken,
    uid: &str,
) -> Result<Reply, IdentityError> {
    own(me, uid, "list_application_credentials")?;
    let st = id.store();
    let (acs, roles) = (st.list_app_creds(uid)?, st.list_roles()?);
    let items = acs
        .iter()
        .filter(|a| r.query("name").is_none_or(|n| n == a.name))
        .map(|a| app_cred_view(a, &roles, &r.base, None))
        .collect();
    Ok(list_reply("application_credentials", items, r))
}

pub(super) fn show_app_cred(
    id: &Identity,
    r: &Req,
    me: &ValidToken,
    uid: &str,
    acid: &str,
) -> Result<Reply, IdentityError> {
    own(me, uid, "get_application_credential")?;
    let st = id.store();
    let (ac, roles) = (st.get_app_cred(acid)?, st.list_roles()?);
    let ac = ac
        .filter(|a| a.user_id == uid)
        .ok_or_else(|| IdentityError::not_found("application credential", acid))?;
    Ok(one(
        "application_credential",
        app_cred_view(&ac, &roles, &r.base, None),
        200,
    ))
}

pub(super) fn delete_app_cred(
    id: &Identity,
    me: &ValidToken,
    uid: &str,
    acid: &str,
) -> Result<Reply, IdentityError> {
    own(me, uid, "delete_application_credential")?;
    check_unrestricted(me, "application credentials")?;
    match id.store().delete_app_cred(uid, acid) {
        Err(StoreError::NotFound) => {
            return Err(IdentityError::not_found("application credential", acid))
        }
        other => other?,
    }
    Ok(Reply::empty(204))
}
