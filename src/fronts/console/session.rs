//! Sessions, one-time private key downloads, cookies and the CSRF checks.
//!
//! The browser holds only an opaque session id (`nk_session`: HttpOnly, SameSite=Strict); the
//! Keystone token stays here, beside the session's CSRF token. Each request re-verifies the
//! token (`Identity::authenticate`, cached), so a revoked or expired token, or a disabled user,
//! ends the session. A generated private key waits here for its downloads (the automatic one
//! and one "Download again") for at most ten minutes, then is wiped; it is never stored.

use actix_web::HttpRequest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

pub const SESSION_COOKIE: &str = "nk_session";
/// The log-in form's CSRF token (no session exists yet): a double-submit cookie.
pub const LOGIN_COOKIE: &str = "nk_login";
pub const LANG_COOKIE: &str = "nk_lang";

/// Sessions held at most; past it the ones closest to expiry go first.
const MAX_SESSIONS: usize = 4096;
/// How long a generated private key waits for its downloads (Tencent's old console gave ten
/// minutes). Real time, not the emulated clock: a frozen `--clock` must not keep a secret.
const TICKET_LIFETIME: Duration = Duration::from_secs(600);
/// The automatic download and one "Download again".
const DOWNLOADS: u8 = 2;
const MAX_TICKETS: usize = 1024;

/// One logged-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub csrf: String,
    /// The project-scoped Keystone token (never sent to the browser).
    pub token: String,
    /// The token's expiry (epoch seconds): a project switch keeps it, as a rescope does.
    pub exp: i64,
    pub user_id: String,
    pub user_name: String,
    pub domain_name: String,
    pub project_id: String,
    pub project_name: String,
    /// The projects the user may switch to: (id, name).
    pub projects: Vec<(String, String)>,
}

struct Ticket {
    session: String,
    name: String,
    pem: Zeroizing<String>,
    expires: Instant,
    left: u8,
}

#[derive(Default)]
pub struct Sessions {
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    tickets: Mutex<HashMap<String, Ticket>>,
}

/// 256 random bits, URL-safe base64 (from the determinism source, so `--seed` runs repeat).
pub fn random_token(det: &crate::determinism::Determinism) -> String {
    URL_SAFE_NO_PAD.encode(det.bytes::<32>())
}

impl Sessions {
    pub fn get(&self, id: &str) -> Option<Arc<Session>> {
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    /// Adds or replaces `s` (by its id).
    pub fn put(&self, s: Session, now: i64) -> Arc<Session> {
        let s = Arc::new(s);
        let mut map = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_SESSIONS && !map.contains_key(&s.id) {
            map.retain(|_, v| v.exp > now);
            while map.len() >= MAX_SESSIONS {
                let Some(oldest) = map.values().min_by_key(|v| v.exp).map(|v| v.id.clone()) else {
                    break;
                };
                map.remove(&oldest);
            }
        }
        map.insert(s.id.clone(), s.clone());
        s
    }

    /// Ends session `id` and wipes its waiting private keys.
    pub fn remove(&self, id: &str) -> Option<Arc<Session>> {
        self.tickets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, t| t.session != id);
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id)
    }

    /// Keeps `pem` (the private key of the new key pair `name`) for session `session`'s
    /// downloads; the ticket id goes in a POST form, never in a URL.
    pub fn hold_private_key(
        &self,
        session: &str,
        ticket: String,
        name: &str,
        pem: Zeroizing<String>,
    ) {
        let mut map = self.tickets.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        map.retain(|_, t| t.expires > now);
        if map.len() >= MAX_TICKETS {
            if let Some(k) = map
                .iter()
                .min_by_key(|(_, t)| t.expires)
                .map(|(k, _)| k.clone())
            {
                map.remove(&k);
            }
        }
        map.insert(
            ticket,
            Ticket {
                session: session.to_string(),
                name: name.to_string(),
                pem,
                expires: now + TICKET_LIFETIME,
                left: DOWNLOADS,
            },
        );
    }

    /// One download of a held private key: (key pair name, PEM), if `ticket` is `session`'s,
    /// unexpired and not used up. The last download wipes it.
    pub fn download(&self, session: &str, ticket: &str) -> Option<(String, Zeroizing<String>)> {
        let mut map = self.tickets.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        map.retain(|_, t| t.expires > now);
        let t = map.get_mut(ticket).filter(|t| t.session == session)?;
        t.left -= 1;
        let out = (t.name.clone(), t.pem.clone());
        if t.left == 0 {
            map.remove(ticket);
        }
        Some(out)
    }
}

/// A cookie's value from the `Cookie` headers.
pub fn cookie<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all("cookie")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

/// `Set-Cookie` for the session (or log-in) cookie: HttpOnly, SameSite=Strict, no expiry
/// (the browser forgets it when it closes; the server ends it with the token).
pub fn set_cookie(name: &str, value: &str, path: &str) -> String {
    format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict")
}

pub fn clear_cookie(name: &str, path: &str) -> String {
    format!("{name}=; Path={path}; Max-Age=0; HttpOnly; SameSite=Strict")
}

/// The language cookie: not a secret, kept for a year.
pub fn lang_cookie(code: &str) -> String {
    format!("{LANG_COOKIE}={code}; Path=/; Max-Age=31536000; SameSite=Strict")
}

/// Constant-time equality of two tokens.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && !a.is_empty()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Whether a state-changing request may come from where it says it does. Another port on
/// 127.0.0.1 is the same *site* (SameSite cookies go along), so the origin itself must be ours:
/// `Origin` (every browser sends it on a POST) must be this listener as the request addressed
/// it; without `Origin`, a browser's `Sec-Fetch-Site` must not say cross-site or same-site.
/// Tools without either (curl, tests) pass this check and still need the CSRF token.
pub fn same_origin(req: &HttpRequest) -> bool {
    let header = |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok());
    if let Some(origin) = header("origin") {
        let host = header("host").unwrap_or("");
        return !host.is_empty()
            && (origin.eq_ignore_ascii_case(&format!("http://{host}"))
                || origin.eq_ignore_ascii_case(&format!("https://{host}")));
    }
    !matches!(header("sec-fetch-site"), Some("cross-site" | "same-site"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_key_downloads_twice_for_its_session_only() {
        let s = Sessions::default();
        s.hold_private_key("s1", "t1".into(), "k", Zeroizing::new("PEM".into()));
        assert!(s.download("s2", "t1").is_none(), "another session's ticket");
        assert_eq!(s.download("s1", "t1").unwrap().0, "k");
        assert_eq!(&*s.download("s1", "t1").unwrap().1, "PEM");
        assert!(s.download("s1", "t1").is_none(), "used up");
        s.hold_private_key("s1", "t2".into(), "k2", Zeroizing::new("PEM".into()));
        s.remove("s1");
        assert!(s.download("s1", "t2").is_none(), "log-out wipes it");
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
        assert!(!same("", ""));
    }
}
