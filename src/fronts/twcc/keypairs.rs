//! # Key pair handlers
//!
//! Thin: the caller's own key pairs (`KeypairService::target`, the scope rule), one domain
//! call, one view. Refusals go through `TwccError::from_domain` (the front's one table).

use super::errors::TwccError;
use super::params::CreateBody;
use super::views;
use super::TwccFront;
use crate::domain::{CreateRules, KeypairSpec, Material, Principal, Target};
use crate::keys::{Fingerprint, KeyKind, PrivateKeyEncoding, SshKeyOptions};
use crate::store::keypairs::{Keypair, Order};
use actix_web::HttpResponse;
use serde_json::Value;
use std::collections::HashMap;

/// The comment on the public keys TWCC generates: VCS is Nova underneath and the VCS API has
/// Nova generate them (spec §3.6), so they carry Nova's.
const GENERATED_COMMENT: &str = "Generated-by-Nova";

/// One call: who, through which site.
#[derive(Clone, Copy)]
pub struct Call<'a> {
    pub front: &'a TwccFront,
    pub caller: &'a Principal,
    /// The site of the path (the `platform` of what is shown).
    pub site: &'a str,
}

impl Call<'_> {
    fn target(&self) -> Result<Target, TwccError> {
        self.front
            .services
            .keypairs
            .target(self.caller, None)
            .map_err(TwccError::from_domain)
    }

    /// The `user` objects of the owners of `keypairs`, each user read once.
    fn owners(&self, keypairs: &[Keypair]) -> Result<HashMap<String, Value>, TwccError> {
        let store = self.front.services.identity.store();
        let mut owners = HashMap::new();
        for kp in keypairs {
            if !owners.contains_key(&kp.user_id) {
                let user = store
                    .get_user(&kp.user_id)
                    .map_err(|e| TwccError::Internal(format!("user lookup: {e}")))?;
                owners.insert(kp.user_id.clone(), views::user(&kp.user_id, user.as_ref()));
            }
        }
        Ok(owners)
    }

    fn detail(&self, kp: &Keypair) -> Result<Value, TwccError> {
        let mut owners = self.owners(std::slice::from_ref(kp))?;
        let owner = owners.remove(&kp.user_id).unwrap_or(Value::Null);
        Ok(views::detail(kp, self.site, owner))
    }
}

fn json(status: actix_web::http::StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .body(serde_json::to_vec(body).unwrap_or_default())
}

/// `GET …/keypairs/`: every key pair of the caller (one page: an owner holds at most its
/// quota), newest first, the order of TWCC's portal.
pub async fn list(call: Call<'_>) -> Result<HttpResponse, TwccError> {
    let target = call.target()?;
    let all = call
        .front
        .services
        .keypairs
        .list(
            &target,
            crate::domain::Page::Offset {
                offset: 0,
                limit: u32::MAX,
            },
            Order::Newest,
        )
        .await
        .map_err(TwccError::from_domain)?;
    let owners = call.owners(&all.items)?;
    let items: Vec<Value> = all
        .items
        .iter()
        .map(|kp| {
            let owner = owners.get(&kp.user_id).cloned().unwrap_or(Value::Null);
            views::list_item(kp, call.site, owner)
        })
        .collect();
    Ok(json(actix_web::http::StatusCode::OK, &Value::Array(items)))
}

/// `GET …/keypairs/{name}/`
pub async fn show(call: Call<'_>, name: &str) -> Result<HttpResponse, TwccError> {
    let target = call.target()?;
    let kp = call
        .front
        .services
        .keypairs
        .get(&target, name)
        .await
        .map_err(TwccError::from_domain)?;
    Ok(json(actix_web::http::StatusCode::OK, &call.detail(&kp)?))
}

/// `POST …/keypairs/`: a generated key pair answers its private key (PKCS#1 PEM) as the raw
/// `text/plain` body, which twcc-cli writes verbatim to `<name>.pem`; TWCC keeps no copy. An
/// import has no private key to give: it answers the new key pair's detail object (which the
/// CLI then writes to `<name>.pem`, holding no secret).
pub async fn create(call: Call<'_>, body: CreateBody) -> Result<HttpResponse, TwccError> {
    let target = call.target()?;
    let material = match body.public_key {
        Some(pk) => Material::Import(pk),
        None => Material::Generate(SshKeyOptions {
            comment: GENERATED_COMMENT.into(),
            encoding: PrivateKeyEncoding::Pkcs1,
        }),
    };
    let spec = KeypairSpec {
        name: body.name,
        kind: KeyKind::Ssh,
        material,
        fingerprint: Fingerprint::Md5,
        extra: Default::default(),
        tags: Vec::new(),
        rules: CreateRules::default(),
    };
    let created = call
        .front
        .services
        .keypairs
        .create(call.caller, &target, spec)
        .await
        .map_err(TwccError::from_domain)?;
    match created.private_key {
        Some(private) => Ok(HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(private.as_bytes().to_vec())),
        None => Ok(json(
            actix_web::http::StatusCode::OK,
            &call.detail(&created.keypair)?,
        )),
    }
}

/// `DELETE …/keypairs/{name}/`: 204, no body. Nova's rule (VCS is Nova underneath): a key
/// pair goes whether or not an instance was booted with it.
pub async fn delete(call: Call<'_>, name: &str) -> Result<HttpResponse, TwccError> {
    let target = call.target()?;
    call.front
        .services
        .keypairs
        .delete(&target, name)
        .await
        .map_err(TwccError::from_domain)?;
    Ok(HttpResponse::NoContent().finish())
}
