//! # HTTP plumbing every front shares
//!
//! The [`Front`] trait (what the observe hook and the composition root need of a front), the
//! observe hook itself (journal, metrics, fault injection around every API call), body limits,
//! the base URLs clients are told about, and the journal's read-only view for the console. No
//! front's wire rules live here.

pub mod activity;
pub mod base;
pub mod body;
pub mod deadline;
pub mod front;
pub mod observe;
pub mod rendered;
pub mod request_log;
pub mod spliced;

pub use activity::{ActivityFilter, ActivitySource};
pub use base::Endpoint;
pub use front::{Described, Front, Injected, Mounted, NoSecrets, RequestId};
pub use spliced::Spliced;
