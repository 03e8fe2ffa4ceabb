//! # Request journal
//!
//! Every API call (not the controls, health or metrics) in a bounded ring: who, what, how it
//! went, and both bodies with private keys, secrets and passwords redacted.

use actix_web::http::Method;
use chrono::{DateTime, SubsecRound, Utc};
use memchr::memmem::Finder;
use serde::Serialize;
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{LazyLock, Mutex};

/// JSON members whose values never reach the journal.
const REDACTED_KEYS: &[&str] = &[
    "private_key",
    "password",
    "original_password",
    "secret",
    "passcode",
    "token",
    // Keystone's credentials carry the access key's secret inside this JSON string.
    "blob",
    // Tencent's CreateKeyPair answer (`KeyPair.PrivateKey`).
    "PrivateKey",
    // Alibaba's CreateKeyPair answer.
    "PrivateKeyBody",
];
pub const REDACTED: &str = "***";

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// 1, 2, 3, ... since start (not reset, so `since=` stays meaningful).
    pub seq: u64,
    /// Kept as a time, written as RFC 3339 with microseconds when the journal is read.
    #[serde(serialize_with = "rfc3339_micros")]
    pub time: DateTime<Utc>,
    pub api: &'static str,
    pub user_id: Option<String>,
    pub project_id: Option<String>,
    pub microversion: Option<String>,
    #[serde(serialize_with = "method_name")]
    pub method: Method,
    pub path: String,
    pub query: String,
    pub status: u16,
    pub duration_ms: f64,
    pub request_body: Body,
    pub response_body: Body,
    /// The injected fault's rule id, if one answered.
    pub fault: Option<String>,
}

fn rfc3339_micros<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

fn method_name<S: serde::Serializer>(m: &Method, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(m.as_str())
}

pub struct Journal {
    capacity: usize,
    inner: Mutex<Ring>,
}

/// The bodies the journal holds at most, in bytes, whatever `capacity` says (oldest entries go
/// first): a thousand 1000-item list pages would otherwise pin 180 MB, and holding even 16 MB
/// of response buffers cost a third of the throughput of a mixed load (fresh memory for every
/// response) and 20 MB of RSS.
const MAX_BODY_BYTES: usize = 4 << 20;

#[derive(Default)]
struct Ring {
    seq: u64,
    entries: VecDeque<Entry>,
    body_bytes: usize,
}

impl Entry {
    fn body_bytes(&self) -> usize {
        self.request_body.len() + self.response_body.len()
    }
}

/// The `GET /_novakeys/journal` filters.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Filter {
    pub method: Option<String>,
    /// Glob (`*` = anything) on the path below the API's mount.
    pub path: Option<String>,
    /// `201`, or a class such as `4xx`.
    pub status: Option<String>,
    /// A sequence number (entries after it) or an RFC 3339 time (entries at or after it).
    pub since: Option<String>,
    pub format: Option<String>,
}

impl Filter {
    fn keeps(&self, e: &Entry) -> bool {
        if let Some(m) = &self.method {
            if !m.eq_ignore_ascii_case(e.method.as_str()) {
                return false;
            }
        }
        if let Some(p) = &self.path {
            if !super::glob(p, &e.path) {
                return false;
            }
        }
        if let Some(s) = &self.status {
            let code = e.status.to_string();
            let ok = if s.len() == 3 && s.ends_with("xx") {
                code.starts_with(&s[..1])
            } else {
                *s == code
            };
            if !ok {
                return false;
            }
        }
        if let Some(since) = &self.since {
            if let Ok(n) = since.parse::<u64>() {
                if e.seq <= n {
                    return false;
                }
            } else if let Ok(t) = DateTime::parse_from_rfc3339(since) {
                // Compared as shown (to the microsecond).
                if e.time.trunc_subsecs(6) < t {
                    return false;
                }
            }
        }
        true
    }
}

impl Journal {
    pub fn new(capacity: usize) -> Journal {
        Journal {
            capacity,
            inner: Mutex::new(Ring {
                entries: VecDeque::with_capacity(capacity.min(4096)),
                ..Ring::default()
            }),
        }
    }

    pub fn record(&self, mut entry: Entry) {
        if self.capacity == 0 {
            return;
        }
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.seq += 1;
        entry.seq = g.seq;
        g.body_bytes += entry.body_bytes();
        g.entries.push_back(entry);
        while g.entries.len() > self.capacity
            || (g.body_bytes > MAX_BODY_BYTES && g.entries.len() > 1)
        {
            if let Some(old) = g.entries.pop_front() {
                g.body_bytes -= old.body_bytes();
            }
        }
    }

    pub fn clear(&self) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.entries.clear();
        g.body_bytes = 0;
    }

    pub fn query(&self, filter: &Filter) -> Vec<Entry> {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.entries
            .iter()
            .filter(|e| filter.keeps(e))
            .cloned()
            .collect()
    }
}

/// A body as the journal keeps it. Bodies that cannot hold a secret are kept as the bytes
/// that went over the wire (shared, not copied) and parsed only when the journal is read:
/// parsing an 18 KB list response on every call cost more than the call itself. Anything that
/// might hold a secret is parsed and redacted right away, so no secret is ever kept.
#[derive(Debug, Clone)]
pub enum Body {
    Clean(actix_web::web::Bytes),
    /// The redacted document, and the size of the body it came from.
    Redacted(Value, usize),
}

impl Body {
    pub fn new(bytes: actix_web::web::Bytes) -> Body {
        if might_hold_secret(&bytes) {
            Body::Redacted(body_value(&bytes), bytes.len())
        } else {
            Body::Clean(bytes)
        }
    }

    /// Bytes held (for a redacted body, its size as sent stands in for its parsed size).
    fn len(&self) -> usize {
        match self {
            Body::Clean(bytes) => bytes.len(),
            Body::Redacted(_, n) => *n,
        }
    }

    pub fn to_value(&self) -> Value {
        match self {
            Body::Clean(bytes) => body_value(bytes),
            Body::Redacted(v, _) => v.clone(),
        }
    }
}

impl Serialize for Body {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Body::Clean(bytes) => body_value(bytes).serialize(s),
            Body::Redacted(v, _) => v.serialize(s),
        }
    }
}

/// Whether `redact` could change anything in `bytes`: a secret member's name, or a JSON escape
/// (`\u...` could spell one), or PEM private key text.
fn might_hold_secret(bytes: &[u8]) -> bool {
    // Built once: building a searcher cost more than running it over a small body.
    static NEEDLES: LazyLock<Vec<Finder<'static>>> = LazyLock::new(|| {
        REDACTED_KEYS
            .iter()
            .map(|k| k.as_bytes())
            .chain([&b"\\u"[..], b"PRIVATE KEY"])
            .map(Finder::new)
            .collect()
    });
    NEEDLES.iter().any(|f| f.find(bytes).is_some())
}

/// A body as the journal shows it: JSON (redacted) when it parses, else text, else null.
pub fn body_value(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(mut v) => {
            redact(&mut v);
            v
        }
        Err(_) => {
            let text = String::from_utf8_lossy(bytes);
            if text.contains("PRIVATE KEY") {
                Value::String(REDACTED.into())
            } else if let Some(form) = redact_form(bytes) {
                Value::String(form)
            } else if is_html(&text) {
                // A page, not an API body: its forms carry CSRF tokens, and its text is the
                // API data it was rendered from (journalled with the calls that changed it).
                Value::String(format!("(HTML page, {} bytes)", bytes.len()))
            } else {
                Value::String(text.chars().take(4096).collect())
            }
        }
    }
}

/// Whether a form field's value never reaches the journal: the JSON member names, any case,
/// and anything named like a password or a token (`csrf_token`).
fn secret_field(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    REDACTED_KEYS.contains(&name.as_str()) || name.contains("password") || name.ends_with("_token")
}

/// An `application/x-www-form-urlencoded` body (web forms; nothing but printable ASCII
/// without spaces, and `key=value` pairs) with its secret fields' values masked; None when
/// `bytes` is not shaped like one.
fn redact_form(bytes: &[u8]) -> Option<String> {
    if !bytes.contains(&b'=') || !bytes.iter().all(|b| (b'!'..=b'~').contains(b)) {
        return None;
    }
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(bytes) {
        if secret_field(&k) {
            out.append_pair(&k, REDACTED);
        } else {
            out.append_pair(&k, &v);
        }
    }
    Some(out.finish())
}

fn is_html(text: &str) -> bool {
    let head: String = text.trim_start().chars().take(15).collect();
    let head = head.to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html")
}

/// Replaces the values of secret members (at any depth) with `***`.
pub fn redact(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                let secret = REDACTED_KEYS.contains(&k.as_str());
                match val {
                    Value::String(_) | Value::Number(_) if secret => {
                        *val = Value::String(REDACTED.into())
                    }
                    // `"token": {"id": "..."}` (the token auth method)
                    Value::Object(inner) if k == "token" => {
                        if let Some(id) = inner.get_mut("id") {
                            *id = Value::String(REDACTED.into());
                        }
                    }
                    _ => redact(val),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redacts_alibabas_private_key_body() {
        let v = body_value(
            br#"{"RequestId": "R", "KeyPairName": "k", "PrivateKeyBody": "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n"}"#,
        );
        assert_eq!(
            v,
            json!({"RequestId": "R", "KeyPairName": "k", "PrivateKeyBody": REDACTED})
        );
    }

    #[test]
    fn redacts_at_any_depth() {
        let v = body_value(
            br#"{"auth": {"identity": {"password": {"user": {"name": "demo", "password": "demo"}}}},
                 "keypair": {"private_key": "-----BEGIN", "name": "k"}}"#,
        );
        assert_eq!(
            v["auth"]["identity"]["password"]["user"],
            json!({"name": "demo", "password": REDACTED})
        );
        assert_eq!(v["keypair"]["private_key"], json!(REDACTED));
        let mut tencent = json!({"Response": {"KeyPair": {"KeyId": "skey-a", "PrivateKey": "-----BEGIN RSA PRIVATE KEY-----"}}});
        redact(&mut tencent);
        assert_eq!(
            tencent["Response"]["KeyPair"]["PrivateKey"],
            json!(REDACTED)
        );
        assert_eq!(tencent["Response"]["KeyPair"]["KeyId"], json!("skey-a"));
        assert_eq!(v["keypair"]["name"], json!("k"));
    }

    #[test]
    fn bodies_that_may_hold_secrets_are_redacted_at_once_others_kept_as_sent() {
        use actix_web::web::Bytes;
        let list = Bytes::from_static(br#"{"keypairs": [{"keypair": {"name": "k"}}]}"#);
        assert!(matches!(Body::new(list.clone()), Body::Clean(ref b) if *b == list));
        assert_eq!(
            Body::new(list).to_value(),
            json!({"keypairs": [{"keypair": {"name": "k"}}]})
        );
        for secret in [
            &br#"{"keypair": {"name": "k", "private_key": "-----BEGIN"}}"#[..],
            br#"{"user": {"pass\u0077ord": "hunter2"}}"#,
            b"-----BEGIN OPENSSH PRIVATE KEY-----\nabc",
        ] {
            let body = Body::new(Bytes::copy_from_slice(secret));
            let Body::Redacted(v, _) = &body else {
                panic!("kept as sent: {}", String::from_utf8_lossy(secret))
            };
            let text = v.to_string();
            assert!(
                !text.contains("hunter2") && !text.contains("BEGIN"),
                "{text}"
            );
        }
    }

    #[test]
    fn form_bodies_are_redacted_by_field_name() {
        let v = body_value(b"user=demo&Password=hunter%32&csrf_token=abc&domain=Default");
        assert_eq!(
            v,
            json!("user=demo&Password=***&csrf_token=***&domain=Default")
        );
        assert!(matches!(
            Body::new(actix_web::web::Bytes::from_static(b"name=k&password=pw")),
            Body::Redacted(ref v, _) if !v.to_string().contains("pw\"")
        ));
        assert_eq!(
            body_value(b"plain text = not a form"),
            json!("plain text = not a form")
        );
    }

    #[test]
    fn html_pages_are_summarised() {
        let page = b"<!DOCTYPE html><form><input name=csrf_token value=s3cr3t></form>";
        let v = body_value(page);
        assert_eq!(v, json!(format!("(HTML page, {} bytes)", page.len())));
    }

    fn entry(path: &str, response: actix_web::web::Bytes) -> Entry {
        Entry {
            seq: 0,
            time: Utc::now(),
            api: "compute",
            user_id: None,
            project_id: None,
            microversion: None,
            method: Method::GET,
            path: path.into(),
            query: String::new(),
            status: 200,
            duration_ms: 0.0,
            request_body: Body::new(Default::default()),
            response_body: Body::new(response),
            fault: None,
        }
    }

    #[test]
    fn ring_is_bounded_by_body_bytes_too() {
        let j = Journal::new(1000);
        let big = actix_web::web::Bytes::from(vec![b'x'; MAX_BODY_BYTES / 10]);
        for _ in 0..25 {
            j.record(entry("/", big.clone()));
        }
        let kept = j.query(&Filter::default());
        assert_eq!(kept.len(), 10, "ten bodies of a tenth fill the budget");
        assert_eq!(kept.last().unwrap().seq, 25, "the newest are kept");
        j.clear();
        assert!(j.query(&Filter::default()).is_empty());
        assert_eq!(j.inner.lock().unwrap().body_bytes, 0);
    }

    #[test]
    fn ring_is_bounded() {
        let j = Journal::new(2);
        for i in 0..3 {
            j.record(entry(&format!("/{i}"), Default::default()));
        }
        let all = j.query(&Filter::default());
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].seq, 2);
    }
}
