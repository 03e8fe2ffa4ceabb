//! # Compute policy
//!
//! nova/policies/keypairs.py: every key pair action defaults to
//! `(rule:context_is_admin) or user_id:%(user_id)s`, evaluated against the *target* owner
//! before any lookup.

use super::fault::Fault;
use crate::auth::AuthContext;

/// The key pair actions Nova names in its policy.
#[derive(Clone, Copy, Debug)]
pub enum KeypairAction {
    Index,
    Create,
    Show,
    Delete,
}

impl KeypairAction {
    fn name(self) -> &'static str {
        match self {
            KeypairAction::Index => "index",
            KeypairAction::Create => "create",
            KeypairAction::Show => "show",
            KeypairAction::Delete => "delete",
        }
    }
}

/// Allows admins anything and everyone else their own key pairs.
pub fn enforce(ctx: &AuthContext, action: KeypairAction, target_user: &str) -> Result<(), Fault> {
    // scope_types=['project']: system-scoped tokens never pass (enforce_scope is on).
    if !ctx.system_scope && (ctx.is_admin() || ctx.user_id == target_user) {
        Ok(())
    } else {
        Err(Fault::policy(action.name()))
    }
}
