//! Issue 23's multi-process tests; the cluster (processes, HAProxy) is the shared harness in
//! `tests/support/pg/lb.rs`.

pub use super::harness::lb::*;

pub mod sign;
mod tests;
