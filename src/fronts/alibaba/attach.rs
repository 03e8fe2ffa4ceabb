//! # AttachKeyPair, DetachKeyPair over the shared instance registry
//!
//! Per instance, an outcome in `Results.Result` (seed-clouds.md §1.4): Linux instances of the
//! caller, running or stopped, take the key (replacing any earlier one: the registry holds
//! one per instance); Windows ones are refused; unknown (or someone else's) ids are not
//! found. Detaching a key pair an instance does not hold leaves it as it is and succeeds
//! (novakeys' choice: the call's wanted state holds).

use super::errors::AliError;
use super::views::{self, Outcome};
use super::{AlibabaFront, Call};
use crate::domain::DomainError;
use crate::store::instances::Os;
use serde_json::Value;

/// Most instances one call takes.
const MAX_INSTANCES: usize = 50;

const NOT_FOUND: (&str, &str) = (
    "InvalidInstanceId.NotFound",
    "The specified InstanceId does not exist.",
);
const WINDOWS: (&str, &str) = (
    "DependencyViolation.WindowsInstance",
    "The instance creating by window system image can not support the keypair.",
);
const KEY_GONE: (&str, &str) = (
    "InvalidKeyPairName.NotFound",
    "The specified KeyPairName does not exist in our records.",
);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Attach,
    Detach,
}

pub async fn attach(
    front: &AlibabaFront,
    call: &Call,
    request_id: &str,
) -> Result<Value, AliError> {
    run(front, call, request_id, Direction::Attach).await
}

pub async fn detach(
    front: &AlibabaFront,
    call: &Call,
    request_id: &str,
) -> Result<Value, AliError> {
    run(front, call, request_id, Direction::Detach).await
}

async fn run(
    front: &AlibabaFront,
    call: &Call,
    request_id: &str,
    direction: Direction,
) -> Result<Value, AliError> {
    let name = call.params.required("KeyPairName")?;
    let instance_ids = call.params.string_array(
        "InstanceIds",
        AliError::new(
            400,
            "InvalidInstanceIds.ValueNotSupported",
            "The specified parameter InstanceIds is not valid: it takes a JSON array of instance ids.",
        ),
    )?;
    if instance_ids.len() > MAX_INSTANCES {
        return Err(AliError::new(
            403,
            "InstanceKeyPairLimitExceeded",
            format!("The number of instances exceeds the limit of {MAX_INSTANCES}."),
        ));
    }
    let target = front.target(call)?;
    let kp = front
        .services
        .keypairs
        .get(&target, name)
        .await
        .map_err(AliError::from_domain)?;
    let instances = &front.services.instances;
    let mut outcomes = Vec::with_capacity(instance_ids.len());
    for id in instance_ids {
        let found = match instances.get(&id).await {
            Ok(i) if front.owns_instance(&target, &i) => Some(i),
            Ok(_) | Err(DomainError::NotFound) => None,
            Err(e) => return Err(AliError::from_domain(e)),
        };
        let failure = match found {
            None => Some(NOT_FOUND),
            Some(i) if i.os == Os::Windows => Some(WINDOWS),
            Some(i) => {
                let done = match direction {
                    Direction::Attach => instances.bind(&i.id, &kp).await,
                    Direction::Detach if i.key_pair_id == Some(kp.id) => {
                        instances.unbind(&i.id).await
                    }
                    Direction::Detach => Ok(()),
                };
                match done {
                    Ok(()) => None,
                    // Gone in between: the key pair (attach) or the instance.
                    Err(DomainError::NotFound) => Some(match direction {
                        Direction::Attach => KEY_GONE,
                        Direction::Detach => NOT_FOUND,
                    }),
                    Err(e) => return Err(AliError::from_domain(e)),
                }
            }
        };
        outcomes.push(Outcome {
            instance_id: id,
            failure,
        });
    }
    Ok(views::attach_detach(request_id, &kp.name, &outcomes))
}
