//! Key pair and instance cases.

use super::*;

pub async fn create_get_list_delete(sub: Subject) {
    let s = &*sub.store;
    let b = s
        .create_keypair(new("u", "b"), user("u"), None)
        .await
        .unwrap();
    for name in ["A", "c", "_"] {
        s.create_keypair(new("u", name), user("u"), None)
            .await
            .unwrap();
    }
    s.create_keypair(new("v", "b"), user("v"), None)
        .await
        .unwrap();
    let got = s.get_keypair(&user("u"), "b").await.unwrap().unwrap();
    assert_eq!(got, b);
    assert_eq!(got.public_key, "ssh-ed25519 AAAAb x\n", "stored verbatim");
    assert_eq!(
        got.created_at,
        new("u", "b").created_at,
        "microseconds kept"
    );
    assert!(s.get_keypair(&user("u"), "B").await.unwrap().is_none());
    let all = ListQuery::default();
    assert_eq!(
        names(s, &user("u"), all.clone()).await,
        ["A", "_", "b", "c"],
        "bytewise"
    );
    assert_eq!(
        names(s, &user("u"), q(Order::Newest, None, 0, None)).await,
        ["_", "c", "A", "b"]
    );
    assert_eq!(
        names(s, &user("u"), q(Order::Name, Some("A"), 0, Some(2))).await,
        ["_", "b"]
    );
    assert_eq!(
        names(s, &user("u"), q(Order::Name, None, 1, Some(2))).await,
        ["_", "b"]
    );
    assert_eq!(
        names(s, &user("u"), q(Order::Newest, None, 3, Some(5))).await,
        ["b"]
    );
    assert!(names(s, &user("u"), q(Order::Name, None, 0, Some(0)))
        .await
        .is_empty());
    assert!(matches!(
        s.list_keypairs(&user("u"), q(Order::Name, Some("zz"), 0, None))
            .await,
        Err(StoreError::MarkerNotFound)
    ));
    assert!(matches!(
        s.list_keypairs(&user("v"), q(Order::Name, Some("A"), 0, None))
            .await,
        Err(StoreError::MarkerNotFound)
    ));
    assert_eq!(
        names(s, &Owner::Project("p-u".into()), all.clone())
            .await
            .len(),
        4
    );
    assert_eq!(s.count_keypairs(&user("u")).await.unwrap(), 4);
    assert_eq!(s.count_all_keypairs().unwrap(), 5);
    s.delete_keypair(user("u"), "b".into(), false)
        .await
        .unwrap();
    assert!(matches!(
        s.delete_keypair(user("u"), "b".into(), false).await,
        Err(StoreError::NotFound)
    ));
    assert!(s.get_keypair(&user("u"), "b").await.unwrap().is_none());
    assert!(
        s.get_keypair(&user("v"), "b").await.unwrap().is_some(),
        "other user's kept"
    );
}

pub async fn change_and_tags(sub: Subject) {
    let s = &*sub.store;
    let mut k = new("u", "tagged");
    k.extra = KeypairExtra {
        description: "about".into(),
        resource_group: "rg-1".into(),
        cloud_project: 7,
    };
    k.tags = vec![
        Tag {
            key: "z".into(),
            value: "1".into(),
        },
        Tag {
            key: "a".into(),
            value: String::new(),
        },
    ];
    k.id_comment = Some(|id| format!("skey-{id}"));
    let made = s.create_keypair(k.clone(), user("u"), None).await.unwrap();
    assert_eq!(
        made.public_key,
        format!("{} skey-{}", k.public_key, made.id)
    );
    let plain = s
        .create_keypair(new("u", "plain"), user("u"), None)
        .await
        .unwrap();
    let got = s.get_keypair(&user("u"), "tagged").await.unwrap().unwrap();
    assert_eq!(got, made);
    assert_eq!(got.extra.cloud_project, 7);
    let tags = s
        .keypair_tags(vec![made.id, plain.id, 999_999])
        .await
        .unwrap();
    assert_eq!(tags[&made.id], k.tags, "in the order given");
    assert!(!tags.contains_key(&plain.id));
    assert!(s.keypair_tags(Vec::new()).await.unwrap().is_empty());

    let renamed = s
        .change_keypair(
            user("u"),
            "tagged".into(),
            KeypairChange {
                name: Some("renamed".into()),
                description: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (renamed.id, renamed.extra.description.as_str()),
        (made.id, "about")
    );
    let described = s
        .change_keypair(
            user("u"),
            "renamed".into(),
            KeypairChange {
                name: None,
                description: Some("new".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(described.extra.description, "new");
    assert_eq!(
        s.get_keypair(&user("u"), "renamed")
            .await
            .unwrap()
            .unwrap()
            .extra
            .description,
        "new"
    );
    assert!(matches!(
        s.change_keypair(
            user("u"),
            "renamed".into(),
            KeypairChange {
                name: Some("plain".into()),
                description: None
            }
        )
        .await,
        Err(StoreError::Duplicate)
    ));
    assert!(matches!(
        s.change_keypair(user("u"), "nope".into(), KeypairChange::default())
            .await,
        Err(StoreError::NotFound)
    ));

    // Tags go with their key pair.
    s.delete_keypair(user("u"), "renamed".into(), false)
        .await
        .unwrap();
    assert!(s.keypair_tags(vec![made.id]).await.unwrap().is_empty());
}

pub async fn quota_is_exact_under_concurrent_creates(sub: Subject) {
    let s = sub.store.clone();
    let results =
        join_all((0..20).map(|i| s.create_keypair(new("u", &format!("k{i}")), user("u"), Some(5))))
            .await;
    let made = results.iter().filter(|r| r.is_ok()).count();
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::LimitReached { limit: 5 })))
        .count();
    assert_eq!((made, refused), (5, 15), "{results:?}");
    assert_eq!(s.count_keypairs(&user("u")).await.unwrap(), 5);
    // Also from threads outside any runtime, one store each way.
    let threads: Vec<_> = (0..10)
        .map(|i| {
            let s = s.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(s.create_keypair(new("w", &format!("t{i}")), user("w"), Some(3)))
                    .is_ok()
            })
        })
        .collect();
    let ok = threads
        .into_iter()
        .map(|t| t.join().unwrap())
        .filter(|ok| *ok)
        .count();
    assert_eq!(ok, 3);
    assert_eq!(s.count_keypairs(&user("w")).await.unwrap(), 3);
}

pub async fn one_name_once_under_concurrent_creates(sub: Subject) {
    let s = sub.store.clone();
    let results =
        join_all((0..10).map(|_| s.create_keypair(new("u", "same"), user("u"), None))).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(results
        .iter()
        .all(|r| r.is_ok() || matches!(r, Err(StoreError::Duplicate))));
    // Per project (shared scope): two users, one name.
    s.index_by_project(true).unwrap();
    let proj = Owner::Project("shared".into());
    let results = join_all((0..10).map(|i| {
        let mut k = new(&format!("user{i}"), "proj-key");
        k.project_id = "shared".into();
        s.create_keypair(k, proj.clone(), None)
    }))
    .await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
}

pub async fn duplicates_per_owner_and_project_scope(sub: Subject) {
    let s = &*sub.store;
    s.create_keypair(new("u", "k"), user("u"), None)
        .await
        .unwrap();
    assert!(matches!(
        s.create_keypair(new("u", "k"), user("u"), None).await,
        Err(StoreError::Duplicate)
    ));
    s.create_keypair(new("u", "K"), user("u"), None)
        .await
        .expect("case-sensitive");
    s.create_keypair(new("v", "k"), user("v"), None)
        .await
        .expect("per user");
    assert!(matches!(
        s.create_keypair(new("u", "third"), user("u"), Some(2))
            .await,
        Err(StoreError::LimitReached { limit: 2 })
    ));
    assert_eq!(
        s.count_keypairs(&user("u")).await.unwrap(),
        2,
        "nothing written on refusal"
    );

    s.index_by_project(true).unwrap();
    s.index_by_project(true).unwrap();
    let proj = Owner::Project("p-shared".into());
    let mut a = new("a", "pk");
    a.project_id = "p-shared".into();
    let mut b = new("b", "pk");
    b.project_id = "p-shared".into();
    s.create_keypair(a, proj.clone(), Some(5)).await.unwrap();
    assert!(matches!(
        s.create_keypair(b.clone(), proj.clone(), Some(5)).await,
        Err(StoreError::Duplicate)
    ));
    b.name = "other".into();
    assert!(matches!(
        s.create_keypair(b.clone(), proj.clone(), Some(1)).await,
        Err(StoreError::LimitReached { .. })
    ));
    s.create_keypair(b, proj.clone(), Some(2)).await.unwrap();
    assert_eq!(names(s, &proj, ListQuery::default()).await, ["other", "pk"]);
    assert_eq!(
        s.get_keypair(&proj, "other")
            .await
            .unwrap()
            .unwrap()
            .user_id,
        "b"
    );
    assert!(matches!(
        s.change_keypair(
            proj.clone(),
            "other".into(),
            KeypairChange {
                name: Some("pk".into()),
                description: None
            }
        )
        .await,
        Err(StoreError::Duplicate)
    ));
    s.index_by_project(false).unwrap();
    s.index_by_project(false).unwrap();
    assert_eq!(
        s.get_keypair(&proj, "pk").await.unwrap().unwrap().user_id,
        "a"
    );
    s.delete_keypair(proj.clone(), "pk".into(), false)
        .await
        .unwrap();
    assert_eq!(s.count_keypairs(&proj).await.unwrap(), 1);
}

pub async fn ids_are_never_reused(sub: Subject) {
    let s = &*sub.store;
    let first = s
        .create_keypair(new("u", "k"), user("u"), None)
        .await
        .unwrap();
    let last = s
        .create_keypair(new("u", "l"), user("u"), None)
        .await
        .unwrap();
    s.delete_keypair(user("u"), "l".into(), false)
        .await
        .unwrap();
    s.delete_keypair(user("u"), "k".into(), false)
        .await
        .unwrap();
    let again = s
        .create_keypair(new("u", "k"), user("u"), None)
        .await
        .unwrap();
    assert!(
        again.id > last.id && last.id > first.id,
        "{first:?} {last:?} {again:?}"
    );
    // A refused create does not hand out an id that a later one skips to either way: ids only
    // grow.
    let _ = s.create_keypair(new("u", "k"), user("u"), None).await;
    let next = s
        .create_keypair(new("u", "m"), user("u"), None)
        .await
        .unwrap();
    assert!(next.id > again.id);
}

pub async fn instances_bind_unbind_and_refuse_bound(sub: Subject) {
    let s = &*sub.store;
    let k = s
        .create_keypair(new("u", "k"), user("u"), None)
        .await
        .unwrap();
    s.insert_instance(instance("i-1", None)).await.unwrap();
    let mut t = instance("ins-2", None);
    t.cloud = "tencent".into();
    t.os = Os::Windows;
    s.insert_instance(t.clone()).await.unwrap();
    assert!(matches!(
        s.insert_instance(instance("i-1", None)).await,
        Err(StoreError::Duplicate)
    ));
    assert_eq!(s.get_instance("ins-2").await.unwrap().unwrap(), t);
    assert!(s.get_instance("nope").await.unwrap().is_none());
    let ids = |v: Vec<Instance>| v.into_iter().map(|i| i.id).collect::<Vec<_>>();
    assert_eq!(ids(s.list_instances(None).await.unwrap()), ["i-1", "ins-2"]);
    assert_eq!(
        ids(s.list_instances(Some("tencent")).await.unwrap()),
        ["ins-2"]
    );

    s.bind_instance("i-1", Some((k.id, "k".into())))
        .await
        .unwrap();
    assert!(matches!(
        s.bind_instance("i-1", Some((999_999, "x".into()))).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.bind_instance("nope", Some((k.id, "k".into()))).await,
        Err(StoreError::NotFound)
    ));
    let bound = s.get_instance("i-1").await.unwrap().unwrap();
    assert_eq!(
        (bound.key_pair_id, bound.key_pair_name.as_deref()),
        (Some(k.id), Some("k"))
    );
    assert!(matches!(
        s.delete_keypair(user("u"), "k".into(), true).await,
        Err(StoreError::InUse)
    ));
    assert!(
        s.get_keypair(&user("u"), "k").await.unwrap().is_some(),
        "nothing deleted"
    );
    assert!(matches!(
        s.delete_keypair(user("u"), "gone".into(), true).await,
        Err(StoreError::NotFound)
    ));
    s.bind_instance("i-1", None).await.unwrap();
    assert_eq!(
        s.get_instance("i-1").await.unwrap().unwrap().key_pair_id,
        None
    );
    s.bind_instance("i-1", Some((k.id, "k".into())))
        .await
        .unwrap();
    // Deleted without refuse_bound: the instance keeps the name, loses the binding.
    s.delete_keypair(user("u"), "k".into(), false)
        .await
        .unwrap();
    let after = s.get_instance("i-1").await.unwrap().unwrap();
    assert_eq!(
        (after.key_pair_id, after.key_pair_name.as_deref()),
        (None, Some("k"))
    );

    s.set_instance_state("i-1", State::Stopped).await.unwrap();
    assert_eq!(
        s.get_instance("i-1").await.unwrap().unwrap().state,
        State::Stopped
    );
    assert!(matches!(
        s.set_instance_state("nope", State::Stopped).await,
        Err(StoreError::NotFound)
    ));
    s.delete_instance("i-1").await.unwrap();
    assert!(matches!(
        s.delete_instance("i-1").await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(ids(s.list_instances(None).await.unwrap()), ["ins-2"]);
}

/// Two stores on one database (as two processes would be): the quota and the names still
/// hold exactly.
pub async fn quota_and_names_hold_across_two_stores(sub: Subject) {
    let a = sub.store.clone();
    let b = novakeys::store::open(&a.location(), Durability::Normal).unwrap();
    let results = join_all((0..20).map(|i| {
        let s = if i % 2 == 0 { &a } else { &b };
        s.create_keypair(new("u", &format!("k{i}")), user("u"), Some(5))
    }))
    .await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        5,
        "{results:?}"
    );
    assert_eq!(b.count_keypairs(&user("u")).await.unwrap(), 5);
    let results = join_all((0..10).map(|i| {
        let s = if i % 2 == 0 { &a } else { &b };
        s.create_keypair(new("v", "same"), user("v"), None)
    }))
    .await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(a.get_keypair(&user("v"), "same").await.unwrap().is_some());
}

/// `CreateRules`: the same public key (blob, whatever the comment) refused first, naming the
/// key pair that holds it; the name before the limit when asked; exact under concurrency.
pub async fn create_rules(sub: Subject) {
    let s = sub.store.clone();
    let keyed = |user: &str, name: &str, key: &str| {
        let mut k = new(user, name);
        k.public_key = key.into();
        k.fingerprint = "fp-shared".into();
        k.rules.unique_key = true;
        k
    };
    let first = s
        .create_keypair(keyed("u", "a", "ssh-rsa AAAAkey one@host"), user("u"), None)
        .await
        .unwrap();
    let err = s
        .create_keypair(keyed("u", "a", "ssh-rsa AAAAkey other"), user("u"), Some(1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::SameKey { id } if id == first.id),
        "{err:?}"
    );
    s.create_keypair(keyed("v", "a", "ssh-rsa AAAAkey other"), user("v"), None)
        .await
        .expect("another user may hold it");
    s.create_keypair(keyed("u", "b", "ssh-rsa AAAAother x"), user("u"), None)
        .await
        .expect("same stored fingerprint, another key");
    let err = s
        .create_keypair(new("u", "a"), user("u"), Some(2))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::LimitReached { limit: 2 }),
        "{err:?}"
    );
    let mut name_first = new("u", "a");
    name_first.rules.name_before_limit = true;
    let err = s
        .create_keypair(name_first, user("u"), Some(2))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate), "{err:?}");
    assert_eq!(
        s.count_keypairs(&user("u")).await.unwrap(),
        2,
        "nothing was added"
    );

    // One key, ten names at once: one is stored.
    let results = join_all((0..10).map(|i| {
        s.create_keypair(
            keyed("w", &format!("n{i}"), "ssh-ed25519 AAAAonce c"),
            user("w"),
            None,
        )
    }))
    .await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(results
        .iter()
        .all(|r| r.is_ok() || matches!(r, Err(StoreError::SameKey { .. }))));
}

/// A NUL in a lookup key (a percent-decoded path, a header) matches nothing: SQLite could
/// hold one, PostgreSQL cannot; either way no stored record has it, and nothing fails.
pub async fn lookups_with_a_nul_find_nothing(sub: Subject) {
    let s = &*sub.store;
    s.bootstrap(&bootstrap()).unwrap();
    s.create_keypair(new("u", "a"), user("u"), None)
        .await
        .unwrap();
    s.insert_instance(instance("i-1", None)).await.unwrap();
    assert!(s.get_keypair(&user("u"), "a\0").await.unwrap().is_none());
    assert!(s.get_keypair(&user("u\0"), "a").await.unwrap().is_none());
    assert!(matches!(
        s.list_keypairs(&user("u"), q(Order::Name, Some("a\0"), 0, None))
            .await,
        Err(StoreError::MarkerNotFound)
    ));
    assert!(names(s, &user("u\0"), ListQuery::default())
        .await
        .is_empty());
    assert_eq!(
        s.count_keypairs(&Owner::Project("p\0".into()))
            .await
            .unwrap(),
        0
    );
    for refuse_bound in [false, true] {
        assert!(matches!(
            s.delete_keypair(user("u"), "a\0".into(), refuse_bound)
                .await,
            Err(StoreError::NotFound)
        ));
    }
    assert!(matches!(
        s.change_keypair(user("u"), "a\0".into(), KeypairChange::default())
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(s.get_instance("i-1\0").await.unwrap().is_none());
    assert!(s
        .list_instances(Some("alibaba\0"))
        .await
        .unwrap()
        .is_empty());
    assert!(matches!(
        s.delete_instance("i\0").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.bind_instance("i\0", None).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.set_instance_state("i\0", State::Stopped).await,
        Err(StoreError::NotFound)
    ));

    assert!(s.get_user("u1\0").unwrap().is_none());
    assert!(s.get_user_by_name("default", "U-u1\0").unwrap().is_none());
    assert!(s.get_domain_by_name("D-default\0").unwrap().is_none());
    assert!(s
        .get_project_by_name("default\0", "P-p1")
        .unwrap()
        .is_none());
    assert!(s.find_credential("alibaba", "AK1\0").unwrap().is_none());
    assert!(s.get_app_cred_by_name("u1", "x\0").unwrap().is_none());
    assert!(!s.is_revoked("audit\0").unwrap());
    assert_eq!(s.user_tokens_revoked_before("u1\0").unwrap(), None);
    assert!(s.list_app_creds("u1\0").unwrap().is_empty());
    assert!(s.direct_roles("u1\0", &Target::System).unwrap().is_empty());
    assert!(matches!(s.delete_user("u1\0"), Err(StoreError::NotFound)));
    assert!(matches!(
        s.delete_project("p1\0"),
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.delete_credential("c1\0"),
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.delete_app_cred("u1", "a\0"),
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.revoke_grant(&grant("u1\0", Target::System, "reader")),
        Err(StoreError::NotFound)
    ));
    // Everything is still there.
    assert!(s.get_keypair(&user("u"), "a").await.unwrap().is_some());
    assert_eq!(s.list_users().unwrap().len(), 2);
}

/// A public key is stored verbatim, even with a NUL in its comment (Nova's key parser accepts
/// one), through a create, a bulk load and an image.
pub async fn a_nul_in_a_public_key_is_kept_verbatim(sub: Subject) {
    let s = &*sub.store;
    let mut k = new("u", "nul");
    k.public_key = "ssh-ed25519 AAAAnul c\0d\n".into();
    k.id_comment = Some(|id| format!("skey-{id}\0"));
    let made = s.create_keypair(k, user("u"), None).await.unwrap();
    assert_eq!(
        made.public_key,
        format!("ssh-ed25519 AAAAnul c\0d\n skey-{}\0", made.id)
    );
    let got = s.get_keypair(&user("u"), "nul").await.unwrap().unwrap();
    assert_eq!(got.public_key, made.public_key);
    let mut rows = std::iter::once({
        let mut b = new("u", "bulk");
        b.public_key = "ssh-rsa AAAAbulk \0".into();
        b
    });
    s.load_keypairs(&mut rows, 10).unwrap();
    let bulk = s.get_keypair(&user("u"), "bulk").await.unwrap().unwrap();
    assert_eq!(bulk.public_key, "ssh-rsa AAAAbulk \0");
    let image = s.capture().unwrap();
    let table = &image.tables["key_pairs"];
    let col = table
        .columns
        .iter()
        .position(|c| c == "public_key")
        .unwrap();
    assert!(table
        .rows
        .iter()
        .any(|r| r[col] == Cell::Text("ssh-rsa AAAAbulk \0".into())));
    s.delete_keypair(user("u"), "nul".into(), false)
        .await
        .unwrap();
    s.apply(&image).unwrap();
    assert_eq!(
        s.get_keypair(&user("u"), "nul").await.unwrap().unwrap(),
        got
    );
    let other = super::sqlite();
    other.store.apply(&image).unwrap();
    assert_eq!(other.store.capture().unwrap(), image);
}
