//! # CreateKeyPair, ImportKeyPair, DescribeKeyPairs, ModifyKeyPairAttribute, DeleteKeyPairs
//!
//! Thin: check the parameters by CVM's rules (§2.3), call the key pair service on the caller's
//! own key pairs (the scope rule: `target(&caller, None)`), render. Key pairs are addressed by
//! `KeyId`, which stands for the internal id (`ids`); names are checked only where Tencent
//! makes them, so a key pair Nova named `my key` is still listed and deletable here.

use super::errors::{About, Fields, TcError};
use super::ids;
use super::params::Params;
use super::views;
use super::{Ctx, TencentFront};
use crate::domain::{CreateRules, DomainError, Found, KeypairSpec, Material, Page, Target};
use crate::http::rendered::BodyKey;
use crate::keys::{ssh_key_type, Fingerprint, KeyKind, PrivateKeyEncoding};
use crate::store::keypairs::{Keypair, KeypairChange, KeypairExtra, Order, Tag};
use actix_web::web::Bytes;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Ids per batch (`KeyIds`, `InstanceIds`).
pub const MAX_IDS: usize = 100;
const MAX_NAME: usize = 25;
const MAX_DESCRIPTION: usize = 60;
const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;
/// Tags per key pair (the store's shared limit).
const MAX_TAGS: usize = 20;
const MAX_TAG_KEY: usize = 127;
const MAX_TAG_VALUE: usize = 255;
const MAX_FILTERS: usize = 10;
const MAX_FILTER_VALUES: usize = 5;
/// The one Tencent project there is: the default project.
const DEFAULT_PROJECT: i64 = 0;

pub type Answer = Result<Fields, TcError>;

pub(super) fn fields(v: Value) -> Fields {
    match v {
        Value::Object(m) => Fields::Members(m),
        _ => Fields::Members(Map::new()),
    }
}

/// The caller's own key pairs (the scope rule).
pub fn target(front: &TencentFront, ctx: &Ctx) -> Result<Target, TcError> {
    front
        .services
        .keypairs
        .target(&ctx.caller, None)
        .map_err(|e| TcError::domain(e, About::default()))
}

/// CVM's name rules, in its order: empty, too long, a character outside `[A-Za-z0-9_]`.
fn check_name(name: &str) -> Result<(), TcError> {
    if name.is_empty() {
        return Err(TcError::new(
            "InvalidKeyPairNameEmpty",
            "The key pair name cannot be empty.",
        ));
    }
    if name.chars().count() > MAX_NAME {
        return Err(TcError::new(
            "InvalidKeyPairNameTooLong",
            "The key pair name cannot exceed 25 characters.",
        ));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(TcError::new(
            "InvalidKeyPairNameIncludeIllegalChar",
            "The key pair name can only contain letters, digits and underscores.",
        ));
    }
    Ok(())
}

/// `KeyIds` (or another id list) as internal ids: at most 100, each well formed.
pub fn key_ids(list: &[&str], field: &str) -> Result<Vec<i64>, TcError> {
    if list.len() > MAX_IDS {
        return Err(TcError::limit_exceeded(field, MAX_IDS));
    }
    list.iter()
        .map(|k| ids::parse_key_id(k).ok_or_else(|| TcError::key_id_malformed(k)))
        .collect()
}

/// The caller's key pairs among `wanted`, by internal id (one query, no tags).
pub async fn owned(
    front: &TencentFront,
    target: &Target,
    wanted: &[i64],
) -> Result<HashMap<i64, Keypair>, TcError> {
    let all = every_keypair(front, target).await?;
    Ok(all
        .into_iter()
        .filter(|kp| wanted.contains(&kp.id))
        .map(|kp| (kp.id, kp))
        .collect())
}

/// Every key pair of the scope, without their tags.
async fn every_keypair(front: &TencentFront, target: &Target) -> Result<Vec<Keypair>, TcError> {
    let all = Page::Offset {
        offset: 0,
        limit: u32::MAX,
    };
    Ok(front
        .services
        .keypairs
        .list(target, all, Order::Newest)
        .await
        .map_err(|e| TcError::domain(e, About::default()))?
        .items)
}

/// The Tencent instances bound to each of `keypairs`, in id order.
async fn bound(
    front: &TencentFront,
    keypairs: &[i64],
) -> Result<HashMap<i64, Vec<String>>, TcError> {
    let mut out = front
        .services
        .instances
        .bound_to("tencent", keypairs)
        .await
        .map_err(|e| TcError::domain(e, About::default()))?;
    out.values_mut().for_each(|v| v.sort());
    Ok(out)
}

/// `TagSpecification`: `keypair` specifications only, unique keys, at most 20.
fn tags(p: &Params) -> Result<Vec<Tag>, TcError> {
    let mut out: Vec<Tag> = Vec::new();
    for (i, spec) in p
        .objects("TagSpecification")
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let at = format!("TagSpecification.{i}");
        match spec.get("ResourceType").and_then(Value::as_str) {
            Some("keypair") => {}
            Some(other) => {
                return Err(TcError::invalid_value(format!(
                    "The parameter `{at}.ResourceType` must be `keypair` for a key pair, not `{}`.",
                    super::request::clip(other)
                )))
            }
            None => return Err(TcError::missing(&format!("{at}.ResourceType"))),
        }
        let list = spec
            .get("Tags")
            .and_then(Value::as_array)
            .ok_or_else(|| TcError::missing(&format!("{at}.Tags")))?;
        for (j, tag) in list.iter().enumerate() {
            let get = |member: &str| {
                tag.get(member)
                    .and_then(Value::as_str)
                    .ok_or_else(|| TcError::missing(&format!("{at}.Tags.{j}.{member}")))
            };
            let (key, value) = (get("Key")?, get("Value")?);
            if key.is_empty() || key.chars().count() > MAX_TAG_KEY {
                return Err(TcError::invalid_value(format!(
                    "The tag key `{}` must be 1 to {MAX_TAG_KEY} characters.",
                    super::request::clip(key)
                )));
            }
            if value.chars().count() > MAX_TAG_VALUE {
                return Err(TcError::invalid_value(format!(
                    "The value of tag `{}` cannot exceed {MAX_TAG_VALUE} characters.",
                    super::request::clip(key)
                )));
            }
            if out.iter().any(|t| t.key == key) {
                return Err(TcError::invalid_value(format!(
                    "The tag key `{}` is given more than once.",
                    super::request::clip(key)
                )));
            }
            out.push(Tag {
                key: key.to_string(),
                value: value.to_string(),
            });
        }
    }
    if out.len() > MAX_TAGS {
        return Err(TcError::new(
            "LimitExceeded.TagResourceQuota",
            format!("A key pair can have at most {MAX_TAGS} tags."),
        ));
    }
    Ok(out)
}

/// What Create and Import share: name, project, tags, checked in that order.
fn new_keypair(p: &Params) -> Result<(String, i64, Vec<Tag>), TcError> {
    let name = p
        .str("KeyName")
        .ok_or_else(|| TcError::missing("KeyName"))?;
    let project = p
        .int("ProjectId")
        .ok_or_else(|| TcError::missing("ProjectId"))?;
    check_name(name)?;
    if project != DEFAULT_PROJECT {
        return Err(TcError::new(
            "InvalidProjectId.NotFound",
            format!("The project `{project}` does not exist."),
        ));
    }
    Ok((name.to_string(), project, tags(p)?))
}

/// A taken name is refused before any key is made (the store refuses it again).
async fn name_free(front: &TencentFront, target: &Target, name: &str) -> Result<(), TcError> {
    match front.services.keypairs.get(target, name).await {
        Ok(_) => Err(TcError::name_duplicate(name)),
        Err(DomainError::NotFound) => Ok(()),
        Err(e) => Err(TcError::domain(e, About::default())),
    }
}

fn spec(
    name: String,
    project: i64,
    tags: Vec<Tag>,
    material: Material,
    rules: CreateRules,
) -> KeypairSpec {
    KeypairSpec {
        name,
        kind: KeyKind::Ssh,
        material,
        // CVM shows no fingerprint; the other fronts read this one (`ssh-keygen -l -E md5`).
        fingerprint: Fingerprint::Md5,
        extra: KeypairExtra {
            cloud_project: project,
            ..KeypairExtra::default()
        },
        tags,
        rules,
    }
}

/// `CreateKeyPair`: an RSA key whose public key's comment is its `KeyId`, the PKCS#1 private
/// key returned this once.
pub async fn create(front: &TencentFront, ctx: &Ctx, p: &Params) -> Answer {
    let (name, project, tags) = new_keypair(p)?;
    let target = target(front, ctx)?;
    name_free(front, &target, &name).await?;
    let material = Material::GenerateCommentedById {
        encoding: PrivateKeyEncoding::Pkcs1,
        comment: ids::comment,
    };
    let about = About {
        key_name: &name,
        ..About::default()
    };
    let created = front
        .services
        .keypairs
        .create(
            &ctx.caller,
            &target,
            spec(
                name.clone(),
                project,
                tags.clone(),
                material,
                CreateRules::default(),
            ),
        )
        .await
        .map_err(|e| TcError::domain(e, about))?;
    let found = Found {
        keypair: created.keypair,
        tags,
    };
    let private = created.private_key.as_deref().map(String::as_str);
    Ok(fields(
        json!({"KeyPair": views::keypair(&found, &[], private)}),
    ))
}

/// `ImportKeyPair`: an OpenSSH RSA public key, not already stored in the caller's scope.
pub async fn import(front: &TencentFront, ctx: &Ctx, p: &Params) -> Answer {
    let (name, project, tags) = new_keypair(p)?;
    let public_key = p
        .str("PublicKey")
        .ok_or_else(|| TcError::missing("PublicKey"))?
        .trim()
        .to_string();
    // RSA only; the key itself is parsed (and refused as malformed) where it is stored.
    if ssh_key_type(&public_key) != Some("ssh-rsa") {
        return Err(TcError::domain(
            DomainError::InvalidKey(crate::keys::KeyError::InvalidSsh),
            About::default(),
        ));
    }
    let target = target(front, ctx)?;
    let about = About {
        key_name: &name,
        ..About::default()
    };
    let created = front
        .services
        .keypairs
        .create(
            &ctx.caller,
            &target,
            spec(
                name.clone(),
                project,
                tags,
                Material::Import(public_key),
                // Same key, same MD5 of its blob: in the insert's transaction, so two imports
                // of one key cannot both pass. (A key Nova stored from text with odd spacing
                // keeps Nova's fingerprint of that text, so this check does not see it.)
                CreateRules {
                    unique_key: true,
                    name_before_limit: true,
                },
            ),
        )
        .await
        .map_err(|e| TcError::domain(e, about))?;
    Ok(fields(json!({"KeyId": ids::key_id(created.keypair.id)})))
}

/// One `Filters` item, checked.
#[derive(Debug)]
enum Filter {
    Name(Vec<String>),
    Project(Vec<i64>),
    TagKey(Vec<String>),
    TagValue(Vec<String>),
    Tag(String, Vec<String>),
}

impl Filter {
    fn keeps(&self, kp: &crate::store::keypairs::Keypair, tags: &[Tag]) -> bool {
        match self {
            // The API does not say; the Terraform data source strips `^`/`$` and filters
            // again, which suggests a substring match.
            Filter::Name(v) => v.iter().any(|n| kp.name.contains(n.as_str())),
            Filter::Project(v) => v.contains(&kp.extra.cloud_project),
            Filter::TagKey(v) => tags.iter().any(|t| v.contains(&t.key)),
            Filter::TagValue(v) => tags.iter().any(|t| v.contains(&t.value)),
            Filter::Tag(k, v) => tags.iter().any(|t| &t.key == k && v.contains(&t.value)),
        }
    }
}

fn filters(p: &Params) -> Result<Vec<Filter>, TcError> {
    let list = p.objects("Filters").unwrap_or_default();
    if list.len() > MAX_FILTERS {
        return Err(TcError::limit_exceeded("Filters", MAX_FILTERS));
    }
    let mut out = Vec::new();
    for (i, f) in list.iter().enumerate() {
        let name = f
            .get("Name")
            .and_then(Value::as_str)
            .ok_or_else(|| TcError::missing(&format!("Filters.{i}.Name")))?;
        let values: Vec<String> = f
            .get("Values")
            .and_then(Value::as_array)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| TcError::missing(&format!("Filters.{i}.Values")))?
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        if values.len() > MAX_FILTER_VALUES {
            return Err(TcError::new(
                "InvalidFilterValue.LimitExceeded",
                format!(
                    "The filter `{}` accepts at most {MAX_FILTER_VALUES} values.",
                    super::request::clip(name)
                ),
            ));
        }
        out.push(match name {
            "key-name" => Filter::Name(values),
            "project-id" => Filter::Project(
                values
                    .iter()
                    .map(|v| {
                        v.parse().map_err(|_| {
                            TcError::invalid_value(format!(
                                "The values of filter `project-id` are integers, not `{}`.",
                                super::request::clip(v)
                            ))
                        })
                    })
                    .collect::<Result<_, _>>()?,
            ),
            "tag-key" => Filter::TagKey(values),
            "tag-value" => Filter::TagValue(values),
            _ => match name.strip_prefix("tag:") {
                Some(key) => Filter::Tag(key.to_string(), values),
                None => {
                    return Err(TcError::new(
                        "InvalidFilter",
                        format!(
                            "The filter `{}` is not supported.",
                            super::request::clip(name)
                        ),
                    ))
                }
            },
        });
    }
    Ok(out)
}

/// `DescribeKeyPairs`: `KeyIds` or `Filters` (not both), newest first, `Offset`/`Limit`, and
/// `TotalCount` of every match.
pub async fn describe(front: &TencentFront, ctx: &Ctx, p: &Params) -> Answer {
    let wanted = p.strs("KeyIds").filter(|k| !k.is_empty());
    let given_filters = p.objects("Filters").is_some_and(|f| !f.is_empty());
    if wanted.is_some() && given_filters {
        return Err(TcError::new(
            "InvalidParameter",
            "The parameters `KeyIds` and `Filters` cannot be specified at the same time.",
        ));
    }
    let offset = p.int("Offset").unwrap_or(0);
    if offset < 0 {
        return Err(TcError::new(
            "InvalidParameterValueOffset",
            "The parameter `Offset` must be a non-negative integer.",
        ));
    }
    let limit = p.int("Limit").unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(TcError::new(
            "InvalidParameterValueLimit",
            format!("The parameter `Limit` must be between 1 and {MAX_LIMIT}."),
        ));
    }
    let wanted = match wanted {
        Some(list) => Some(key_ids(&list, "KeyIds")?),
        None => None,
    };
    let filters = filters(p)?;
    let target = target(front, ctx)?;
    // Taken before the rows (and the instances bound to them) are read: see `Rendered`.
    let token = front.services.keypairs.change_token();
    let key = BodyKey::new("DescribeKeyPairs")
        .part(&format!("{:?}", target.owner()))
        .part(&format!("{wanted:?} {filters:?} {offset} {limit}"));
    if let Some(object) = front.described.get(&key, token) {
        return Ok(Fields::Rendered(object));
    }
    let (page, total) = front
        .services
        .keypairs
        .find(
            &target,
            Order::Newest,
            |kp, tags| {
                wanted.as_ref().is_none_or(|w| w.contains(&kp.id))
                    && filters.iter().all(|f| f.keeps(kp, tags))
            },
            offset as u64,
            Some(limit as u32),
        )
        .await
        .map_err(|e| TcError::domain(e, About::default()))?;
    let ids: Vec<i64> = page.iter().map(|f| f.keypair.id).collect();
    let bound = bound(front, &ids).await?;
    let listing = views::Listing {
        total_count: total,
        key_pair_set: page
            .iter()
            .map(|f| {
                let b = bound.get(&f.keypair.id).map(Vec::as_slice).unwrap_or(&[]);
                views::KeyPair::new(f, b, None)
            })
            .collect(),
    };
    // About 700 bytes a key pair: one allocation, no regrowth.
    let mut object = Vec::with_capacity(64 + 768 * listing.key_pair_set.len());
    serde_json::to_writer(&mut object, &listing).map_err(|_| TcError::internal())?;
    let object = Bytes::from(object);
    front.described.put(key, token, object.clone());
    Ok(Fields::Rendered(object))
}

/// `ModifyKeyPairAttribute`: a new name and/or description (≤ 60 characters); the id stays.
pub async fn modify(front: &TencentFront, ctx: &Ctx, p: &Params) -> Answer {
    let key_id = p.str("KeyId").ok_or_else(|| TcError::missing("KeyId"))?;
    let id = ids::parse_key_id(key_id).ok_or_else(|| TcError::key_id_malformed(key_id))?;
    let name = p.str("KeyName");
    let description = p.str("Description");
    if name.is_none() && description.is_none() {
        return Err(TcError::new(
            "MissingParameter",
            "The request is missing a required parameter: one of `KeyName` and `Description`.",
        ));
    }
    if let Some(n) = name {
        // CVM answers a bad new name with the generic code only (its error list for this
        // action has no name-specific one).
        check_name(n).map_err(|e| TcError::invalid_value(e.message))?;
    }
    if description.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION) {
        return Err(TcError::invalid_value(format!(
            "The parameter `Description` cannot exceed {MAX_DESCRIPTION} characters."
        )));
    }
    let target = target(front, ctx)?;
    let found = owned(front, &target, &[id]).await?;
    let kp = found
        .get(&id)
        .ok_or_else(|| TcError::key_id_not_found(key_id))?;
    let about = About {
        key_id,
        key_name: name.unwrap_or(&kp.name),
    };
    let change = KeypairChange {
        name: name.map(str::to_string),
        description: description.map(str::to_string),
    };
    front
        .services
        .keypairs
        .change(&target, &kp.name, change)
        .await
        .map_err(|e| TcError::domain(e, about))?;
    Ok(Fields::Members(Map::new()))
}

/// `DeleteKeyPairs`: all or nothing (checked first): every id must be the caller's and bound to
/// no instance, else the first that is not names the error.
pub async fn delete(front: &TencentFront, ctx: &Ctx, p: &Params) -> Answer {
    let list = p
        .strs("KeyIds")
        .filter(|k| !k.is_empty())
        .ok_or_else(|| TcError::missing("KeyIds"))?;
    let mut wanted = key_ids(&list, "KeyIds")?;
    let target = target(front, ctx)?;
    let found = owned(front, &target, &wanted).await?;
    if let Some(missing) = list
        .iter()
        .zip(&wanted)
        .find(|(_, id)| !found.contains_key(id))
    {
        return Err(TcError::key_id_not_found(missing.0));
    }
    // Bound to an instance of any cloud: the store refuses those too.
    let instances = front
        .services
        .instances
        .list(None)
        .await
        .map_err(|e| TcError::domain(e, About::default()))?;
    if let Some((key, _)) = list
        .iter()
        .zip(&wanted)
        .find(|(_, id)| instances.iter().any(|i| i.key_pair_id == Some(**id)))
    {
        return Err(TcError::key_pair_in_use(key));
    }
    wanted.sort_unstable();
    wanted.dedup();
    for id in wanted {
        let kp = &found[&id];
        let key_id = ids::key_id(id);
        let about = About {
            key_id: &key_id,
            key_name: &kp.name,
        };
        front
            .services
            .keypairs
            .delete_unbound(&target, &kp.name)
            .await
            .map_err(|e| TcError::domain(e, about))?;
    }
    Ok(Fields::Members(Map::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_rules_in_cvms_order() {
        let code = |n: &str| check_name(n).err().map(|e| e.code);
        assert_eq!(code("a_Z_09"), None);
        assert_eq!(code(&"a".repeat(25)), None);
        assert_eq!(code(""), Some("InvalidKeyPairNameEmpty"));
        assert_eq!(code(&"a".repeat(26)), Some("InvalidKeyPairNameTooLong"));
        assert_eq!(code(&"-".repeat(26)), Some("InvalidKeyPairNameTooLong"));
        for bad in ["bad-name", "bad.name", "bad name", "ключ"] {
            assert_eq!(
                code(bad),
                Some("InvalidKeyPairNameIncludeIllegalChar"),
                "{bad}"
            );
        }
    }
}
