//! # Alibaba's answers (seed-clouds.md §1.4)
//!
//! The SDK models read exactly these names and wrapper objects (`KeyPairs.KeyPair`,
//! `Tags.Tag`, `Results.Result`); Describe's counters are JSON numbers, Attach/Detach's are
//! strings (the typed SDKs declare them so). `RequestId` comes first, as in real answers.

use super::ids;
use crate::domain::Found;
use crate::http::Spliced;
use crate::keys::{self, Fingerprint, KeyKind};
use crate::store::keypairs::Keypair;
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use serde::Serialize;
use serde_json::{json, Value};

pub const JSON: &str = "application/json;charset=utf-8";

/// A successful answer's body: a JSON tree, or text already rendered from typed views (a
/// Describe page, rendered without building a tree first).
pub enum Answer {
    Tree(Value),
    /// Sent in parts: a cached Describe page behind its request id.
    Parts(Spliced),
}

impl From<Value> for Answer {
    fn from(v: Value) -> Answer {
        Answer::Tree(v)
    }
}

pub fn ok(body: Answer) -> HttpResponse {
    let mut ok = HttpResponse::Ok();
    ok.content_type(JSON);
    match body {
        Answer::Tree(v) => ok.body(v.to_string()),
        Answer::Parts(parts) => parts.respond(ok),
    }
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
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyPairItem<'a> {
    key_pair_name: &'a str,
    key_pair_finger_print: String,
    creation_time: String,
    resource_group_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    public_key: Option<&'a str>,
    tags: TagSet<'a>,
}

#[derive(Serialize)]
struct TagSet<'a> {
    #[serde(rename = "Tag")]
    tag: Vec<TagView<'a>>,
}

#[derive(Serialize)]
struct TagView<'a> {
    #[serde(rename = "TagKey")]
    key: &'a str,
    #[serde(rename = "TagValue")]
    value: &'a str,
}

impl<'a> KeyPairItem<'a> {
    pub fn new(f: &'a Found, include_public_key: bool) -> Self {
        let kp = &f.keypair;
        KeyPairItem {
            key_pair_name: &kp.name,
            key_pair_finger_print: fingerprint(kp),
            creation_time: creation_time(kp),
            resource_group_id: resource_group(kp),
            public_key: include_public_key.then_some(kp.public_key.as_str()),
            tags: TagSet {
                tag: f
                    .tags
                    .iter()
                    .map(|t| TagView {
                        key: &t.key,
                        value: &t.value,
                    })
                    .collect(),
            },
        }
    }
}

/// `DescribeKeyPairs`' members but its `RequestId` (see [`with_request_id`]).
pub fn describe(
    total: u64,
    page_number: u64,
    page_size: u64,
    items: Vec<KeyPairItem<'_>>,
) -> Result<Vec<u8>, serde_json::Error> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Describe<'a> {
        total_count: u64,
        page_number: u64,
        page_size: u64,
        key_pairs: Items<'a>,
    }
    #[derive(Serialize)]
    struct Items<'a> {
        #[serde(rename = "KeyPair")]
        key_pair: Vec<KeyPairItem<'a>>,
    }
    // About 700 bytes an item: one allocation, no regrowth.
    let mut text = Vec::with_capacity(128 + 768 * items.len());
    serde_json::to_writer(
        &mut text,
        &Describe {
            total_count: total,
            page_number,
            page_size,
            key_pairs: Items { key_pair: items },
        },
    )?;
    Ok(text)
}

/// A rendered object (`{…}`, not empty) with `RequestId` as its first member, as ECS answers.
/// The (cached) object's bytes are sent as they are, not copied (see `Spliced`).
pub fn with_request_id(request_id: &str, object: &Bytes) -> Spliced {
    let id = Value::String(request_id.into());
    let rest = match object.strip_prefix(b"{") {
        Some(_) => object.slice(1..),
        None => object.clone(),
    };
    Spliced::new([Bytes::from(format!(r#"{{"RequestId":{id},"#)), rest])
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
        let item = |public_key| serde_json::to_value(KeyPairItem::new(&f, public_key)).unwrap();
        let v = item(false);
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
        assert_eq!(item(true)["PublicKey"], ED);
    }

    /// Describe's page, rendered from typed views: the members in the real answer's order
    /// (`RequestId` first), the counters as numbers, the items inside `KeyPairs.KeyPair`.
    #[test]
    fn describe_renders_in_alibabas_order() {
        let f = Found {
            keypair: kp(ED, "stored"),
            tags: vec![],
        };
        let members = describe(11, 2, 10, vec![KeyPairItem::new(&f, true)]).unwrap();
        let members = Bytes::from(members);
        let text =
            String::from_utf8(with_request_id("req-1", &members).into_parts().concat()).unwrap();
        let expected = format!(
            r#"{{"RequestId":"req-1","TotalCount":11,"PageNumber":2,"PageSize":10,"KeyPairs":{{"KeyPair":[{{"KeyPairName":"k1","KeyPairFingerPrint":"stored","CreationTime":"2024-01-02T03:04Z","ResourceGroupId":"{}","PublicKey":"{ED}","Tags":{{"Tag":[]}}}}]}}}}"#,
            ids::default_resource_group("p")
        );
        assert_eq!(text, expected);
        let parts = with_request_id("req-1", &members).into_parts();
        assert_eq!(
            parts[1].as_ptr(),
            members[1..].as_ptr(),
            "shared, not copied"
        );
        let quoted =
            String::from_utf8(with_request_id("a\"b", &members).into_parts().concat()).unwrap();
        assert!(
            quoted.starts_with(r#"{"RequestId":"a\"b","TotalCount":11,"#),
            "{quoted}"
        );
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
