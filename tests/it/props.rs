//! Property tests: the parsers that see untrusted input never panic, whatever they are fed.
//! Case counts are bounded so the whole set runs in seconds.

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use novakeys::fronts::nova::keypairs::schema::create_schema_for;
use novakeys::fronts::nova::microversion::{negotiate, Microversion};
use novakeys::keys::{ssh_fingerprint, x509_fingerprint, Fingerprint};
use novakeys::pycompat::jsonschema::{validate, Origin};
use proptest::prelude::*;
use serde_json::{json, Value};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Strings that look like SSH keys often enough to get past the first checks.
fn ssh_like() -> impl Strategy<Value = String> {
    let kinds = prop::sample::select(vec![
        "ssh-rsa",
        "ssh-dss",
        "ssh-ed25519",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "x",
        "",
    ]);
    (
        kinds,
        prop::collection::vec(any::<u8>(), 0..600),
        "[ -~]{0,20}",
        "[ \t\r\n]{0,3}",
    )
        .prop_map(|(kind, blob, comment, sep)| {
            use base64::Engine;
            let b64 = base64::engine::general_purpose::STANDARD.encode(blob);
            format!("{kind}{sep} {b64} {comment}")
        })
}

/// Valid SSH wire blobs with a known type name and arbitrary (often truncated) fields.
fn ssh_wire() -> impl Strategy<Value = String> {
    let kinds = prop::sample::select(vec![
        "ssh-rsa",
        "ssh-dss",
        "ssh-ed25519",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
    ]);
    (
        kinds,
        prop::collection::vec(
            (any::<u32>(), prop::collection::vec(any::<u8>(), 0..80)),
            0..5,
        ),
    )
        .prop_map(|(kind, fields)| {
            use base64::Engine;
            let mut blob = Vec::new();
            blob.extend_from_slice(&(kind.len() as u32).to_be_bytes());
            blob.extend_from_slice(kind.as_bytes());
            for (len, bytes) in fields {
                // Mostly honest lengths, sometimes lies.
                let len = if len % 3 == 0 {
                    len
                } else {
                    bytes.len() as u32
                };
                blob.extend_from_slice(&len.to_be_bytes());
                blob.extend_from_slice(&bytes);
            }
            let b64 = base64::engine::general_purpose::STANDARD.encode(blob);
            format!("{kind} {b64} c")
        })
}

fn pem_like() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(any::<u8>(), 0..800),
        prop::sample::select(vec!["CERTIFICATE", "PUBLIC KEY", "X509 CERTIFICATE", ""]),
    )
        .prop_map(|(der, label)| {
            use base64::Engine;
            let b64 = base64::engine::general_purpose::STANDARD.encode(der);
            format!("-----BEGIN {label}-----\n{b64}\n-----END {label}-----\n")
        })
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn ssh_fingerprint_never_panics(s in any::<String>()) {
        let _ = ssh_fingerprint(&s, Fingerprint::NovaMd5);
    }

    #[test]
    fn ssh_fingerprint_never_panics_on_keyish_text(s in ssh_like()) {
        let _ = ssh_fingerprint(&s, Fingerprint::NovaMd5);
    }

    #[test]
    fn ssh_fingerprint_never_panics_on_wire_blobs(s in ssh_wire()) {
        let _ = ssh_fingerprint(&s, Fingerprint::NovaMd5);
    }

    #[test]
    fn x509_fingerprint_never_panics(s in any::<String>()) {
        let _ = x509_fingerprint(&s);
    }

    #[test]
    fn x509_fingerprint_never_panics_on_pem(s in pem_like()) {
        let _ = x509_fingerprint(&s);
    }

    #[test]
    fn microversion_parse_never_panics(s in any::<String>()) {
        let _ = Microversion::parse(&s);
    }

    #[test]
    fn microversion_parse_round_trips(major in 1u32..10, minor in 0u32..1000) {
        let text = format!("{major}.{minor}");
        prop_assert_eq!(Microversion::parse(&text), Some(Microversion::new(major, minor)));
    }

    #[test]
    fn negotiate_never_panics(
        compute in "[ -~]{0,40}",
        legacy in prop::option::of("[ -~]{0,20}"),
        digits in "[0-9]{1,25}\\.[0-9]{1,25}",
    ) {
        for value in [compute.clone(), format!("compute {compute}"), format!("compute {digits}"), digits.clone()] {
            let mut headers = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(HeaderName::from_static("openstack-api-version"), v);
            }
            if let Some(l) = &legacy {
                if let Ok(v) = HeaderValue::from_str(l) {
                    headers.insert(HeaderName::from_static("x-openstack-nova-api-version"), v);
                }
            }
            if let Ok(v) = negotiate(&headers) {
                prop_assert!(v >= Microversion::MIN && v <= Microversion::MAX);
            }
        }
    }
}

/// Arbitrary JSON, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::String),
        "[a-z_@. -]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "keypair",
                        "name",
                        "public_key",
                        "type",
                        "user_id",
                        "x",
                    ])
                    .prop_map(str::to_string),
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Create bodies that are structurally close to valid ones.
fn create_body() -> impl Strategy<Value = Value> {
    (
        prop::option::of(any::<String>()),
        prop::option::of(json_value()),
        prop::option::of(prop::sample::select(vec!["ssh", "x509", "SSH", ""])),
        prop::option::of(json_value()),
    )
        .prop_map(|(name, pk, kind, uid)| {
            let mut kp = serde_json::Map::new();
            if let Some(n) = name {
                kp.insert("name".into(), json!(n));
            }
            if let Some(p) = pk {
                kp.insert("public_key".into(), p);
            }
            if let Some(k) = kind {
                kp.insert("type".into(), json!(k));
            }
            if let Some(u) = uid {
                kp.insert("user_id".into(), u);
            }
            json!({ "keypair": kp })
        })
}

const VERSIONS: &[(u32, u32)] = &[(2, 1), (2, 2), (2, 10), (2, 35), (2, 92), (2, 104)];

proptest! {
    #![proptest_config(config(200))]

    #[test]
    fn create_validation_never_panics(body in json_value()) {
        for &(ma, mi) in VERSIONS {
            let _ = validate(create_schema_for(Microversion::new(ma, mi), false), &body, Origin::Body);
        }
        let _ = validate(create_schema_for(Microversion::MIN, true), &body, Origin::Body);
    }

    #[test]
    fn create_validation_never_panics_on_near_valid_bodies(body in create_body()) {
        for &(ma, mi) in VERSIONS {
            let _ = validate(create_schema_for(Microversion::new(ma, mi), false), &body, Origin::Body);
        }
        let _ = validate(create_schema_for(Microversion::MIN, true), &body, Origin::Body);
    }

    #[test]
    fn names_outside_the_pattern_are_refused(name in ".*[^_\\- a-zA-Z0-9@.].*") {
        let body = json!({"keypair": {"name": name, "public_key": "ssh-rsa AAAA"}});
        for &(ma, mi) in VERSIONS {
            let r = validate(create_schema_for(Microversion::new(ma, mi), false), &body, Origin::Body);
            prop_assert!(r.is_err(), "{} accepted at 2.{}", name, mi);
        }
    }
}
