//! # Bootstrap fixtures
//!
//! What `keystone-manage bootstrap` plus a demo setup would create, from YAML: the built-in
//! `fixtures/default.yaml` or `--fixtures FILE`. Applied once, to a store without identity
//! data, so later changes survive restarts.

use crate::determinism::Determinism;
use crate::store::identity::{
    Assignment, Bootstrap, Credential, Domain, Project, Role, Target, User,
};
use crate::store::{IdentityStore, StoreError};
use serde::Deserialize;
use std::path::Path;

pub const DEFAULT_FIXTURES: &str = include_str!("../../../fixtures/default.yaml");

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Fixtures {
    #[serde(default)]
    pub domains: Vec<DomainFixture>,
    #[serde(default)]
    pub roles: Vec<RoleFixture>,
    #[serde(default)]
    pub projects: Vec<ProjectFixture>,
    #[serde(default)]
    pub users: Vec<UserFixture>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainFixture {
    pub name: String,
    pub id: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleFixture {
    pub name: String,
    pub id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectFixture {
    pub name: String,
    pub id: Option<String>,
    /// Domain id.
    #[serde(default = "default_domain")]
    pub domain: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserFixture {
    pub name: String,
    pub id: Option<String>,
    pub password: Option<String>,
    /// Domain id.
    #[serde(default = "default_domain")]
    pub domain: String,
    /// Project name.
    pub default_project: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub grants: Vec<GrantFixture>,
    /// Access keys of the cloud APIs, in the user's default project unless `project` says.
    #[serde(default)]
    pub credentials: Vec<CredentialFixture>,
}

/// An access key: `cloud` (`alibaba`, `tencent`, `twcc`), what clients send and sign with.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialFixture {
    pub cloud: String,
    pub access: String,
    pub secret: String,
    /// Project name.
    pub project: Option<String>,
}

/// A role on exactly one of a project (name), a domain (id) or the system (`all`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantFixture {
    pub role: String,
    pub project: Option<String>,
    pub domain: Option<String>,
    pub system: Option<String>,
}

fn yes() -> bool {
    true
}

fn default_domain() -> String {
    "default".into()
}

/// Keystone's ids: uuid4 hex.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl Fixtures {
    /// Parses YAML; `origin` names the file in errors (`FILE:LINE:COLUMN: reason`).
    pub fn parse(text: &str, origin: &str) -> anyhow::Result<Fixtures> {
        serde_yaml::from_str(text).map_err(|e| match e.location() {
            Some(loc) => anyhow::anyhow!(
                "invalid fixtures {origin}:{}:{}: {e}",
                loc.line(),
                loc.column()
            ),
            None => anyhow::anyhow!("invalid fixtures {origin}: {e}"),
        })
    }

    pub fn load(path: Option<&Path>) -> anyhow::Result<Fixtures> {
        match path {
            None => Fixtures::parse(DEFAULT_FIXTURES, "fixtures/default.yaml"),
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| anyhow::anyhow!("cannot read fixtures {}: {e}", p.display()))?;
                Fixtures::parse(&text, &p.display().to_string())
            }
        }
    }

    /// Writes the fixtures into an empty store (no-op when identity data exists).
    /// Returns whether anything was applied.
    pub fn apply(
        &self,
        store: &dyn IdentityStore,
        hash_cost: u32,
        origin: &str,
    ) -> anyhow::Result<bool> {
        self.apply_with(store, hash_cost, origin, &Determinism::default())
    }

    /// `apply`, with ids and password salts from `det`.
    pub fn apply_with(
        &self,
        store: &dyn IdentityStore,
        hash_cost: u32,
        origin: &str,
        det: &Determinism,
    ) -> anyhow::Result<bool> {
        let plan = self
            .plan(hash_cost, det)
            .map_err(|e| anyhow::anyhow!("invalid fixtures {origin}: {e}"))?;
        let applied = store.bootstrap(&plan);
        applied.map_err(|e| match e {
            StoreError::Duplicate => {
                anyhow::anyhow!("invalid fixtures {origin}: duplicate name or id")
            }
            other => anyhow::anyhow!("cannot apply fixtures {origin}: {other}"),
        })
    }

    /// Resolves names to ids and hashes passwords.
    fn plan(&self, hash_cost: u32, det: &Determinism) -> Result<Bootstrap, String> {
        let new_id = || det.hex_id();
        let domains: Vec<Domain> = self
            .domains
            .iter()
            .map(|d| Domain {
                id: d.id.clone().unwrap_or_else(|| {
                    if d.name == "Default" {
                        "default".into()
                    } else {
                        new_id()
                    }
                }),
                name: d.name.clone(),
                description: d.description.clone(),
                enabled: d.enabled,
            })
            .collect();
        let roles: Vec<Role> = self
            .roles
            .iter()
            .map(|r| Role {
                id: r.id.clone().unwrap_or_else(new_id),
                name: r.name.clone(),
                immutable: true,
            })
            .collect();
        let mut projects = Vec::new();
        for (i, p) in self.projects.iter().enumerate() {
            if !domains.iter().any(|d| d.id == p.domain) {
                return Err(format!(
                    "projects[{i}] ({}): unknown domain id '{}'",
                    p.name, p.domain
                ));
            }
            projects.push(Project {
                id: p.id.clone().unwrap_or_else(new_id),
                name: p.name.clone(),
                domain_id: p.domain.clone(),
                description: p.description.clone(),
                enabled: p.enabled,
            });
        }
        let project_id = |name: &str, domain: &str, what: &str| -> Result<String, String> {
            projects
                .iter()
                .find(|p| p.name == name && p.domain_id == domain)
                .or_else(|| projects.iter().find(|p| p.name == name))
                .map(|p| p.id.clone())
                .ok_or_else(|| format!("{what}: unknown project '{name}'"))
        };
        let mut users = Vec::new();
        let mut grants = Vec::new();
        let mut credentials = Vec::new();
        for (i, u) in self.users.iter().enumerate() {
            let what = format!("users[{i}] ({})", u.name);
            if !domains.iter().any(|d| d.id == u.domain) {
                return Err(format!("{what}: unknown domain id '{}'", u.domain));
            }
            let id = u.id.clone().unwrap_or_else(new_id);
            let default_project_id = match &u.default_project {
                Some(name) => Some(project_id(name, &u.domain, &what)?),
                None => None,
            };
            let password_hash = match &u.password {
                Some(pw) => Some(
                    super::secret::hash(pw, hash_cost, det.bytes::<16>())
                        .map_err(|e| e.to_string())?,
                ),
                None => None,
            };
            for (j, g) in u.grants.iter().enumerate() {
                let gwhat = format!("{what}.grants[{j}]");
                let role = roles
                    .iter()
                    .find(|r| r.name == g.role)
                    .ok_or_else(|| format!("{gwhat}: unknown role '{}'", g.role))?;
                let target = match (&g.project, &g.domain, &g.system) {
                    (Some(p), None, None) => Target::Project(project_id(p, &u.domain, &gwhat)?),
                    (None, Some(d), None) => {
                        if !domains.iter().any(|x| &x.id == d) {
                            return Err(format!("{gwhat}: unknown domain id '{d}'"));
                        }
                        Target::Domain(d.clone())
                    }
                    (None, None, Some(s)) if s == "all" => Target::System,
                    _ => {
                        return Err(format!(
                            "{gwhat}: give exactly one of project, domain or system: all"
                        ))
                    }
                };
                grants.push(Assignment {
                    user_id: id.clone(),
                    target,
                    role_id: role.id.clone(),
                });
            }
            for (j, c) in u.credentials.iter().enumerate() {
                let cwhat = format!("{what}.credentials[{j}]");
                if !super::super::credentials::CLOUDS.contains(&c.cloud.as_str()) {
                    return Err(format!("{cwhat}: unknown cloud '{}'", c.cloud));
                }
                let project_id = match (&c.project, &default_project_id) {
                    (Some(name), _) => project_id(name, &u.domain, &cwhat)?,
                    (None, Some(p)) => p.clone(),
                    (None, None) => return Err(format!("{cwhat}: give a project")),
                };
                credentials.push(Credential {
                    id: super::super::credentials::credential_id(&c.access),
                    cloud: c.cloud.clone(),
                    access: c.access.clone(),
                    secret: c.secret.clone(),
                    user_id: id.clone(),
                    project_id,
                    created_at: det.now().to_rfc3339(),
                });
            }
            users.push(User {
                id,
                name: u.name.clone(),
                domain_id: u.domain.clone(),
                enabled: u.enabled,
                default_project_id,
                password_hash,
                extra: Default::default(),
            });
        }
        Ok(Bootstrap {
            credentials,
            domains,
            roles,
            projects,
            users,
            grants,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;
    use crate::store::Durability;

    fn memory() -> SqliteStore {
        SqliteStore::open(":memory:", Durability::Normal).unwrap()
    }

    #[test]
    fn default_fixtures_parse_and_apply_once() {
        let f = Fixtures::load(None).unwrap();
        assert_eq!(f.users.len(), 3);
        let store = memory();
        assert!(f.apply(&store, 4, "default").unwrap());
        assert!(
            !f.apply(&store, 4, "default").unwrap(),
            "only on first start"
        );
        let (users, domain) = (
            store.list_users().unwrap(),
            store.get_domain("default").unwrap(),
        );
        assert_eq!(domain.unwrap().name, "Default");
        let admin = users.iter().find(|u| u.name == "admin").unwrap();
        assert!(super::super::secret::verify(
            "admin",
            admin.password_hash.as_deref().unwrap()
        ));
        assert!(admin.default_project_id.is_some());
        assert_eq!(admin.id.len(), 32);
    }

    #[test]
    fn errors_name_file_and_line() {
        let err = Fixtures::parse("users:\n  - name: x\n    colour: red\n", "my.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("invalid fixtures my.yaml:3:"), "{err}");
        assert!(err.contains("colour"), "{err}");
        let err = Fixtures::parse("domains: [\n", "bad.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad.yaml:"), "{err}");
        let f = Fixtures::parse(
            "domains: [{name: Default}]\nusers: [{name: u, grants: [{role: nope, system: all}]}]\n",
            "refs.yaml",
        )
        .unwrap();
        let store = memory();
        let err = f.apply(&store, 4, "refs.yaml").unwrap_err().to_string();
        assert!(
            err.contains("refs.yaml") && err.contains("unknown role 'nope'"),
            "{err}"
        );
    }

    #[test]
    fn pinned_ids_are_kept() {
        let f = Fixtures::parse(
            "domains: [{name: Default}]\nprojects: [{name: p, id: p1}]\nroles: [{name: member, id: r1}]\nusers: [{name: u, id: u1, password: pw, default_project: p, grants: [{role: member, project: p}]}]\n",
            "pinned.yaml",
        )
        .unwrap();
        let store = memory();
        f.apply(&store, 4, "pinned.yaml").unwrap();
        let u = store.get_user("u1").unwrap().unwrap();
        assert_eq!(u.default_project_id.as_deref(), Some("p1"));
        let roles = store
            .direct_roles("u1", &Target::Project("p1".into()))
            .unwrap();
        assert_eq!(roles[0].id, "r1");
    }
}
