//! Whole-state cases: images, snapshots, change tokens, bulk loads.

use super::*;

/// Some state of every kind: identity, key pairs with tags, an instance bound to one.
async fn populate(s: &dyn Store) {
    s.bootstrap(&bootstrap()).unwrap();
    s.add_signing_key(
        &SigningKey {
            private_pem: "priv".into(),
            public_pem: "pub".into(),
        },
        "2024-01-01T00:00:00Z",
        2,
    )
    .unwrap();
    let mut k = new("u1", "tagged");
    k.tags = vec![Tag {
        key: "t".into(),
        value: "v".into(),
    }];
    let k = s.create_keypair(k, user("u1"), None).await.unwrap();
    s.create_keypair(new("u1", "plain"), user("u1"), None)
        .await
        .unwrap();
    s.insert_instance(instance("i-1", Some(k.id)))
        .await
        .unwrap();
    s.revoke_token("audit", 1).unwrap();
    s.revoke_user_tokens("u0", 5).unwrap();
    let ac = AppCred {
        id: "a1".into(),
        name: "n".into(),
        description: Some("d".into()),
        user_id: "u1".into(),
        project_id: "p1".into(),
        secret_hash: "h".into(),
        expires_at: None,
        unrestricted: None,
        role_ids: vec!["member".into()],
    };
    s.insert_app_cred(&ac).unwrap();
}

pub async fn capture_apply_round_trip(sub: Subject) {
    let s = &*sub.store;
    populate(s).await;
    let image = s.capture().unwrap();
    assert_eq!(image.rows("key_pairs"), 2);
    assert_eq!(image.rows("key_pair_tags"), 1);
    assert_eq!(image.rows("id_users"), 2);
    assert!(image.sequences.contains_key("key_pairs"));
    // Change everything, then go back.
    s.create_keypair(new("u1", "later"), user("u1"), None)
        .await
        .unwrap();
    s.delete_keypair(user("u1"), "tagged".into(), false)
        .await
        .unwrap();
    s.delete_user("u0").unwrap();
    s.insert_domain(&domain("later")).unwrap();
    let applied = s.apply(&image).unwrap();
    assert!(
        applied.tables.contains(&"key_pairs".to_string()),
        "{applied:?}"
    );
    assert!(
        !applied.signing_keys,
        "the signing keys did not change: {applied:?}"
    );
    assert_eq!(s.capture().unwrap(), image);
    assert!(s
        .get_keypair(&user("u1"), "tagged")
        .await
        .unwrap()
        .is_some());
    assert!(s.get_keypair(&user("u1"), "later").await.unwrap().is_none());
    let bound = s.get_instance("i-1").await.unwrap().unwrap();
    assert!(bound.key_pair_id.is_some(), "the binding is back");
    assert_eq!(s.list_users().unwrap().len(), 2);
    // Ids continue where the image left them.
    let next = s
        .create_keypair(new("u1", "next"), user("u1"), None)
        .await
        .unwrap();
    assert_eq!(next.id, image.sequences["key_pairs"] + 1);
    // Applying what is already there rewrites nothing.
    let again = s.capture().unwrap();
    assert!(s.apply(&again).unwrap().tables.is_empty());
    // An image that does not fit is refused, and nothing changes.
    let mut bad = again.clone();
    bad.tables
        .insert("no_such_table".into(), Default::default());
    assert!(matches!(s.apply(&bad), Err(StoreError::Incompatible(_))));
    let mut bad = again.clone();
    bad.tables.get_mut("key_pairs").unwrap().columns.pop();
    assert!(matches!(s.apply(&bad), Err(StoreError::Incompatible(_))));
    assert_eq!(s.capture().unwrap(), again);
    // An export document round-trips through JSON.
    let doc = novakeys::store::image::Image::from_json(&again.to_json()).unwrap();
    s.apply(&doc).unwrap();
    assert_eq!(s.capture().unwrap(), again);
}

/// A reset baseline is built on `scratch()` (in-memory SQLite); it applies to any backend,
/// and an image of one backend is the same state in the other.
pub async fn images_cross_backends(sub: Subject) {
    let s = &*sub.store;
    populate(s).await;
    let scratch = s.scratch().unwrap();
    assert!(scratch.bootstrap(&bootstrap()).unwrap());
    let mut baseline = scratch.capture().unwrap();
    baseline.overlay(s.capture_signing_keys().unwrap());
    s.apply(&baseline).unwrap();
    assert_eq!(s.count_all_keypairs().unwrap(), 0);
    assert_eq!(
        s.signing_keys(5).unwrap()[0].private_pem,
        "priv",
        "own signing keys kept"
    );
    assert_eq!(s.list_users().unwrap().len(), 2);
    assert_eq!(s.capture().unwrap(), baseline);

    // Both ways between this backend and SQLite.
    populate_more(s).await;
    let image = s.capture().unwrap();
    let other = sqlite();
    other.store.apply(&image).unwrap();
    assert_eq!(other.store.capture().unwrap(), image);
    other
        .store
        .create_keypair(new("u0", "from-sqlite"), user("u0"), None)
        .await
        .unwrap();
    let back = other.store.capture().unwrap();
    s.apply(&back).unwrap();
    assert_eq!(s.capture().unwrap(), back);
    assert!(s
        .get_keypair(&user("u0"), "from-sqlite")
        .await
        .unwrap()
        .is_some());
}

async fn populate_more(s: &dyn Store) {
    let k = s
        .create_keypair(new("u1", "k1"), user("u1"), None)
        .await
        .unwrap();
    s.insert_instance(instance("i-9", Some(k.id)))
        .await
        .unwrap();
}

pub async fn snapshots_save_restore_delete_list(sub: Subject) {
    let s = &*sub.store;
    populate(s).await;
    assert!(s.list_snapshots().unwrap().is_empty());
    let image = s.capture().unwrap();
    let info = s.save_snapshot("before").unwrap();
    assert_eq!(info.name, "before");
    s.create_keypair(new("u1", "after"), user("u1"), None)
        .await
        .unwrap();
    s.save_snapshot("after").unwrap();
    s.save_snapshot("after").unwrap();
    let names: Vec<_> = s
        .list_snapshots()
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(names, ["after", "before"]);
    assert!(s.restore_snapshot("before").unwrap().is_some());
    assert_eq!(s.capture().unwrap(), image);
    assert!(s.get_keypair(&user("u1"), "after").await.unwrap().is_none());
    s.restore_snapshot("after").unwrap().unwrap();
    assert!(s.get_keypair(&user("u1"), "after").await.unwrap().is_some());
    assert!(s.restore_snapshot("nope").unwrap().is_none());
    assert!(s.delete_snapshot("before").unwrap());
    assert!(!s.delete_snapshot("before").unwrap());
    let names: Vec<_> = s
        .list_snapshots()
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(names, ["after"]);
}

pub async fn change_tokens_move_on_writes(sub: Subject) {
    let s = &*sub.store;
    let k0 = s.keypairs_token();
    s.create_keypair(new("u", "k"), user("u"), None)
        .await
        .unwrap();
    let k1 = s.keypairs_token();
    assert!(k1 > k0, "create");
    s.get_keypair(&user("u"), "k").await.unwrap();
    s.list_keypairs(&user("u"), ListQuery::default())
        .await
        .unwrap();
    assert_eq!(s.keypairs_token(), k1, "reads do not move it");
    s.change_keypair(
        user("u"),
        "k".into(),
        KeypairChange {
            name: Some("k2".into()),
            description: None,
        },
    )
    .await
    .unwrap();
    let k2 = s.keypairs_token();
    assert!(k2 > k1, "change");
    s.delete_keypair(user("u"), "k2".into(), false)
        .await
        .unwrap();
    let k3 = s.keypairs_token();
    assert!(k3 > k2, "delete");

    let i0 = s.identity_token();
    s.insert_domain(&domain("d")).unwrap();
    let i1 = s.identity_token();
    assert!(i1 > i0, "identity write");
    s.get_domain("d").unwrap();
    s.list_domains().unwrap();
    assert_eq!(s.identity_token(), i1, "reads do not move it");
    s.revoke_token("a", 10).unwrap();
    let i2 = s.identity_token();
    assert!(i2 > i1);

    let image = s.capture().unwrap();
    s.apply(&image).unwrap();
    assert!(s.identity_token() > i2, "apply moves the identity token");
    s.create_keypair(new("u", "z"), user("u"), None)
        .await
        .unwrap();
    let k4 = s.keypairs_token();
    s.apply(&image).unwrap();
    assert!(s.keypairs_token() > k4, "apply moves the key pair token");
}

pub async fn bulk_load(sub: Subject) {
    let s = &*sub.store;
    let mut rows = (0..25).map(|i| new(&format!("u{}", i % 3), &format!("k{i:02}")));
    assert_eq!(s.load_keypairs(&mut rows, 10).unwrap(), 25);
    assert_eq!(s.count_all_keypairs().unwrap(), 25);
    assert_eq!(s.count_keypairs(&user("u0")).await.unwrap(), 9);
    let first = s.get_keypair(&user("u0"), "k00").await.unwrap().unwrap();
    assert_eq!(first.public_key, "ssh-ed25519 AAAAk00 x\n");
    let mut none = std::iter::empty();
    assert_eq!(s.load_keypairs(&mut none, 10).unwrap(), 0);
}

/// An image of an older schema version is brought up to date as it is applied (here: step 5,
/// after which an application credential's `false` of before reads as left out).
pub async fn older_images_are_upgraded_on_apply(sub: Subject) {
    let s = &*sub.store;
    populate(s).await;
    let ac = AppCred {
        id: "a-old".into(),
        name: "old".into(),
        description: None,
        user_id: "u1".into(),
        project_id: "p1".into(),
        secret_hash: "h".into(),
        expires_at: None,
        unrestricted: Some(false),
        role_ids: Vec::new(),
    };
    s.insert_app_cred(&ac).unwrap();
    let mut image = s.capture().unwrap();
    image.schema_version = 4;
    // Version 4 had no NULL there: what was left out was stored as false.
    let creds = image.tables.get_mut("id_app_creds").unwrap();
    let col = creds
        .columns
        .iter()
        .position(|c| c == "unrestricted")
        .unwrap();
    for row in &mut creds.rows {
        if row[col] == Cell::Null {
            row[col] = Cell::Integer(0);
        }
    }
    s.apply(&image).unwrap();
    assert_eq!(s.get_app_cred("a-old").unwrap().unwrap().unrestricted, None);
    assert!(s
        .get_keypair(&user("u1"), "tagged")
        .await
        .unwrap()
        .is_some());
    image.schema_version = 99;
    assert!(matches!(s.apply(&image), Err(StoreError::Incompatible(_))));
}
