//! Schema migrations, in code (like lldap): `PRAGMA user_version` is the number of steps
//! applied; each step runs in its own transaction; there are no downgrades.

use super::StoreError;
use rusqlite::Connection;

/// Every schema step, in order. Append only.
const STEPS: &[&str] = &[
    // 1: key pairs. `id` is global and never reused (Nova shows it as an integer id). The
    // project index is dropped and made again to match the key pair scope at every start
    // (`keypairs::index_by_project`).
    "CREATE TABLE key_pairs (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id     TEXT NOT NULL,
        project_id  TEXT NOT NULL,
        name        TEXT NOT NULL,
        kind        TEXT NOT NULL CHECK (kind IN ('ssh', 'x509')),
        public_key  TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        UNIQUE (user_id, name)
    );
    CREATE INDEX key_pairs_project ON key_pairs (project_id, name);",
    // 2: identity (Keystone subset). Assignments and application credentials go with their
    // user; revocations are keyed by a token's audit id; the signing keys are the service's own
    // ES256 keys (newest = current, the one before it still verifies).
    "CREATE TABLE id_domains (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL DEFAULT '',
        enabled     INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE id_projects (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL,
        domain_id   TEXT NOT NULL REFERENCES id_domains (id),
        description TEXT NOT NULL DEFAULT '',
        enabled     INTEGER NOT NULL DEFAULT 1,
        UNIQUE (domain_id, name)
    );
    CREATE TABLE id_users (
        id                 TEXT PRIMARY KEY,
        name               TEXT NOT NULL,
        domain_id          TEXT NOT NULL REFERENCES id_domains (id),
        enabled            INTEGER NOT NULL DEFAULT 1,
        default_project_id TEXT,
        password_hash      TEXT,
        extra              TEXT NOT NULL DEFAULT '{}',
        UNIQUE (domain_id, name)
    );
    CREATE TABLE id_roles (
        seq       INTEGER PRIMARY KEY AUTOINCREMENT,
        id        TEXT NOT NULL UNIQUE,
        name      TEXT NOT NULL UNIQUE,
        immutable INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE id_assignments (
        actor_id    TEXT NOT NULL REFERENCES id_users (id) ON DELETE CASCADE,
        target_type TEXT NOT NULL CHECK (target_type IN ('project', 'domain', 'system')),
        target_id   TEXT NOT NULL,
        role_id     TEXT NOT NULL REFERENCES id_roles (id) ON DELETE CASCADE,
        PRIMARY KEY (actor_id, target_type, target_id, role_id)
    );
    CREATE INDEX id_assignments_target ON id_assignments (target_type, target_id);
    CREATE TABLE id_app_creds (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        id           TEXT NOT NULL UNIQUE,
        name         TEXT NOT NULL,
        description  TEXT,
        user_id      TEXT NOT NULL REFERENCES id_users (id) ON DELETE CASCADE,
        project_id   TEXT NOT NULL,
        secret_hash  TEXT NOT NULL,
        expires_at   TEXT,
        unrestricted INTEGER NOT NULL DEFAULT 0,
        role_ids     TEXT NOT NULL,
        UNIQUE (user_id, name)
    );
    CREATE TABLE id_revocations (
        audit_id   TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
    );
    CREATE TABLE id_signing_keys (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        private_pem TEXT NOT NULL,
        public_pem  TEXT NOT NULL,
        created_at  TEXT NOT NULL
    );",
    // 3: what the cloud fronts keep beside Nova's fields (fronts.md §4–5): a description
    // (Tencent), a resource group (Alibaba), a cloud project number (Tencent's ProjectId),
    // tags; the access keys the cloud APIs sign with (a secret the server must be able to read,
    // to check an HMAC); the instance registry the bind/unbind calls work on (a key pair's
    // delete leaves the instance's key name: the instance keeps what it booted with); and
    // user-wide token revocation (a password change or a disable revokes what was issued).
    "ALTER TABLE key_pairs ADD COLUMN description TEXT NOT NULL DEFAULT '';
    ALTER TABLE key_pairs ADD COLUMN resource_group TEXT NOT NULL DEFAULT '';
    ALTER TABLE key_pairs ADD COLUMN cloud_project INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE key_pair_tags (
        key_pair_id INTEGER NOT NULL REFERENCES key_pairs (id) ON DELETE CASCADE,
        position    INTEGER NOT NULL,
        key         TEXT NOT NULL,
        value       TEXT NOT NULL,
        PRIMARY KEY (key_pair_id, key)
    );
    CREATE TABLE id_credentials (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        id         TEXT NOT NULL UNIQUE,
        cloud      TEXT NOT NULL,
        access     TEXT NOT NULL,
        secret     TEXT NOT NULL,
        user_id    TEXT NOT NULL REFERENCES id_users (id) ON DELETE CASCADE,
        project_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (cloud, access)
    );
    CREATE TABLE instances (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        id            TEXT NOT NULL UNIQUE,
        cloud         TEXT NOT NULL,
        name          TEXT NOT NULL,
        user_id       TEXT NOT NULL,
        project_id    TEXT NOT NULL,
        region        TEXT NOT NULL,
        os            TEXT NOT NULL CHECK (os IN ('linux', 'windows')),
        state         TEXT NOT NULL CHECK (state IN ('running', 'stopped')),
        key_pair_id   INTEGER REFERENCES key_pairs (id) ON DELETE SET NULL,
        key_pair_name TEXT,
        created_at    TEXT NOT NULL
    );
    CREATE INDEX instances_key_pair ON instances (key_pair_id);
    CREATE TABLE id_user_revocations (
        user_id        TEXT PRIMARY KEY REFERENCES id_users (id) ON DELETE CASCADE,
        revoked_before INTEGER NOT NULL
    );",
    // 4: a user's key pairs by fingerprint: Tencent refuses a public key its owner already
    // holds, and that check must not read every key pair.
    "CREATE INDEX key_pairs_fingerprint ON key_pairs (user_id, fingerprint);",
    // 5: an application credential's `unrestricted` as given (Keystone keeps NULL when it
    // was left out, and shows `null` then, `false` when it was false). SQLite cannot drop a
    // NOT NULL: the table is rebuilt. Older rows said 0 for both, and were shown as `null`:
    // they keep that.
    "CREATE TABLE id_app_creds_new (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        id           TEXT NOT NULL UNIQUE,
        name         TEXT NOT NULL,
        description  TEXT,
        user_id      TEXT NOT NULL REFERENCES id_users (id) ON DELETE CASCADE,
        project_id   TEXT NOT NULL,
        secret_hash  TEXT NOT NULL,
        expires_at   TEXT,
        unrestricted INTEGER,
        role_ids     TEXT NOT NULL,
        UNIQUE (user_id, name)
    );
    INSERT INTO id_app_creds_new (seq, id, name, description, user_id, project_id,
                                  secret_hash, expires_at, unrestricted, role_ids)
        SELECT seq, id, name, description, user_id, project_id, secret_hash, expires_at,
               CASE unrestricted WHEN 0 THEN NULL ELSE 1 END, role_ids
        FROM id_app_creds;
    DROP TABLE id_app_creds;
    ALTER TABLE id_app_creds_new RENAME TO id_app_creds;",
];

/// The schema version this binary writes.
pub const LATEST: i64 = STEPS.len() as i64;

/// Applies the missing steps.
pub fn migrate(conn: &Connection) -> Result<(), StoreError> {
    migrate_to(conn, LATEST)
}

/// Applies the missing steps up to schema version `target` (old images are read into a
/// scratch database at their own version, then brought up to date).
pub fn migrate_to(conn: &Connection, target: i64) -> Result<(), StoreError> {
    // Reading the schema also proves the file is a database at all.
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > LATEST {
        return Err(StoreError::Incompatible(format!(
            "schema version {current} is newer than this binary's {LATEST}"
        )));
    }
    if current == 0 {
        let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
        if tables > 0 {
            return Err(StoreError::Incompatible("not a novakeys database".into()));
        }
    }
    for (i, step) in STEPS
        .iter()
        .enumerate()
        .take(target.clamp(0, LATEST) as usize)
        .skip(current as usize)
    {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_fresh_and_is_idempotent() {
        let conn = Connection::open_in_memory().unwrap();
        migrate(&conn).unwrap();
        migrate(&conn).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, LATEST);
    }

    #[test]
    fn step_5_keeps_what_older_application_credentials_showed() {
        let conn = Connection::open_in_memory().unwrap();
        migrate_to(&conn, 4).unwrap();
        // No user row is needed for what this test reads.
        conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
        for (id, unrestricted) in [("a", 0), ("b", 1)] {
            conn.execute(
                "INSERT INTO id_app_creds (id, name, user_id, project_id, secret_hash,
                                           unrestricted, role_ids)
                 VALUES (?1, ?1, 'u1', 'p', 'h', ?2, '[]')",
                rusqlite::params![id, unrestricted],
            )
            .unwrap();
        }
        migrate(&conn).unwrap();
        let got: Vec<(String, Option<bool>)> = conn
            .prepare("SELECT id, unrestricted FROM id_app_creds ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(got, vec![("a".into(), None), ("b".into(), Some(true))]);
        // The new column takes false as given.
        conn.execute(
            "UPDATE id_app_creds SET unrestricted = 0 WHERE id = 'a'",
            [],
        )
        .unwrap();
        let a: Option<bool> = conn
            .query_row(
                "SELECT unrestricted FROM id_app_creds WHERE id = 'a'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(a, Some(false));
    }

    #[test]
    fn refuses_foreign_database() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE other (x)").unwrap();
        assert!(matches!(migrate(&conn), Err(StoreError::Incompatible(_))));
    }
}
