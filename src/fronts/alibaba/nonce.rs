//! # Signature nonces seen, per AccessKeyId, for 15 minutes of novakeys time
//!
//! Alibaba refuses a `SignatureNonce` (RPC) or `x-acs-signature-nonce` (ACS3) that the same
//! AccessKeyId used before (`SignatureNonceUsed`); requests older than 15 minutes are refused
//! by their timestamp anyway, so a nonce need only be remembered that long. Time is the
//! novakeys clock (`Determinism::now`), so `--clock` and `POST /_novakeys/clock` move it.
//!
//! Memory is bounded: each remembered nonce is 16 bytes (SHA-256 of access key and nonce,
//! truncated: no collision in practice, and no client text kept) plus its time, at most
//! [`CAPACITY`] of them. At the limit the oldest is forgotten first, which only matters for
//! a replay of a request more than [`CAPACITY`] requests old inside the 15 minutes.

use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// How long a nonce is remembered (Alibaba's timestamp window).
pub const WINDOW_SECONDS: i64 = 15 * 60;

/// At most this many nonces are remembered (about 6 MB).
pub const CAPACITY: usize = 100_000;

type Key = [u8; 16];

#[derive(Default)]
struct Seen {
    /// key → when it was first seen (epoch seconds).
    at: HashMap<Key, i64>,
    /// Keys in the order they were seen, to forget the oldest first.
    order: VecDeque<(i64, Key)>,
}

pub struct Nonces {
    seen: Mutex<Seen>,
    capacity: usize,
}

impl Default for Nonces {
    fn default() -> Self {
        Nonces::with_capacity(CAPACITY)
    }
}

fn key(access: &str, nonce: &str) -> Key {
    let mut h = Sha256::new();
    h.update(access.as_bytes());
    // A separator no access key contains, so ("ab", "c") and ("a", "bc") differ.
    h.update([0u8]);
    h.update(nonce.as_bytes());
    let digest = h.finalize();
    let mut k = [0u8; 16];
    k.copy_from_slice(&digest[..16]);
    k
}

impl Nonces {
    pub fn with_capacity(capacity: usize) -> Nonces {
        Nonces {
            seen: Mutex::new(Seen::default()),
            capacity: capacity.max(1),
        }
    }

    /// Records `nonce` of `access` at `now` (epoch seconds); false if it was seen in the last
    /// 15 minutes.
    pub fn first_use(&self, access: &str, nonce: &str, now: i64) -> bool {
        let k = key(access, nonce);
        let mut s = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        // Forget what is out of the window. The clock can be set back (tests, `--clock`), so
        // times are not always in order; whatever is behind an in-window entry waits for it
        // (it is kept a little longer, never shorter).
        while let Some(&(t, old)) = s.order.front() {
            if now - t <= WINDOW_SECONDS {
                break;
            }
            s.order.pop_front();
            if s.at.get(&old) == Some(&t) {
                s.at.remove(&old);
            }
        }
        if let Some(&t) = s.at.get(&k) {
            // Seen within the window (or in the clock's future, after it was set back).
            if (now - t).abs() <= WINDOW_SECONDS {
                return false;
            }
        }
        while s.order.len() >= self.capacity {
            if let Some((t, old)) = s.order.pop_front() {
                if s.at.get(&old) == Some(&t) {
                    s.at.remove(&old);
                }
            }
        }
        s.at.insert(k, now);
        s.order.push_back((now, k));
        true
    }

    /// How many nonces are remembered.
    pub fn len(&self) -> usize {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).at.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_refused_again_within_15_minutes_of_the_same_key_only() {
        let n = Nonces::default();
        assert!(n.first_use("AK1", "abc", 1000));
        assert!(!n.first_use("AK1", "abc", 1000 + 899));
        assert!(n.first_use("AK2", "abc", 1000), "per AccessKeyId");
        assert!(n.first_use("AK1", "abd", 1000));
        // After the window the old entry is forgotten (the timestamp check refuses such an
        // old request anyway).
        assert!(n.first_use("AK1", "abc", 1000 + 901 + 899));
        assert!(!n.first_use("AK1", "abc", 1000 + 901 + 899));
    }

    #[test]
    fn memory_is_bounded_and_the_window_empties_it() {
        let n = Nonces::with_capacity(100);
        for i in 0..1000 {
            assert!(n.first_use("AK", &format!("n{i}"), 5000));
        }
        assert_eq!(n.len(), 100, "at most the capacity");
        assert!(!n.first_use("AK", "n999", 5000), "the newest are kept");
        assert!(n.first_use("AK", "n0", 5000), "the oldest were forgotten");
        assert!(n.first_use("AK", "late", 5000 + WINDOW_SECONDS + 1));
        assert_eq!(n.len(), 1, "expired entries go");
    }

    #[test]
    fn a_clock_set_back_keeps_refusing_recent_nonces() {
        let n = Nonces::default();
        assert!(n.first_use("AK", "x", 10_000));
        // The clock goes back 5 minutes: the nonce is still "recent".
        assert!(!n.first_use("AK", "x", 10_000 - 300));
        assert!(n.first_use("AK", "y", 10_000 - 300));
    }
}
