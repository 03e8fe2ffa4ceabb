//! What the PostgreSQL store keeps for other processes: a change counter per kind in the
//! database, moved in the same transaction as every write of its kind (and not by reads or
//! by refused writes).

use novakeys::keys::KeyKind;
use novakeys::store::identity::Domain;
use novakeys::store::keypairs::{KeypairExtra, ListQuery, NewKeypair, Owner};
use novakeys::store::Durability;

fn counters(db: &str) -> (i64, i64) {
    let out = super::server().psql_in(
        db,
        "SELECT counter FROM nk_changes WHERE kind = 'keypairs' \
         UNION ALL SELECT counter FROM nk_changes WHERE kind = 'identity'",
    );
    let v: Vec<i64> = out.lines().map(|l| l.trim().parse().unwrap()).collect();
    (v[0], v[1])
}

fn key(name: &str) -> NewKeypair {
    NewKeypair {
        user_id: "u".into(),
        project_id: "p".into(),
        name: name.into(),
        kind: KeyKind::Ssh,
        public_key: format!("ssh-ed25519 AAAA{name}"),
        fingerprint: format!("fp-{name}"),
        created_at: chrono::DateTime::from_timestamp(0, 0).unwrap().naive_utc(),
        extra: KeypairExtra::default(),
        tags: Vec::new(),
        id_comment: None,
        rules: Default::default(),
    }
}

#[actix_web::test]
async fn every_write_moves_its_kinds_counter_in_the_database() {
    let conn = super::fresh_database();
    let db = super::name_of(&conn).to_string();
    let store = novakeys::store::open(&conn, Durability::Normal).unwrap();
    let owner = Owner::User("u".into());
    let start = counters(&db);
    store
        .create_keypair(key("a"), owner.clone(), None)
        .await
        .unwrap();
    assert_eq!(counters(&db), (start.0 + 1, start.1));
    store.get_keypair(&owner, "a").await.unwrap();
    store
        .list_keypairs(&owner, ListQuery::default())
        .await
        .unwrap();
    assert!(store
        .create_keypair(key("a"), owner.clone(), None)
        .await
        .is_err());
    assert!(store
        .create_keypair(key("b"), owner.clone(), Some(1))
        .await
        .is_err());
    assert_eq!(
        counters(&db),
        (start.0 + 1, start.1),
        "reads and refusals do not"
    );
    store
        .delete_keypair(owner.clone(), "a".into(), false)
        .await
        .unwrap();
    assert_eq!(counters(&db), (start.0 + 2, start.1));

    let d = Domain {
        id: "d".into(),
        name: "D".into(),
        description: String::new(),
        enabled: true,
    };
    store.insert_domain(&d).unwrap();
    assert_eq!(counters(&db), (start.0 + 2, start.1 + 1));
    assert!(store.insert_domain(&d).is_err());
    assert_eq!(counters(&db), (start.0 + 2, start.1 + 1));

    let image = store.capture().unwrap();
    store.apply(&image).unwrap();
    assert_eq!(
        counters(&db),
        (start.0 + 3, start.1 + 2),
        "an apply moves both"
    );
}
