//! Schema migrations, in code, numbered as the SQLite store's (`sqlite::migrations`): step N
//! here makes what step N makes there, so an image's `schema_version` means the same to both
//! backends. `nk_schema.version` is the number of steps applied; each step runs in its own
//! transaction; no downgrades. Processes starting together take an advisory lock first.
//!
//! Differences to SQLite, none visible in an image: booleans are `BOOLEAN`, integers
//! `BIGINT`, AUTOINCREMENT ids are `BIGSERIAL` (sequences never hand an id out twice), and the
//! tables whose order SQLite keeps in its hidden `rowid` get a `nk_rowid` column (left out of
//! images). Key pair names compare bytewise (`COLLATE "C"`), as in SQLite. A public key is
//! `BYTEA`: stored verbatim, where PostgreSQL text cannot hold the NUL an imported key's
//! comment may carry (an image shows it as text, as SQLite stores it). The id sequences start
//! at 1 but allow 0: SQLite's `sqlite_sequence` can say 0 (a table rebuilt while empty), and
//! an image carries that.

use super::StoreError;
use deadpool_postgres::Client;

/// Every schema step, in order. Append only, together with `sqlite::migrations`.
pub const STEPS: &[&str] = &[
    // 1: key pairs (see sqlite::migrations step 1).
    r#"CREATE TABLE key_pairs (
        id          BIGSERIAL PRIMARY KEY,
        user_id     TEXT NOT NULL,
        project_id  TEXT NOT NULL,
        name        TEXT COLLATE "C" NOT NULL,
        kind        TEXT NOT NULL CHECK (kind IN ('ssh', 'x509')),
        public_key  BYTEA NOT NULL,
        fingerprint TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        UNIQUE (user_id, name)
    );
    CREATE INDEX key_pairs_project ON key_pairs (project_id, name);
    ALTER SEQUENCE key_pairs_id_seq MINVALUE 0;"#,
    // 2: identity (Keystone subset).
    r#"CREATE TABLE id_domains (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL DEFAULT '',
        enabled     BOOLEAN NOT NULL DEFAULT TRUE,
        nk_rowid    BIGSERIAL NOT NULL
    );
    CREATE TABLE id_projects (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL,
        domain_id   TEXT NOT NULL REFERENCES id_domains (id) DEFERRABLE,
        description TEXT NOT NULL DEFAULT '',
        enabled     BOOLEAN NOT NULL DEFAULT TRUE,
        nk_rowid    BIGSERIAL NOT NULL,
        UNIQUE (domain_id, name)
    );
    CREATE TABLE id_users (
        id                 TEXT PRIMARY KEY,
        name               TEXT NOT NULL,
        domain_id          TEXT NOT NULL REFERENCES id_domains (id) DEFERRABLE,
        enabled            BOOLEAN NOT NULL DEFAULT TRUE,
        default_project_id TEXT,
        password_hash      TEXT,
        extra              TEXT NOT NULL DEFAULT '{}',
        nk_rowid           BIGSERIAL NOT NULL,
        UNIQUE (domain_id, name)
    );
    CREATE TABLE id_roles (
        seq       BIGSERIAL PRIMARY KEY,
        id        TEXT NOT NULL UNIQUE,
        name      TEXT NOT NULL UNIQUE,
        immutable BOOLEAN NOT NULL DEFAULT FALSE
    );
    CREATE TABLE id_assignments (
        actor_id    TEXT COLLATE "C" NOT NULL
                    REFERENCES id_users (id) ON DELETE CASCADE DEFERRABLE,
        target_type TEXT COLLATE "C" NOT NULL
                    CHECK (target_type IN ('project', 'domain', 'system')),
        target_id   TEXT COLLATE "C" NOT NULL,
        role_id     TEXT COLLATE "C" NOT NULL
                    REFERENCES id_roles (id) ON DELETE CASCADE DEFERRABLE,
        nk_rowid    BIGSERIAL NOT NULL,
        PRIMARY KEY (actor_id, target_type, target_id, role_id)
    );
    CREATE INDEX id_assignments_target ON id_assignments (target_type, target_id);
    CREATE TABLE id_app_creds (
        seq          BIGSERIAL PRIMARY KEY,
        id           TEXT NOT NULL UNIQUE,
        name         TEXT NOT NULL,
        description  TEXT,
        user_id      TEXT NOT NULL REFERENCES id_users (id) ON DELETE CASCADE DEFERRABLE,
        project_id   TEXT NOT NULL,
        secret_hash  TEXT NOT NULL,
        expires_at   TEXT,
        unrestricted BOOLEAN NOT NULL DEFAULT FALSE,
        role_ids     TEXT NOT NULL,
        UNIQUE (user_id, name)
    );
    CREATE TABLE id_revocations (
        audit_id   TEXT PRIMARY KEY,
        expires_at BIGINT NOT NULL,
        nk_rowid   BIGSERIAL NOT NULL
    );
    CREATE TABLE id_signing_keys (
        id          BIGSERIAL PRIMARY KEY,
        private_pem TEXT NOT NULL,
        public_pem  TEXT NOT NULL,
        created_at  TEXT NOT NULL
    );
    ALTER SEQUENCE id_roles_seq_seq MINVALUE 0;
    ALTER SEQUENCE id_app_creds_seq_seq MINVALUE 0;
    ALTER SEQUENCE id_signing_keys_id_seq MINVALUE 0;"#,
    // 3: the cloud fronts' fields, tags, access keys, instances, user-wide revocation.
    r#"ALTER TABLE key_pairs ADD COLUMN description TEXT NOT NULL DEFAULT '';
    ALTER TABLE key_pairs ADD COLUMN resource_group TEXT NOT NULL DEFAULT '';
    ALTER TABLE key_pairs ADD COLUMN cloud_project BIGINT NOT NULL DEFAULT 0;
    CREATE TABLE key_pair_tags (
        key_pair_id BIGINT NOT NULL REFERENCES key_pairs (id) ON DELETE CASCADE DEFERRABLE,
        position    BIGINT NOT NULL,
        key         TEXT NOT NULL,
        value       TEXT NOT NULL,
        nk_rowid    BIGSERIAL NOT NULL,
        PRIMARY KEY (key_pair_id, key)
    );
    CREATE TABLE id_credentials (
        seq        BIGSERIAL PRIMARY KEY,
        id         TEXT NOT NULL UNIQUE,
        cloud      TEXT NOT NULL,
        access     TEXT NOT NULL,
        secret     TEXT NOT NULL,
        user_id    TEXT NOT NULL REFERENCES id_users (id) ON DELETE CASCADE DEFERRABLE,
        project_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (cloud, access)
    );
    CREATE TABLE instances (
        seq           BIGSERIAL PRIMARY KEY,
        id            TEXT NOT NULL UNIQUE,
        cloud         TEXT NOT NULL,
        name          TEXT NOT NULL,
        user_id       TEXT NOT NULL,
        project_id    TEXT NOT NULL,
        region        TEXT NOT NULL,
        os            TEXT NOT NULL CHECK (os IN ('linux', 'windows')),
        state         TEXT NOT NULL CHECK (state IN ('running', 'stopped')),
        key_pair_id   BIGINT REFERENCES key_pairs (id) ON DELETE SET NULL DEFERRABLE,
        key_pair_name TEXT,
        created_at    TEXT NOT NULL
    );
    CREATE INDEX instances_key_pair ON instances (key_pair_id);
    CREATE TABLE id_user_revocations (
        user_id        TEXT PRIMARY KEY REFERENCES id_users (id) ON DELETE CASCADE DEFERRABLE,
        revoked_before BIGINT NOT NULL,
        nk_rowid       BIGSERIAL NOT NULL
    );
    ALTER SEQUENCE id_credentials_seq_seq MINVALUE 0;
    ALTER SEQUENCE instances_seq_seq MINVALUE 0;"#,
    // 4: a user's key pairs by fingerprint.
    "CREATE INDEX key_pairs_fingerprint ON key_pairs (user_id, fingerprint);",
    // 5: an application credential's `unrestricted` as given (NULL when left out); older
    // rows said false for both and were shown as `null`: they keep that.
    "ALTER TABLE id_app_creds ALTER COLUMN unrestricted DROP NOT NULL;
    ALTER TABLE id_app_creds ALTER COLUMN unrestricted DROP DEFAULT;
    UPDATE id_app_creds SET unrestricted = NULL WHERE NOT unrestricted;",
];

/// The schema version this binary writes.
pub const LATEST: i64 = STEPS.len() as i64;

/// The store's own tables, outside the numbered steps (their numbers are the images'
/// schema version, shared with SQLite) and outside every image: the schema version, the
/// per-kind change counters every write transaction moves (what other processes read to see
/// this one's writes), the reset baseline the processes share, and the named snapshots.
const INFRASTRUCTURE: &str = "
    CREATE TABLE IF NOT EXISTS nk_schema (version BIGINT NOT NULL);
    CREATE TABLE IF NOT EXISTS nk_changes (kind TEXT PRIMARY KEY, counter BIGINT NOT NULL);
    INSERT INTO nk_changes (kind, counter) VALUES ('keypairs', 0), ('identity', 0)
        ON CONFLICT (kind) DO NOTHING;
    CREATE TABLE IF NOT EXISTS nk_baseline (
        only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
        image    TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS nk_snapshots (
        name       TEXT COLLATE \"C\" PRIMARY KEY,
        created_at TEXT NOT NULL,
        image      TEXT NOT NULL
    );";

/// Any constant: the advisory lock key under which processes migrate one at a time.
const MIGRATION_LOCK: i64 = 0x6e6b_6d69_6772;

/// Applies the missing steps.
pub async fn migrate(conn: &mut Client) -> Result<(), StoreError> {
    conn.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let result = migrate_locked(conn).await;
    let unlocked = conn
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await;
    result?;
    unlocked?;
    Ok(())
}

async fn migrate_locked(conn: &mut Client) -> Result<(), StoreError> {
    let ours: bool = conn
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM information_schema.tables
                             WHERE table_schema = current_schema() AND table_name = 'nk_schema')",
            &[],
        )
        .await?
        .get(0);
    if !ours {
        let tables: i64 = conn
            .query_one(
                "SELECT count(*) FROM information_schema.tables
                  WHERE table_schema = current_schema()",
                &[],
            )
            .await?
            .get(0);
        if tables > 0 {
            return Err(StoreError::Incompatible("not a novakeys database".into()));
        }
    }
    conn.batch_execute(INFRASTRUCTURE).await?;
    let current: i64 = match conn.query_opt("SELECT version FROM nk_schema", &[]).await? {
        Some(row) => row.get(0),
        None => {
            conn.execute("INSERT INTO nk_schema (version) VALUES (0)", &[])
                .await?;
            0
        }
    };
    if current > LATEST {
        return Err(StoreError::Incompatible(format!(
            "schema version {current} is newer than this binary's {LATEST}"
        )));
    }
    for (i, step) in STEPS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction().await?;
        tx.batch_execute(step).await?;
        tx.execute("UPDATE nk_schema SET version = $1", &[&((i + 1) as i64)])
            .await?;
        tx.commit().await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An image carries its schema version: both backends must mean the same by it.
    #[test]
    fn numbered_like_the_sqlite_store() {
        assert_eq!(LATEST, crate::store::sqlite::migrations::LATEST);
    }
}
