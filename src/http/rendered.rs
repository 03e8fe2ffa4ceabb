//! Rendered answers (Nova's `GET /os-keypairs` and `/os-keypairs/{name}` bodies, Tencent's and
//! Alibaba's `DescribeKeyPairs` members), kept until the next write to the store.
//!
//! Test suites and SDK polling loops list and show the same user's key pairs over and over
//! between writes. Reading 100 rows and rendering ~18 KB of JSON cost ten times a `show`, and
//! a `show`'s SQLite read (a read transaction with its file locks) was a sixth of its cost. An entry is only served
//! while the store's change token still has the value it had *before* the rows were read, so
//! any key pair write retires every entry.

use crate::store::ChangeToken;
use actix_web::web::Bytes;
use std::collections::HashMap;
use std::sync::Mutex;

/// Bodies kept at most, in bytes (a full page of 1000 key pairs is ~180 KB).
const BUDGET: usize = 4 << 20;

/// What a rendered body depends on, as length-prefixed parts (so no two part lists give the
/// same key, whatever bytes a user id or name holds).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct BodyKey(Vec<u8>);

impl BodyKey {
    pub fn new(kind: &str) -> BodyKey {
        BodyKey(Vec::with_capacity(96)).part(kind)
    }

    pub fn part(mut self, part: &str) -> BodyKey {
        self.0.extend_from_slice(&(part.len() as u32).to_le_bytes());
        self.0.extend_from_slice(part.as_bytes());
        self
    }
}

#[derive(Default)]
pub struct Rendered {
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    generation: ChangeToken,
    bodies: HashMap<BodyKey, Bytes>,
    bytes: usize,
}

impl Rendered {
    /// The body rendered for `key` at `generation`, if it is still current.
    pub fn get(&self, key: &BodyKey, generation: ChangeToken) -> Option<Bytes> {
        let e = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if e.generation != generation {
            return None;
        }
        e.bodies.get(key).cloned()
    }

    /// Keeps `body`, rendered from rows read after `generation` was taken.
    pub fn put(&self, key: BodyKey, generation: ChangeToken, body: Bytes) {
        if body.len() > BUDGET / 8 {
            return;
        }
        let mut e = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if generation != e.generation {
            if generation < e.generation {
                return; // rendered before a write that newer entries already reflect
            }
            e.bodies.clear();
            e.bytes = 0;
            e.generation = generation;
        }
        if e.bytes + body.len() > BUDGET {
            e.bodies.clear();
            e.bytes = 0;
        }
        e.bytes += body.len();
        if let Some(old) = e.bodies.insert(key, body) {
            e.bytes -= old.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> BodyKey {
        BodyKey::new(s)
    }

    #[test]
    fn keys_of_different_parts_differ() {
        let a = BodyKey::new("show").part("user|a").part("b");
        let b = BodyKey::new("show").part("user").part("a|b");
        assert_ne!(a, b);
        assert_ne!(BodyKey::new("ab").part(""), BodyKey::new("a").part("b"));
        assert_eq!(
            BodyKey::new("show").part("x"),
            BodyKey::new("show").part("x")
        );
    }

    #[test]
    fn an_entry_is_served_only_at_its_generation() {
        let c = Rendered::default();
        c.put(k("a"), ChangeToken(3), Bytes::from_static(b"one"));
        assert_eq!(c.get(&k("a"), ChangeToken(3)).as_deref(), Some(&b"one"[..]));
        assert_eq!(c.get(&k("b"), ChangeToken(3)), None);
        assert_eq!(
            c.get(&k("a"), ChangeToken(4)),
            None,
            "a write happened since"
        );
        // something rendered before the write must not come back
        c.put(k("b"), ChangeToken(5), Bytes::from_static(b"new"));
        c.put(k("a"), ChangeToken(3), Bytes::from_static(b"stale"));
        assert_eq!(c.get(&k("a"), ChangeToken(5)), None);
        assert_eq!(c.get(&k("b"), ChangeToken(5)).as_deref(), Some(&b"new"[..]));
    }

    #[test]
    fn stays_within_its_budget() {
        let c = Rendered::default();
        let body = Bytes::from(vec![b'x'; BUDGET / 8]);
        for i in 0..20 {
            c.put(k(&format!("k{i}")), ChangeToken(1), body.clone());
            let e = c.inner.lock().unwrap();
            assert!(e.bytes <= BUDGET, "{} bytes kept", e.bytes);
            assert_eq!(e.bytes, e.bodies.values().map(Bytes::len).sum::<usize>());
        }
        c.put(
            k("huge"),
            ChangeToken(1),
            Bytes::from(vec![b'x'; BUDGET / 8 + 1]),
        );
        assert_eq!(c.get(&k("huge"), ChangeToken(1)), None);
    }
}
