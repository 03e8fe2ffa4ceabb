//! # Determinism: the one source of randomness and time
//!
//! Without `--seed` / `--clock` this is the OS rng and the system clock. With `--seed N`
//! every id, request id, audit id, generated key and signing key comes from one seeded rng,
//! so they are a pure function of the seed and the order of requests; with `--clock T` time
//! stands still at T until `POST /_novakeys/clock` sets or advances it. Reset re-seeds the
//! rng and puts the clock back. Whatever needs randomness or time should ask this service
//! (`AppState::determinism`, or `Identity::determinism`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use std::sync::Mutex;
use std::time::SystemTime;

pub struct Determinism {
    seed: Option<u64>,
    rng: Mutex<StdRng>,
    /// The rng as it was when the service was ready (`mark_start`); reset returns to it.
    start_rng: Mutex<Option<StdRng>>,
    start_clock: Option<DateTime<Utc>>,
    clock: Mutex<Option<DateTime<Utc>>>,
}

impl Default for Determinism {
    fn default() -> Self {
        Determinism::new(None, None)
    }
}

impl Determinism {
    pub fn new(seed: Option<u64>, clock: Option<DateTime<Utc>>) -> Determinism {
        Determinism {
            seed,
            rng: Mutex::new(match seed {
                Some(s) => StdRng::seed_from_u64(s),
                None => StdRng::from_entropy(),
            }),
            start_rng: Mutex::new(None),
            start_clock: clock,
            clock: Mutex::new(clock),
        }
    }

    pub fn seed(&self) -> Option<u64> {
        self.seed
    }

    /// Remembers the rng's position as the start (call once start-up work is done, so a reset
    /// replays exactly what the first requests saw).
    pub fn mark_start(&self) {
        let rng = self.rng.lock().unwrap_or_else(|e| e.into_inner()).clone();
        *self.start_rng.lock().unwrap_or_else(|e| e.into_inner()) = Some(rng);
    }

    /// Back to the start: the rng where `mark_start` left it (else re-seeded), the clock at
    /// `--clock`.
    pub fn reset(&self) {
        if let Some(s) = self.seed {
            let start = self
                .start_rng
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
                .unwrap_or_else(|| StdRng::seed_from_u64(s));
            *self.rng.lock().unwrap_or_else(|e| e.into_inner()) = start;
        }
        *self.clock.lock().unwrap_or_else(|e| e.into_inner()) = self.start_clock;
    }

    /// An rng for one use (key generation): drawn from the seeded stream, or fresh entropy.
    pub fn rng(&self) -> StdRng {
        match self.seed {
            Some(_) => StdRng::seed_from_u64(self.next_u64()),
            None => StdRng::from_entropy(),
        }
    }

    fn next_u64(&self) -> u64 {
        self.rng
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .next_u64()
    }

    pub fn bytes<const N: usize>(&self) -> [u8; N] {
        let mut out = [0u8; N];
        match self.seed {
            Some(_) => self
                .rng
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .fill_bytes(&mut out),
            None => rand::thread_rng().fill_bytes(&mut out),
        }
        out
    }

    pub fn uuid4(&self) -> uuid::Uuid {
        uuid::Builder::from_random_bytes(self.bytes::<16>()).into_uuid()
    }

    /// Keystone's ids: uuid4 hex.
    pub fn hex_id(&self) -> String {
        self.uuid4().simple().to_string()
    }

    /// `req-<uuid4>`.
    pub fn request_id(&self) -> String {
        let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let id = self.uuid4().hyphenated().encode_lower(&mut buf);
        let mut out = String::with_capacity(4 + id.len());
        out.push_str("req-");
        out.push_str(id);
        out
    }

    /// Keystone's audit ids: 16 random bytes, urlsafe base64 without padding.
    pub fn audit_id(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.bytes::<16>())
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .unwrap_or_else(Utc::now)
    }

    pub fn timestamp(&self) -> i64 {
        self.now().timestamp()
    }

    pub fn system_time(&self) -> SystemTime {
        self.now().into()
    }

    pub fn frozen(&self) -> bool {
        self.clock
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// Freezes the clock at `t` (None: the system clock again).
    pub fn set_clock(&self, t: Option<DateTime<Utc>>) {
        *self.clock.lock().unwrap_or_else(|e| e.into_inner()) = t;
    }

    /// Moves the clock by `by` (freezing it at now + `by` if it was running).
    pub fn advance(&self, by: chrono::Duration) -> DateTime<Utc> {
        let mut g = self.clock.lock().unwrap_or_else(|e| e.into_inner());
        let t = g.unwrap_or_else(Utc::now) + by;
        *g = Some(t);
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_is_reproducible_and_resets() {
        let a = Determinism::new(Some(1), None);
        let b = Determinism::new(Some(1), None);
        let first = (a.hex_id(), a.request_id(), a.audit_id());
        assert_eq!(first, (b.hex_id(), b.request_id(), b.audit_id()));
        assert_eq!(a.hex_id().len(), 32);
        a.reset();
        assert_eq!(a.hex_id(), first.0);
        assert_ne!(Determinism::new(Some(2), None).hex_id(), first.0);
        assert_ne!(
            Determinism::default().hex_id(),
            Determinism::default().hex_id()
        );
    }

    #[test]
    fn clock_freezes_and_advances() {
        let t: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let d = Determinism::new(None, Some(t));
        assert_eq!(d.now(), t);
        d.advance(chrono::Duration::seconds(90));
        assert_eq!(d.timestamp(), t.timestamp() + 90);
        d.reset();
        assert_eq!(d.now(), t);
        d.set_clock(None);
        assert!(!d.frozen());
    }
}
