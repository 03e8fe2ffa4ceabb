//! # Instance records
//!
//! The minimal registry the bind/unbind calls of the cloud fronts work on (fronts.md §5): an
//! instance of one cloud, owned by a user in a project, with at most one bound key pair.

/// `linux` or `windows`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Os {
    Linux,
    Windows,
}

/// `running` or `stopped`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    Running,
    Stopped,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// In the cloud's own style (`i-…`, `ins-…`).
    pub id: String,
    /// `alibaba` or `tencent`.
    pub cloud: String,
    pub name: String,
    pub user_id: String,
    pub project_id: String,
    pub region: String,
    pub os: Os,
    pub state: State,
    /// The bound key pair (its internal id), if it still exists.
    pub key_pair_id: Option<i64>,
    /// The name of the key the instance was last given: kept when that key pair is deleted
    /// (through Nova), as the instance keeps what it booted with.
    pub key_pair_name: Option<String>,
    pub created_at: String,
}

impl Os {
    pub fn as_str(self) -> &'static str {
        match self {
            Os::Linux => "linux",
            Os::Windows => "windows",
        }
    }
    pub fn parse(s: &str) -> Option<Os> {
        match s {
            "linux" => Some(Os::Linux),
            "windows" => Some(Os::Windows),
            _ => None,
        }
    }
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Stopped => "stopped",
        }
    }
    pub fn parse(s: &str) -> Option<State> {
        match s {
            "running" => Some(State::Running),
            "stopped" => Some(State::Stopped),
            _ => None,
        }
    }
}
