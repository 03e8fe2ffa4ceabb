//! # `novakeys seed`: bulk-load key pairs for scale tests
//!
//! Inserts `users × keypairs_per_user` key pairs straight into the store: user ids
//! `<prefix><i>`, names `key-<j>` (zero-padded, so they list in order), all in one project,
//! every row the same valid ed25519 public key with its fingerprint, made by the same key
//! parsing as every create. The store loads them in transactions of `batch` rows, without the
//! quota (a scale test wants more than it).

use crate::keys::{self, Fingerprint, KeyKind};
use crate::store::keypairs::NewKeypair;
use crate::store::{Store, StoreError};
use std::time::{Duration, Instant};

/// A fixed, valid ed25519 public key (seeded rows are not meant to be logged in with).
pub const SEED_PUBLIC_KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGGY0fh32MPHfCPM2rKWmuJVJgBbCxUWRJ6Ibd/ftQWq seed@novakeys";

/// What to load.
#[derive(Debug, Clone)]
pub struct SeedPlan {
    pub users: u64,
    pub keypairs_per_user: u64,
    pub user_prefix: String,
    pub project_id: String,
    /// Rows per transaction.
    pub batch: u64,
}

/// What was loaded.
#[derive(Debug, Clone)]
pub struct SeedReport {
    pub inserted: u64,
    pub elapsed: Duration,
    /// Database file size after the load (0 in memory).
    pub db_bytes: u64,
    /// Key pairs in the database after the load.
    pub total_keypairs: u64,
}

/// Loads `plan` into `store`.
pub fn seed(store: &dyn Store, plan: &SeedPlan) -> Result<SeedReport, StoreError> {
    let fingerprint = keys::fingerprint(KeyKind::Ssh, SEED_PUBLIC_KEY, Fingerprint::Md5)
        .map_err(|e| StoreError::Io(format!("seed key: {e}")))?;
    let created = chrono::Utc::now().naive_utc();
    let width = plan.keypairs_per_user.saturating_sub(1).to_string().len();
    let started = Instant::now();
    let total = plan.users * plan.keypairs_per_user;
    let per_user = plan.keypairs_per_user.max(1);
    let mut rows = (0..total).map(|n| NewKeypair {
        user_id: format!("{}{}", plan.user_prefix, n / per_user),
        project_id: plan.project_id.clone(),
        name: format!("key-{:0width$}", n % per_user),
        kind: KeyKind::Ssh,
        public_key: SEED_PUBLIC_KEY.to_string(),
        fingerprint: fingerprint.clone(),
        created_at: created,
        extra: Default::default(),
        tags: Vec::new(),
        id_comment: None,
        rules: Default::default(),
    });
    let inserted = store.load_keypairs(&mut rows, plan.batch.max(1) as usize)?;
    let elapsed = started.elapsed();
    let total_keypairs = store.count_all_keypairs()?;
    let db_bytes = std::fs::metadata(store.location())
        .map(|m| m.len())
        .unwrap_or(0);
    Ok(SeedReport {
        inserted,
        elapsed,
        db_bytes,
        total_keypairs: total_keypairs as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::keypairs::{ListQuery, Owner};
    use crate::store::Durability;

    #[tokio::test]
    async fn seeds_listable_valid_rows() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        let db = db.to_str().unwrap();
        let plan = SeedPlan {
            users: 3,
            keypairs_per_user: 12,
            user_prefix: "u-".into(),
            project_id: "p".into(),
            batch: 5,
        };
        let store = crate::store::open(db, Durability::Normal).unwrap();
        let report = seed(&*store, &plan).unwrap();
        assert_eq!(report.inserted, 36);
        assert_eq!(report.total_keypairs, 36);
        assert!(report.db_bytes > 0);
        let rows = store
            .list_keypairs(&Owner::User("u-2".into()), ListQuery::default())
            .await
            .unwrap();
        assert_eq!(rows.len(), 12);
        assert_eq!(rows[0].name, "key-00");
        assert_eq!(rows[11].name, "key-11");
        assert_eq!(
            rows[0].fingerprint,
            keys::ssh_fingerprint(SEED_PUBLIC_KEY, Fingerprint::NovaMd5).unwrap()
        );
        // Seeding again with other users appends.
        let more = SeedPlan {
            user_prefix: "v-".into(),
            ..plan
        };
        assert_eq!(seed(&*store, &more).unwrap().total_keypairs, 72);
        // Bulk loads skip the project index (per-user key pairs never use it): a lookup by
        // project still works, without it.
        let shared = store.count_keypairs(&Owner::Project("p".into())).await;
        assert_eq!(shared.unwrap(), 72);
    }
}
