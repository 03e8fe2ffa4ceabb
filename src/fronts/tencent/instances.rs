//! # AssociateInstancesKeyPairs, DisassociateInstancesKeyPairs
//!
//! CVM's rules (its API doc): Linux instances only; without `ForceStop` only STOPPED ones;
//! with `ForceStop` the instance is stopped first and, if it was RUNNING, started again once
//! the key is (un)bound. A batch with any instance that may not be changed fails as a whole,
//! with the code for that instance, before anything changes. An instance is the caller's when
//! it is a Tencent instance of the same owner as the caller's key pairs (user, or project under
//! `keypair_scope = project`) in the configured region; any other is `InvalidInstanceId.NotFound`.
//!
//! The shared registry holds one key pair per instance: binding several `KeyIds` leaves the
//! instance with the last one; unbinding takes the instance's key off if it is one of them
//! (an instance bound to none of them is left as it is).

use super::errors::{About, Fields, TcError};
use super::keypairs::{key_ids, owned, target, Answer, MAX_IDS};
use super::params::Params;
use super::{ids, Ctx, TencentFront};
use crate::domain::Target;
use crate::store::instances::{Instance, Os, State};
use crate::store::keypairs::{Keypair, Owner};
use serde_json::Map;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    Associate,
    Disassociate,
}

fn internal(e: crate::domain::DomainError) -> TcError {
    TcError::domain(e, About::default())
}

fn instance_not_found(id: &str) -> TcError {
    TcError::new(
        "InvalidInstanceId.NotFound",
        format!("The instance `{id}` does not exist."),
    )
}

fn is_owners(front: &TencentFront, i: &Instance, target: &Target) -> bool {
    let owner = match target.owner() {
        Owner::User(u) => &i.user_id == u,
        Owner::Project(p) => &i.project_id == p,
    };
    i.cloud == "tencent" && owner && i.region == front.services.region
}

/// The two actions: every check first, then the changes.
pub async fn bind(front: &TencentFront, ctx: &Ctx, p: &Params, how: Binding) -> Answer {
    let instance_ids = p
        .strs("InstanceIds")
        .filter(|l| !l.is_empty())
        .ok_or_else(|| TcError::missing("InstanceIds"))?;
    let key_list = p
        .strs("KeyIds")
        .filter(|l| !l.is_empty())
        .ok_or_else(|| TcError::missing("KeyIds"))?;
    if instance_ids.len() > MAX_IDS {
        return Err(TcError::limit_exceeded("InstanceIds", MAX_IDS));
    }
    if let Some(bad) = instance_ids.iter().find(|i| !ids::is_instance_id(i)) {
        return Err(TcError::new(
            "InvalidInstanceId.Malformed",
            format!("The instance id `{bad}` is malformed; instance ids look like `ins-11112222`."),
        ));
    }
    let keys = key_ids(&key_list, "KeyIds")?;
    let force = p.bool("ForceStop").unwrap_or(false);
    let target = target(front, ctx)?;
    let found = owned(front, &target, &keys).await?;
    if let Some((missing, _)) = key_list
        .iter()
        .zip(&keys)
        .find(|(_, id)| !found.contains_key(id))
    {
        return Err(TcError::key_id_not_found(missing));
    }
    let mut instances = Vec::new();
    for id in &instance_ids {
        let i = match front.services.instances.get(id).await {
            Ok(i) if is_owners(front, &i, &target) => i,
            Ok(_) | Err(crate::domain::DomainError::NotFound) => {
                return Err(instance_not_found(id))
            }
            Err(e) => return Err(internal(e)),
        };
        if i.os == Os::Windows {
            return Err(TcError::new(
                "UnsupportedOperation.InstanceOsWindows",
                format!("The instance `{id}` runs Windows, which does not support key pairs."),
            ));
        }
        if i.state == State::Running && !force {
            return Err(TcError::new(
                "UnsupportedOperation.InstanceStateRunning",
                format!("The instance `{id}` is running; stop it first, or set `ForceStop`."),
            ));
        }
        instances.push(i);
    }
    let last = keys.last().and_then(|k| found.get(k));
    for i in instances {
        let was_running = i.state == State::Running;
        // Some(Some(kp)): bind kp; Some(None): unbind; None: nothing to do here.
        let change: Option<Option<&Keypair>> = match how {
            Binding::Associate => last.map(Some),
            Binding::Disassociate => i.key_pair_id.filter(|k| keys.contains(k)).map(|_| None),
        };
        let Some(key) = change else { continue };
        if was_running {
            front
                .services
                .instances
                .set_state(&i.id, State::Stopped)
                .await
                .map_err(internal)?;
        }
        match key {
            Some(kp) => front.services.instances.bind(&i.id, kp).await,
            None => front.services.instances.unbind(&i.id).await,
        }
        .map_err(internal)?;
        if was_running {
            front
                .services
                .instances
                .set_state(&i.id, State::Running)
                .await
                .map_err(internal)?;
        }
    }
    Ok(Fields::Members(Map::new()))
}
