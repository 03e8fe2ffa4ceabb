//! # The instance registry
//!
//! A minimal stand-in for the clouds' instances (fronts.md §5), enough for their key pair
//! bind/unbind calls: made by fixtures and the controls, each of one cloud, owned by a user in
//! a project, with at most one bound key pair. Each front applies its cloud's rules (which OS,
//! which state) and calls `bind`/`unbind`/`set_state`.

use super::DomainError;
use crate::determinism::Determinism;
use crate::store::instances::{Instance, Os, State};
use crate::store::keypairs::Keypair;
use crate::store::Store;
use std::sync::Arc;

/// The clouds that have instances here.
pub const CLOUDS: &[&str] = &["alibaba", "tencent"];

/// What a new instance is.
#[derive(Debug, Clone)]
pub struct NewInstance {
    pub cloud: String,
    pub name: String,
    pub user_id: String,
    pub project_id: String,
    pub region: String,
    pub os: Os,
    pub state: State,
}

pub struct InstanceService {
    store: Arc<dyn Store>,
    det: Arc<Determinism>,
}

/// An id in the cloud's style: Alibaba `i-` + 20, Tencent `ins-` + 8 lowercase alphanumerics.
fn new_id(cloud: &str, det: &Determinism) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let (prefix, n) = match cloud {
        "tencent" => ("ins-", 8),
        _ => ("i-", 20),
    };
    let tail: String = det
        .bytes::<32>()
        .iter()
        .take(n)
        .map(|b| CHARS[usize::from(*b) % CHARS.len()] as char)
        .collect();
    format!("{prefix}{tail}")
}

impl InstanceService {
    pub fn new(store: Arc<dyn Store>, det: Arc<Determinism>) -> InstanceService {
        InstanceService { store, det }
    }

    pub async fn create(&self, new: NewInstance) -> Result<Instance, DomainError> {
        if !CLOUDS.contains(&new.cloud.as_str()) {
            return Err(DomainError::Invalid(format!(
                "unknown cloud '{}' (one of {})",
                new.cloud,
                CLOUDS.join(", ")
            )));
        }
        let i = Instance {
            id: new_id(&new.cloud, &self.det),
            cloud: new.cloud,
            name: new.name,
            user_id: new.user_id,
            project_id: new.project_id,
            region: new.region,
            os: new.os,
            state: new.state,
            key_pair_id: None,
            key_pair_name: None,
            created_at: self.det.now().to_rfc3339(),
        };
        self.store.insert_instance(i.clone()).await?;
        Ok(i)
    }

    pub async fn get(&self, id: &str) -> Result<Instance, DomainError> {
        self.store
            .get_instance(id)
            .await?
            .ok_or(DomainError::NotFound)
    }

    /// In creation order, of one cloud when given.
    pub async fn list(&self, cloud: Option<&str>) -> Result<Vec<Instance>, DomainError> {
        Ok(self.store.list_instances(cloud).await?)
    }

    pub async fn delete(&self, id: &str) -> Result<(), DomainError> {
        Ok(self.store.delete_instance(id).await?)
    }

    /// The instances of `cloud` bound to each of `keypairs` (for views that list them).
    pub async fn bound_to(
        &self,
        cloud: &str,
        keypairs: &[i64],
    ) -> Result<std::collections::HashMap<i64, Vec<String>>, DomainError> {
        let mut out: std::collections::HashMap<i64, Vec<String>> = Default::default();
        for i in self.store.list_instances(Some(cloud)).await? {
            if let Some(kp) = i.key_pair_id.filter(|k| keypairs.contains(k)) {
                out.entry(kp).or_default().push(i.id);
            }
        }
        Ok(out)
    }

    /// Gives `instance` the key pair `kp` (replacing the one it had).
    pub async fn bind(&self, instance: &str, kp: &Keypair) -> Result<(), DomainError> {
        Ok(self
            .store
            .bind_instance(instance, Some((kp.id, kp.name.clone())))
            .await?)
    }

    /// Takes the key pair off `instance`.
    pub async fn unbind(&self, instance: &str) -> Result<(), DomainError> {
        Ok(self.store.bind_instance(instance, None).await?)
    }

    pub async fn set_state(&self, instance: &str, state: State) -> Result<(), DomainError> {
        Ok(self.store.set_instance_state(instance, state).await?)
    }
}
