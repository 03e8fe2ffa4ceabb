//! # `novakeys seed`: bulk-load key pairs for scale tests
//!
//! Inserts `users × keypairs_per_user` key pairs straight into the store: user ids
//! `<prefix><i>`, names `key-<j>` (zero-padded, so they list in order), all in one project,
//! every row the same valid ed25519 public key with its correct fingerprint. One transaction
//! per batch through one prepared statement; the WAL is checkpointed at the end so the file
//! size is the real one.

use crate::keys::{self, KeyKind};
use crate::store::keypairs::{self, TIME_FORMAT};
use crate::store::{Durability, Store, StoreError};
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

/// Loads `plan` into the database at `db` (created and migrated if needed).
pub fn seed(db: &str, plan: &SeedPlan) -> Result<SeedReport, StoreError> {
    let store = Store::open(db, Durability::Normal)?;
    let fingerprint = keys::fingerprint(KeyKind::Ssh, SEED_PUBLIC_KEY)
        .map_err(|e| StoreError::Io(format!("seed key: {e}")))?;
    let created = chrono::Utc::now()
        .naive_utc()
        .format(TIME_FORMAT)
        .to_string();
    let width = plan.keypairs_per_user.saturating_sub(1).to_string().len();
    let started = Instant::now();
    let total = plan.users * plan.keypairs_per_user;
    let batch = plan.batch.max(1);
    let mut done = 0u64;
    store.write(|conn| {
        conn.pragma_update(None, "synchronous", "OFF")?;
        // Per-user key pairs need no project index (a server started with
        // `keypair_scope = project` makes it again).
        keypairs::index_by_project(conn, false)?;
        while done < total {
            let tx = conn.transaction()?;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO key_pairs (user_id, project_id, name, kind, public_key, fingerprint, created_at)
                     VALUES (?1, ?2, ?3, 'ssh', ?4, ?5, ?6)",
                )?;
                let end = (done + batch).min(total);
                for n in done..end {
                    let user = format!("{}{}", plan.user_prefix, n / plan.keypairs_per_user);
                    let name = format!("key-{:0width$}", n % plan.keypairs_per_user);
                    insert.execute(rusqlite::params![
                        user,
                        plan.project_id,
                        name,
                        SEED_PUBLIC_KEY,
                        fingerprint,
                        created
                    ])?;
                }
                done = end;
            }
            tx.commit()?;
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")?;
        Ok(())
    })?;
    let elapsed = started.elapsed();
    let total_keypairs: i64 =
        store.read(|c| Ok(c.query_row("SELECT count(*) FROM key_pairs", [], |r| r.get(0))?))?;
    let db_bytes = store
        .path()
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .unwrap_or(0);
    Ok(SeedReport {
        inserted: total,
        elapsed,
        db_bytes,
        total_keypairs: total_keypairs as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::keypairs::{list, Owner};

    #[test]
    fn seeds_listable_valid_rows() {
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
        let report = seed(db, &plan).unwrap();
        assert_eq!(report.inserted, 36);
        assert_eq!(report.total_keypairs, 36);
        assert!(report.db_bytes > 0);
        let store = Store::open(db, Durability::Normal).unwrap();
        let rows = store
            .read(|c| list(c, &Owner::User("u-2".into()), None, None))
            .unwrap();
        assert_eq!(rows.len(), 12);
        assert_eq!(rows[0].name, "key-00");
        assert_eq!(rows[11].name, "key-11");
        assert_eq!(
            rows[0].fingerprint,
            keys::ssh_fingerprint(SEED_PUBLIC_KEY).unwrap()
        );
        // Seeding again with other users appends.
        let more = SeedPlan {
            user_prefix: "v-".into(),
            ..plan
        };
        assert_eq!(seed(db, &more).unwrap().total_keypairs, 72);
        // Bulk loads skip the project index (per-user key pairs never use it).
        let indexed: i64 = store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND sql LIKE '%project_id%'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        assert_eq!(indexed, 0);
    }
}
