//! One conformance suite for every store backend: each case runs against SQLite (a temp
//! file) and PostgreSQL (a fresh database on the tests' private server, `pg`), as
//! `store_conformance::<case>::sqlite` and `::postgres`.

use futures_util::future::join_all;
use novakeys::keys::KeyKind;
use novakeys::store::identity::{
    AppCred, Assignment, Bootstrap, Credential, Domain, Project, Role, SigningKey, Target, User,
};
use novakeys::store::image::Cell;
use novakeys::store::instances::{Instance, Os, State};
use novakeys::store::keypairs::{
    KeypairChange, KeypairExtra, ListQuery, NewKeypair, Order, Owner, Tag,
};
use novakeys::store::{Durability, Store, StoreError};
use std::sync::Arc;

/// A store and what must live as long as it (the SQLite file's directory).
pub struct Subject {
    pub store: Arc<dyn Store>,
    _keep: Option<tempfile::TempDir>,
}

fn sqlite() -> Subject {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nk.db");
    Subject {
        store: novakeys::store::open(path.to_str().unwrap(), Durability::Normal).unwrap(),
        _keep: Some(dir),
    }
}

fn postgres() -> Subject {
    let db = super::pg::fresh_database();
    Subject {
        store: novakeys::store::open(&db, Durability::Normal).unwrap(),
        _keep: None,
    }
}

/// `<case>::sqlite` and `<case>::postgres` for each async case function.
macro_rules! conformance {
    ($($file:ident :: $case:ident),* $(,)?) => {$(
        mod $case {
            #[actix_web::test]
            async fn sqlite() {
                super::$file::$case(super::sqlite()).await
            }
            #[actix_web::test]
            async fn postgres() {
                super::$file::$case(super::postgres()).await
            }
        }
    )*};
}

mod identity;
mod keypairs;
mod state;

conformance!(
    keypairs::create_get_list_delete,
    keypairs::change_and_tags,
    keypairs::create_rules,
    keypairs::quota_is_exact_under_concurrent_creates,
    keypairs::one_name_once_under_concurrent_creates,
    keypairs::duplicates_per_owner_and_project_scope,
    keypairs::quota_and_names_hold_across_two_stores,
    keypairs::ids_are_never_reused,
    keypairs::instances_bind_unbind_and_refuse_bound,
    keypairs::lookups_with_a_nul_find_nothing,
    keypairs::a_nul_in_a_public_key_is_kept_verbatim,
    identity::identity_records,
    state::capture_apply_round_trip,
    state::images_cross_backends,
    state::snapshots_save_restore_delete_list,
    state::change_tokens_move_on_writes,
    state::bulk_load,
    state::older_images_are_upgraded_on_apply,
);

fn user(id: &str) -> Owner {
    Owner::User(id.into())
}

pub(crate) fn new(user: &str, name: &str) -> NewKeypair {
    NewKeypair {
        user_id: user.into(),
        project_id: format!("p-{user}"),
        name: name.into(),
        kind: KeyKind::Ssh,
        public_key: format!("ssh-ed25519 AAAA{name} x\n"),
        fingerprint: format!("fp-{name}"),
        created_at: chrono::DateTime::from_timestamp(1_700_000_000, 123_456_000)
            .unwrap()
            .naive_utc(),
        extra: KeypairExtra::default(),
        tags: Vec::new(),
        id_comment: None,
        rules: Default::default(),
    }
}

fn q(order: Order, after: Option<&str>, offset: u64, limit: Option<u32>) -> ListQuery {
    ListQuery {
        order,
        after: after.map(str::to_string),
        offset,
        limit,
    }
}

async fn names(s: &dyn Store, owner: &Owner, query: ListQuery) -> Vec<String> {
    s.list_keypairs(owner, query)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.name)
        .collect()
}

fn instance(id: &str, kp: Option<i64>) -> Instance {
    Instance {
        id: id.into(),
        cloud: "alibaba".into(),
        name: format!("vm-{id}"),
        user_id: "u".into(),
        project_id: "p-u".into(),
        region: "cn-hangzhou".into(),
        os: Os::Linux,
        state: State::Running,
        key_pair_id: kp,
        key_pair_name: kp.map(|_| "k".to_string()),
        created_at: "2024-01-01T00:00:00Z".into(),
    }
}

fn domain(id: &str) -> Domain {
    Domain {
        id: id.into(),
        name: format!("D-{id}"),
        description: String::new(),
        enabled: true,
    }
}

fn project(id: &str, domain: &str) -> Project {
    Project {
        id: id.into(),
        name: format!("P-{id}"),
        domain_id: domain.into(),
        description: "d".into(),
        enabled: true,
    }
}

fn a_user(id: &str, project: Option<&str>) -> User {
    let mut extra = serde_json::Map::new();
    extra.insert(
        "email".into(),
        serde_json::json!(format!("{id}@example.org")),
    );
    extra.insert("a".into(), serde_json::json!(1));
    User {
        id: id.into(),
        name: format!("U-{id}"),
        domain_id: "default".into(),
        enabled: true,
        default_project_id: project.map(str::to_string),
        password_hash: Some(format!("hash-{id}")),
        extra,
    }
}

fn role(id: &str) -> Role {
    Role {
        id: id.into(),
        name: format!("R-{id}"),
        immutable: id == "admin",
    }
}

fn grant(user: &str, target: Target, role: &str) -> Assignment {
    Assignment {
        user_id: user.into(),
        target,
        role_id: role.into(),
    }
}

fn credential(id: &str, user: &str, access: &str) -> Credential {
    Credential {
        id: id.into(),
        cloud: "alibaba".into(),
        access: access.into(),
        secret: format!("secret-{id}"),
        user_id: user.into(),
        project_id: "p1".into(),
        created_at: "2024-01-01T00:00:00Z".into(),
    }
}

fn bootstrap() -> Bootstrap {
    Bootstrap {
        domains: vec![domain("default")],
        roles: vec![role("reader"), role("member"), role("admin")],
        projects: vec![project("p1", "default"), project("p0", "default")],
        users: vec![a_user("u1", Some("p1")), a_user("u0", None)],
        grants: vec![
            grant("u1", Target::Project("p1".into()), "member"),
            grant("u1", Target::Project("p1".into()), "admin"),
            grant("u0", Target::System, "reader"),
        ],
        credentials: vec![credential("c1", "u1", "AK1")],
    }
}
