//! Who may use the controls, beyond the token: what keeps a web page the developer happens to
//! open from driving them. A page can `POST` `text/plain` to any address without asking
//! (no CORS preflight), and a DNS-rebinding page reaches loopback under its own host name. So:
//!
//! - every state-changing call (`POST`, `PUT`, `PATCH`, `DELETE`) must say
//!   `Content-Type: application/json`, which no page can send cross-origin without a preflight
//!   (which the controls never grant);
//! - an `Origin` (browsers send one on every such call) must be this server's own: the
//!   request's `Host`, or a configured public URL's origin;
//! - without a control token, the `Host` must be a loopback address, `localhost` (or a name
//!   under `.localhost`), or the host of a configured public URL. A rebinding page always names
//!   its own domain; with a token, the token already proves the caller is no such page.

use actix_web::http::Method;
use std::net::IpAddr;

/// A URL's or `Host` header's parts, lower-cased: scheme (None for a `Host`), host (brackets
/// removed from an IPv6 address, no trailing dot), port (None when not given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    pub scheme: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl Authority {
    /// `host[:port]` as a `Host` header gives it (None: not shaped like one).
    pub fn from_host(value: &str) -> Option<Authority> {
        let value = value.trim();
        let (host, port) = if let Some(rest) = value.strip_prefix('[') {
            let (h, after) = rest.split_once(']')?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':')?.parse().ok()?),
            };
            (h, port)
        } else {
            match value.split_once(':') {
                Some((h, p)) => (h, Some(p.parse().ok()?)),
                None => (value, None),
            }
        };
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._:".contains(&b))
        {
            return None;
        }
        Some(Authority {
            scheme: None,
            host,
            port,
        })
    }

    /// `scheme://host[:port][/...]` (an `Origin`, or a configured base URL).
    pub fn from_url(url: &str) -> Option<Authority> {
        let (scheme, rest) = url.trim().split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return None;
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..end];
        if authority.contains('@') {
            return None;
        }
        let mut a = Authority::from_host(authority)?;
        a.scheme = Some(scheme);
        Some(a)
    }

    /// The port, or the scheme's default.
    fn effective_port(&self, scheme: &str) -> Option<u16> {
        self.port.or(match scheme {
            "http" => Some(80),
            "https" => Some(443),
            _ => None,
        })
    }
}

/// What the access checks are set up with: the configured public base URLs.
#[derive(Debug, Clone, Default)]
pub struct Site {
    public: Vec<Authority>,
}

impl Site {
    /// Unparseable URLs are left out (the fronts tell clients about them as given).
    pub fn new<'a>(public_urls: impl IntoIterator<Item = &'a str>) -> Site {
        Site {
            public: public_urls
                .into_iter()
                .filter_map(Authority::from_url)
                .collect(),
        }
    }

    /// Whether a token-less control request may name this `Host` (None: no `Host` header,
    /// which no browser sends).
    pub fn host_allowed(&self, host: Option<&str>) -> bool {
        let Some(host) = host else { return true };
        let Some(a) = Authority::from_host(host) else {
            return false;
        };
        if let Ok(ip) = a.host.parse::<IpAddr>() {
            return ip.to_canonical().is_loopback();
        }
        a.host == "localhost"
            || a.host.ends_with(".localhost")
            || self.public.iter().any(|p| p.host == a.host)
    }

    /// Whether an `Origin` is this server's own: the scheme and authority the request was sent
    /// to (`Host`, either scheme: a TLS proxy may be in front), or a configured public URL's.
    /// `null` (an opaque origin) and anything unparseable are not.
    pub fn origin_allowed(&self, origin: &str, host: Option<&str>) -> bool {
        let Some(o) = Authority::from_url(origin) else {
            return false;
        };
        // An origin is only scheme://host[:port]: a path means it is no origin.
        if origin
            .trim()
            .split_once("://")
            .is_some_and(|(_, r)| r.contains(['/', '?', '#']))
        {
            return false;
        }
        let scheme = o.scheme.as_deref().unwrap_or("http");
        let same = |h: &Authority, h_scheme: &str| {
            h.host == o.host && h.effective_port(h_scheme) == o.effective_port(scheme)
        };
        if let Some(h) = host.and_then(Authority::from_host) {
            if same(&h, scheme) {
                return true;
            }
        }
        self.public
            .iter()
            .any(|p| p.scheme.as_deref() == Some(scheme) && same(p, scheme))
    }
}

/// Whether `method` changes state, so needs the JSON content type.
pub fn changes_state(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

/// Whether a `Content-Type` is JSON's (`application/json`, any parameters).
pub fn is_json(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        ct.split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let site = Site::new(["http://novakeys.test:8774/", "not a url"]);
        for ok in [
            "127.0.0.1:8774",
            "127.1.2.3",
            "[::1]:5000",
            "[::ffff:127.0.0.1]:1",
            "localhost:8774",
            "LOCALHOST.",
            "app.localhost:1",
            "novakeys.test:9999",
            "NoVaKeys.Test",
        ] {
            assert!(site.host_allowed(Some(ok)), "{ok}");
        }
        for bad in [
            "evil.example:8774",
            "localhost.evil.example",
            "0.0.0.0:8774",
            "192.0.2.1:8774",
            "[::]:1",
            "",
            "127.0.0.1:port",
            "a b",
            "[::1",
            "novakeys.test.evil.example",
        ] {
            assert!(!site.host_allowed(Some(bad)), "{bad}");
        }
        assert!(site.host_allowed(None), "no Host: not a browser");
        assert!(!Site::default().host_allowed(Some("novakeys.test")));
    }

    #[test]
    fn origins() {
        let site = Site::new(["https://nk.example.com/compute"]);
        let host = Some("127.0.0.1:8774");
        assert!(site.origin_allowed("http://127.0.0.1:8774", host));
        assert!(site.origin_allowed("HTTPS://127.0.0.1:8774", host));
        assert!(site.origin_allowed("http://localhost", Some("localhost:80")));
        assert!(site.origin_allowed("https://nk.example.com", host));
        assert!(site.origin_allowed("https://nk.example.com:443", host));
        for bad in [
            "null",
            "http://127.0.0.1:8775",
            "http://127.0.0.1",
            "http://evil.example",
            "http://nk.example.com",
            "file://",
            "http://127.0.0.1:8774/path",
            "http://user@127.0.0.1:8774",
            "",
        ] {
            assert!(!site.origin_allowed(bad, host), "{bad}");
        }
        assert!(!site.origin_allowed("http://127.0.0.1:8774", None));
    }

    #[test]
    fn content_types() {
        assert!(is_json(Some("application/json")));
        assert!(is_json(Some("Application/JSON; charset=utf-8")));
        for bad in [
            None,
            Some(""),
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some("application/jsonx"),
            Some("text/plain; application/json"),
        ] {
            assert!(!is_json(bad), "{bad:?}");
        }
        assert!(changes_state(&Method::DELETE) && !changes_state(&Method::GET));
    }
}
