//! # The fronts: each API novakeys serves, over the one domain
//!
//! A front owns its routes, its authentication, its request schemas, its views and its error
//! rendering, and implements `http::Front`. No front imports another front or the app.

pub mod keystone;
pub mod nova;
