//! Who is calling: the user and project a front established (a Keystone token, noauth headers,
//! an access key...), with the roles that apply there.

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: String,
    /// Empty for unscoped and system-scoped tokens.
    pub project_id: String,
    /// Role names, implied ones included.
    pub roles: Vec<String>,
    /// A system-scoped token: project-scoped policies refuse it.
    pub system_scope: bool,
}

impl Principal {
    /// Nova's and Keystone's `context_is_admin`: the `admin` role.
    pub fn is_admin(&self) -> bool {
        self.has_role("admin")
    }

    /// What the cloud APIs let a caller change: the `member` role (admin and manager imply
    /// it); a `reader` may only look.
    pub fn can_write(&self) -> bool {
        self.has_role("member") || self.has_role("admin")
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}
