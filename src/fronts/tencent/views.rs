//! # The `KeyPair` object as CVM 2017-03-12 returns it
//!
//! Members in the SDK model's order; `ProjectId` an integer (the Node SDK hands JSON types to
//! its users as they come); `PrivateKey` only in CreateKeyPair's answer; `CreatedTime`
//! `YYYY-MM-DDThh:mm:ssZ` in UTC. No fingerprint: CVM's key pairs have none.

use super::ids;
use crate::domain::Found;
use serde_json::{json, Value};

/// One key pair, with the Tencent instances bound to it and (on create) its private key.
pub fn keypair(found: &Found, bound: &[String], private_key: Option<&str>) -> Value {
    let kp = &found.keypair;
    let mut v = json!({
        "KeyId": ids::key_id(kp.id),
        "KeyName": kp.name,
        "ProjectId": kp.extra.cloud_project,
        "Description": kp.extra.description,
        "PublicKey": kp.public_key,
    });
    if let Some(private) = private_key {
        v["PrivateKey"] = Value::String(private.to_string());
    }
    v["AssociatedInstanceIds"] = json!(bound);
    v["CreatedTime"] = Value::String(kp.created_at.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    v["Tags"] = Value::Array(
        found
            .tags
            .iter()
            .map(|t| json!({"Key": t.key, "Value": t.value}))
            .collect(),
    );
    v
}
