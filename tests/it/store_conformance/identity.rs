//! Identity record cases.

use super::*;

pub async fn identity_records(sub: Subject) {
    let s = &*sub.store;
    assert!(s.identity_is_empty().unwrap());
    assert!(s.bootstrap(&bootstrap()).unwrap());
    assert!(
        !s.bootstrap(&bootstrap()).unwrap(),
        "only into an empty store"
    );
    assert!(!s.identity_is_empty().unwrap());

    // Domains.
    assert_eq!(s.get_domain("default").unwrap(), Some(domain("default")));
    assert_eq!(
        s.get_domain_by_name("D-default").unwrap(),
        Some(domain("default"))
    );
    assert!(s.get_domain("nope").unwrap().is_none());
    s.insert_domain(&domain("d2")).unwrap();
    assert!(matches!(
        s.insert_domain(&domain("d2")),
        Err(StoreError::Duplicate)
    ));
    let ids: Vec<_> = s
        .list_domains()
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(ids, ["default", "d2"], "insertion order");

    // Projects.
    let ids: Vec<_> = s
        .list_projects()
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, ["p1", "p0"]);
    assert!(matches!(
        s.insert_project(&project("p1", "default")),
        Err(StoreError::Duplicate)
    ));
    let mut p = project("p2", "d2");
    s.insert_project(&p).unwrap();
    p.name = "renamed".into();
    p.enabled = false;
    s.update_project(&p).unwrap();
    assert_eq!(s.get_project("p2").unwrap(), Some(p.clone()));
    assert_eq!(
        s.get_project_by_name("d2", "renamed").unwrap(),
        Some(p.clone())
    );
    assert!(s
        .get_project_by_name("default", "renamed")
        .unwrap()
        .is_none());
    assert!(matches!(
        s.update_project(&project("nope", "d2")),
        Err(StoreError::NotFound)
    ));

    // Users.
    let mut u = a_user("u2", Some("p2"));
    s.insert_user(&u).unwrap();
    assert_eq!(s.get_user("u2").unwrap(), Some(u.clone()));
    assert_eq!(
        s.get_user("u1")
            .unwrap()
            .unwrap()
            .extra
            .keys()
            .collect::<Vec<_>>(),
        ["email", "a"],
        "extra in the order given"
    );
    u.enabled = false;
    u.password_hash = None;
    u.extra.clear();
    s.update_user(&u).unwrap();
    assert_eq!(
        s.get_user_by_name("default", "U-u2").unwrap(),
        Some(u.clone())
    );
    assert!(matches!(
        s.insert_user(&a_user("u2", None)),
        Err(StoreError::Duplicate)
    ));
    let ids: Vec<_> = s.list_users().unwrap().into_iter().map(|u| u.id).collect();
    assert_eq!(ids, ["u1", "u0", "u2"]);

    // Roles and grants.
    assert_eq!(s.get_role("admin").unwrap(), Some(role("admin")));
    s.insert_role(&role("extra")).unwrap();
    assert!(matches!(
        s.insert_role(&role("extra")),
        Err(StoreError::Duplicate)
    ));
    let ids: Vec<_> = s.list_roles().unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(ids, ["reader", "member", "admin", "extra"]);
    s.grant(&grant("u1", Target::Project("p1".into()), "member"))
        .unwrap();
    s.grant(&grant("u1", Target::Project("p1".into()), "reader"))
        .unwrap();
    s.grant(&grant("u2", Target::Domain("d2".into()), "reader"))
        .unwrap();
    let roles: Vec<_> = s
        .direct_roles("u1", &Target::Project("p1".into()))
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(
        roles,
        ["member", "admin", "reader"],
        "grant order; a repeat is a no-op"
    );
    let all: Vec<_> = s
        .list_assignments()
        .unwrap()
        .into_iter()
        .map(|a| (a.target, a.user_id, a.role_id))
        .collect();
    assert_eq!(
        all,
        [
            (Target::Domain("d2".into()), "u2".into(), "reader".into()),
            (Target::Project("p1".into()), "u1".into(), "admin".into()),
            (Target::Project("p1".into()), "u1".into(), "member".into()),
            (Target::Project("p1".into()), "u1".into(), "reader".into()),
            (Target::System, "u0".into(), "reader".into()),
        ]
    );
    s.revoke_grant(&grant("u1", Target::Project("p1".into()), "reader"))
        .unwrap();
    assert!(matches!(
        s.revoke_grant(&grant("u1", Target::Project("p1".into()), "reader")),
        Err(StoreError::NotFound)
    ));

    // Application credentials.
    let ac = |id: &str, name: &str, unrestricted: Option<bool>| AppCred {
        id: id.into(),
        name: name.into(),
        description: None,
        user_id: "u1".into(),
        project_id: "p1".into(),
        secret_hash: "h".into(),
        expires_at: Some("2030-01-01T00:00:00".into()),
        unrestricted,
        role_ids: vec!["member".into()],
    };
    s.insert_app_cred(&ac("a1", "first", None)).unwrap();
    s.insert_app_cred(&ac("a0", "second", Some(false))).unwrap();
    s.insert_app_cred(&ac("a2", "third", Some(true))).unwrap();
    assert!(matches!(
        s.insert_app_cred(&ac("a9", "first", None)),
        Err(StoreError::Duplicate)
    ));
    assert_eq!(s.get_app_cred("a1").unwrap(), Some(ac("a1", "first", None)));
    assert_eq!(
        s.get_app_cred("a0").unwrap().unwrap().unrestricted,
        Some(false)
    );
    assert_eq!(
        s.get_app_cred_by_name("u1", "third").unwrap(),
        Some(ac("a2", "third", Some(true)))
    );
    let ids: Vec<_> = s
        .list_app_creds("u1")
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(ids, ["a1", "a0", "a2"]);
    s.delete_app_cred("u1", "a0").unwrap();
    assert!(matches!(
        s.delete_app_cred("u1", "a0"),
        Err(StoreError::NotFound)
    ));

    // Credentials (access keys).
    s.insert_credential(&credential("c2", "u2", "AK2")).unwrap();
    assert!(matches!(
        s.insert_credential(&credential("c3", "u2", "AK2")),
        Err(StoreError::Duplicate)
    ));
    assert!(matches!(
        s.insert_credential(&credential("c2", "u2", "AK3")),
        Err(StoreError::Duplicate)
    ));
    assert_eq!(
        s.find_credential("alibaba", "AK2").unwrap(),
        Some(credential("c2", "u2", "AK2"))
    );
    assert!(s.find_credential("tencent", "AK2").unwrap().is_none());
    assert_eq!(
        s.get_credential("c1").unwrap(),
        Some(credential("c1", "u1", "AK1"))
    );
    let ids: Vec<_> = s
        .list_credentials()
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, ["c1", "c2"]);
    s.delete_credential("c1").unwrap();
    assert!(matches!(
        s.delete_credential("c1"),
        Err(StoreError::NotFound)
    ));

    // Revocations.
    s.revoke_token("audit-1", 100).unwrap();
    s.revoke_token("audit-1", 100).unwrap();
    s.revoke_token("audit-2", 300).unwrap();
    assert!(s.is_revoked("audit-1").unwrap());
    s.purge_revocations(200).unwrap();
    assert!(!s.is_revoked("audit-1").unwrap());
    assert!(s.is_revoked("audit-2").unwrap());
    assert_eq!(s.user_tokens_revoked_before("u1").unwrap(), None);
    s.revoke_user_tokens("u1", 50).unwrap();
    s.revoke_user_tokens("u1", 40).unwrap();
    assert_eq!(
        s.user_tokens_revoked_before("u1").unwrap(),
        Some(50),
        "never goes back"
    );
    s.revoke_user_tokens("u1", 60).unwrap();
    assert_eq!(s.user_tokens_revoked_before("u1").unwrap(), Some(60));

    // Signing keys.
    let key = |n: u32| SigningKey {
        private_pem: format!("priv{n}"),
        public_pem: format!("pub{n}"),
    };
    for n in 1..=4 {
        s.add_signing_key(&key(n), "2024-01-01T00:00:00Z", 2)
            .unwrap();
    }
    let keys: Vec<_> = s
        .signing_keys(5)
        .unwrap()
        .into_iter()
        .map(|k| k.private_pem)
        .collect();
    assert_eq!(
        keys,
        ["priv4", "priv3"],
        "newest first, the newest `keep` kept"
    );
    assert_eq!(s.signing_keys(1).unwrap().len(), 1);

    // A user goes with their grants, application credentials, access keys, revocation.
    s.delete_user("u1").unwrap();
    assert!(matches!(s.delete_user("u1"), Err(StoreError::NotFound)));
    assert!(s
        .direct_roles("u1", &Target::Project("p1".into()))
        .unwrap()
        .is_empty());
    assert!(s.list_app_creds("u1").unwrap().is_empty());
    assert_eq!(s.user_tokens_revoked_before("u1").unwrap(), None);
    // A project goes with its grants and application credentials; users lose it as default.
    s.insert_user(&a_user("u1", Some("p1"))).unwrap();
    s.grant(&grant("u1", Target::Project("p1".into()), "member"))
        .unwrap();
    s.insert_app_cred(&ac("a5", "again", None)).unwrap();
    s.delete_project("p1").unwrap();
    assert!(matches!(s.delete_project("p1"), Err(StoreError::NotFound)));
    assert!(s.get_project("p1").unwrap().is_none());
    assert!(s
        .direct_roles("u1", &Target::Project("p1".into()))
        .unwrap()
        .is_empty());
    assert!(s.list_app_creds("u1").unwrap().is_empty());
    assert_eq!(s.get_user("u1").unwrap().unwrap().default_project_id, None);
}
