//! # What the VCS API shows of a key pair
//!
//! The list object `{name, fingerprint, platform, user: {id, display_name, username, email}}`
//! and the detail object, which adds `public_key` and `create_time` (TWCC's VCS API docs; the
//! order is theirs). `create_time` is UTC with exactly six fractional digits and `Z`: twcc-cli
//! cuts the last 8 characters of a time with a `.` and puts `Z` back before converting it to
//! Asia/Taipei, so any other fraction breaks the CLI. `platform` is undocumented; it is the
//! site the request addressed (the VCS site the key pair lives in, §3.6 of the spec).

use crate::store::identity::User;
use crate::store::keypairs::Keypair;
use chrono::NaiveDateTime;
use serde_json::{json, Map, Value};

/// `2024-01-02T03:04:05.123456Z`.
pub fn create_time(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The `user` object of the key pair's owner. A Keystone user has a name and maybe
/// `display_name` and `email` among its extra attributes; TWCC's `display_name` falls back
/// to the name and `email` to `""` (the docs list all four as strings).
pub fn user(user_id: &str, user: Option<&User>) -> Value {
    let extra = |k: &str| {
        user.and_then(|u| u.extra.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let username = user.map(|u| u.name.clone()).unwrap_or_default();
    json!({
        "id": user_id,
        "display_name": extra("display_name").unwrap_or_else(|| username.clone()),
        "username": username,
        "email": extra("email").unwrap_or_default(),
    })
}

/// One item of `GET …/keypairs/`.
pub fn list_item(kp: &Keypair, site: &str, owner: Value) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(kp.name));
    m.insert("fingerprint".into(), json!(kp.fingerprint));
    m.insert("platform".into(), json!(site));
    m.insert("user".into(), owner);
    Value::Object(m)
}

/// `GET …/keypairs/{name}/` (and the answer to an import).
pub fn detail(kp: &Keypair, site: &str, owner: Value) -> Value {
    let mut v = list_item(kp, site, owner);
    if let Value::Object(m) = &mut v {
        m.insert("public_key".into(), json!(kp.public_key));
        m.insert("create_time".into(), json!(create_time(kp.created_at)));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyKind;

    fn keypair() -> Keypair {
        Keypair {
            id: 7,
            user_id: "u1".into(),
            project_id: "p1".into(),
            name: "k1".into(),
            kind: KeyKind::Ssh,
            public_key: "ssh-ed25519 AAAA me".into(),
            fingerprint: "aa:bb".into(),
            created_at: chrono::NaiveDate::from_ymd_opt(2024, 1, 2)
                .unwrap()
                .and_hms_micro_opt(3, 4, 5, 60)
                .unwrap(),
            extra: Default::default(),
        }
    }

    #[test]
    fn create_time_has_six_fractional_digits_and_z() {
        assert_eq!(
            create_time(keypair().created_at),
            "2024-01-02T03:04:05.000060Z"
        );
        let whole = chrono::NaiveDate::from_ymd_opt(2024, 1, 2)
            .unwrap()
            .and_hms_opt(3, 4, 5)
            .unwrap();
        assert_eq!(create_time(whole), "2024-01-02T03:04:05.000000Z");
    }

    #[test]
    fn objects_carry_the_documented_fields_in_order() {
        let mut extra = Map::new();
        extra.insert("email".into(), json!("demo@example.org"));
        let u = User {
            id: "u1".into(),
            name: "demo".into(),
            domain_id: "default".into(),
            enabled: true,
            default_project_id: None,
            password_hash: None,
            extra,
        };
        let owner = user("u1", Some(&u));
        assert_eq!(
            owner,
            json!({"id": "u1", "display_name": "demo", "username": "demo", "email": "demo@example.org"})
        );
        let item = list_item(&keypair(), "openstack-taichung-default-2", owner.clone());
        let keys: Vec<&String> = item.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["name", "fingerprint", "platform", "user"]);
        let d = detail(&keypair(), "openstack-taichung-default-2", owner);
        let keys: Vec<&String> = d.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "name",
                "fingerprint",
                "platform",
                "user",
                "public_key",
                "create_time"
            ]
        );
        assert_eq!(
            user("gone", None),
            json!({"id": "gone", "display_name": "", "username": "", "email": ""})
        );
    }
}
