//! Password log-in for fronts that are not Keystone (the web console): the same rules as
//! Keystone's password method and project scoping (keystone/auth/plugins/password.py,
//! keystone/auth/core.py), without its wire format.

use super::jws::TokenClaims;
use super::{effective_roles, Identity, ValidToken};
use crate::domain::DomainError;
use crate::store::identity::{Domain, Project, Target, User};
use crate::store::StoreError;

/// A user whose password matched, with the projects they may scope to.
#[derive(Debug, Clone)]
pub struct LoggedIn {
    pub user: User,
    pub domain: Domain,
    /// Enabled projects (in enabled domains) the user has a role on, by name.
    pub projects: Vec<Project>,
}

impl Identity {
    /// Checks `password` for the user `name` of the domain named (or with the id) `domain`.
    /// Every refusal is the same `Forbidden` (Keystone's one 401): unknown user or domain,
    /// disabled user or domain, no password, wrong password.
    pub fn log_in(
        &self,
        name: &str,
        domain: &str,
        password: &str,
    ) -> Result<LoggedIn, DomainError> {
        let st = self.store();
        let found = match st.get_domain_by_name(domain)? {
            Some(d) => Some(d),
            None => st.get_domain(domain)?,
        };
        let Some(domain) = found else {
            return Err(DomainError::Forbidden);
        };
        let Some(user) = st.get_user_by_name(&domain.id, name)? else {
            return Err(DomainError::Forbidden);
        };
        if !user.enabled || !domain.enabled {
            return Err(DomainError::Forbidden);
        }
        let Some(hash) = user.password_hash.as_deref() else {
            return Err(DomainError::Forbidden);
        };
        if !self.check_secret(password, hash) {
            return Err(DomainError::Forbidden);
        }
        let projects = self.projects_of(&user.id)?;
        Ok(LoggedIn {
            user,
            domain,
            projects,
        })
    }

    /// The enabled projects (of enabled domains) `user_id` has a role on, by name: what
    /// `GET /v3/auth/projects` lists, and what a project-scoped token can be issued for.
    pub fn projects_of(&self, user_id: &str) -> Result<Vec<Project>, StoreError> {
        let st = self.store();
        let mut out = Vec::new();
        for p in st.list_projects()? {
            let domain_ok = st.get_domain(&p.domain_id)?.is_some_and(|d| d.enabled);
            if p.enabled
                && domain_ok
                && !effective_roles(st, user_id, &Target::Project(p.id.clone()))?.is_empty()
            {
                out.push(p);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }

    /// Issues a password-method token of `user_id` scoped to `project_id`, expiring at `exp`
    /// (a rescope keeps its parent's expiry) or after the configured lifetime. The claims get
    /// the checks a presented token gets (enabled user, domain and project, a role on the
    /// project), so a refusal here is a token that would not verify: `Forbidden`.
    pub fn issue_project_token(
        &self,
        user_id: &str,
        project_id: &str,
        exp: Option<i64>,
    ) -> Result<(String, ValidToken), DomainError> {
        let now = self.determinism().timestamp();
        let claims = TokenClaims {
            sub: user_id.to_string(),
            iat: self.issued_at(user_id)?,
            exp: exp.unwrap_or(now + self.token_expiration()),
            openstack_methods: vec!["password".into()],
            openstack_audit_ids: vec![self.determinism().audit_id()],
            openstack_project_id: Some(project_id.to_string()),
            openstack_domain_id: None,
            openstack_system: None,
            openstack_app_cred_id: None,
        };
        let valid = self
            .check_claims(claims)?
            .map_err(|_| DomainError::Forbidden)?;
        let token = self.sign(&valid.claims)?;
        Ok((token, valid))
    }

    /// Revokes `token` (its audit id, until it would have expired): a log-out. An unknown or
    /// already invalid token is left as it is.
    pub fn revoke(&self, token: &str) -> Result<(), DomainError> {
        if let Ok(v) = self.verify(token, true) {
            if let Some(audit) = v.claims.openstack_audit_ids.first() {
                self.store().revoke_token(audit, v.claims.exp)?;
                self.invalidate();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::identity::{Identity, IdentitySettings};
    use crate::domain::DomainError;
    use crate::store::Durability;
    use std::sync::Arc;

    fn identity() -> Identity {
        let store = crate::store::open(":memory:", Durability::Normal).unwrap();
        Identity::new(
            &IdentitySettings {
                fixtures: None,
                token_expiration: 3600,
                password_hash_cost: 4,
            },
            store,
            Arc::default(),
        )
        .unwrap()
    }

    #[test]
    fn log_in_checks_the_password_and_lists_the_projects_with_a_role() {
        let id = identity();
        let demo = id.log_in("demo", "Default", "demo").unwrap();
        let names: Vec<&str> = demo.projects.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["demo"]);
        assert_eq!(demo.domain.id, "default");
        assert!(
            id.log_in("demo", "default", "demo").is_ok(),
            "the domain id works too"
        );
        for (user, domain, password) in [
            ("demo", "Default", "wrong"),
            ("nobody", "Default", "demo"),
            ("demo", "Nowhere", "demo"),
        ] {
            assert!(matches!(
                id.log_in(user, domain, password),
                Err(DomainError::Forbidden)
            ));
        }
        let mut user = demo.user.clone();
        user.enabled = false;
        id.store().update_user(&user).unwrap();
        assert!(matches!(
            id.log_in("demo", "Default", "demo"),
            Err(DomainError::Forbidden)
        ));
    }

    #[test]
    fn project_tokens_verify_need_a_role_and_revoke() {
        let id = identity();
        let demo = id.log_in("demo", "Default", "demo").unwrap();
        let project = &demo.projects[0];
        let (token, valid) = id
            .issue_project_token(&demo.user.id, &project.id, None)
            .unwrap();
        assert_eq!(valid.project_id(), Some(project.id.as_str()));
        let p = id.authenticate(&token).expect("the token verifies");
        assert_eq!(p.project_id, project.id);
        assert!(p.can_write());
        let admin_project = id
            .store()
            .list_projects()
            .unwrap()
            .into_iter()
            .find(|p| p.name == "admin")
            .unwrap();
        assert!(matches!(
            id.issue_project_token(&demo.user.id, &admin_project.id, None),
            Err(DomainError::Forbidden)
        ));
        let exp = valid.claims.exp - 100;
        let (short, v) = id
            .issue_project_token(&demo.user.id, &project.id, Some(exp))
            .unwrap();
        assert_eq!(v.claims.exp, exp, "a rescope keeps its parent's expiry");
        id.revoke(&token).unwrap();
        assert!(id.authenticate(&token).is_none(), "revoked");
        assert!(id.authenticate(&short).is_some(), "only that token");
        id.revoke("garbage").unwrap();
    }
}
