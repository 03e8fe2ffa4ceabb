//! # Key pairs: the rules every front shares
//!
//! Who owns what (`KeypairScope`), who may touch it (Nova's default policy: admins anything,
//! everyone else their own user's key pairs, never with a system-scoped token), the quota
//! (counted per owner, enforced again inside the insert so concurrent creates cannot
//! overshoot), import and generation (a pooled RSA key when one is ready), list pages and
//! deletes. Names' syntax, fingerprint scheme and key comment are each front's choice.

use super::listings::Listings;
use super::{DomainError, KeypairScope, Principal};
use crate::determinism::Determinism;
use crate::keys::{self, Fingerprint, KeyKind, KeyPool, KeyRequest, SshKeyOptions};
pub use crate::store::keypairs::CreateRules;
use crate::store::keypairs::{
    Keypair, KeypairChange, KeypairExtra, ListQuery, NewKeypair, Order, Owner, Tag,
};
use crate::store::{ChangeToken, Store};
use chrono::SubsecRound;
use std::sync::Arc;
use zeroize::Zeroizing;

/// The key pair settings every front shares.
#[derive(Debug, Clone, Copy)]
pub struct KeypairSettings {
    /// Key pairs per owner (`None`: unlimited).
    pub quota: Option<i64>,
    pub scope: KeypairScope,
}

/// Whose key pairs a call addresses; only [`KeypairService::target`] makes one, after the
/// policy check, so no call can skip it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    owner: Owner,
    /// The user the policy was checked against (and who a new key pair belongs to).
    user_id: String,
}

impl Target {
    pub fn owner(&self) -> &Owner {
        &self.owner
    }
    pub fn user_id(&self) -> &str {
        &self.user_id
    }
}

/// Where a new key pair's public key comes from.
#[derive(Debug, Clone)]
pub enum Material {
    /// The caller's public key, stored verbatim.
    Import(String),
    /// A new key: ssh keys are written with these options; x509 certificates are Nova's.
    Generate(SshKeyOptions),
    /// A new ssh key whose public key's comment is made from the new key pair's internal id
    /// (Tencent writes its `skey-…` id there), in the same write as the insert.
    GenerateCommentedById {
        encoding: keys::PrivateKeyEncoding,
        comment: fn(i64) -> String,
    },
}

/// A key pair to create.
#[derive(Debug, Clone)]
pub struct KeypairSpec {
    pub name: String,
    pub kind: KeyKind,
    pub material: Material,
    /// How the front fingerprints ssh keys.
    pub fingerprint: Fingerprint,
    /// The cloud fronts' fields (`Default` for Nova).
    pub extra: KeypairExtra,
    /// Checked by the front (its cloud's rules); unique keys.
    pub tags: Vec<Tag>,
    /// The front's refusals beyond Nova's (checked where the key pair is stored).
    pub rules: CreateRules,
}

/// A key pair with its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub keypair: Keypair,
    pub tags: Vec<Tag>,
}

/// A new key pair, with its private key when it was generated (returned once, never stored).
pub struct Created {
    pub keypair: Keypair,
    pub private_key: Option<Zeroizing<String>>,
}

/// Which part of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// Nova's paging: names after `marker` (which must exist), at most `limit`.
    Marker {
        limit: Option<u32>,
        marker: Option<String>,
    },
    /// 1-based page `number` of `size`.
    Number { number: u64, size: u32 },
    /// `limit` rows after skipping `offset`.
    Offset { offset: u64, limit: u32 },
}

/// One page, and for numbered and offset pages how many there are in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub items: Vec<Keypair>,
    pub total: Option<u64>,
}

pub struct KeypairService {
    store: Arc<dyn Store>,
    pool: KeyPool,
    det: Arc<Determinism>,
    settings: KeypairSettings,
    listings: Listings,
}

impl KeypairService {
    pub fn new(
        store: Arc<dyn Store>,
        pool: KeyPool,
        det: Arc<Determinism>,
        settings: KeypairSettings,
    ) -> KeypairService {
        KeypairService {
            store,
            pool,
            det,
            settings,
            listings: Listings::default(),
        }
    }

    pub fn settings(&self) -> KeypairSettings {
        self.settings
    }

    /// Moves with every key pair write: a cached rendering made after reading this value is
    /// current while it still holds.
    pub fn change_token(&self) -> ChangeToken {
        self.store.keypairs_token()
    }

    /// The owner a call by `p` addresses: `user_id`'s own key pairs when given (non-empty),
    /// else the caller's (per user, or the token's project under `KeypairScope::Project`).
    /// Refused unless `p` is an admin or that user, and never with a system-scoped token.
    pub fn target(&self, p: &Principal, user_id: Option<&str>) -> Result<Target, DomainError> {
        let target = match user_id.filter(|u| !u.is_empty()) {
            Some(u) => Target {
                owner: Owner::User(u.to_string()),
                user_id: u.to_string(),
            },
            None => Target {
                owner: match self.settings.scope {
                    KeypairScope::User => Owner::User(p.user_id.clone()),
                    KeypairScope::Project => Owner::Project(p.project_id.clone()),
                },
                user_id: p.user_id.clone(),
            },
        };
        if !p.system_scope && (p.is_admin() || p.user_id == target.user_id) {
            Ok(target)
        } else {
            Err(DomainError::Forbidden)
        }
    }

    /// Creates a key pair of `target` in `p`'s project.
    pub async fn create(
        &self,
        p: &Principal,
        target: &Target,
        spec: KeypairSpec,
    ) -> Result<Created, DomainError> {
        self.create_capped(p, target, spec, None).await
    }

    /// [`create`](Self::create) under a front's own limit as well (Alibaba's key pairs per
    /// region): the owner may hold at most the smaller of the quota and `cap`, enforced in
    /// the same insert transaction as the quota, so concurrent creates cannot overshoot
    /// either. `QuotaExceeded` names the limit that applied.
    pub async fn create_capped(
        &self,
        p: &Principal,
        target: &Target,
        mut spec: KeypairSpec,
        cap: Option<i64>,
    ) -> Result<Created, DomainError> {
        let limit = match (self.settings.quota, cap) {
            (Some(q), Some(c)) => Some(q.min(c)),
            (q, c) => q.or(c),
        };
        let material = std::mem::replace(&mut spec.material, Material::Import(String::new()));
        if let (Some(limit), false) = (limit, matches!(material, Material::Import(_))) {
            // Early, so an owner at the limit never waits for a key generation; the insert
            // checks again (and is all an import needs).
            if self.store.count_keypairs(&target.owner).await? + 1 > limit {
                return Err(DomainError::QuotaExceeded { limit });
            }
        }
        let (options, id_comment) = match material {
            // Parsing a public key takes microseconds: right here.
            Material::Import(pk) => {
                let fp = keys::fingerprint(spec.kind, &pk, spec.fingerprint)?;
                return self
                    .insert(p, target, spec, (pk, fp, None), None, limit)
                    .await;
            }
            Material::Generate(options) => (options, None),
            // Made without a comment: the store appends the one made from the new id.
            Material::GenerateCommentedById { encoding, comment } => (
                SshKeyOptions {
                    comment: String::new(),
                    encoding,
                },
                Some(comment),
            ),
        };
        let mut generated = self.generate(spec.kind, options, &target.user_id).await?;
        let private = Zeroizing::new(std::mem::take(&mut generated.private_key));
        let material = (
            std::mem::take(&mut generated.public_key),
            std::mem::take(&mut generated.fingerprint),
            Some(private),
        );
        self.insert(p, target, spec, material, id_comment, limit)
            .await
    }

    /// Stores `spec` (its material already made into `material`: public key, fingerprint, the
    /// private key to hand back once).
    async fn insert(
        &self,
        p: &Principal,
        target: &Target,
        spec: KeypairSpec,
        material: (String, String, Option<Zeroizing<String>>),
        id_comment: Option<fn(i64) -> String>,
        limit: Option<i64>,
    ) -> Result<Created, DomainError> {
        let (public_key, fingerprint, private_key) = material;
        let new = NewKeypair {
            user_id: target.user_id.clone(),
            project_id: p.project_id.clone(),
            name: spec.name,
            kind: spec.kind,
            public_key,
            fingerprint,
            // To the microsecond, as stored: what create answers is what a get reads back.
            created_at: self.det.now().naive_utc().trunc_subsecs(6),
            extra: spec.extra,
            tags: spec.tags,
            id_comment,
            rules: spec.rules,
        };
        let keypair = self
            .store
            .create_keypair(new, target.owner.clone(), limit)
            .await?;
        Ok(Created {
            keypair,
            private_key,
        })
    }

    /// A pooled key when one is ready (never in deterministic mode: the pool is off there),
    /// else generated off the async workers (RSA takes a quarter second).
    async fn generate(
        &self,
        kind: KeyKind,
        options: SshKeyOptions,
        user_id: &str,
    ) -> Result<keys::GeneratedKey, DomainError> {
        if kind == KeyKind::Ssh {
            if let Some(key) = self.pool.take() {
                return Ok(keys::ssh_key_from(key, &options)?);
            }
        }
        let request = match kind {
            KeyKind::Ssh => KeyRequest::Ssh(options),
            KeyKind::X509 => KeyRequest::X509 {
                user_id: user_id.to_string(),
            },
        };
        let mut rng = self.det.rng();
        let now = self.det.system_time();
        tokio::task::spawn_blocking(move || keys::generate_at(&request, &mut rng, now))
            .await
            .map_err(|e| DomainError::Internal(format!("key generation task failed: {e}")))?
            .map_err(DomainError::from)
    }

    /// The key pair `name` of `target`.
    pub async fn get(&self, target: &Target, name: &str) -> Result<Keypair, DomainError> {
        self.store
            .get_keypair(&target.owner, name)
            .await?
            .ok_or(DomainError::NotFound)
    }

    /// One page of `target`'s key pairs in `order` (marker pages are always by name).
    pub async fn list(
        &self,
        target: &Target,
        page: Page,
        order: Order,
    ) -> Result<Listing, DomainError> {
        let (query, counted) = match page {
            Page::Marker { limit, marker } => (
                ListQuery {
                    order: Order::Name,
                    after: marker,
                    offset: 0,
                    limit,
                },
                false,
            ),
            Page::Number { number, size } => (
                ListQuery {
                    order,
                    after: None,
                    offset: number.saturating_sub(1).saturating_mul(u64::from(size)),
                    limit: Some(size),
                },
                true,
            ),
            Page::Offset { offset, limit } => (
                ListQuery {
                    order,
                    after: None,
                    offset,
                    limit: Some(limit),
                },
                true,
            ),
        };
        let total = if counted {
            Some(self.store.count_keypairs(&target.owner).await? as u64)
        } else {
            None
        };
        let items = self.store.list_keypairs(&target.owner, query).await?;
        Ok(Listing { items, total })
    }

    /// Deletes `name` of `target`, bound or not (Nova's rule: the instance keeps its key).
    pub async fn delete(&self, target: &Target, name: &str) -> Result<(), DomainError> {
        self.store
            .delete_keypair(target.owner.clone(), name.to_string(), false)
            .await
            .map_err(DomainError::from)
    }

    /// Deletes `name` of `target` unless an instance is bound to it (`InUse`): the cloud
    /// fronts' rule.
    pub async fn delete_unbound(&self, target: &Target, name: &str) -> Result<(), DomainError> {
        self.store
            .delete_keypair(target.owner.clone(), name.to_string(), true)
            .await
            .map_err(DomainError::from)
    }

    /// Deletes each of `names` (refusing bound ones), each with its own outcome: one failing
    /// takes none of the others down.
    pub async fn delete_many(
        &self,
        target: &Target,
        names: &[String],
    ) -> Vec<(String, Result<(), DomainError>)> {
        let deletes = names
            .iter()
            .map(|name| async move { (name.clone(), self.delete_unbound(target, name).await) });
        futures_util::future::join_all(deletes).await
    }

    /// Renames and/or re-describes `name` of `target` (the id stays).
    pub async fn change(
        &self,
        target: &Target,
        name: &str,
        change: KeypairChange,
    ) -> Result<Keypair, DomainError> {
        Ok(self
            .store
            .change_keypair(target.owner.clone(), name.to_string(), change)
            .await?)
    }

    /// `name` of `target` with its tags.
    pub async fn get_with_tags(&self, target: &Target, name: &str) -> Result<Found, DomainError> {
        let keypair = self.get(target, name).await?;
        let mut tags = self.store.keypair_tags(vec![keypair.id]).await?;
        let tags = tags.remove(&keypair.id).unwrap_or_default();
        Ok(Found { keypair, tags })
    }

    /// The key pairs of `target` that `keep` accepts (each front's own filters: wildcards,
    /// fingerprints, tags, ids), in `order`, `limit` of them after `offset`, and how many
    /// matched in all. An owner holds at most its quota's worth, so they are filtered here.
    pub async fn find(
        &self,
        target: &Target,
        order: Order,
        keep: impl Fn(&Keypair, &[Tag]) -> bool,
        offset: u64,
        limit: Option<u32>,
    ) -> Result<(Vec<Found>, u64), DomainError> {
        let all = self.everything(&target.owner, order).await?;
        let matched: Vec<&Found> = all.iter().filter(|f| keep(&f.keypair, &f.tags)).collect();
        let total = matched.len() as u64;
        let page = matched
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(limit.map_or(usize::MAX, |l| l as usize))
            .cloned()
            .collect();
        Ok((page, total))
    }

    /// Every key pair of `owner` with its tags, from the listings cache while no write has
    /// happened since it was read.
    async fn everything(
        &self,
        owner: &Owner,
        order: Order,
    ) -> Result<Arc<Vec<Found>>, DomainError> {
        let token = self.store.keypairs_token();
        if let Some(hit) = self.listings.get(owner, order, token) {
            return Ok(hit);
        }
        let all = self
            .store
            .list_keypairs(
                owner,
                ListQuery {
                    order,
                    ..ListQuery::default()
                },
            )
            .await?;
        let mut tags = self
            .store
            .keypair_tags(all.iter().map(|k| k.id).collect())
            .await?;
        let all: Arc<Vec<Found>> = Arc::new(
            all.into_iter()
                .map(|keypair| {
                    let tags = tags.remove(&keypair.id).unwrap_or_default();
                    Found { keypair, tags }
                })
                .collect(),
        );
        self.listings.put(owner.clone(), order, token, all.clone());
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Durability;

    const ED25519: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGGY0fh32MPHfCPM2rKWmuJVJgBbCxUWRJ6Ibd/ftQWq me@host";

    fn service(quota: Option<i64>, scope: KeypairScope) -> KeypairService {
        let store = crate::store::open(":memory:", Durability::Normal).unwrap();
        KeypairService::new(
            store,
            KeyPool::disabled(),
            Arc::new(Determinism::new(Some(7), None)),
            KeypairSettings { quota, scope },
        )
    }

    fn user(id: &str, project: &str, roles: &[&str]) -> Principal {
        Principal {
            user_id: id.into(),
            project_id: project.into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            system_scope: false,
        }
    }

    fn import(name: &str, key: &str) -> KeypairSpec {
        KeypairSpec {
            name: name.into(),
            kind: KeyKind::Ssh,
            material: Material::Import(key.into()),
            fingerprint: Fingerprint::NovaMd5,
            extra: Default::default(),
            tags: Vec::new(),
            rules: CreateRules::default(),
        }
    }

    fn names(l: &Listing) -> Vec<&str> {
        l.items.iter().map(|k| k.name.as_str()).collect()
    }

    #[test]
    fn the_policy_and_the_scope_pick_the_owner() {
        let s = service(None, KeypairScope::User);
        let alice = user("alice", "p1", &["member"]);
        let admin = user("root", "p0", &["admin"]);
        assert_eq!(
            s.target(&alice, None).unwrap().owner(),
            &Owner::User("alice".into())
        );
        assert_eq!(
            s.target(&alice, Some("")).unwrap().owner(),
            &Owner::User("alice".into()),
            "an empty user_id is the caller"
        );
        assert!(matches!(
            s.target(&alice, Some("bob")),
            Err(DomainError::Forbidden)
        ));
        let t = s.target(&admin, Some("bob")).unwrap();
        assert_eq!(
            (t.owner(), t.user_id()),
            (&Owner::User("bob".into()), "bob")
        );
        let system = Principal {
            system_scope: true,
            ..admin.clone()
        };
        assert!(matches!(
            s.target(&system, None),
            Err(DomainError::Forbidden)
        ));
        let shared = service(None, KeypairScope::Project);
        assert_eq!(
            shared.target(&alice, None).unwrap().owner(),
            &Owner::Project("p1".into())
        );
        assert_eq!(
            shared.target(&alice, Some("alice")).unwrap().owner(),
            &Owner::User("alice".into()),
            "user_id addresses that user's own key pairs"
        );
    }

    #[tokio::test]
    async fn import_get_list_delete() {
        let s = service(None, KeypairScope::User);
        let alice = user("alice", "p1", &["member"]);
        let t = s.target(&alice, None).unwrap();
        let before = s.change_token();
        let created = s.create(&alice, &t, import("k1", ED25519)).await.unwrap();
        assert!(s.change_token() > before, "a write moves the change token");
        assert!(created.private_key.is_none());
        let kp = created.keypair;
        assert_eq!(
            (kp.user_id.as_str(), kp.project_id.as_str()),
            ("alice", "p1")
        );
        assert_eq!(kp.public_key, ED25519, "stored verbatim");
        assert_eq!(
            kp.fingerprint,
            keys::ssh_fingerprint(ED25519, Fingerprint::NovaMd5).unwrap()
        );
        assert_eq!(s.get(&t, "k1").await.unwrap(), kp);
        assert!(matches!(
            s.create(&alice, &t, import("k1", ED25519)).await,
            Err(DomainError::Duplicate)
        ));
        assert!(matches!(
            s.create(&alice, &t, import("bad", "ssh-rsa nope")).await,
            Err(DomainError::InvalidKey(_))
        ));
        s.delete(&t, "k1").await.unwrap();
        assert!(matches!(s.get(&t, "k1").await, Err(DomainError::NotFound)));
        assert!(matches!(
            s.delete(&t, "k1").await,
            Err(DomainError::NotFound)
        ));
    }

    /// The front's fingerprint scheme decides what is stored.
    #[tokio::test]
    async fn the_fingerprint_scheme_is_the_fronts() {
        let s = service(None, KeypairScope::User);
        let alice = user("alice", "p1", &[]);
        let t = s.target(&alice, None).unwrap();
        let double = ED25519.replacen(' ', "  ", 1);
        let mut plain = import("plain", &double);
        plain.fingerprint = Fingerprint::Md5;
        let nova = s.create(&alice, &t, import("nova", &double)).await.unwrap();
        let plain = s.create(&alice, &t, plain).await.unwrap();
        assert_eq!(
            plain.keypair.fingerprint,
            keys::ssh_fingerprint(ED25519, Fingerprint::Md5).unwrap()
        );
        assert_ne!(nova.keypair.fingerprint, plain.keypair.fingerprint);
    }

    #[tokio::test]
    async fn generation_takes_the_fronts_options_and_never_stores_the_private_key() {
        let s = service(None, KeypairScope::User);
        let alice = user("alice", "p1", &[]);
        let t = s.target(&alice, None).unwrap();
        let spec = KeypairSpec {
            name: "gen".into(),
            kind: KeyKind::Ssh,
            material: Material::Generate(SshKeyOptions {
                comment: "skey-12345678".into(),
                encoding: keys::PrivateKeyEncoding::Pkcs8,
            }),
            fingerprint: Fingerprint::Md5,
            extra: Default::default(),
            tags: Vec::new(),
            rules: CreateRules::default(),
        };
        let created = s.create(&alice, &t, spec).await.unwrap();
        let private = created
            .private_key
            .expect("a generated key is returned once");
        assert!(private.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(created.keypair.public_key.ends_with(" skey-12345678"));
        let stored = s.get(&t, "gen").await.unwrap();
        assert_eq!(stored.public_key, created.keypair.public_key);
        let image = s.store.capture().unwrap();
        let dump = format!("{:?}", image.to_json());
        assert!(!dump.contains("PRIVATE KEY"), "the store never sees it");
    }

    /// The comment made from the id is on the stored key and on the answer, in one write.
    #[tokio::test]
    async fn a_generated_key_can_carry_its_own_id_as_comment() {
        fn comment(id: i64) -> String {
            format!("id-{id}")
        }
        let s = service(None, KeypairScope::User);
        let alice = user("alice", "p1", &[]);
        let t = s.target(&alice, None).unwrap();
        s.create(&alice, &t, import("first", ED25519))
            .await
            .unwrap();
        let spec = KeypairSpec {
            name: "gen".into(),
            kind: KeyKind::Ssh,
            material: Material::GenerateCommentedById {
                encoding: keys::PrivateKeyEncoding::Pkcs1,
                comment,
            },
            fingerprint: Fingerprint::Md5,
            extra: Default::default(),
            tags: Vec::new(),
            rules: CreateRules::default(),
        };
        let created = s.create(&alice, &t, spec).await.unwrap();
        let kp = &created.keypair;
        let expected = format!(" id-{}", kp.id);
        assert!(kp.public_key.ends_with(&expected), "{}", kp.public_key);
        assert_eq!(
            kp.public_key.split(' ').count(),
            3,
            "one comment, no empty one"
        );
        assert_eq!(s.get(&t, "gen").await.unwrap().public_key, kp.public_key);
        assert_eq!(
            kp.fingerprint,
            keys::ssh_fingerprint(&kp.public_key, Fingerprint::Md5).unwrap()
        );
        let private = created.private_key.expect("returned once");
        assert!(private.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        // An import keeps its text as given.
        assert_eq!(s.get(&t, "first").await.unwrap().public_key, ED25519);
    }

    #[tokio::test]
    async fn quota_is_per_owner_and_checked_before_generating() {
        let s = service(Some(2), KeypairScope::Project);
        let a = user("a", "shared", &[]);
        let b = user("b", "shared", &[]);
        let ta = s.target(&a, None).unwrap();
        let tb = s.target(&b, None).unwrap();
        s.create(&a, &ta, import("one", ED25519)).await.unwrap();
        s.create(&b, &tb, import("two", ED25519)).await.unwrap();
        // The project's quota is used up by its two members; a generation would take a
        // quarter second, an early refusal none.
        let spec = KeypairSpec {
            name: "three".into(),
            kind: KeyKind::Ssh,
            material: Material::Generate(SshKeyOptions {
                comment: "c".into(),
                encoding: keys::PrivateKeyEncoding::Pkcs1,
            }),
            fingerprint: Fingerprint::Md5,
            extra: Default::default(),
            tags: Vec::new(),
            rules: CreateRules::default(),
        };
        let started = std::time::Instant::now();
        assert!(matches!(
            s.create(&a, &ta, spec).await,
            Err(DomainError::QuotaExceeded { limit: 2 })
        ));
        assert!(started.elapsed() < std::time::Duration::from_millis(100));
        assert!(matches!(
            s.create(&b, &tb, import("one", ED25519)).await,
            Err(DomainError::QuotaExceeded { .. })
        ));
    }

    #[tokio::test]
    async fn a_fronts_cap_applies_with_the_quota_and_holds_under_concurrency() {
        let s = Arc::new(service(Some(5), KeypairScope::User));
        let alice = user("alice", "p1", &[]);
        let t = s.target(&alice, None).unwrap();
        // 20 concurrent creates under a cap of 3 (below the quota of 5): exactly 3 land.
        let creates = (0..20).map(|i| {
            let (s, alice, t) = (s.clone(), alice.clone(), t.clone());
            tokio::spawn(async move {
                s.create_capped(&alice, &t, import(&format!("k{i}"), ED25519), Some(3))
                    .await
            })
        });
        let outcomes = futures_util::future::join_all(creates).await;
        let made = outcomes.iter().filter(|o| matches!(o, Ok(Ok(_)))).count();
        assert_eq!(made, 3);
        assert!(outcomes.iter().all(|o| matches!(
            o,
            Ok(Ok(_)) | Ok(Err(DomainError::QuotaExceeded { limit: 3 }))
        )));
        // The quota still applies when the cap is above it.
        s.create(&alice, &t, import("q1", ED25519)).await.unwrap();
        s.create(&alice, &t, import("q2", ED25519)).await.unwrap();
        assert!(matches!(
            s.create_capped(&alice, &t, import("q3", ED25519), Some(500))
                .await,
            Err(DomainError::QuotaExceeded { limit: 5 })
        ));
    }

    #[tokio::test]
    async fn pages_by_marker_number_and_offset() {
        let s = service(None, KeypairScope::User);
        let alice = user("alice", "p1", &[]);
        let t = s.target(&alice, None).unwrap();
        for name in ["c", "a", "e", "b", "d"] {
            s.create(&alice, &t, import(name, ED25519)).await.unwrap();
        }
        let marker = |limit, marker: Option<&str>| Page::Marker {
            limit,
            marker: marker.map(str::to_string),
        };
        let first = s
            .list(&t, marker(Some(2), None), Order::Name)
            .await
            .unwrap();
        assert_eq!((names(&first), first.total), (vec!["a", "b"], None));
        let next = s
            .list(&t, marker(Some(2), Some("b")), Order::Name)
            .await
            .unwrap();
        assert_eq!(names(&next), ["c", "d"]);
        assert!(matches!(
            s.list(&t, marker(None, Some("zz")), Order::Name).await,
            Err(DomainError::InvalidPage)
        ));
        let newest = s
            .list(&t, Page::Number { number: 1, size: 2 }, Order::Newest)
            .await
            .unwrap();
        assert_eq!((names(&newest), newest.total), (vec!["d", "b"], Some(5)));
        let last = s
            .list(&t, Page::Number { number: 3, size: 2 }, Order::Newest)
            .await
            .unwrap();
        assert_eq!(names(&last), ["c"]);
        let offset = s
            .list(
                &t,
                Page::Offset {
                    offset: 1,
                    limit: 3,
                },
                Order::Name,
            )
            .await
            .unwrap();
        assert_eq!(
            (names(&offset), offset.total),
            (vec!["b", "c", "d"], Some(5))
        );
    }

    #[tokio::test]
    async fn delete_many_reports_each_name() {
        let s = service(None, KeypairScope::User);
        let alice = user("alice", "p1", &[]);
        let t = s.target(&alice, None).unwrap();
        s.create(&alice, &t, import("a", ED25519)).await.unwrap();
        s.create(&alice, &t, import("b", ED25519)).await.unwrap();
        let out = s
            .delete_many(&t, &["a".into(), "nope".into(), "b".into()])
            .await;
        let outcome: Vec<(&str, bool)> = out.iter().map(|(n, r)| (n.as_str(), r.is_ok())).collect();
        assert_eq!(outcome, [("a", true), ("nope", false), ("b", true)]);
        assert!(matches!(out[1].1, Err(DomainError::NotFound)));
        let left = s
            .list(
                &t,
                Page::Offset {
                    offset: 0,
                    limit: 10,
                },
                Order::Name,
            )
            .await
            .unwrap();
        assert_eq!(left.total, Some(0));
    }
}
