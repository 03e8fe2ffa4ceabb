//! # Identity: tokens, roles, secrets, the bootstrap fixtures
//!
//! The Keystone rules every front relies on: JWS tokens (signed with the store's ES256 keys,
//! Keystone's claim names), their verification (signature, expiry, revocation, and that the
//! user, its domain and the scope still exist, are enabled and still carry roles), Keystone's
//! role implications, and password / secret hashing. The Keystone front renders them; the
//! other fronts only verify tokens.

pub mod app_creds;
pub mod fixtures;
pub mod jws;
mod login;
pub mod secret;

pub use login::LoggedIn;

use super::{DomainError, Principal};
use crate::determinism::Determinism;
use crate::store::identity::{AppCred, Domain, Project, Role, Target, User};
use crate::store::{ChangeToken, Store, StoreError};
use jws::{Signer, TokenClaims};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// What the identity service is set up with.
#[derive(Debug, Clone)]
pub struct IdentitySettings {
    /// Bootstrap fixtures (YAML); `None`: the built-in `fixtures/default.yaml`.
    pub fixtures: Option<PathBuf>,
    /// Token lifetime in seconds.
    pub token_expiration: u64,
    /// bcrypt cost for passwords and secrets.
    pub password_hash_cost: u32,
}

/// How many verified tokens the compute hot path remembers.
const CACHE_SIZE: usize = 4096;
/// How many signing keys verify: the current one and the one before it.
const KEYS_KEPT: usize = 2;

/// The identity service, shared by every front.
pub struct Identity {
    store: Arc<dyn Store>,
    signer: RwLock<Arc<Signer>>,
    /// The identity token when `signer`'s keys were read. On a shared store another process
    /// may rotate or restore them (`rotate-signing-key`, a reset or snapshot restore through
    /// it): every identity write moves the token, and the keys are read again before the next
    /// signature or verification (one query per identity change).
    /// Held while the keys are read again, so no one signs with the old ones meanwhile.
    keys_at: Mutex<Option<ChangeToken>>,
    /// Bumped by every revocation and every identity change that can invalidate a token
    /// (disable/delete of a user or project, role changes, key rotation): cached
    /// verifications from an older generation are re-checked.
    generation: AtomicU64,
    cache: Mutex<HashMap<String, Cached>>,
    token_expiration: i64,
    hash_cost: u32,
    /// Secrets that already passed bcrypt: stored hash → salted SHA-256 of the secret.
    verified: Mutex<HashMap<String, [u8; 32]>>,
    /// Per-process random salt for `verified`.
    verified_salt: [u8; 32],
    det: Arc<Determinism>,
}

/// How many verified secrets `check_secret` remembers.
const VERIFIED_SIZE: usize = 1024;

struct Cached {
    ctx: Arc<Principal>,
    generation: (u64, ChangeToken),
    exp: i64,
}

/// What a token is scoped to.
#[derive(Debug, Clone)]
pub enum Scope {
    Unscoped,
    Project { project: Project, domain: Domain },
    Domain(Domain),
    System,
}

/// A token that verified, with everything needed to render it.
#[derive(Debug, Clone)]
pub struct ValidToken {
    pub claims: TokenClaims,
    pub user: User,
    pub user_domain: Domain,
    pub scope: Scope,
    pub roles: Vec<Role>,
    pub app_cred: Option<AppCred>,
}

impl ValidToken {
    pub fn is_admin(&self) -> bool {
        self.roles.iter().any(|r| r.name == "admin")
    }
    pub fn project_id(&self) -> Option<&str> {
        match &self.scope {
            Scope::Project { project, .. } => Some(&project.id),
            _ => None,
        }
    }
}

/// Why a token did not verify.
#[derive(Debug, PartialEq, Eq)]
pub enum Invalid {
    /// Not one of our tokens at all ("Could not find token").
    Unknown,
    /// Ours, but expired, revoked, or its user/scope is gone or disabled.
    Failed,
    /// Signed by us, but the store that says whether it was revoked (and whether its user and
    /// scope still stand) is away: neither valid nor invalid for now.
    Unavailable,
}

/// Keystone's bootstrap roles imply one another down this chain (keystone-manage bootstrap):
/// admin ⇒ manager ⇒ member ⇒ reader.
const CHAIN: [&str; 4] = ["admin", "manager", "member", "reader"];

/// The role `prior` directly implies: the next role of the chain that exists (a store made
/// before `manager` was a fixture role still has admin ⇒ member).
fn implied_by<'a>(prior: &str, all: &'a [Role]) -> Option<&'a Role> {
    let at = CHAIN.iter().position(|c| *c == prior)?;
    CHAIN[at + 1..]
        .iter()
        .find_map(|name| all.iter().find(|r| r.name == *name))
}

/// Direct roles on `target` plus the roles they imply (existing ones only), without repeats.
pub fn effective_roles(
    store: &dyn Store,
    user_id: &str,
    target: &Target,
) -> Result<Vec<Role>, StoreError> {
    let mut roles = store.direct_roles(user_id, target)?;
    if roles.is_empty() {
        return Ok(roles);
    }
    let all = store.list_roles()?;
    let mut i = 0;
    while i < roles.len() {
        if let Some(r) = implied_by(&roles[i].name, &all) {
            if !roles.iter().any(|x| x.id == r.id) {
                roles.push(r.clone());
            }
        }
        i += 1;
    }
    Ok(roles)
}

/// The implications among `roles` as (prior, implied) pairs, in the roles' order: Keystone's
/// role inference rules.
pub fn implications(all: &[Role]) -> Vec<(Role, Role)> {
    all.iter()
        .filter_map(|prior| implied_by(&prior.name, all).map(|r| (prior.clone(), r.clone())))
        .collect()
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Identity {
    /// Applies the fixtures to a store without identity data, makes the first signing key if
    /// there is none, and forgets revocations of long-expired tokens.
    pub fn new(
        settings: &IdentitySettings,
        store: Arc<dyn Store>,
        det: Arc<Determinism>,
    ) -> anyhow::Result<Identity> {
        let fixtures = fixtures::Fixtures::load(settings.fixtures.as_deref())?;
        let origin = settings
            .fixtures
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "fixtures/default.yaml".into());
        fixtures.apply_with(&*store, settings.password_hash_cost, &origin, &det)?;
        let mut keys = store.signing_keys(KEYS_KEPT)?;
        if keys.is_empty() {
            // Only one of several processes starting together makes it; all read that one.
            let key = jws::generate_key_with(&mut det.rng())?;
            store.add_first_signing_key(&key, &det.now().to_rfc3339())?;
            keys = store.signing_keys(KEYS_KEPT)?;
        }
        store.purge_revocations(det.timestamp() - 7 * 86400)?;
        let keys_at = Mutex::new(Some(store.identity_token()));
        Ok(Identity {
            store,
            signer: RwLock::new(Arc::new(Signer::new(&keys)?)),
            keys_at,
            generation: AtomicU64::new(0),
            cache: Mutex::new(HashMap::new()),
            token_expiration: settings.token_expiration as i64,
            hash_cost: settings.password_hash_cost,
            verified: Mutex::new(HashMap::new()),
            verified_salt: rand::random(),
            det,
        })
    }

    /// Where ids, keys and time come from.
    pub fn determinism(&self) -> &Determinism {
        &self.det
    }

    pub fn store(&self) -> &dyn Store {
        &*self.store
    }

    pub fn hash_cost(&self) -> u32 {
        self.hash_cost
    }

    pub fn token_expiration(&self) -> i64 {
        self.token_expiration
    }

    fn signer(&self) -> Arc<Signer> {
        if self.store.shared() {
            let now = self.store.identity_token();
            let mut at = self.keys_at.lock().unwrap_or_else(|e| e.into_inner());
            if *at != Some(now) {
                match self.load_signing_keys() {
                    Ok(()) => *at = Some(now),
                    // Again next time; meanwhile the keys held still sign and verify.
                    Err(e) => log::error!("reloading signing keys: {e}"),
                }
            }
        }
        self.signer
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn load_signing_keys(&self) -> anyhow::Result<()> {
        let keys = self.store.signing_keys(KEYS_KEPT)?;
        *self.signer.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(Signer::new(&keys)?);
        Ok(())
    }

    /// Whether `secret` matches the stored `hash` (`secret::verify`: bcrypt-sha256, or plain
    /// bcrypt for hashes stored before it). A secret that already matched this very hash
    /// is recognised by its salted SHA-256 (kept in memory only, for at most `VERIFIED_SIZE`
    /// hashes) instead of running bcrypt again: a changed password has a new hash, so it can
    /// never match a stale entry. Failures are never cached.
    pub fn check_secret(&self, secret: &str, hash: &str) -> bool {
        use sha2::{Digest, Sha256};
        let digest: [u8; 32] = Sha256::new()
            .chain_update(self.verified_salt)
            .chain_update(secret.as_bytes())
            .finalize()
            .into();
        {
            let cache = self.verified.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(known) = cache.get(hash) {
                // Constant-time comparison.
                if known
                    .iter()
                    .zip(digest)
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
                {
                    return true;
                }
            }
        }
        if !secret::verify(secret, hash) {
            return false;
        }
        let mut cache = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= VERIFIED_SIZE {
            cache.clear();
        }
        cache.insert(hash.to_string(), digest);
        true
    }

    /// The hash a password or secret is stored as (`secret::hash`, bcrypt-sha256; salt from
    /// the determinism source).
    pub fn hash_secret(&self, secret: &str) -> Result<String, StoreError> {
        secret::hash(secret, self.hash_cost, self.det.bytes::<16>())
            .map_err(|e| StoreError::Io(format!("hashing: {e}")))
    }

    /// The `iat` of a token issued now for `user_id`: now, or just after the user's last
    /// revocation when that is this very second (or later), so a token issued right after a
    /// password change works while every token issued before it, in the same second
    /// included, does not.
    pub fn issued_at(&self, user_id: &str) -> Result<i64, StoreError> {
        let now = self.det.timestamp();
        Ok(match self.store.user_tokens_revoked_before(user_id)? {
            Some(before) if before >= now => before + 1,
            _ => now,
        })
    }

    /// Revokes every token of `user_id` issued until now (Keystone's revocation event for a
    /// user, on a password change or a disable): a token with `iat <= before` no longer
    /// verifies, even once the user is enabled again. Tokens issued after a revocation in
    /// the same second carry a later `iat` (`issued_at`), so a second revocation within that
    /// second moves the bound past them.
    pub fn revoke_user_tokens(&self, user_id: &str) -> Result<(), StoreError> {
        let before = self.issued_at(user_id)?;
        self.store.revoke_user_tokens(user_id, before)?;
        self.invalidate();
        Ok(())
    }

    /// Makes every cached verification stale (call after any change that can invalidate one).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Makes a new signing key current; tokens signed with the previous key still verify,
    /// older ones no longer do.
    pub fn rotate_signing_key(&self) -> anyhow::Result<()> {
        let key = jws::generate_key_with(&mut self.det.rng())?;
        let created = self.det.now().to_rfc3339();
        self.store.add_signing_key(&key, &created, KEYS_KEPT)?;
        let keys = self.store.signing_keys(KEYS_KEPT)?;
        *self.signer.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(Signer::new(&keys)?);
        self.invalidate();
        Ok(())
    }

    /// Re-reads the signing keys from the store (after a reset or snapshot restore).
    pub fn reload_signing_keys(&self) -> anyhow::Result<()> {
        self.load_signing_keys()?;
        self.invalidate();
        Ok(())
    }

    pub fn sign(&self, claims: &TokenClaims) -> Result<String, DomainError> {
        self.signer()
            .sign(claims)
            .map_err(|e| DomainError::Internal(format!("signing a token: {e}")))
    }

    /// Full verification: signature, expiry (unless `allow_expired`), revocation, and that
    /// the user, its domain and the scope still exist, are enabled and still carry roles.
    pub fn verify(&self, token: &str, allow_expired: bool) -> Result<ValidToken, Invalid> {
        let claims = self.signer().verify(token).ok_or(Invalid::Unknown)?;
        if !allow_expired && claims.exp <= self.det.timestamp() {
            return Err(Invalid::Failed);
        }
        match check_claims(&*self.store, claims) {
            Ok(checked) => checked,
            Err(StoreError::Unavailable(_)) => Err(Invalid::Unavailable),
            Err(_) => Err(Invalid::Failed),
        }
    }

    /// The checks a presented token gets, for claims about to be signed.
    pub fn check_claims(
        &self,
        claims: TokenClaims,
    ) -> Result<Result<ValidToken, Invalid>, StoreError> {
        check_claims(&*self.store, claims)
    }

    /// Verifies an API request's token (keystonemiddleware's job): project-scoped and unscoped
    /// tokens pass; domain-scoped ones do not. Verified tokens are remembered until an
    /// identity change (any identity write, a clock change, a key rotation).
    pub fn authenticate(&self, token: &str) -> Option<Arc<Principal>> {
        self.try_authenticate(token).ok().flatten()
    }

    /// [`Identity::authenticate`], telling a token that could not be checked because the
    /// store is away (keystonemiddleware answers 503 when Keystone cannot be reached) from
    /// one that is not valid (`Ok(None)`).
    pub fn try_authenticate(&self, token: &str) -> Result<Option<Arc<Principal>>, StoreError> {
        // Read before verifying: a change made meanwhile makes the new entry stale at once.
        let generation = (
            self.generation.load(Ordering::SeqCst),
            self.store.identity_token(),
        );
        let now = self.det.timestamp();
        {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(c) = cache.get(token) {
                if c.generation == generation && c.exp > now {
                    return Ok(Some(c.ctx.clone()));
                }
            }
        }
        let Some(claims) = self.signer().verify(token) else {
            return Ok(None);
        };
        if claims.exp <= now {
            return Ok(None);
        }
        let valid = match check_claims(&*self.store, claims) {
            Ok(Ok(valid)) => valid,
            Ok(Err(_)) => return Ok(None),
            Err(e @ StoreError::Unavailable(_)) => return Err(e),
            Err(_) => return Ok(None),
        };
        let roles = valid.roles.iter().map(|r| r.name.clone()).collect();
        let ctx = Arc::new(match &valid.scope {
            Scope::Project { project, .. } => Principal {
                user_id: valid.user.id.clone(),
                project_id: project.id.clone(),
                roles,
                system_scope: false,
            },
            Scope::Unscoped => Principal {
                user_id: valid.user.id.clone(),
                project_id: String::new(),
                roles: Vec::new(),
                system_scope: false,
            },
            // Nova's key pair policies are project-scoped: a system token gets their 403.
            Scope::System => Principal {
                user_id: valid.user.id.clone(),
                project_id: String::new(),
                roles,
                system_scope: true,
            },
            Scope::Domain(_) => return Ok(None),
        });
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHE_SIZE {
            cache.retain(|_, c| c.generation == generation && c.exp > now);
            if cache.len() >= CACHE_SIZE {
                cache.clear();
            }
        }
        cache.insert(
            token.to_string(),
            Cached {
                ctx: ctx.clone(),
                generation,
                exp: valid.claims.exp,
            },
        );
        Ok(Some(ctx))
    }
}

fn check_claims(
    store: &dyn Store,
    claims: TokenClaims,
) -> Result<Result<ValidToken, Invalid>, StoreError> {
    let fail = Ok(Err(Invalid::Failed));
    if let Some(audit) = claims.openstack_audit_ids.first() {
        if store.is_revoked(audit)? {
            return fail;
        }
    } else {
        return fail;
    }
    let Some(user) = store.get_user(&claims.sub)? else {
        return fail;
    };
    let Some(user_domain) = store.get_domain(&user.domain_id)? else {
        return fail;
    };
    if !user.enabled || !user_domain.enabled {
        return fail;
    }
    if let Some(before) = store.user_tokens_revoked_before(&user.id)? {
        if claims.iat <= before {
            return fail;
        }
    }
    let (scope, target) = match (
        &claims.openstack_project_id,
        &claims.openstack_domain_id,
        &claims.openstack_system,
    ) {
        (Some(pid), None, None) => {
            let Some(project) = store.get_project(pid)? else {
                return fail;
            };
            let Some(domain) = store.get_domain(&project.domain_id)? else {
                return fail;
            };
            if !project.enabled || !domain.enabled {
                return fail;
            }
            (
                Scope::Project { project, domain },
                Some(Target::Project(pid.clone())),
            )
        }
        (None, Some(did), None) => {
            let Some(domain) = store.get_domain(did)? else {
                return fail;
            };
            if !domain.enabled {
                return fail;
            }
            (Scope::Domain(domain), Some(Target::Domain(did.clone())))
        }
        (None, None, Some(s)) if s == "all" => (Scope::System, Some(Target::System)),
        (None, None, None) => (Scope::Unscoped, None),
        _ => return fail,
    };
    let mut roles = match &target {
        Some(t) => effective_roles(store, &user.id, t)?,
        None => Vec::new(),
    };
    let app_cred = match &claims.openstack_app_cred_id {
        Some(id) => {
            let Some(ac) = store.get_app_cred(id)? else {
                return fail;
            };
            if ac.user_id != user.id
                || Some(ac.project_id.as_str()) != claims.openstack_project_id.as_deref()
            {
                return fail;
            }
            let ac_roles: Vec<Role> = ac
                .role_ids
                .iter()
                .filter_map(|rid| roles.iter().find(|r| &r.id == rid).cloned())
                .collect();
            roles = ac_roles;
            Some(ac)
        }
        None => None,
    };
    if target.is_some() && roles.is_empty() {
        return fail;
    }
    Ok(Ok(ValidToken {
        claims,
        user,
        user_domain,
        scope,
        roles,
        app_cred,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Durability;

    fn settings() -> IdentitySettings {
        IdentitySettings {
            fixtures: None,
            token_expiration: 3600,
            password_hash_cost: 4,
        }
    }

    fn open(path: &str) -> (Arc<dyn Store>, Identity) {
        let store = crate::store::open(path, Durability::Normal).unwrap();
        let id = Identity::new(&settings(), store.clone(), Arc::default()).unwrap();
        (store, id)
    }

    fn claims_for(id: &Identity, user: &str, project: &str, exp: i64) -> TokenClaims {
        let u = id
            .store
            .list_users()
            .unwrap()
            .into_iter()
            .find(|x| x.name == user)
            .unwrap();
        let p = id
            .store
            .list_projects()
            .unwrap()
            .into_iter()
            .find(|x| x.name == project)
            .unwrap();
        TokenClaims {
            sub: u.id,
            iat: now(),
            exp,
            openstack_methods: vec!["password".into()],
            openstack_audit_ids: vec![jws::random_audit_id()],
            openstack_project_id: Some(p.id),
            openstack_domain_id: None,
            openstack_system: None,
            openstack_app_cred_id: None,
        }
    }

    #[test]
    fn verified_secrets_are_remembered_only_for_their_hash() {
        let (_store, id) = open(":memory:");
        let h1 = bcrypt::hash("s3cret", 4).unwrap();
        let h2 = bcrypt::hash("other", 4).unwrap();
        assert!(!id.check_secret("wrong", &h1));
        assert!(id.check_secret("s3cret", &h1));
        assert!(id.check_secret("s3cret", &h1), "cached");
        assert!(
            !id.check_secret("wrong", &h1),
            "the cache never accepts another secret"
        );
        assert!(
            !id.check_secret("s3cret", &h2),
            "a new hash needs bcrypt again"
        );
        assert!(id.check_secret("other", &h2));
    }

    #[test]
    fn old_tokens_survive_one_rotation_not_two() {
        let (_store, id) = open(":memory:");
        let token = id
            .sign(&claims_for(&id, "demo", "demo", now() + 600))
            .unwrap();
        let ctx = id.authenticate(&token).expect("valid");
        assert_eq!(ctx.roles, vec!["member".to_string(), "reader".to_string()]);
        id.rotate_signing_key().unwrap();
        assert!(
            id.authenticate(&token).is_some(),
            "previous key still verifies"
        );
        let fresh = id
            .sign(&claims_for(&id, "demo", "demo", now() + 600))
            .unwrap();
        id.rotate_signing_key().unwrap();
        assert!(id.authenticate(&token).is_none(), "two rotations ago");
        assert!(id.verify(&token, true).is_err());
        assert!(id.authenticate(&fresh).is_some());
    }

    #[test]
    fn keys_and_data_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nk.db").to_string_lossy().into_owned();
        let token = {
            let (_store, id) = open(&path);
            id.sign(&claims_for(&id, "admin", "admin", now() + 600))
                .unwrap()
        };
        let (store, id) = open(&path);
        let ctx = id.authenticate(&token).expect("same key after restart");
        assert!(ctx.is_admin());
        assert_eq!(
            store.list_users().unwrap().len(),
            3,
            "fixtures applied once"
        );
    }

    #[test]
    fn expired_and_revoked() {
        let (store, id) = open(":memory:");
        let expired = id
            .sign(&claims_for(&id, "demo", "demo", now() - 10))
            .unwrap();
        assert!(id.authenticate(&expired).is_none());
        assert_eq!(id.verify(&expired, false).unwrap_err(), Invalid::Failed);
        assert!(id.verify(&expired, true).is_ok(), "allow_expired");
        let claims = claims_for(&id, "demo", "demo", now() + 600);
        let token = id.sign(&claims).unwrap();
        assert!(id.authenticate(&token).is_some());
        store
            .revoke_token(&claims.openstack_audit_ids[0], claims.exp)
            .unwrap();
        assert!(
            id.authenticate(&token).is_none(),
            "an identity write retires the cached verification"
        );
        assert_eq!(id.verify("garbage", false).unwrap_err(), Invalid::Unknown);
    }

    #[test]
    fn passwords_are_bcrypt_sha256_hashed() {
        let (store, id) = open(":memory:");
        for u in store.list_users().unwrap() {
            let h = u.password_hash.unwrap();
            assert!(
                h.starts_with("$bcrypt-sha256$v=2,t=2b,r=4$"),
                "cost 4 by default: {h}"
            );
            assert!(!h.contains(&u.name));
            assert!(id.check_secret(&u.name, &h));
        }
    }

    #[test]
    fn long_secrets_count_to_the_last_byte_and_old_hashes_still_verify() {
        let (_store, id) = open(":memory:");
        let head = "s".repeat(72);
        let (right, wrong) = (format!("{head}right"), format!("{head}wrong"));
        let h = id.hash_secret(&right).unwrap();
        assert!(!id.check_secret(&wrong, &h), "before anything is cached");
        assert!(id.check_secret(&right, &h));
        assert!(
            !id.check_secret(&wrong, &h),
            "the cache holds the whole secret"
        );
        let old = bcrypt::hash("legacy", 4).unwrap();
        assert!(
            id.check_secret("legacy", &old),
            "plain bcrypt hashes still work"
        );
        assert!(!id.check_secret("legacz", &old));
    }

    #[test]
    fn user_revocation_covers_the_same_second_but_not_what_follows() {
        let det = Arc::new(Determinism::new(None, Some(chrono::Utc::now())));
        let store = crate::store::open(":memory:", Durability::Normal).unwrap();
        let id = Identity::new(&settings(), store.clone(), det.clone()).unwrap();
        let mut claims = claims_for(&id, "demo", "demo", det.timestamp() + 600);
        claims.iat = id.issued_at(&claims.sub).unwrap();
        let before = id.sign(&claims).unwrap();
        assert!(id.authenticate(&before).is_some());
        id.revoke_user_tokens(&claims.sub).unwrap();
        assert!(id.authenticate(&before).is_none(), "same second, revoked");
        let mut after = claims.clone();
        after.openstack_audit_ids = vec![jws::random_audit_id()];
        after.iat = id.issued_at(&claims.sub).unwrap();
        let after = id.sign(&after).unwrap();
        assert!(
            id.authenticate(&after).is_some(),
            "issued after the revocation"
        );
        id.revoke_user_tokens(&claims.sub).unwrap();
        assert!(
            id.authenticate(&after).is_none(),
            "a second revocation in the same second covers it"
        );
        det.advance(chrono::Duration::seconds(5));
        assert!(id.authenticate(&before).is_none(), "still revoked later");
    }
}
