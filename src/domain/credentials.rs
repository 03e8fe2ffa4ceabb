//! # Access keys of the cloud APIs
//!
//! An Alibaba AccessKey, a Tencent SecretId/SecretKey or a TWCC API key belongs to one user in
//! one project (fronts.md §2): a request it signs acts as that user, there, with the roles the
//! user has on that project. Created by an admin or the user (Keystone's `/v3/credentials`,
//! `novakeys credentials`), the fixture users get one per cloud. The secret is shown when a
//! credential is created and never again (the store keeps it, to check signatures).

use super::identity::effective_roles;
use super::{DomainError, Principal};
use crate::determinism::Determinism;
use crate::store::identity::{Credential, Target};
use crate::store::{ChangeToken, Store};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use zeroize::Zeroizing;

/// The clouds whose APIs sign with access keys.
pub const CLOUDS: &[&str] = &["alibaba", "tencent", "twcc"];

/// Keystone's id of a credential: hex SHA-256 of the access key (as for its `ec2` type).
pub fn credential_id(access: &str) -> String {
    base16ct::lower::encode_string(&Sha256::digest(access.as_bytes()))
}

/// What a signed request acts as.
#[derive(Debug)]
pub struct Resolved {
    pub principal: Principal,
    pub secret: Zeroizing<String>,
}

/// How many resolved access keys are remembered.
const CACHE_SIZE: usize = 1024;

/// (cloud, access) → what it resolved to, and the identity token it was read at.
type Cache = HashMap<(String, String), (ChangeToken, Option<Arc<Resolved>>)>;

pub struct CredentialService {
    store: Arc<dyn Store>,
    det: Arc<Determinism>,
    /// What access keys resolved to, while the identity data is unchanged.
    cache: Mutex<Cache>,
}

/// A new credential's access key and secret in the cloud's own style.
fn generated(cloud: &str, det: &Determinism) -> (String, String) {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let pick = |n: usize| -> String {
        det.bytes::<64>()
            .iter()
            .take(n)
            .map(|b| ALNUM[usize::from(*b) % ALNUM.len()] as char)
            .collect()
    };
    match cloud {
        // AccessKeyId `LTAI` + 20, AccessKeySecret 30.
        "alibaba" => (format!("LTAI{}", pick(20)), pick(30)),
        // SecretId `AKID` + 32, SecretKey 32.
        "tencent" => (format!("AKID{}", pick(32)), pick(32)),
        // One bearer key; nothing to sign with.
        _ => (pick(40), String::new()),
    }
}

impl CredentialService {
    pub fn new(store: Arc<dyn Store>, det: Arc<Determinism>) -> CredentialService {
        CredentialService {
            store,
            det,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The principal `access` acts as, and its secret; `None` when there is no such key of
    /// `cloud`, or its user or project is gone, disabled, or without a role there.
    pub fn resolve(&self, cloud: &str, access: &str) -> Result<Option<Arc<Resolved>>, DomainError> {
        let token = self.store.identity_token();
        let key = (cloud.to_string(), access.to_string());
        if let Some((t, hit)) = self.lock().get(&key) {
            if *t == token {
                return Ok(hit.clone());
            }
        }
        let resolved = self.resolve_uncached(cloud, access)?.map(Arc::new);
        let mut cache = self.lock();
        if cache.len() >= CACHE_SIZE {
            cache.clear();
        }
        cache.insert(key, (token, resolved.clone()));
        Ok(resolved)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn resolve_uncached(&self, cloud: &str, access: &str) -> Result<Option<Resolved>, DomainError> {
        let st = &*self.store;
        let Some(c) = st.find_credential(cloud, access)? else {
            return Ok(None);
        };
        let Some(user) = st.get_user(&c.user_id)? else {
            return Ok(None);
        };
        let Some(project) = st.get_project(&c.project_id)? else {
            return Ok(None);
        };
        let domains_ok = [&user.domain_id, &project.domain_id]
            .iter()
            .all(|d| st.get_domain(d).ok().flatten().is_some_and(|d| d.enabled));
        if !user.enabled || !project.enabled || !domains_ok {
            return Ok(None);
        }
        let roles = effective_roles(st, &user.id, &Target::Project(project.id.clone()))?;
        if roles.is_empty() {
            return Ok(None);
        }
        Ok(Some(Resolved {
            principal: Principal {
                user_id: user.id,
                project_id: project.id,
                roles: roles.into_iter().map(|r| r.name).collect(),
                system_scope: false,
            },
            secret: Zeroizing::new(c.secret),
        }))
    }

    fn may_manage(caller: &Principal, user_id: &str) -> Result<(), DomainError> {
        if caller.is_admin() || caller.user_id == user_id {
            Ok(())
        } else {
            Err(DomainError::Forbidden)
        }
    }

    /// Creates a credential of `cloud` for `user_id` in `project_id`, with the given access
    /// key and secret or new ones in the cloud's style. The returned value holds the secret:
    /// show it now, it is never shown again.
    pub fn create(
        &self,
        caller: &Principal,
        cloud: &str,
        user_id: &str,
        project_id: &str,
        given: Option<(String, String)>,
    ) -> Result<Credential, DomainError> {
        Self::may_manage(caller, user_id)?;
        if !CLOUDS.contains(&cloud) {
            return Err(DomainError::Invalid(format!("unknown cloud '{cloud}'")));
        }
        let st = &*self.store;
        if st.get_user(user_id)?.is_none() || st.get_project(project_id)?.is_none() {
            return Err(DomainError::NotFound);
        }
        let (access, secret) = given.unwrap_or_else(|| generated(cloud, &self.det));
        let c = Credential {
            id: credential_id(&access),
            cloud: cloud.to_string(),
            access,
            secret,
            user_id: user_id.to_string(),
            project_id: project_id.to_string(),
            created_at: self.det.now().to_rfc3339(),
        };
        st.insert_credential(&c)?;
        Ok(c)
    }

    /// The credentials `caller` may see (an admin: all; else the caller's own), optionally of
    /// one user and cloud. Secrets are blanked.
    pub fn list(
        &self,
        caller: &Principal,
        user_id: Option<&str>,
        cloud: Option<&str>,
    ) -> Result<Vec<Credential>, DomainError> {
        Ok(self
            .store
            .list_credentials()?
            .into_iter()
            .filter(|c| caller.is_admin() || c.user_id == caller.user_id)
            .filter(|c| user_id.is_none_or(|u| c.user_id == u))
            .filter(|c| cloud.is_none_or(|t| c.cloud == t))
            .map(redacted)
            .collect())
    }

    /// One credential (secret blanked); `NotFound` also for one the caller may not see.
    pub fn get(&self, caller: &Principal, id: &str) -> Result<Credential, DomainError> {
        match self.store.get_credential(id)? {
            Some(c) if caller.is_admin() || c.user_id == caller.user_id => Ok(redacted(c)),
            Some(_) => Err(DomainError::Forbidden),
            None => Err(DomainError::NotFound),
        }
    }

    pub fn delete(&self, caller: &Principal, id: &str) -> Result<(), DomainError> {
        self.get(caller, id)?;
        Ok(self.store.delete_credential(id)?)
    }

    /// The fixture credentials and the ones made since, of `user_id` (for `novakeys
    /// credentials`, which runs next to the store and prints what the clients need), with
    /// their secrets.
    pub fn of_user_with_secrets(
        &self,
        user_id: &str,
        cloud: &str,
    ) -> Result<Vec<Credential>, DomainError> {
        Ok(self
            .store
            .list_credentials()?
            .into_iter()
            .filter(|c| c.user_id == user_id && c.cloud == cloud)
            .collect())
    }
}

fn redacted(mut c: Credential) -> Credential {
    c.secret = String::new();
    c
}
