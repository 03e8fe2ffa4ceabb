//! novakeys: OpenStack's Nova key pair API and the Keystone v3 subset its clients need, in one
//! binary, on SQLite. See README.md.

pub mod app;
pub mod auth;
pub mod clouds;
pub mod compute;
pub mod config;
pub mod control;
pub mod determinism;
pub mod identity;
pub mod keys;
pub mod pyjson;
pub mod seed;
pub mod store;
