//! # The domain: the rules every front calls, once
//!
//! Key pairs (ownership scope, quota, generation, the key pool), identity (tokens, roles,
//! fixtures) and the bulk import paths. Fronts call these services with a [`Principal`] and
//! get domain values or a [`DomainError`]; nothing here knows HTTP, SQL or any cloud's wire
//! format (each front picks its own options: name rules, fingerprint scheme, key comment).

pub mod authorized_keys;
pub mod credentials;
pub mod identity;
pub mod instances;
pub mod keypairs;
mod listings;
pub mod seed;

mod error;
mod principal;

pub use error::DomainError;
pub use keypairs::{
    CreateRules, Created, Found, KeypairService, KeypairSpec, Listing, Material, Page, Target,
};
pub use principal::Principal;

/// The domain services, as every front gets them.
#[derive(Clone)]
pub struct Services {
    pub keypairs: std::sync::Arc<KeypairService>,
    pub identity: std::sync::Arc<identity::Identity>,
    pub credentials: std::sync::Arc<credentials::CredentialService>,
    pub instances: std::sync::Arc<instances::InstanceService>,
    /// Where ids, keys and time come from.
    pub determinism: std::sync::Arc<crate::determinism::Determinism>,
    /// The configured region (the Keystone catalog's); the cloud fronts map their clients'
    /// region names onto it.
    pub region: String,
}

/// Whether key pairs belong to a user (Nova) or are shared by a project's members.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum KeypairScope {
    User,
    Project,
}
