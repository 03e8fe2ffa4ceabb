//! # Who is calling
//!
//! The request context both APIs act on, whichever way it was established (a Keystone token,
//! or the `noauth` headers).

/// The Keystone token header both APIs read.
pub static X_AUTH_TOKEN: actix_web::http::header::HeaderName =
    actix_web::http::header::HeaderName::from_static("x-auth-token");

/// Who the API middleware found a compute request to be from (request extension), so the
/// compute dispatcher does not check the same token a second time.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Option<std::sync::Arc<AuthContext>>);

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthContext {
    pub user_id: String,
    pub project_id: String,
    pub roles: Vec<String>,
    /// A system-scoped token: Nova's project-scoped policies refuse it.
    pub system_scope: bool,
}

impl AuthContext {
    /// Nova's and Keystone's `context_is_admin`: the `admin` role.
    pub fn is_admin(&self) -> bool {
        self.roles.iter().any(|r| r == "admin")
    }
}

/// How the compute API authenticates requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// Keystone tokens issued by novakeys' identity API (verified locally).
    Keystone,
    /// Nova's old noauth2: `X-Auth-Token: <user>[:<project>]`, or `X-User-Id`/`X-Project-Id`.
    Noauth,
}

/// Identity from noauth headers: explicit `X-User-Id`/`X-Project-Id`/`X-Roles` win over the
/// token `user[:project]`; project defaults to the user; roles default to
/// `admin,member,reader` for the user `admin`, else `member,reader`.
pub fn noauth_context(header: impl Fn(&str) -> Option<String>) -> Option<AuthContext> {
    let token = header(X_AUTH_TOKEN.as_str()).filter(|t| !t.is_empty());
    let (token_user, token_project) = match token.as_deref() {
        Some(t) => match t.split_once(':') {
            Some((u, p)) => (Some(u.to_string()), Some(p.to_string())),
            None => (Some(t.to_string()), None),
        },
        None => (None, None),
    };
    let user_id = header("x-user-id")
        .filter(|u| !u.is_empty())
        .or(token_user)
        .filter(|u| !u.is_empty())?;
    let project_id = header("x-project-id")
        .or_else(|| header("x-tenant-id"))
        .filter(|p| !p.is_empty())
        .or(token_project)
        .unwrap_or_else(|| user_id.clone());
    let roles = match header("x-roles") {
        Some(r) => r
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        None if user_id == "admin" => vec!["admin".into(), "member".into(), "reader".into()],
        None => vec!["member".into(), "reader".into()],
    };
    Some(AuthContext {
        user_id,
        project_id,
        roles,
        system_scope: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn ctx(pairs: &[(&str, &str)]) -> Option<AuthContext> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        noauth_context(|k| map.get(k).cloned())
    }

    #[test]
    fn noauth_rules() {
        assert_eq!(ctx(&[]), None);
        let alice = ctx(&[("x-auth-token", "alice")]).unwrap();
        assert_eq!(
            (alice.user_id.as_str(), alice.project_id.as_str()),
            ("alice", "alice")
        );
        assert!(!alice.is_admin());
        let admin = ctx(&[("x-auth-token", "admin:admin")]).unwrap();
        assert!(admin.is_admin());
        let hdr = ctx(&[
            ("x-user-id", "bob"),
            ("x-project-id", "pb"),
            ("x-roles", "reader"),
        ])
        .unwrap();
        assert_eq!(
            (
                hdr.user_id.as_str(),
                hdr.project_id.as_str(),
                hdr.roles.clone()
            ),
            ("bob", "pb", vec!["reader".to_string()])
        );
        assert!(ctx(&[("x-auth-token", "alice:p"), ("x-roles", "admin")])
            .unwrap()
            .is_admin());
    }
}
