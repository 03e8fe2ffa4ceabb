//! # The fronts: each API novakeys serves, over the one domain
//!
//! A front owns its routes, its authentication, its request schemas, its views and its error
//! rendering, and implements `http::Front`. No front imports another front or the app.

pub mod alibaba;
pub mod console;
pub mod keystone;
pub mod nova;
pub mod tencent;
pub mod twcc;

/// What `novakeys credentials` knows of one access key, for a front to print (and write) what
/// its cloud's clients need.
pub struct ClientSetup<'a> {
    pub access: &'a str,
    pub secret: &'a str,
    /// `http://ADDR:PORT` of the front's listener.
    pub endpoint: String,
    pub user_name: &'a str,
    pub project_name: &'a str,
    /// Where to write a client's files (the TWCC CLI's data folder).
    pub data_path: Option<&'a std::path::Path>,
    /// A client profile to write (tccli's).
    pub profile: Option<&'a str>,
}
