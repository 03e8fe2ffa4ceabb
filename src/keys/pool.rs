//! A small pool of pre-generated RSA-2048 keys, so a burst of generate requests answers
//! without waiting for prime search (each caller writes its key out in its own form,
//! `ssh_key_from`).
//!
//! One background thread keeps the pool full. It runs at the lowest scheduling priority and
//! sleeps at least as long as each key took to make (so it uses at most about half of one core
//! even while refilling), and it sleeps on a condition variable while the pool is full: it never
//! starves request serving. Keys live only in memory, are handed out once (`take` removes them)
//! and are wiped when dropped ([`RsaKey`] zeroizes). Size 0 disables the pool entirely (no
//! thread; `take` always answers `None`, callers generate inline).
//!
//! Only ssh keys come from the pool: x509 certificates embed the user id, so they are always
//! generated inline.

use super::{rsa_key, RsaKey};
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Pre-generated RSA keys; cheap to share behind an `Arc`. Dropping it stops the refill
/// thread and wipes the keys still pooled.
pub type KeyPool = Pool<RsaKey>;

/// A pool of things that are slow to make (generic so tests can pool cheap fakes).
pub struct Pool<T: Send + 'static> {
    shared: Arc<Shared<T>>,
    worker: Option<JoinHandle<()>>,
}

struct Shared<T> {
    capacity: usize,
    state: Mutex<State<T>>,
    /// Wakes the refill thread (a key was taken, or stop).
    wake: Condvar,
    /// Wakes waiters in tests (a key was added).
    filled: Condvar,
}

struct State<T> {
    keys: VecDeque<T>,
    stop: bool,
}

/// Generates one pooled key; swappable so tests run fast.
type Maker<T> = Box<dyn FnMut() -> Option<T> + Send>;

impl Pool<RsaKey> {
    /// A pool of `capacity` RSA keys made with the OS rng (0 = disabled).
    pub fn new(capacity: usize) -> KeyPool {
        Pool::with_maker(capacity, Box::new(|| rsa_key(&mut rand::rngs::OsRng).ok()))
    }

    /// A disabled pool.
    pub fn disabled() -> KeyPool {
        KeyPool::new(0)
    }
}

impl<T: Send + 'static> Pool<T> {
    fn with_maker(capacity: usize, maker: Maker<T>) -> Pool<T> {
        let shared = Arc::new(Shared {
            capacity,
            state: Mutex::new(State {
                keys: VecDeque::with_capacity(capacity),
                stop: false,
            }),
            wake: Condvar::new(),
            filled: Condvar::new(),
        });
        let worker = (capacity > 0).then(|| {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("novakeys-keygen-pool".into())
                .spawn(move || refill(&shared, maker))
                .expect("can start the key pool thread")
        });
        Pool { shared, worker }
    }

    /// How many keys the pool keeps ready.
    pub fn capacity(&self) -> usize {
        self.shared.capacity
    }

    /// How many keys are ready now.
    pub fn ready(&self) -> usize {
        self.shared.lock().keys.len()
    }

    /// A pre-generated key, removed from the pool (never handed out again), or `None` (pool
    /// empty or disabled): then generate inline.
    pub fn take(&self) -> Option<T> {
        if self.shared.capacity == 0 {
            return None;
        }
        let key = self.shared.lock().keys.pop_front();
        if key.is_some() {
            self.shared.wake.notify_one();
        }
        key
    }

    /// Waits until at least `n` keys are ready or `timeout` passes; whether they are.
    pub fn wait_ready(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        if n > self.shared.capacity {
            return false;
        }
        let mut state = self.shared.lock();
        while state.keys.len() < n {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = self
                .shared
                .filled
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<T: Send + 'static> Drop for Pool<T> {
    fn drop(&mut self) {
        {
            let mut state = self.shared.lock();
            state.stop = true;
            state.keys.clear();
        }
        self.shared.wake.notify_all();
        // Not joined: the thread finishes at most the key it is making, then exits.
        self.worker.take();
    }
}

impl<T: Send + 'static> std::fmt::Debug for Pool<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPool")
            .field("capacity", &self.shared.capacity)
            .field("ready", &self.ready())
            .finish()
    }
}

/// Lowest CPU priority for the calling thread (Linux: per-thread nice 19).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain syscalls on the calling thread; failure is harmless.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 19);
    }
}

fn refill<T>(shared: &Shared<T>, mut maker: Maker<T>) {
    lower_priority();
    loop {
        {
            let mut state = shared.lock();
            while !state.stop && state.keys.len() >= shared.capacity {
                state = shared.wake.wait(state).unwrap_or_else(|e| e.into_inner());
            }
            if state.stop {
                return;
            }
        }
        let started = Instant::now();
        let key = maker();
        let took = started.elapsed();
        {
            let mut state = shared.lock();
            if state.stop {
                return;
            }
            if let Some(key) = key {
                if state.keys.len() < shared.capacity {
                    state.keys.push_back(key);
                }
            }
        }
        shared.filled.notify_all();
        // Duty cycle: at most ~50% of one core while refilling.
        std::thread::sleep(took.max(Duration::from_millis(1)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A pool whose keys are cheap, numbered fakes.
    fn fake_pool(capacity: usize) -> (Pool<String>, Arc<AtomicU64>) {
        let made = Arc::new(AtomicU64::new(0));
        let counter = made.clone();
        let pool = Pool::with_maker(
            capacity,
            Box::new(move || {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                Some(format!("key{n}"))
            }),
        );
        (pool, made)
    }

    #[test]
    fn never_hands_out_a_key_twice_and_refills() {
        let (pool, _) = fake_pool(4);
        assert!(pool.wait_ready(4, Duration::from_secs(10)));
        let mut seen = HashSet::new();
        for _ in 0..40 {
            let key = loop {
                if let Some(k) = pool.take() {
                    break k;
                }
                std::thread::sleep(Duration::from_millis(1));
            };
            assert!(seen.insert(key.clone()), "handed out twice: {key}");
        }
        assert!(pool.wait_ready(4, Duration::from_secs(10)), "refills");
        assert_eq!(pool.ready(), 4, "never more than its size");
    }

    #[test]
    fn concurrent_takers_get_distinct_keys() {
        let (pool, _) = fake_pool(8);
        assert!(pool.wait_ready(8, Duration::from_secs(10)));
        let pool = Arc::new(pool);
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let pool = pool.clone();
                std::thread::spawn(move || {
                    let mut got = Vec::new();
                    while got.len() < 10 {
                        match pool.take() {
                            Some(k) => got.push(k),
                            None => std::thread::sleep(Duration::from_millis(1)),
                        }
                    }
                    got
                })
            })
            .collect();
        let mut all = HashSet::new();
        for h in handles {
            for k in h.join().unwrap() {
                assert!(all.insert(k), "a key went to two takers");
            }
        }
        assert_eq!(all.len(), 40);
    }

    #[test]
    fn size_zero_disables() {
        let (pool, made) = fake_pool(0);
        assert_eq!(pool.capacity(), 0);
        std::thread::sleep(Duration::from_millis(20));
        assert!(pool.take().is_none());
        assert_eq!(made.load(Ordering::SeqCst), 0, "no thread, nothing made");
        assert!(!pool.wait_ready(1, Duration::from_millis(10)));
        assert!(KeyPool::disabled().take().is_none());
    }

    #[test]
    fn stops_making_keys_when_full() {
        let (pool, made) = fake_pool(3);
        assert!(pool.wait_ready(3, Duration::from_secs(10)));
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(made.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn real_keys_are_valid_and_distinct() {
        let pool = KeyPool::new(2);
        assert!(pool.wait_ready(2, Duration::from_secs(120)));
        let options = super::super::SshKeyOptions {
            comment: "pooled".into(),
            encoding: super::super::PrivateKeyEncoding::Pkcs1,
        };
        let a = super::super::ssh_key_from(pool.take().unwrap(), &options).unwrap();
        let b = super::super::ssh_key_from(pool.take().unwrap(), &options).unwrap();
        assert_ne!(a.public_key, b.public_key);
        assert!(a.private_key.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        assert_eq!(
            super::super::ssh_fingerprint(&a.public_key, super::super::Fingerprint::Md5).unwrap(),
            a.fingerprint
        );
    }
}
