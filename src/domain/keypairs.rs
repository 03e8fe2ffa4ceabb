//! # Key pairs: the rules every front shares
//!
//! Who owns what (`KeypairScope`), who may touch it (Nova's default policy: admins anything,
//! everyone else their own user's key pairs, never with a system-scoped token), the quota
//! (counted per owner, enforced again inside the insert so concurrent creates cannot
//! overshoot), import and generation (a pooled RSA key when one is ready), list pages and
//! deletes. Names' syntax, fingerprint scheme and key comment are each front's choice.

use super::{DomainError, KeypairScope, Principal};
use crate::determinism::Determinism;
use crate::keys::{self, Fingerprint, KeyKind, KeyPool, KeyRequest, SshKeyOptions};
use crate::store::keypairs::{Keypair, ListQuery, NewKeypair, Order, Owner};
use crate::store::{ChangeToken, Store};
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
}

/// A key pair to create.
#[derive(Debug, Clone)]
pub struct KeypairSpec {
    pub name: String,
    pub kind: KeyKind,
    pub material: Material,
    /// How the front fingerprints ssh keys.
    pub fingerprint: Fingerprint,
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
        let limit = self.settings.quota;
        if let Some(limit) = limit {
            // Early, so an owner at the limit never waits for a key generation; the insert
            // checks again.
            if self.store.count_keypairs(&target.owner).await? + 1 > limit {
                return Err(DomainError::QuotaExceeded { limit });
            }
        }
        let (public_key, fingerprint, private_key) = match spec.material {
            // Parsing a public key takes microseconds: right here.
            Material::Import(pk) => {
                let fp = keys::fingerprint(spec.kind, &pk, spec.fingerprint)?;
                (pk, fp, None)
            }
            Material::Generate(options) => {
                let mut generated = self.generate(spec.kind, options, &target.user_id).await?;
                let private = Zeroizing::new(std::mem::take(&mut generated.private_key));
                (
                    std::mem::take(&mut generated.public_key),
                    std::mem::take(&mut generated.fingerprint),
                    Some(private),
                )
            }
        };
        let new = NewKeypair {
            user_id: target.user_id.clone(),
            project_id: p.project_id.clone(),
            name: spec.name,
            kind: spec.kind,
            public_key,
            fingerprint,
            created_at: self.det.now().naive_utc(),
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

    /// Deletes `name` of `target`.
    pub async fn delete(&self, target: &Target, name: &str) -> Result<(), DomainError> {
        self.store
            .delete_keypair(target.owner.clone(), name.to_string())
            .await
            .map_err(DomainError::from)
    }

    /// Deletes each of `names`, each with its own outcome (one failing takes none of the
    /// others down).
    pub async fn delete_many(
        &self,
        target: &Target,
        names: &[String],
    ) -> Vec<(String, Result<(), DomainError>)> {
        let deletes = names
            .iter()
            .map(|name| async move { (name.clone(), self.delete(target, name).await) });
        futures_util::future::join_all(deletes).await
    }
}
