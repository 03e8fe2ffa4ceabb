//! # Key pair schemas and microversion features
//!
//! Mirrors nova/api/openstack/compute/schemas/keypairs.py. This file and `view.rs` are the only
//! places that know which microversion changed what; handlers ask `KeypairFeatures`.

use crate::fronts::nova::microversion::{select, Microversion as V, VersionRange as R};
use serde_json::{json, Value};
use std::sync::LazyLock;

/// What a microversion lets a key pair request do or see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeypairFeatures {
    /// 2.2: `type` in bodies; 201/204 success codes.
    pub key_type: bool,
    /// 2.10: `user_id` in the create body and the query.
    pub user_id: bool,
    /// 2.35: `limit`/`marker` and `keypairs_links`.
    pub paging: bool,
    /// Below 2.92: the server generates a key when `public_key` is absent.
    pub generation: bool,
}

const fn features(
    key_type: bool,
    user_id: bool,
    paging: bool,
    generation: bool,
) -> KeypairFeatures {
    KeypairFeatures {
        key_type,
        user_id,
        paging,
        generation,
    }
}

/// Feature set per version range (contiguous; checked by a test).
pub const FEATURES: &[(R, KeypairFeatures)] = &[
    (
        R::new(V::new(2, 1), V::new(2, 1)),
        features(false, false, false, true),
    ),
    (
        R::new(V::new(2, 2), V::new(2, 9)),
        features(true, false, false, true),
    ),
    (
        R::new(V::new(2, 10), V::new(2, 34)),
        features(true, true, false, true),
    ),
    (
        R::new(V::new(2, 35), V::new(2, 91)),
        features(true, true, true, true),
    ),
    (
        R::new(V::new(2, 92), V::MAX),
        features(true, true, true, false),
    ),
];

impl KeypairFeatures {
    pub fn at(version: V) -> Self {
        select(FEATURES, version)
    }
}

/// `parameter_types.name` + the key pair pattern, both with Nova's length limits.
fn name(pattern: &str) -> Value {
    json!({"allOf": [
        {"type": "string", "format": "name", "minLength": 1, "maxLength": 255},
        {"type": "string", "pattern": pattern, "minLength": 1, "maxLength": 255}
    ]})
}

fn create_schema(props: Value, required: Value) -> Value {
    json!({
        "type": "object",
        "properties": {"keypair": {
            "type": "object",
            "properties": props,
            "required": required,
            "additionalProperties": false
        }},
        "required": ["keypair"],
        "additionalProperties": false
    })
}

const PATTERN_V2_1: &str = "^[_\\- a-zA-Z0-9]+$";
const PATTERN_V2_92: &str = "^[_\\-\\@\\. a-zA-Z0-9]+$";

static CREATE_V2_1: LazyLock<Value> = LazyLock::new(|| {
    create_schema(
        json!({"name": name(PATTERN_V2_1), "public_key": {"type": "string"}}),
        json!(["name"]),
    )
});
static CREATE_V2_2: LazyLock<Value> = LazyLock::new(|| {
    create_schema(
        json!({"name": name(PATTERN_V2_1), "type": {"type": "string", "enum": ["ssh", "x509"]},
               "public_key": {"type": "string"}}),
        json!(["name"]),
    )
});
static CREATE_V2_10: LazyLock<Value> = LazyLock::new(|| {
    create_schema(
        json!({"name": name(PATTERN_V2_1), "type": {"type": "string", "enum": ["ssh", "x509"]},
               "public_key": {"type": "string"}, "user_id": {"type": "string"}}),
        json!(["name"]),
    )
});
static CREATE_V2_92: LazyLock<Value> = LazyLock::new(|| {
    create_schema(
        json!({"name": name(PATTERN_V2_92), "type": {"type": "string", "enum": ["ssh", "x509"]},
               "public_key": {"type": "string"}, "user_id": {"type": "string"}}),
        json!(["name", "public_key"]),
    )
});
/// The legacy `/v2` ("2.0") body: any printable name with a non-space character; extra keys
/// are dropped rather than refused.
static CREATE_V2_0: LazyLock<Value> = LazyLock::new(|| {
    json!({
        "type": "object",
        "properties": {"keypair": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^\\s*\\S.*$"},
                "public_key": {"type": "string"}
            },
            "required": ["name"]
        }},
        "required": ["keypair"]
    })
});

pub type Schema = &'static LazyLock<Value>;

/// Create body schema per version range.
pub const CREATE: &[(R, Schema)] = &[
    (R::new(V::new(2, 1), V::new(2, 1)), &CREATE_V2_1),
    (R::new(V::new(2, 2), V::new(2, 9)), &CREATE_V2_2),
    (R::new(V::new(2, 10), V::new(2, 91)), &CREATE_V2_10),
    (R::new(V::new(2, 92), V::MAX), &CREATE_V2_92),
];

fn multi(item: Value) -> Value {
    json!({"type": "array", "items": item})
}

fn query(props: Value, strict: bool) -> Value {
    json!({"type": "object", "properties": props, "additionalProperties": !strict})
}

static QUERY_NONE: LazyLock<Value> = LazyLock::new(|| query(json!({}), false));
static INDEX_V2_10: LazyLock<Value> =
    LazyLock::new(|| query(json!({"user_id": multi(json!({"type": "string"}))}), false));
fn index_paged(strict: bool) -> Value {
    query(
        json!({
            "user_id": multi(json!({"type": "string"})),
            "limit": multi(json!({"type": ["integer", "string"], "pattern": "^[0-9]*$", "minimum": 0, "minLength": 1})),
            "marker": multi(json!({"type": "string"}))
        }),
        strict,
    )
}
static INDEX_V2_35: LazyLock<Value> = LazyLock::new(|| index_paged(false));
static INDEX_V2_75: LazyLock<Value> = LazyLock::new(|| index_paged(true));
static MEMBER_V2_75: LazyLock<Value> =
    LazyLock::new(|| query(json!({"user_id": multi(json!({"type": "string"}))}), true));

/// List query schema per version range.
pub const INDEX_QUERY: &[(R, Schema)] = &[
    (R::new(V::new(2, 1), V::new(2, 9)), &QUERY_NONE),
    (R::new(V::new(2, 10), V::new(2, 34)), &INDEX_V2_10),
    (R::new(V::new(2, 35), V::new(2, 74)), &INDEX_V2_35),
    (R::new(V::new(2, 75), V::MAX), &INDEX_V2_75),
];

/// Show/delete query schema per version range.
pub const MEMBER_QUERY: &[(R, Schema)] = &[
    (R::new(V::new(2, 1), V::new(2, 9)), &QUERY_NONE),
    (R::new(V::new(2, 10), V::new(2, 74)), &INDEX_V2_10),
    (R::new(V::new(2, 75), V::MAX), &MEMBER_V2_75),
];

/// The create schema for a request (legacy `/v2` has its own).
pub fn create_schema_for(version: V, legacy_v2: bool) -> &'static Value {
    if legacy_v2 {
        return &CREATE_V2_0;
    }
    let schema: Schema = select(CREATE, version);
    schema
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fronts::nova::microversion::assert_contiguous;

    #[test]
    fn tables_cover_every_version_once() {
        assert_contiguous(FEATURES);
        assert_contiguous(CREATE);
        assert_contiguous(INDEX_QUERY);
        assert_contiguous(MEMBER_QUERY);
    }

    /// The handlers let an empty query through without validating it.
    #[test]
    fn every_query_schema_accepts_an_empty_query() {
        use crate::pycompat::jsonschema::{validate, Origin};
        for (range, schema) in INDEX_QUERY.iter().chain(MEMBER_QUERY) {
            assert!(
                validate(schema, &json!({}), Origin::Query).is_ok(),
                "{range:?}"
            );
            assert!(schema.get("required").is_none(), "{range:?}");
        }
    }

    #[test]
    fn features_flip_where_nova_does() {
        assert!(!KeypairFeatures::at(V::new(2, 1)).key_type);
        assert!(KeypairFeatures::at(V::new(2, 2)).key_type);
        assert!(!KeypairFeatures::at(V::new(2, 9)).user_id);
        assert!(KeypairFeatures::at(V::new(2, 10)).user_id);
        assert!(!KeypairFeatures::at(V::new(2, 34)).paging);
        assert!(KeypairFeatures::at(V::new(2, 35)).paging);
        assert!(KeypairFeatures::at(V::new(2, 91)).generation);
        assert!(!KeypairFeatures::at(V::new(2, 92)).generation);
    }
}
