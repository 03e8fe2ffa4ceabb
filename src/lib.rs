//! novakeys: the key pair APIs of the clouds its users target (today OpenStack's Nova, with
//! the Keystone v3 subset its clients need to log in) over one key pair store. See README.md
//! ("Architecture") for the layers.

pub mod app;
pub mod config;
pub mod control;
pub mod determinism;
pub mod domain;
pub mod fronts;
pub mod http;
pub mod keys;
pub mod logging;
pub mod pycompat;
pub mod store;
