//! # CreateKeyPair, ImportKeyPair, DescribeKeyPairs, DeleteKeyPairs
//!
//! Each: read and check the parameters (Alibaba's rules) → one domain call → the view.

use super::errors::AliError;
use super::views::Answer;
use super::{ids, rules, views, AlibabaFront, Call};
use crate::domain::{CreateRules, KeypairSpec, Material};
use crate::http::rendered::BodyKey;
use crate::keys::{Fingerprint, KeyKind, PrivateKeyEncoding, SshKeyOptions};
use crate::store::keypairs::{KeypairExtra, Order};
use actix_web::web::Bytes;
use serde_json::{json, Value};

/// The comment of the public keys CreateKeyPair makes (novakeys' choice: Alibaba documents
/// none, and clients never read it).
pub const GENERATED_COMMENT: &str = "Generated-by-novakeys-Alibaba-ECS";

/// The key types ImportKeyPair takes (Alibaba's list: RSA, DSA, ECDSA and their OpenSSH
/// certificates; no Ed25519, no security keys).
const IMPORT_TYPES: &[&str] = &[
    "ssh-rsa",
    "ssh-dss",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa-cert-v01@openssh.com",
    "ssh-dss-cert-v01@openssh.com",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
];

/// Most page a DescribeKeyPairs returns.
const MAX_PAGE_SIZE: u64 = 50;
const DEFAULT_PAGE_SIZE: u64 = 10;
/// Most names one DeleteKeyPairs takes.
const MAX_DELETE: usize = 100;

/// The key pair a call names, for the journal and fault rules.
pub fn named(call: &Call) -> Option<String> {
    match call.params.get("KeyPairName") {
        Some(n) if !n.is_empty() => Some(n.to_string()),
        _ => call
            .params
            .get("KeyPairNames")
            .and_then(|raw| serde_json::from_str::<Vec<String>>(raw).ok())
            .and_then(|names| names.into_iter().next()),
    }
}

/// `ResourceGroupId`: absent, empty or the caller's project's default group (the only group
/// there is here); anything else is not found.
fn resource_group(call: &Call) -> Result<Option<String>, AliError> {
    match call.params.get("ResourceGroupId").filter(|g| !g.is_empty()) {
        None => Ok(None),
        Some(g) if g == ids::default_resource_group(&call.principal().project_id) => {
            Ok(Some(g.to_string()))
        }
        Some(_) => Err(AliError::resource_group_not_found()),
    }
}

async fn add(
    front: &AlibabaFront,
    call: &Call,
    name: &str,
    material: Material,
) -> Result<crate::domain::Created, AliError> {
    resource_group(call)?;
    let tags = rules::new_tags(&call.params)?;
    let target = front.target(call)?;
    let spec = KeypairSpec {
        name: name.to_string(),
        kind: KeyKind::Ssh,
        material,
        fingerprint: Fingerprint::Md5,
        // The default group is stored as "" (every view shows the project's group for it).
        extra: KeypairExtra::default(),
        tags,
        rules: CreateRules::default(),
    };
    front
        .services
        .keypairs
        .create_capped(
            call.principal(),
            &target,
            spec,
            front.settings.keypair_quota,
        )
        .await
        .map_err(AliError::from_domain)
}

pub async fn create(
    front: &AlibabaFront,
    call: &Call,
    request_id: &str,
) -> Result<Value, AliError> {
    let name = call.params.required("KeyPairName")?;
    rules::create_name(name)?;
    let created = add(
        front,
        call,
        name,
        Material::Generate(SshKeyOptions {
            comment: GENERATED_COMMENT.into(),
            // The docs' sample private key is a PKCS#1 RSAPrivateKey (seed-clouds.md §1.3).
            encoding: PrivateKeyEncoding::Pkcs1,
        }),
    )
    .await?;
    let kp = &created.keypair;
    let private = created
        .private_key
        .as_ref()
        .map(|k| k.as_str())
        .unwrap_or_default();
    Ok(json!({
        "RequestId": request_id,
        "KeyPairId": ids::keypair_id(kp.id),
        "KeyPairName": kp.name,
        "KeyPairFingerPrint": views::fingerprint(kp),
        "PrivateKeyBody": private,
    }))
}

pub async fn import(
    front: &AlibabaFront,
    call: &Call,
    request_id: &str,
) -> Result<Value, AliError> {
    let name = call.params.required("KeyPairName")?;
    rules::import_name(name)?;
    let public_key = call.params.required("PublicKeyBody")?;
    let kind = public_key.split_whitespace().next().unwrap_or_default();
    if !IMPORT_TYPES.contains(&kind) {
        return Err(AliError::public_key_malformed());
    }
    let created = add(front, call, name, Material::Import(public_key.to_string())).await?;
    let kp = &created.keypair;
    Ok(json!({
        "RequestId": request_id,
        "KeyPairName": kp.name,
        "KeyPairFingerPrint": views::fingerprint(kp),
    }))
}

pub async fn describe(
    front: &AlibabaFront,
    call: &Call,
    request_id: &str,
) -> Result<Answer, AliError> {
    let p = &call.params;
    let group = resource_group(call)?;
    let page_number = p.integer("PageNumber", 1, i32::MAX as u64)?.unwrap_or(1);
    let page_size = p
        .integer("PageSize", 1, MAX_PAGE_SIZE)?
        .unwrap_or(DEFAULT_PAGE_SIZE);
    let include_public_key = p.boolean("IncludePublicKey")?.unwrap_or(false);
    let tag_filter = rules::tag_filter(p)?;
    let pattern = p.get("KeyPairName").filter(|n| !n.is_empty());
    let fingerprint = p.get("KeyPairFingerPrint").filter(|f| !f.is_empty());
    let target = front.target(call)?;
    // Taken before the rows are read: see `Rendered`.
    let token = front.services.keypairs.change_token();
    let key = BodyKey::new("DescribeKeyPairs")
        .part(&format!("{:?}", target.owner()))
        .part(&format!(
            "{group:?} {page_number} {page_size} {include_public_key} {tag_filter:?} {pattern:?} {fingerprint:?}"
        ));
    if let Some(members) = front.described.get(&key, token) {
        return Ok(Answer::Parts(views::with_request_id(request_id, &members)));
    }
    let keep = |kp: &crate::store::keypairs::Keypair, tags: &[crate::store::keypairs::Tag]| {
        pattern.is_none_or(|pat| rules::wildcard_match(pat, &kp.name))
            && fingerprint.is_none_or(|f| views::fingerprint(kp) == f)
            && group
                .as_deref()
                .is_none_or(|g| views::resource_group(kp) == g)
            && rules::tags_match(&tag_filter, tags)
    };
    let offset = (page_number - 1).saturating_mul(page_size);
    let (page, total) = front
        .services
        .keypairs
        .find(&target, Order::Newest, keep, offset, Some(page_size as u32))
        .await
        .map_err(AliError::from_domain)?;
    let items = page
        .iter()
        .map(|f| views::KeyPairItem::new(f, include_public_key))
        .collect();
    let members = views::describe(total, page_number, page_size, items)
        .map(Bytes::from)
        .map_err(|_| AliError::internal())?;
    front.described.put(key, token, members.clone());
    Ok(Answer::Parts(views::with_request_id(request_id, &members)))
}

pub async fn delete(
    front: &AlibabaFront,
    call: &Call,
    request_id: &str,
) -> Result<Value, AliError> {
    let names = call.params.string_array(
        "KeyPairNames",
        AliError::new(
            400,
            "InvalidKeyPairNames.ValueNotSupported",
            "The specified parameter KeyPairNames is not valid: it takes a JSON array of key pair names.",
        ),
    )?;
    if names.len() > MAX_DELETE {
        return Err(AliError::new(
            403,
            "InstanceKeyPairLimitExceeded",
            format!("The number of key pairs exceeds the limit of {MAX_DELETE}."),
        ));
    }
    let target = front.target(call)?;
    let keypairs = &front.services.keypairs;
    // Refused whole when any named key pair is bound, before anything goes (the store
    // refuses a bound one again inside its delete, should an attach come in between).
    let (named, _) = keypairs
        .find(
            &target,
            Order::Name,
            |kp, _| names.contains(&kp.name),
            0,
            None,
        )
        .await
        .map_err(AliError::from_domain)?;
    let ids: Vec<i64> = named.iter().map(|f| f.keypair.id).collect();
    let bound = front
        .services
        .instances
        .list(None)
        .await
        .map_err(AliError::from_domain)?
        .iter()
        .any(|i| i.key_pair_id.is_some_and(|k| ids.contains(&k)));
    if bound {
        return Err(AliError::from_domain(crate::domain::DomainError::InUse));
    }
    for (_, outcome) in keypairs.delete_many(&target, &names).await {
        match outcome {
            // Names that do not exist are left alone, silently.
            Ok(()) | Err(crate::domain::DomainError::NotFound) => {}
            Err(e) => return Err(AliError::from_domain(e)),
        }
    }
    Ok(json!({ "RequestId": request_id }))
}
