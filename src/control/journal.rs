//! # Request journal
//!
//! Every API call (not the controls, health or metrics) in a bounded ring: who, what, how it
//! went, the query and both bodies with private keys, secrets, passwords, tokens and
//! signatures redacted. No headers are kept (tokens, API keys, cookies and `Authorization`
//! travel there). A body that parses as JSON loses the values of secret-named members (any
//! case or separator, at any depth, lists and objects too); one that does not is masked by
//! shape: a form's secret fields, a PEM private key whole, an HTML page to its size, other
//! text from the first secret-looking name on, and anything not UTF-8 text (control bytes) is not kept at all.

use actix_web::http::Method;
use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{LazyLock, Mutex};

/// Member, form field and query parameter names whose values never reach the journal,
/// compared lower-cased with `_`, `-`, `.` and spaces removed: any name containing one of
/// these (`password`, `Password`, `original_password`, `AccessKeySecret`, `SecretKey`,
/// `private_key`, `PrivateKeyBody`, `x-api-key`, ...).
const SECRET_PARTS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "passcode",
    "secret",
    "privatekey",
    "apikey",
    "cookie",
    "authorization",
];
/// ... or ending in one of these (`token`, `csrf_token`, `X-Auth-Token`, Alibaba's and
/// Tencent's `Signature`, `session_id`).
const SECRET_ENDS: &[&str] = &["token", "signature", "session", "sessionid"];
/// ... or exactly one of these (Keystone's credentials carry the access key's secret inside
/// `blob`, a JSON string).
const SECRET_NAMES: &[&str] = &["blob"];
/// Names that match the rules above but hold no secret (an access key's id, pagination and
/// idempotency tokens, an expiry time).
const NOT_SECRET: &[&str] = &["secretid", "nexttoken", "clienttoken"];

/// Whether a member's, form field's or query parameter's value never reaches the journal.
pub fn secret_name(name: &str) -> bool {
    // Remembered per thread: the same few names come with every request, and the rules below
    // search each name for a dozen words. Bounded, so odd names only cost the search.
    thread_local! {
        static KNOWN: std::cell::RefCell<std::collections::HashMap<Box<str>, bool>> =
            Default::default();
    }
    KNOWN.with(|known| {
        if let Some(&secret) = known.borrow().get(name) {
            return secret;
        }
        let secret = secret_by_rules(name);
        let mut known = known.borrow_mut();
        if known.len() < 1024 && name.len() <= 64 {
            known.insert(name.into(), secret);
        }
        secret
    })
}

fn secret_by_rules(name: &str) -> bool {
    let n: String = name
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | '.' | ' '))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let n = n.as_str();
    if NOT_SECRET.contains(&n) || n.contains("expires") {
        return false;
    }
    SECRET_PARTS.iter().any(|p| n.contains(p))
        || SECRET_ENDS.iter().any(|e| n.ends_with(e))
        || SECRET_NAMES.contains(&n)
}

/// Where a secret may start in text that is not JSON (or is broken JSON): a name
/// [`secret_name`] could match (any case, any separator), a JSON escape (`\u...` could spell
/// one), or PEM private key text. Everything from the first match on is masked.
static SECRET_LOOKING: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
    regex::bytes::Regex::new(
        r"(?i-u)pass|secret|private|api.?key|cookie|authori[sz]ation|token|signature|session|blob|\\u",
    )
    .expect("valid pattern")
});

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
    /// A body that holds no secret and went out in parts (shared, not copied), in order.
    Parts(Vec<actix_web::web::Bytes>),
    /// The redacted document, and the size of the body it came from.
    Redacted(Value, usize),
}

impl Body {
    pub fn new(bytes: actix_web::web::Bytes) -> Body {
        Body::request(bytes).0
    }

    /// A body its front vouches holds no secret (`http::NoSecrets`): kept as sent, unscanned.
    pub fn as_sent(bytes: actix_web::web::Bytes) -> Body {
        Body::Clean(bytes)
    }

    /// A request body, and the secret values redacted from it: an error answer may echo them
    /// (Keystone's schema errors quote the offending value), see [`Body::response`].
    pub fn request(bytes: actix_web::web::Bytes) -> (Body, Vec<String>) {
        if might_hold_secret(&bytes) {
            let mut secrets = Vec::new();
            let v = body_value_with(&bytes, &mut secrets);
            (Body::Redacted(v, bytes.len()), secrets)
        } else {
            (Body::Clean(bytes), Vec::new())
        }
    }

    /// A response body; an error answer (`status` 400 or more) also loses every echo of the
    /// request's `secrets` (as sent or JSON-escaped).
    pub fn response(bytes: actix_web::web::Bytes, status: u16, secrets: &[String]) -> Body {
        if status < 400 || secrets.is_empty() {
            return Body::new(bytes);
        }
        let Ok(text) = std::str::from_utf8(&bytes) else {
            return Body::new(bytes);
        };
        let mut text = text.to_string();
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            let escaped = serde_json::to_string(secret).unwrap_or_default();
            let escaped = escaped.trim_matches('"');
            // Quoted (Python's repr, JSON inside JSON) at any length; bare only when long
            // enough not to be some other word of the answer.
            let mut shown = vec![format!("'{escaped}'"), format!("\\\"{escaped}\\\"")];
            if secret.chars().count() >= 4 {
                shown.extend([secret.clone(), escaped.to_string()]);
            }
            for s in shown {
                if text.contains(&s) {
                    text = text.replace(&s, REDACTED);
                }
            }
        }
        let len = bytes.len();
        let mut body = Body::new(text.into_bytes().into());
        if let Body::Clean(b) = body {
            // Kept parsed: its size as sent is what the budget counts.
            body = Body::Redacted(body_value(&b), len);
        }
        body
    }

    /// Bytes held (for a redacted body, its size as sent stands in for its parsed size).
    fn len(&self) -> usize {
        match self {
            Body::Clean(bytes) => bytes.len(),
            Body::Parts(parts) => parts.iter().map(|p| p.len()).sum(),
            Body::Redacted(_, n) => *n,
        }
    }

    pub fn to_value(&self) -> Value {
        match self {
            Body::Clean(bytes) => body_value(bytes),
            Body::Parts(parts) => body_value(&parts.concat()),
            Body::Redacted(v, _) => v.clone(),
        }
    }
}

impl Serialize for Body {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Body::Clean(bytes) => body_value(bytes).serialize(s),
            Body::Parts(parts) => body_value(&parts.concat()).serialize(s),
            Body::Redacted(v, _) => v.serialize(s),
        }
    }
}

/// Whether `body_value` could change anything in `bytes`: bytes that are not UTF-8 text (never
/// kept: they cannot be checked), an HTML page (kept as a summary), PEM private key text, or
/// anything that looks like a secret's name ([`SECRET_LOOKING`]) — in a JSON document only
/// where a member's name stands. A list of 100 key pairs holds 40 KB of base64, where a
/// case-blind `pass` or `blob` turns up in about every other list: searching the whole text
/// would parse and re-render most lists on the request path. (What the journal shows never
/// depends on this: a body kept as sent is redacted again when read.)
fn might_hold_secret(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return true;
    };
    if has_control(bytes) {
        return true;
    }
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{' | b'[') => {
            json_names_look_secret(bytes) || memchr::memmem::find(bytes, b"PRIVATE KEY").is_some()
        }
        Some(b'<') if is_html(text) => true,
        _ => SECRET_LOOKING.is_match(bytes),
    }
}

/// Whether a member name of this JSON text (a string closed right before a colon) looks like a
/// secret's, or holds an escape (`\u0070assword`). Only names are read: a list of key pairs
/// has a few hundred of them in 50 KB.
fn json_names_look_secret(bytes: &[u8]) -> bool {
    // The names, one per line, for one pass of the pattern (a pass per name cost more than
    // the rest of a list request).
    let mut names = Vec::with_capacity(bytes.len() / 8);
    for colon in memchr::memchr_iter(b':', bytes) {
        let before = bytes[..colon].trim_ascii_end();
        let Some(inner) = before.strip_suffix(b"\"") else {
            continue;
        };
        let name = match memchr::memrchr(b'"', inner) {
            Some(open) => &inner[open + 1..],
            None => inner,
        };
        if name.contains(&b'\\') {
            return true;
        }
        names.extend_from_slice(name);
        names.push(b'\n');
    }
    SECRET_LOOKING.is_match(&names)
}

/// [`is_control`] anywhere in `bytes`, in a form the compiler vectorises (lists are 50 KB).
fn has_control(bytes: &[u8]) -> bool {
    bytes
        .chunks(64)
        .any(|c| c.iter().fold(false, |seen, &b| seen | is_control(b)))
}

/// A control byte text does not have (UTF-16 of ASCII is valid UTF-8, NULs between letters).
fn is_control(b: u8) -> bool {
    (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f
}

/// A body as the journal shows it: JSON (redacted) when it parses; else, when it is UTF-8, a
/// form (its secret fields masked), a PEM private key (masked), an HTML page (summarised) or
/// text (masked from the first thing that looks like a secret on); else a note of its size.
pub fn body_value(bytes: &[u8]) -> Value {
    body_value_with(bytes, &mut Vec::new())
}

/// [`body_value`], putting the secret values it masked (of JSON and forms) in `secrets`.
fn body_value_with(bytes: &[u8], secrets: &mut Vec<String>) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    if let Ok(mut v) = serde_json::from_slice::<Value>(bytes) {
        redact_within(&mut v, false, secrets);
        return v;
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) if !bytes.iter().copied().any(is_control) => text,
        // Binary (a PKCS#12 file), another encoding (UTF-16 hides every name from the checks)
        // or a broken byte: nothing in it can be checked, so nothing of it is kept.
        _ => return Value::String(format!("({} bytes, not UTF-8 text: not kept)", bytes.len())),
    };
    if text.contains("PRIVATE KEY") {
        Value::String(REDACTED.into())
    } else if let Some(form) = redact_form(bytes, secrets) {
        Value::String(form)
    } else if is_html(text) {
        // A page, not an API body: its forms carry CSRF tokens, and its text is the
        // API data it was rendered from (journalled with the calls that changed it).
        Value::String(format!("(HTML page, {} bytes)", bytes.len()))
    } else {
        Value::String(mask_from_secret(text))
    }
}

/// Text that could not be parsed (truncated JSON, a form with a raw space), kept up to and
/// including the first thing that looks like a secret's name, `***` for the rest; at most
/// 4096 characters.
fn mask_from_secret(text: &str) -> String {
    let (kept, masked) = match SECRET_LOOKING.find(text.as_bytes()) {
        // Every alternative ends in ASCII, so the match ends on a character boundary.
        Some(m) => (text.get(..m.end()).unwrap_or(""), true),
        None => (text, false),
    };
    let mut out: String = kept.chars().take(4096).collect();
    if masked {
        out.push_str(REDACTED);
    }
    out
}

/// A query string as the journal shows it: the values of secret parameters (Alibaba's and
/// Tencent's `Signature`, ...) masked; kept as sent when it names none.
pub fn redact_query(query: &str) -> String {
    redact_query_with(query, &mut Vec::new())
}

/// [`redact_query`], putting the values it masked in `secrets`. Decides by each pair's
/// decoded name (so a percent-encoded one is caught too) and copies nothing until a secret
/// pair turns up: a signed Alibaba query always has one, most others none.
pub fn redact_query_with(query: &str, secrets: &mut Vec<String>) -> String {
    let mut out = String::new();
    // How much of `query` is in `out` already, and where the pair at hand starts.
    let (mut kept, mut start) = (0, 0);
    for pair in query.split('&') {
        let end = start + pair.len();
        let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        if !raw_key.is_empty() && secret_name(&form_decoded(raw_key)) {
            let value = form_decoded(raw_value);
            if !value.is_empty() {
                secrets.push(value.into_owned());
            }
            out.reserve(query.len());
            out.push_str(&query[kept..start]);
            out.push_str(raw_key);
            out.push('=');
            out.push_str(REDACTED);
            kept = end;
        }
        start = end + 1;
    }
    if kept == 0 {
        return query.to_string();
    }
    out.push_str(&query[kept..]);
    out
}

/// One `application/x-www-form-urlencoded` component decoded (`+` is a space).
fn form_decoded(raw: &str) -> std::borrow::Cow<'_, str> {
    if !raw.contains(['%', '+']) {
        return std::borrow::Cow::Borrowed(raw);
    }
    let spaced = raw.replace('+', " ");
    std::borrow::Cow::Owned(
        percent_encoding::percent_decode_str(&spaced)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

/// An `application/x-www-form-urlencoded` body (web forms; nothing but printable ASCII
/// without spaces, and `key=value` pairs) with its secret fields' values masked; None when
/// `bytes` is not shaped like one.
fn redact_form(bytes: &[u8], secrets: &mut Vec<String>) -> Option<String> {
    if !bytes.contains(&b'=') || !bytes.iter().all(|b| (b'!'..=b'~').contains(b)) {
        return None;
    }
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(bytes) {
        if secret_name(&k) {
            secrets.push(v.into_owned());
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

/// Replaces secrets (at any depth) with `***`: the value of every member [`secret_name`]
/// matches (a string, number or list; inside an object under such a name, everything but
/// `name` and `id`, so Keystone's `"password": {"user": {"name": ...}}` still shows who),
/// the `id` of a `token` object (Keystone's token auth method; the rest of a token answer
/// stays), and any string holding PEM private key text.
pub fn redact(v: &mut Value) {
    redact_within(v, false, &mut Vec::new())
}

/// Every string and number in `v`, as text (what a masked value held).
fn leaves(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Array(items) => items.iter().for_each(|i| leaves(i, out)),
        Value::Object(map) => map.values().for_each(|i| leaves(i, out)),
        Value::Null | Value::Bool(_) => {}
    }
}

fn redact_within(v: &mut Value, under_secret: bool, secrets: &mut Vec<String>) {
    fn mask(val: &mut Value, secrets: &mut Vec<String>) {
        leaves(val, secrets);
        *val = Value::String(REDACTED.into());
    }
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                let secret = secret_name(k);
                let masked = under_secret && !matches!(k.as_str(), "name" | "id");
                match val {
                    Value::Null | Value::Bool(_) => {}
                    Value::Object(inner) if k.eq_ignore_ascii_case("token") => {
                        if let Some(id) = inner.get_mut("id") {
                            mask(id, secrets);
                        }
                        redact_within(val, under_secret, secrets);
                    }
                    Value::Object(_) => redact_within(val, under_secret || secret, secrets),
                    _ if secret || masked => mask(val, secrets),
                    _ => redact_within(val, under_secret, secrets),
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|i| redact_within(i, under_secret, secrets)),
        Value::String(s) if s.contains("PRIVATE KEY") => {
            secrets.push(std::mem::replace(s, REDACTED.into()))
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_words_inside_json_values_do_not_make_a_body_suspect() {
        // Base64 happens to spell words: only a member name counts.
        let list = br#"{"keypairs": [{"keypair": {"public_key": "ssh-rsa AAAAPaSsBlObtoKEn== x", "name": "k"}}]}"#;
        assert!(!might_hold_secret(list));
        for suspect in [
            &br#"{"auth": {"Password": "x"}}"#[..],
            br#"{"auth": {"password" : "hun"#,
            br#"{"pass": "x"}"#,
            br#"{"key": "-----BEGIN RSA PRIVATE KEY-----"}"#,
            br#"[{"SecretKey":"s"}]"#,
            b"username=a&password=b",
            b"<!DOCTYPE html><form><input name=csrf_token></form>",
            b"{\"a\": \"\xff\"}",
        ] {
            assert!(
                might_hold_secret(suspect),
                "{}",
                String::from_utf8_lossy(suspect)
            );
        }
    }
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

    /// A name is judged decoded: percent-encoding it does not get its value into the journal.
    #[test]
    fn percent_encoded_secret_names_in_a_query_are_masked_too() {
        let mut secrets = Vec::new();
        assert_eq!(
            redact_query_with("%50assword=hunter2&limit=2&Sig%6Eature=c2ln", &mut secrets),
            "%50assword=***&limit=2&Sig%6Eature=***"
        );
        assert_eq!(secrets, ["hunter2", "c2ln"]);
        // Asked again (now remembered), the same answers.
        assert_eq!(redact_query("%50assword=x"), "%50assword=***");
        assert_eq!(redact_query("limit=2&marker=k1"), "limit=2&marker=k1");
    }

    #[test]
    fn secret_names_in_any_spelling() {
        for name in [
            "password",
            "Password",
            "PASSWORD",
            "original_password",
            "new-password",
            "passwd",
            "passcode",
            "secret",
            "AccessKeySecret",
            "access_key_secret",
            "SecretKey",
            "client_secret",
            "private_key",
            "PrivateKey",
            "PrivateKeyBody",
            "x-api-key",
            "api_key",
            "ApiKey",
            "token",
            "csrf_token",
            "download_token",
            "X-Auth-Token",
            "SecurityToken",
            "Signature",
            "signature",
            "blob",
            "Cookie",
            "authorization",
            "session",
        ] {
            assert!(secret_name(name), "{name}");
        }
        for name in [
            "name",
            "user",
            "SecretId",
            "secret_id",
            "NextToken",
            "ClientToken",
            "SignatureMethod",
            "SignatureNonce",
            "SignatureVersion",
            "password_expires_at",
            "AccessKeyId",
            "KeyPairName",
            "methods",
        ] {
            assert!(!secret_name(name), "{name}");
        }
    }

    #[test]
    fn secrets_under_other_cases_in_lists_and_objects_are_masked() {
        let v = body_value(
            br#"{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "demo", "domain": {"id": "default"}, "Password": "p1", "extra": ["p2"]}}}},
                 "PASSWORD": ["p3", {"x": "p4"}], "secret": {"value": "p5", "id": "kept-id"},
                 "note": "-----BEGIN OPENSSH PRIVATE KEY-----p6", "PasswordInherit": true,
                 "password_expires_at": "2026-01-01T00:00:00Z", "SecretId": "AKID1"}"#,
        );
        let text = v.to_string();
        for p in ["p1", "p2", "p3", "p4", "p5", "p6"] {
            assert!(!text.contains(p), "{p} in {text}");
        }
        assert_eq!(v["auth"]["identity"]["methods"], json!(["password"]));
        assert_eq!(
            v["auth"]["identity"]["password"]["user"]["name"],
            json!("demo")
        );
        assert_eq!(
            v["auth"]["identity"]["password"]["user"]["domain"],
            json!({"id": "default"})
        );
        assert_eq!(v["secret"]["id"], json!("kept-id"));
        assert_eq!(v["PasswordInherit"], json!(true));
        assert_eq!(v["password_expires_at"], json!("2026-01-01T00:00:00Z"));
        assert_eq!(v["SecretId"], json!("AKID1"));
        // A token object keeps all but its id (a token answer's catalog stays readable).
        let v = body_value(br#"{"token": {"id": "tok", "methods": ["token"], "expires_at": "x"}}"#);
        assert_eq!(
            v,
            json!({"token": {"id": REDACTED, "methods": ["token"], "expires_at": "x"}})
        );
    }

    #[test]
    fn bodies_that_do_not_parse_are_masked_by_shape() {
        // Truncated JSON: kept up to the first secret-looking name.
        let v = body_value(br#"{"auth": {"identity": {"methods": ["password"], "password": {"user": {"password": "hunter2""#);
        assert_eq!(v, json!(r#"{"auth": {"identity": {"methods": ["pass***"#));
        let v = body_value(br#"{"keypair": {"name": "k", "Private_Key": "abc"#);
        assert_eq!(v, json!(r#"{"keypair": {"name": "k", "Private***"#));
        let v = body_value(br#"{"user": {"pass\u0077ord": "hunter2""#);
        assert_eq!(v, json!(r#"{"user": {"pass***"#));
        let v = body_value(br#"{"a": "\u0041", "x": "hunter2""#);
        assert_eq!(v, json!(r#"{"a": "\u***"#));
        // A form with a raw space is no form: masked the same way.
        let v = body_value(b"username=demo&password=hunter 2");
        assert_eq!(v, json!("username=demo&pass***"));
        // Nothing secret-looking: kept.
        assert_eq!(body_value(b"{\"name\": \"k\""), json!("{\"name\": \"k\""));
        // Not UTF-8 (a stray byte, UTF-16, binary): nothing kept, even when valid JSON aside.
        for bytes in [
            &b"{\"password\": \"hunter2\", \"x\": \"\xff\"}"[..],
            b"\xff\xfe{\x00\"\x00p\x00a\x00s\x00s\x00",
            b"0\x82\x01\x00\x02\x01\x03",
            // UTF-16 of ASCII: valid UTF-8, but NULs between the letters.
            b"{\x00\"\x00p\x00a\x00s\x00s\x00w\x00",
        ] {
            assert_eq!(
                body_value(bytes),
                json!(format!("({} bytes, not UTF-8 text: not kept)", bytes.len()))
            );
            assert!(matches!(
                Body::new(actix_web::web::Bytes::copy_from_slice(bytes)),
                Body::Redacted(..)
            ));
        }
    }

    #[test]
    fn error_answers_lose_the_secrets_their_request_held() {
        use actix_web::web::Bytes;
        let (req, secrets) = Body::request(Bytes::from_static(
            br#"{"user": {"name": "demo", "password": ["ab", "LongSecret1"]}}"#,
        ));
        assert!(!req.to_value().to_string().contains("LongSecret1"));
        let answer = Bytes::from_static(
            br#"{"error": {"message": "['ab', 'LongSecret1'] is not of type 'string'", "code": 400}}"#,
        );
        let v = Body::response(answer, 400, &secrets).to_value().to_string();
        assert!(!v.contains("LongSecret1") && !v.contains("'ab'"), "{v}");
        assert!(v.contains("is not of type 'string'"), "{v}");
        // Form fields and query parameters count too.
        let (_, secrets) = Body::request(Bytes::from_static(b"name=k&AccessKeySecret=FormSecret1"));
        let mut secrets = secrets;
        assert_eq!(
            redact_query_with("Signature=QuerySig1&a=b", &mut secrets),
            "Signature=***&a=b"
        );
        let answer = Bytes::from_static(b"bad FormSecret1 and QuerySig1");
        assert_eq!(
            Body::response(answer, 400, &secrets).to_value(),
            json!("bad *** and ***")
        );
        // A successful answer is left alone (the password "demo" is also the user's name).
        let (_, secrets) = Body::request(Bytes::from_static(br#"{"password": "demo"}"#));
        let ok = Bytes::from_static(br#"{"token": {"user": {"name": "demo"}}}"#);
        assert_eq!(
            Body::response(ok, 201, &secrets).to_value(),
            json!({"token": {"user": {"name": "demo"}}})
        );
    }

    #[test]
    fn queries_lose_their_signatures() {
        assert_eq!(
            redact_query(
                "Action=DescribeKeyPairs&Signature=abc%2B%3D&SignatureNonce=n&AccessKeyId=LTAI"
            ),
            "Action=DescribeKeyPairs&Signature=***&SignatureNonce=n&AccessKeyId=LTAI"
        );
        assert_eq!(
            redact_query("api_key=k&X-Amz-Signature=s&limit=2"),
            "api_key=***&X-Amz-Signature=***&limit=2"
        );
        assert_eq!(redact_query("limit=2&marker=k1"), "limit=2&marker=k1");
        assert_eq!(redact_query(""), "");
        // Encoded names count as what they decode to; the other pairs stay as sent.
        let mut secrets = Vec::new();
        assert_eq!(
            redact_query_with(
                "name=a%20b+c&Pass%77ord=p%40ss&X-Auth+Token=t&token&&",
                &mut secrets
            ),
            "name=a%20b+c&Pass%77ord=***&X-Auth+Token=***&token=***&&"
        );
        assert_eq!(secrets, ["p@ss", "t"]);
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
