//! `/v3/credentials` (keystone/api/credentials.py): the access keys of the cloud APIs.
//!
//! A credential of type `alibaba`, `tencent` or `twcc` is an access key that signs that
//! cloud's requests as its user, in its project. Its `blob` is `{"access": ..., "secret": ...}`
//! (both generated in the cloud's style when the blob leaves them out); the secret is in the
//! create answer only, later answers show `"secret": "***"`. Admins manage every credential,
//! a user their own.

use super::common::{body_object, invalid, list_reply, one};
use super::error::IdentityError;
use super::{Reply, Req};
use crate::domain::credentials::{CredentialService, CLOUDS};
use crate::domain::identity::{Identity, Scope, ValidToken};
use crate::domain::{DomainError, Principal};
use crate::store::identity::Credential;
use serde_json::{json, Value};

/// The caller as the domain sees it.
fn principal(me: &ValidToken) -> Principal {
    Principal {
        user_id: me.user.id.clone(),
        project_id: me.project_id().unwrap_or_default().to_string(),
        roles: me.roles.iter().map(|r| r.name.clone()).collect(),
        system_scope: matches!(me.scope, Scope::System),
    }
}

fn view(c: &Credential, base: &str, with_secret: bool) -> Value {
    let secret = if with_secret {
        c.secret.as_str()
    } else {
        "***"
    };
    json!({
        "user_id": c.user_id,
        "links": {"self": format!("{base}/v3/credentials/{}", c.id)},
        "blob": json!({"access": c.access, "secret": secret}).to_string(),
        "project_id": c.project_id,
        "type": c.cloud,
        "id": c.id,
    })
}

fn refused(e: DomainError, action: &'static str, id: &str) -> IdentityError {
    match e {
        DomainError::Forbidden => IdentityError::Forbidden(action),
        DomainError::NotFound => IdentityError::not_found("credential", id),
        DomainError::Duplicate => IdentityError::Conflict(
            "Conflict occurred attempting to store credential - Duplicate entry found with the access key.".into(),
        ),
        DomainError::Invalid(m) => IdentityError::BadRequest(m),
        other => IdentityError::Internal(other.to_string()),
    }
}

pub(super) fn create(
    id: &Identity,
    creds: &CredentialService,
    r: &Req,
    me: &ValidToken,
) -> Result<Reply, IdentityError> {
    let obj = body_object(r, "credential", false)?;
    let whole = Value::Object(obj.clone());
    for field in ["blob", "type", "user_id"] {
        match obj.get(field) {
            Some(Value::String(_)) => {}
            Some(other) => {
                return Err(invalid(
                    field,
                    other,
                    &format!(
                        "{} is not of type 'string'",
                        crate::pycompat::pyrepr::py_repr(other)
                    ),
                ))
            }
            None => {
                return Err(invalid(
                    "credential",
                    &whole,
                    &format!("'{field}' is a required property"),
                ))
            }
        }
    }
    let text = |f: &str| obj[f].as_str().unwrap_or_default().to_string();
    let (kind, user_id) = (text("type"), text("user_id"));
    if !CLOUDS.contains(&kind.as_str()) {
        return Err(IdentityError::BadRequest(format!(
            "Invalid input for field/attribute type. Value: '{kind}'. '{kind}' is not one of {}",
            crate::pycompat::pyrepr::py_repr(&json!(CLOUDS))
        )));
    }
    // keystone/api/credentials.py checks this for `ec2` credentials; these access keys are
    // the same kind of thing (they act as the user, in the project, and outlive the token).
    super::application_credentials::check_unrestricted(me, "credentials")?;
    let project_id = match obj.get("project_id").and_then(Value::as_str) {
        Some(p) => p.to_string(),
        None => me
            .project_id()
            .map(str::to_string)
            .ok_or_else(|| IdentityError::BadRequest("A project_id is required.".into()))?,
    };
    let given = match serde_json::from_str::<Value>(&text("blob")) {
        Ok(Value::Object(b)) if b.is_empty() => None,
        Ok(Value::Object(b)) => match (b.get("access"), b.get("secret")) {
            (Some(Value::String(a)), Some(Value::String(s))) if !a.is_empty() => {
                Some((a.clone(), s.clone()))
            }
            (None, None) => None,
            _ => {
                return Err(IdentityError::BadRequest(
                    "Invalid blob in credential".into(),
                ))
            }
        },
        _ => {
            return Err(IdentityError::BadRequest(
                "Invalid blob in credential".into(),
            ))
        }
    };
    let caller = principal(me);
    if !caller.is_admin() && caller.user_id != user_id {
        return Err(IdentityError::Forbidden("create_credential"));
    }
    if id.store().get_user(&user_id)?.is_none() {
        return Err(IdentityError::not_found("user", &user_id));
    }
    if id.store().get_project(&project_id)?.is_none() {
        return Err(IdentityError::not_found("project", &project_id));
    }
    let c = creds
        .create(&caller, &kind, &user_id, &project_id, given)
        .map_err(|e| refused(e, "create_credential", ""))?;
    Ok(one("credential", view(&c, &r.base, true), 201))
}

pub(super) fn list(
    creds: &CredentialService,
    r: &Req,
    me: &ValidToken,
) -> Result<Reply, IdentityError> {
    let items = creds
        .list(&principal(me), r.query("user_id"), r.query("type"))
        .map_err(|e| refused(e, "list_credentials", ""))?
        .iter()
        .map(|c| view(c, &r.base, false))
        .collect();
    Ok(list_reply("credentials", items, r))
}

pub(super) fn show(
    creds: &CredentialService,
    r: &Req,
    me: &ValidToken,
    cid: &str,
) -> Result<Reply, IdentityError> {
    let c = creds
        .get(&principal(me), cid)
        .map_err(|e| refused(e, "get_credential", cid))?;
    Ok(one("credential", view(&c, &r.base, false), 200))
}

pub(super) fn delete(
    creds: &CredentialService,
    me: &ValidToken,
    cid: &str,
) -> Result<Reply, IdentityError> {
    creds
        .delete(&principal(me), cid)
        .map_err(|e| refused(e, "delete_credential", cid))?;
    Ok(Reply::empty(204))
}
