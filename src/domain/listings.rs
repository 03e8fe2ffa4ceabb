//! Every key pair of an owner with its tags, kept until the next write to the store.
//!
//! The cloud fronts filter and page in the domain (`KeypairService::find`): a
//! `DescribeKeyPairs` of ten keys reads all of the owner's rows and their tags. Reading 100
//! rows cost ~0.45 ms of server CPU, twenty times the rest of the request, and SDK polling
//! loops describe the same owner over and over between writes. An entry is served only while
//! the store's change token still has the value it had *before* its rows were read, so any
//! write (a key pair, a tag, a reset, a snapshot restore) retires every entry.

use super::keypairs::Found;
use crate::store::keypairs::{Order, Owner};
use crate::store::ChangeToken;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Key pairs kept at most, over all owners (~0.5 KB each).
const BUDGET_ROWS: usize = 20_000;

#[derive(Default)]
pub struct Listings {
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    token: ChangeToken,
    lists: HashMap<(Owner, Order), Arc<Vec<Found>>>,
    rows: usize,
}

impl Listings {
    /// `owner`'s key pairs in `order` as read at `token`, if that is still the store's token.
    pub fn get(&self, owner: &Owner, order: Order, token: ChangeToken) -> Option<Arc<Vec<Found>>> {
        let e = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if e.token != token {
            return None;
        }
        e.lists.get(&(owner.clone(), order)).cloned()
    }

    /// Keeps `list`, read after `token` was taken.
    pub fn put(&self, owner: Owner, order: Order, token: ChangeToken, list: Arc<Vec<Found>>) {
        if list.len() > BUDGET_ROWS / 4 {
            return;
        }
        let mut e = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if e.token != token {
            // Older entries describe a store that no longer exists (or this list does).
            e.lists.clear();
            e.rows = 0;
            e.token = token;
        }
        if e.rows + list.len() > BUDGET_ROWS {
            e.lists.clear();
            e.rows = 0;
        }
        e.rows += list.len();
        if let Some(old) = e.lists.insert((owner, order), list) {
            e.rows -= old.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyKind;
    use crate::store::keypairs::{Keypair, KeypairExtra};

    fn list(n: usize) -> Arc<Vec<Found>> {
        let kp = |i: usize| Found {
            keypair: Keypair {
                id: i as i64,
                user_id: "u".into(),
                project_id: "p".into(),
                name: format!("k{i}"),
                kind: KeyKind::Ssh,
                public_key: String::new(),
                fingerprint: String::new(),
                created_at: chrono::NaiveDateTime::default(),
                extra: KeypairExtra::default(),
            },
            tags: vec![],
        };
        Arc::new((0..n).map(kp).collect())
    }

    fn user(u: &str) -> Owner {
        Owner::User(u.into())
    }

    #[test]
    fn an_entry_lives_until_the_token_moves() {
        let l = Listings::default();
        l.put(user("a"), Order::Newest, ChangeToken(3), list(2));
        assert_eq!(
            l.get(&user("a"), Order::Newest, ChangeToken(3))
                .unwrap()
                .len(),
            2
        );
        assert!(l.get(&user("a"), Order::Name, ChangeToken(3)).is_none());
        assert!(l.get(&user("b"), Order::Newest, ChangeToken(3)).is_none());
        assert!(l.get(&user("a"), Order::Newest, ChangeToken(4)).is_none());
        // A list read under an older token never serves the newer one.
        l.put(user("b"), Order::Newest, ChangeToken(5), list(1));
        l.put(user("a"), Order::Newest, ChangeToken(3), list(2));
        assert!(l.get(&user("a"), Order::Newest, ChangeToken(5)).is_none());
        assert!(l.get(&user("b"), Order::Newest, ChangeToken(5)).is_none());
    }

    #[test]
    fn the_budget_bounds_what_is_kept() {
        let l = Listings::default();
        l.put(
            user("huge"),
            Order::Newest,
            ChangeToken(1),
            list(BUDGET_ROWS),
        );
        assert!(l
            .get(&user("huge"), Order::Newest, ChangeToken(1))
            .is_none());
        for i in 0..10 {
            l.put(
                user(&format!("u{i}")),
                Order::Newest,
                ChangeToken(1),
                list(BUDGET_ROWS / 4),
            );
        }
        let e = l.inner.lock().unwrap();
        assert!(e.rows <= BUDGET_ROWS, "{} rows kept", e.rows);
        assert!(!e.lists.is_empty());
    }
}
