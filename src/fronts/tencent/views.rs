//! # The `KeyPair` object as CVM 2017-03-12 returns it
//!
//! Members in the SDK model's order; `ProjectId` an integer (the Node SDK hands JSON types to
//! its users as they come); `PrivateKey` only in CreateKeyPair's answer; `CreatedTime`
//! `YYYY-MM-DDThh:mm:ssZ` in UTC. No fingerprint: CVM's key pairs have none.

use super::ids;
use crate::domain::Found;
use serde::Serialize;
use serde_json::Value;

/// One key pair as CVM returns it (typed: a listing of 100 is rendered without building a
/// JSON tree first).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyPair<'a> {
    key_id: String,
    key_name: &'a str,
    project_id: i64,
    description: &'a str,
    public_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    private_key: Option<&'a str>,
    associated_instance_ids: &'a [String],
    created_time: String,
    tags: Vec<TagView<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TagView<'a> {
    key: &'a str,
    value: &'a str,
}

impl<'a> KeyPair<'a> {
    /// `found`, with the Tencent instances bound to it and (on create) its private key.
    pub fn new(found: &'a Found, bound: &'a [String], private_key: Option<&'a str>) -> Self {
        let kp = &found.keypair;
        KeyPair {
            key_id: ids::key_id(kp.id),
            key_name: &kp.name,
            project_id: kp.extra.cloud_project,
            description: &kp.extra.description,
            public_key: &kp.public_key,
            private_key,
            associated_instance_ids: bound,
            // `YYYY-MM-DDThh:mm:ssZ` (not `format`: parsing its pattern per key cost more here).
            created_time: kp
                .created_at
                .and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            tags: found
                .tags
                .iter()
                .map(|t| TagView {
                    key: &t.key,
                    value: &t.value,
                })
                .collect(),
        }
    }
}

/// `DescribeKeyPairs`' members.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Listing<'a> {
    pub total_count: u64,
    pub key_pair_set: Vec<KeyPair<'a>>,
}

/// One key pair, with the Tencent instances bound to it and (on create) its private key.
pub fn keypair(found: &Found, bound: &[String], private_key: Option<&str>) -> Value {
    serde_json::to_value(KeyPair::new(found, bound, private_key)).unwrap_or_default()
}
