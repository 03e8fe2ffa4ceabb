//! Base URLs: where a front is reached, as clients should be told (catalogs, links, the
//! `WWW-Authenticate` pointer).

use actix_web::HttpRequest;
use std::net::SocketAddr;

/// Where one front listens and how clients are told to reach it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// A configured public base URL (behind a proxy or load balancer) wins.
    pub public_url: Option<String>,
    pub bound: SocketAddr,
    /// The path prefix on its listener (`/compute` in single-port mode, else empty).
    pub mount: String,
}

impl Endpoint {
    /// The base URL (no trailing slash) for a client that sent `req`.
    pub fn base(&self, req: &HttpRequest) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("{}{}", origin(self.bound, req), self.mount),
        }
    }
}

/// `http://host:port` of a bound address; an unspecified IP takes the request's host name.
pub fn origin(addr: SocketAddr, req: &HttpRequest) -> String {
    if addr.ip().is_unspecified() {
        let info = req.connection_info();
        let host = info.host();
        let name = match host.rsplit_once(':') {
            Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h.to_string(),
            _ => host.to_string(),
        };
        format!("http://{name}:{}", addr.port())
    } else {
        format!("http://{addr}")
    }
}

/// `scheme://host[:port]` as the request named it, plus `mount`, or `public_url`.
pub fn request_base(req: &HttpRequest, mount: &str, public_url: Option<&str>) -> String {
    match public_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => {
            let info = req.connection_info();
            format!("{}://{}{}", info.scheme(), info.host(), mount)
        }
    }
}
