//! # Alibaba's answers (seed-clouds.md §1.4)
//!
//! The SDK models read exactly these names and wrapper objects (`KeyPairs.KeyPair`,
//! `Tags.Tag`, `Results.Result`); Describe's counters are JSON numbers, Attach/Detach's are
//! strings (the typed SDKs declare them so). `RequestId` comes first, as in real answers.

use super::ids;
use crate::domain::Found;
use crate::keys::{self, Fingerprint, KeyKind};
use crate::store::keypairs::Keypair;
use actix_web::HttpResponse;
use serde_json::{json, Map, Value};

pub const JSON: &str = "application/json;charset=utf-8";

pub fn ok(body: &Value) -> HttpResponse {
    HttpResponse::Ok().content_type(JSON).body(body.to_string())
}

/// ECS's `CreationTime`: UTC to the minute, `2023-09-04T08:33Z`.
pub fn creation_time(kp: &Keypair) -> String {
    kp.created_at.format("%Y-%m-%dT%H:%MZ").to_string()
}

/// The fingerprint Alibaba shows: MD5 of the key blob. What the store holds is the creating
/// front's; Nova's scheme differs from this one only on a key line with other separators
/// than single spaces, so only then is it worked out again.
pub fn fingerprint(kp: &Keypair) -> String {
    let plain = kp.kind == KeyKind::Ssh
        && kp.public_key.split(' ').nth(1) == kp.public_key.split_whitespace().nth(1);
    if kp.kind == KeyKind::Ssh && !plain {
        if let Ok(fp) = keys::ssh_fingerprint(&kp.public_key, Fingerprint::Md5) {
            return fp;
        }
    }
    kp.fingerprint.clone()
}

/// The resource group a key pair is in (its own, else its project's default group).
pub fn resource_group(kp: &Keypair) -> String {
    if kp.extra.resource_group.is_empty() {
        ids::default_resource_group(&kp.project_id)
    } else {
        kp.extra.resource_group.clone()
    }
}

/// One `KeyPairs.KeyPair` item.
pub fn keypair_item(f: &Found, include_public_key: bool) -> Value {
    let kp = &f.keypair;
    let mut m = Map::new();
    m.insert("KeyPairName".into(), json!(kp.name));
    m.insert("KeyPairFingerPrint".into(), json!(fingerprint(kp)));
    m.insert("CreationTime".into(), json!(creation_time(kp)));
    m.insert("ResourceGroupId".into(), json!(resource_group(kp)));
    if include_public_key {
        m.insert("PublicKey".into(), json!(kp.public_key));
    }
    let tags: Vec<Value> = f
        .tags
        .iter()
        .map(|t| json!({"TagKey": t.key, "TagValue": t.value}))
        .collect();
    m.insert("Tags".into(), json!({ "Tag": tags }));
    Value::Object(m)
}

pub fn describe(
    request_id: &str,
    total: u64,
    page_number: u64,
    page_size: u64,
    items: Vec<Value>,
) -> Value {
    json!({
        "RequestId": request_id,
        "TotalCount": total,
        "PageNumber": page_number,
        "PageSize": page_size,
        "KeyPairs": {"KeyPair": items},
    })
}

/// One instance's outcome of an Attach/Detach.
pub struct Outcome {
    pub instance_id: String,
    /// None: done; else Alibaba's code and message.
    pub failure: Option<(&'static str, &'static str)>,
}

pub fn attach_detach(request_id: &str, name: &str, outcomes: &[Outcome]) -> Value {
    let results: Vec<Value> = outcomes
        .iter()
        .map(|o| match o.failure {
            None => json!({"InstanceId": o.instance_id, "Success": "true", "Code": "200", "Message": "successful"}),
            Some((code, message)) => json!({"InstanceId": o.instance_id, "Success": "false", "Code": code, "Message": message}),
        })
        .collect();
    let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
    json!({
        "RequestId": request_id,
        "KeyPairName": name,
        "TotalCount": outcomes.len().to_string(),
        "FailCount": failed.to_string(),
        "Results": {"Result": results},
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::keypairs::{KeypairExtra, Tag};

    const ED: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGGY0fh32MPHfCPM2rKWmuJVJgBbCxUWRJ6Ibd/ftQWq me@host";

    fn kp(public_key: &str, fingerprint: &str) -> Keypair {
        Keypair {
            id: 7,
            user_id: "u".into(),
            project_id: "p".into(),
            name: "k1".into(),
            kind: KeyKind::Ssh,
            public_key: public_key.into(),
            fingerprint: fingerprint.into(),
            created_at: chrono::NaiveDate::from_ymd_opt(2024, 1, 2)
                .unwrap()
                .and_hms_micro_opt(3, 4, 59, 999_999)
                .unwrap(),
            extra: KeypairExtra::default(),
        }
    }

    #[test]
    fn items_have_alibabas_shape() {
        let f = Found {
            keypair: kp(ED, "stored"),
            tags: vec![Tag {
                key: "env".into(),
                value: "dev".into(),
            }],
        };
        let v = keypair_item(&f, false);
        assert_eq!(v["CreationTime"], "2024-01-02T03:04Z", "to the minute");
        assert_eq!(
            v["Tags"],
            json!({"Tag": [{"TagKey": "env", "TagValue": "dev"}]})
        );
        assert!(v.get("PublicKey").is_none());
        assert_eq!(v["ResourceGroupId"], ids::default_resource_group("p"));
        assert_eq!(
            v["KeyPairFingerPrint"], "stored",
            "single spaces: as stored"
        );
        assert_eq!(keypair_item(&f, true)["PublicKey"], ED);
    }

    #[test]
    fn a_nova_quirk_fingerprint_is_shown_as_alibaba_computes_it() {
        let double = ED.replacen(' ', "  ", 1);
        let nova = keys::ssh_fingerprint(&double, Fingerprint::NovaMd5).unwrap();
        let md5 = keys::ssh_fingerprint(ED, Fingerprint::Md5).unwrap();
        assert_ne!(nova, md5);
        assert_eq!(fingerprint(&kp(&double, &nova)), md5);
    }

    #[test]
    fn attach_counters_are_strings() {
        let v = attach_detach(
            "R",
            "k",
            &[
                Outcome {
                    instance_id: "i-1".into(),
                    failure: None,
                },
                Outcome {
                    instance_id: "i-2".into(),
                    failure: Some(("DependencyViolation.WindowsInstance", "m")),
                },
            ],
        );
        assert_eq!(v["TotalCount"], "2");
        assert_eq!(v["FailCount"], "1");
        assert_eq!(v["Results"]["Result"][0]["Success"], "true");
        assert_eq!(v["Results"]["Result"][0]["Code"], "200");
        assert_eq!(v["Results"]["Result"][1]["Success"], "false");
    }
}
