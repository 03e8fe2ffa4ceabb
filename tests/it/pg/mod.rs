//! The PostgreSQL store's own tests. The private server they run on is the harness in
//! `tests/support/pg/`, shared with the compat suites.

#[path = "../../support/pg/mod.rs"]
mod harness;
pub use harness::*;

mod counters;
mod down;
mod lb;
mod migrations;
mod multi;
mod serve;
