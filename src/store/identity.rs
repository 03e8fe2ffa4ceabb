//! # Identity records
//!
//! Domains, projects, users, roles, role assignments, application credentials, token
//! revocations and the token signing keys. Plain rows; no HTTP, no Keystone wire format.
//! Secrets arrive here already hashed.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    pub id: String,
    pub name: String,
    pub description: String,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub domain_id: String,
    pub description: String,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: String,
    pub name: String,
    pub domain_id: String,
    pub enabled: bool,
    pub default_project_id: Option<String>,
    pub password_hash: Option<String>,
    /// Attributes Keystone keeps as "extra" (description, email, ...), in the order given.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub immutable: bool,
}

/// What a role is granted on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    Project(String),
    Domain(String),
    System,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub user_id: String,
    pub target: Target,
    pub role_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppCred {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub user_id: String,
    pub project_id: String,
    pub secret_hash: String,
    pub expires_at: Option<String>,
    /// As given at creation: Keystone keeps `None` when the field was left out and shows it
    /// as `null` (restricted, like `false`).
    pub unrestricted: Option<bool>,
    pub role_ids: Vec<String>,
}

/// An access key a cloud API signs requests with (Alibaba AccessKey, Tencent SecretId/Key,
/// TWCC API key): it acts as its user, in its project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// Keystone's credential id (`/v3/credentials/{id}`).
    pub id: String,
    /// `alibaba`, `tencent`, `twcc`.
    pub cloud: String,
    /// What the client sends (AccessKeyId, SecretId, the TWCC API key).
    pub access: String,
    /// What the client signs with; the server must read it back to check an HMAC, so it is
    /// stored as given (the store's file is the boundary) and shown only when created.
    pub secret: String,
    pub user_id: String,
    pub project_id: String,
    pub created_at: String,
}

/// One ES256 signing key pair (PEM).
#[derive(Debug, Clone)]
pub struct SigningKey {
    pub private_pem: String,
    pub public_pem: String,
}

/// Everything a bootstrap (the fixtures) writes, in one go.
#[derive(Debug, Clone, Default)]
pub struct Bootstrap {
    pub domains: Vec<Domain>,
    pub roles: Vec<Role>,
    pub projects: Vec<Project>,
    pub users: Vec<User>,
    pub grants: Vec<Assignment>,
    pub credentials: Vec<Credential>,
}
