//! # Identity records in SQLite
//!
//! `id_*` tables. Assignments and application credentials go with their user (foreign keys
//! with cascade); revocations are keyed by a token's audit id.

use super::SqliteStore;
use crate::store::identity::{
    AppCred, Assignment, Bootstrap, Credential, Domain, Project, Role, SigningKey, Target, User,
};
use crate::store::{ChangeToken, IdentityStore, StoreError};
use rusqlite::{params, Connection, OptionalExtension, Row};

impl Target {
    fn kind(&self) -> &'static str {
        match self {
            Target::Project(_) => "project",
            Target::Domain(_) => "domain",
            Target::System => "system",
        }
    }
    fn id(&self) -> &str {
        match self {
            Target::Project(id) | Target::Domain(id) => id,
            Target::System => "all",
        }
    }
    fn from_row(kind: &str, id: String) -> Target {
        match kind {
            "project" => Target::Project(id),
            "domain" => Target::Domain(id),
            _ => Target::System,
        }
    }
}

fn unique(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Duplicate
        }
        _ => e.into(),
    }
}

fn changed(n: usize) -> Result<(), StoreError> {
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Whether any identity data exists (fixtures apply only to an empty store).
fn is_empty(conn: &Connection) -> Result<bool, StoreError> {
    let n: i64 = conn.query_row("SELECT count(*) FROM id_domains", [], |r| r.get(0))?;
    Ok(n == 0)
}

// ---- domains -------------------------------------------------------------------------------

fn domain_row(r: &Row) -> rusqlite::Result<Domain> {
    Ok(Domain {
        id: r.get(0)?,
        name: r.get(1)?,
        description: r.get(2)?,
        enabled: r.get(3)?,
    })
}

const DOMAIN_COLS: &str = "id, name, description, enabled";

fn insert_domain(conn: &Connection, d: &Domain) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO id_domains (id, name, description, enabled) VALUES (?1, ?2, ?3, ?4)",
        params![d.id, d.name, d.description, d.enabled],
    )
    .map_err(unique)?;
    Ok(())
}

fn get_domain(conn: &Connection, id: &str) -> Result<Option<Domain>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {DOMAIN_COLS} FROM id_domains WHERE id = ?1"),
            [id],
            domain_row,
        )
        .optional()?)
}

fn get_domain_by_name(conn: &Connection, name: &str) -> Result<Option<Domain>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {DOMAIN_COLS} FROM id_domains WHERE name = ?1"),
            [name],
            domain_row,
        )
        .optional()?)
}

fn list_domains(conn: &Connection) -> Result<Vec<Domain>, StoreError> {
    let mut st = conn.prepare(&format!(
        "SELECT {DOMAIN_COLS} FROM id_domains ORDER BY rowid"
    ))?;
    let rows = st.query_map([], domain_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

// ---- projects ------------------------------------------------------------------------------

fn project_row(r: &Row) -> rusqlite::Result<Project> {
    Ok(Project {
        id: r.get(0)?,
        name: r.get(1)?,
        domain_id: r.get(2)?,
        description: r.get(3)?,
        enabled: r.get(4)?,
    })
}

const PROJECT_COLS: &str = "id, name, domain_id, description, enabled";

fn insert_project(conn: &Connection, p: &Project) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO id_projects (id, name, domain_id, description, enabled)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![p.id, p.name, p.domain_id, p.description, p.enabled],
    )
    .map_err(unique)?;
    Ok(())
}

fn update_project(conn: &Connection, p: &Project) -> Result<(), StoreError> {
    let n = conn
        .execute(
            "UPDATE id_projects SET name = ?2, description = ?3, enabled = ?4 WHERE id = ?1",
            params![p.id, p.name, p.description, p.enabled],
        )
        .map_err(unique)?;
    changed(n)
}

fn delete_project(conn: &Connection, id: &str) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM id_assignments WHERE target_type = 'project' AND target_id = ?1",
        [id],
    )?;
    conn.execute("DELETE FROM id_app_creds WHERE project_id = ?1", [id])?;
    conn.execute(
        "UPDATE id_users SET default_project_id = NULL WHERE default_project_id = ?1",
        [id],
    )?;
    let n = conn.execute("DELETE FROM id_projects WHERE id = ?1", [id])?;
    changed(n)
}

fn get_project(conn: &Connection, id: &str) -> Result<Option<Project>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {PROJECT_COLS} FROM id_projects WHERE id = ?1"),
            [id],
            project_row,
        )
        .optional()?)
}

fn get_project_by_name(
    conn: &Connection,
    domain_id: &str,
    name: &str,
) -> Result<Option<Project>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {PROJECT_COLS} FROM id_projects WHERE domain_id = ?1 AND name = ?2"),
            [domain_id, name],
            project_row,
        )
        .optional()?)
}

fn list_projects(conn: &Connection) -> Result<Vec<Project>, StoreError> {
    let mut st = conn.prepare(&format!(
        "SELECT {PROJECT_COLS} FROM id_projects ORDER BY rowid"
    ))?;
    let rows = st.query_map([], project_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

// ---- users ---------------------------------------------------------------------------------

fn user_row(r: &Row) -> rusqlite::Result<User> {
    let extra: String = r.get(6)?;
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        domain_id: r.get(2)?,
        enabled: r.get(3)?,
        default_project_id: r.get(4)?,
        password_hash: r.get(5)?,
        extra: serde_json::from_str(&extra).unwrap_or_default(),
    })
}

const USER_COLS: &str = "id, name, domain_id, enabled, default_project_id, password_hash, extra";

fn insert_user(conn: &Connection, u: &User) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO id_users (id, name, domain_id, enabled, default_project_id, password_hash,
                               extra)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            u.id,
            u.name,
            u.domain_id,
            u.enabled,
            u.default_project_id,
            u.password_hash,
            serde_json::Value::Object(u.extra.clone()).to_string()
        ],
    )
    .map_err(unique)?;
    Ok(())
}

fn update_user(conn: &Connection, u: &User) -> Result<(), StoreError> {
    let n = conn
        .execute(
            "UPDATE id_users SET name = ?2, enabled = ?3, default_project_id = ?4,
                                 password_hash = ?5, extra = ?6
             WHERE id = ?1",
            params![
                u.id,
                u.name,
                u.enabled,
                u.default_project_id,
                u.password_hash,
                serde_json::Value::Object(u.extra.clone()).to_string()
            ],
        )
        .map_err(unique)?;
    changed(n)
}

fn delete_user(conn: &Connection, id: &str) -> Result<(), StoreError> {
    let n = conn.execute("DELETE FROM id_users WHERE id = ?1", [id])?;
    changed(n)
}

fn get_user(conn: &Connection, id: &str) -> Result<Option<User>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {USER_COLS} FROM id_users WHERE id = ?1"),
            [id],
            user_row,
        )
        .optional()?)
}

fn get_user_by_name(
    conn: &Connection,
    domain_id: &str,
    name: &str,
) -> Result<Option<User>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {USER_COLS} FROM id_users WHERE domain_id = ?1 AND name = ?2"),
            [domain_id, name],
            user_row,
        )
        .optional()?)
}

fn list_users(conn: &Connection) -> Result<Vec<User>, StoreError> {
    let mut st = conn.prepare(&format!("SELECT {USER_COLS} FROM id_users ORDER BY rowid"))?;
    let rows = st.query_map([], user_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

// ---- roles ---------------------------------------------------------------------------------

fn role_row(r: &Row) -> rusqlite::Result<Role> {
    Ok(Role {
        id: r.get(0)?,
        name: r.get(1)?,
        immutable: r.get(2)?,
    })
}

fn insert_role(conn: &Connection, r: &Role) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO id_roles (id, name, immutable) VALUES (?1, ?2, ?3)",
        params![r.id, r.name, r.immutable],
    )
    .map_err(unique)?;
    Ok(())
}

fn get_role(conn: &Connection, id: &str) -> Result<Option<Role>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT id, name, immutable FROM id_roles WHERE id = ?1",
            [id],
            role_row,
        )
        .optional()?)
}

fn list_roles(conn: &Connection) -> Result<Vec<Role>, StoreError> {
    let mut st = conn.prepare("SELECT id, name, immutable FROM id_roles ORDER BY seq")?;
    let rows = st.query_map([], role_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

// ---- assignments ---------------------------------------------------------------------------

fn grant(conn: &Connection, a: &Assignment) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR IGNORE INTO id_assignments (actor_id, target_type, target_id, role_id)
         VALUES (?1, ?2, ?3, ?4)",
        params![a.user_id, a.target.kind(), a.target.id(), a.role_id],
    )?;
    Ok(())
}

fn revoke_grant(conn: &Connection, a: &Assignment) -> Result<(), StoreError> {
    let n = conn.execute(
        "DELETE FROM id_assignments
         WHERE actor_id = ?1 AND target_type = ?2 AND target_id = ?3 AND role_id = ?4",
        params![a.user_id, a.target.kind(), a.target.id(), a.role_id],
    )?;
    changed(n)
}

/// Every assignment, ordered by target, then user, then role.
fn list_assignments(conn: &Connection) -> Result<Vec<Assignment>, StoreError> {
    let mut st = conn.prepare(
        "SELECT actor_id, target_type, target_id, role_id FROM id_assignments
         ORDER BY target_type, target_id, actor_id, role_id",
    )?;
    let rows = st.query_map([], |r| {
        let kind: String = r.get(1)?;
        Ok(Assignment {
            user_id: r.get(0)?,
            target: Target::from_row(&kind, r.get(2)?),
            role_id: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The roles granted directly to `user_id` on `target`, in grant order.
fn direct_roles(
    conn: &Connection,
    user_id: &str,
    target: &Target,
) -> Result<Vec<Role>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT r.id, r.name, r.immutable FROM id_assignments a
         JOIN id_roles r ON r.id = a.role_id
         WHERE a.actor_id = ?1 AND a.target_type = ?2 AND a.target_id = ?3
         ORDER BY a.rowid",
    )?;
    let rows = st.query_map(params![user_id, target.kind(), target.id()], role_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

// ---- application credentials ---------------------------------------------------------------

fn app_cred_row(r: &Row) -> rusqlite::Result<AppCred> {
    let roles: String = r.get(8)?;
    Ok(AppCred {
        id: r.get(0)?,
        name: r.get(1)?,
        description: r.get(2)?,
        user_id: r.get(3)?,
        project_id: r.get(4)?,
        secret_hash: r.get(5)?,
        expires_at: r.get(6)?,
        unrestricted: r.get(7)?,
        role_ids: serde_json::from_str(&roles).unwrap_or_default(),
    })
}

const APP_CRED_COLS: &str =
    "id, name, description, user_id, project_id, secret_hash, expires_at, unrestricted, role_ids";

fn insert_app_cred(conn: &Connection, a: &AppCred) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO id_app_creds (id, name, description, user_id, project_id, secret_hash,
                                   expires_at, unrestricted, role_ids)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            a.id,
            a.name,
            a.description,
            a.user_id,
            a.project_id,
            a.secret_hash,
            a.expires_at,
            a.unrestricted,
            serde_json::to_string(&a.role_ids).unwrap_or_else(|_| "[]".into())
        ],
    )
    .map_err(unique)?;
    Ok(())
}

fn get_app_cred(conn: &Connection, id: &str) -> Result<Option<AppCred>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {APP_CRED_COLS} FROM id_app_creds WHERE id = ?1"),
            [id],
            app_cred_row,
        )
        .optional()?)
}

fn get_app_cred_by_name(
    conn: &Connection,
    user_id: &str,
    name: &str,
) -> Result<Option<AppCred>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {APP_CRED_COLS} FROM id_app_creds WHERE user_id = ?1 AND name = ?2"),
            [user_id, name],
            app_cred_row,
        )
        .optional()?)
}

fn list_app_creds(conn: &Connection, user_id: &str) -> Result<Vec<AppCred>, StoreError> {
    let mut st = conn.prepare(&format!(
        "SELECT {APP_CRED_COLS} FROM id_app_creds WHERE user_id = ?1 ORDER BY seq"
    ))?;
    let rows = st.query_map([user_id], app_cred_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn delete_app_cred(conn: &Connection, user_id: &str, id: &str) -> Result<(), StoreError> {
    let n = conn.execute(
        "DELETE FROM id_app_creds WHERE user_id = ?1 AND id = ?2",
        [user_id, id],
    )?;
    changed(n)
}

// ---- credentials ---------------------------------------------------------------------------

const CREDENTIAL_COLS: &str = "id, cloud, access, secret, user_id, project_id, created_at";

fn credential_row(r: &Row) -> rusqlite::Result<Credential> {
    Ok(Credential {
        id: r.get(0)?,
        cloud: r.get(1)?,
        access: r.get(2)?,
        secret: r.get(3)?,
        user_id: r.get(4)?,
        project_id: r.get(5)?,
        created_at: r.get(6)?,
    })
}

fn insert_credential(conn: &Connection, c: &Credential) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO id_credentials (id, cloud, access, secret, user_id, project_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            c.id,
            c.cloud,
            c.access,
            c.secret,
            c.user_id,
            c.project_id,
            c.created_at
        ],
    )
    .map_err(unique)?;
    Ok(())
}

fn get_credential(conn: &Connection, id: &str) -> Result<Option<Credential>, StoreError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {CREDENTIAL_COLS} FROM id_credentials WHERE id = ?1"
        ))?
        .query_row([id], credential_row)
        .optional()?)
}

fn find_credential(
    conn: &Connection,
    cloud: &str,
    access: &str,
) -> Result<Option<Credential>, StoreError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {CREDENTIAL_COLS} FROM id_credentials WHERE cloud = ?1 AND access = ?2"
        ))?
        .query_row([cloud, access], credential_row)
        .optional()?)
}

fn list_credentials(conn: &Connection) -> Result<Vec<Credential>, StoreError> {
    let mut st = conn.prepare(&format!(
        "SELECT {CREDENTIAL_COLS} FROM id_credentials ORDER BY seq"
    ))?;
    let rows = st.query_map([], credential_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn delete_credential(conn: &Connection, id: &str) -> Result<(), StoreError> {
    changed(conn.execute("DELETE FROM id_credentials WHERE id = ?1", [id])?)
}

fn revoke_user_tokens(conn: &Connection, user_id: &str, before: i64) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO id_user_revocations (user_id, revoked_before) VALUES (?1, ?2)
         ON CONFLICT (user_id) DO UPDATE SET revoked_before = max(revoked_before, ?2)",
        params![user_id, before],
    )?;
    Ok(())
}

fn user_tokens_revoked_before(conn: &Connection, user_id: &str) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT revoked_before FROM id_user_revocations WHERE user_id = ?1")?
        .query_row([user_id], |r| r.get(0))
        .optional()?)
}

// ---- revocations ---------------------------------------------------------------------------

/// Records a revoked token by audit id (kept until the token would have expired anyway).
fn revoke_token(conn: &Connection, audit_id: &str, expires_at: i64) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR IGNORE INTO id_revocations (audit_id, expires_at) VALUES (?1, ?2)",
        params![audit_id, expires_at],
    )?;
    Ok(())
}

fn is_revoked(conn: &Connection, audit_id: &str) -> Result<bool, StoreError> {
    let mut st = conn.prepare_cached("SELECT 1 FROM id_revocations WHERE audit_id = ?1")?;
    Ok(st.exists([audit_id])?)
}

/// Forgets revocations of tokens that have expired anyway (`allow_expired` windows aside).
fn purge_revocations(conn: &Connection, before: i64) -> Result<(), StoreError> {
    conn.execute("DELETE FROM id_revocations WHERE expires_at < ?1", [before])?;
    Ok(())
}

// ---- signing keys --------------------------------------------------------------------------

/// The newest `n` signing keys, newest first.
fn signing_keys(conn: &Connection, n: usize) -> Result<Vec<SigningKey>, StoreError> {
    let mut st = conn
        .prepare("SELECT private_pem, public_pem FROM id_signing_keys ORDER BY id DESC LIMIT ?1")?;
    let rows = st.query_map([n as i64], |r| {
        Ok(SigningKey {
            private_pem: r.get(0)?,
            public_pem: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Adds a new current key and forgets all but the newest `keep` keys.
fn add_signing_key(
    conn: &Connection,
    key: &SigningKey,
    created_at: &str,
    keep: usize,
) -> Result<(), StoreError> {
    let tx = conn.unchecked_transaction()?;
    tx.execute(
        "INSERT INTO id_signing_keys (private_pem, public_pem, created_at) VALUES (?1, ?2, ?3)",
        params![key.private_pem, key.public_pem, created_at],
    )?;
    tx.execute(
        "DELETE FROM id_signing_keys WHERE id NOT IN
           (SELECT id FROM id_signing_keys ORDER BY id DESC LIMIT ?1)",
        [keep as i64],
    )?;
    tx.commit()?;
    Ok(())
}

/// One statement: SQLite runs it under its write lock, so it cannot race another writer.
fn add_first_signing_key(
    conn: &Connection,
    key: &SigningKey,
    created_at: &str,
) -> Result<bool, StoreError> {
    let n = conn.execute(
        "INSERT INTO id_signing_keys (private_pem, public_pem, created_at)
         SELECT ?1, ?2, ?3 WHERE NOT EXISTS (SELECT 1 FROM id_signing_keys)",
        params![key.private_pem, key.public_pem, created_at],
    )?;
    Ok(n > 0)
}

/// Writes `b` if there is no identity data yet.
fn bootstrap(conn: &mut Connection, b: &Bootstrap) -> Result<bool, StoreError> {
    let tx = conn.transaction()?;
    if !is_empty(&tx)? {
        return Ok(false);
    }
    for d in &b.domains {
        insert_domain(&tx, d)?;
    }
    for r in &b.roles {
        insert_role(&tx, r)?;
    }
    for p in &b.projects {
        insert_project(&tx, p)?;
    }
    for u in &b.users {
        insert_user(&tx, u)?;
    }
    for a in &b.grants {
        grant(&tx, a)?;
    }
    for c in &b.credentials {
        insert_credential(&tx, c)?;
    }
    tx.commit()?;
    Ok(true)
}

impl SqliteStore {
    /// A write on the writer connection that moves the identity token.
    fn identity_write<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let result = self.engine.write(|c| f(c));
        self.identity_changed();
        result
    }
}

impl IdentityStore for SqliteStore {
    fn identity_token(&self) -> ChangeToken {
        self.identity_changes()
    }
    fn identity_is_empty(&self) -> Result<bool, StoreError> {
        self.engine.read(is_empty)
    }
    fn bootstrap(&self, b: &Bootstrap) -> Result<bool, StoreError> {
        let done = self.engine.write(|c| bootstrap(c, b));
        self.identity_changed();
        done
    }
    fn insert_domain(&self, d: &Domain) -> Result<(), StoreError> {
        self.identity_write(|c| insert_domain(c, d))
    }
    fn get_domain(&self, id: &str) -> Result<Option<Domain>, StoreError> {
        self.engine.read(|c| get_domain(c, id))
    }
    fn get_domain_by_name(&self, name: &str) -> Result<Option<Domain>, StoreError> {
        self.engine.read(|c| get_domain_by_name(c, name))
    }
    fn list_domains(&self) -> Result<Vec<Domain>, StoreError> {
        self.engine.read(list_domains)
    }
    fn insert_project(&self, p: &Project) -> Result<(), StoreError> {
        self.identity_write(|c| insert_project(c, p))
    }
    fn update_project(&self, p: &Project) -> Result<(), StoreError> {
        self.identity_write(|c| update_project(c, p))
    }
    fn delete_project(&self, id: &str) -> Result<(), StoreError> {
        self.identity_write(|c| {
            let tx = c.unchecked_transaction()?;
            delete_project(&tx, id)?;
            tx.commit()?;
            Ok(())
        })
    }
    fn get_project(&self, id: &str) -> Result<Option<Project>, StoreError> {
        self.engine.read(|c| get_project(c, id))
    }
    fn get_project_by_name(
        &self,
        domain_id: &str,
        name: &str,
    ) -> Result<Option<Project>, StoreError> {
        self.engine
            .read(|c| get_project_by_name(c, domain_id, name))
    }
    fn list_projects(&self) -> Result<Vec<Project>, StoreError> {
        self.engine.read(list_projects)
    }
    fn insert_user(&self, u: &User) -> Result<(), StoreError> {
        self.identity_write(|c| insert_user(c, u))
    }
    fn update_user(&self, u: &User) -> Result<(), StoreError> {
        self.identity_write(|c| update_user(c, u))
    }
    fn delete_user(&self, id: &str) -> Result<(), StoreError> {
        self.identity_write(|c| delete_user(c, id))
    }
    fn get_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.engine.read(|c| get_user(c, id))
    }
    fn get_user_by_name(&self, domain_id: &str, name: &str) -> Result<Option<User>, StoreError> {
        self.engine.read(|c| get_user_by_name(c, domain_id, name))
    }
    fn list_users(&self) -> Result<Vec<User>, StoreError> {
        self.engine.read(list_users)
    }
    fn insert_role(&self, r: &Role) -> Result<(), StoreError> {
        self.identity_write(|c| insert_role(c, r))
    }
    fn get_role(&self, id: &str) -> Result<Option<Role>, StoreError> {
        self.engine.read(|c| get_role(c, id))
    }
    fn list_roles(&self) -> Result<Vec<Role>, StoreError> {
        self.engine.read(list_roles)
    }
    fn grant(&self, a: &Assignment) -> Result<(), StoreError> {
        self.identity_write(|c| grant(c, a))
    }
    fn revoke_grant(&self, a: &Assignment) -> Result<(), StoreError> {
        self.identity_write(|c| revoke_grant(c, a))
    }
    fn list_assignments(&self) -> Result<Vec<Assignment>, StoreError> {
        self.engine.read(list_assignments)
    }
    fn direct_roles(&self, user_id: &str, target: &Target) -> Result<Vec<Role>, StoreError> {
        self.engine.read(|c| direct_roles(c, user_id, target))
    }
    fn insert_app_cred(&self, a: &AppCred) -> Result<(), StoreError> {
        self.identity_write(|c| insert_app_cred(c, a))
    }
    fn get_app_cred(&self, id: &str) -> Result<Option<AppCred>, StoreError> {
        self.engine.read(|c| get_app_cred(c, id))
    }
    fn get_app_cred_by_name(
        &self,
        user_id: &str,
        name: &str,
    ) -> Result<Option<AppCred>, StoreError> {
        self.engine.read(|c| get_app_cred_by_name(c, user_id, name))
    }
    fn list_app_creds(&self, user_id: &str) -> Result<Vec<AppCred>, StoreError> {
        self.engine.read(|c| list_app_creds(c, user_id))
    }
    fn delete_app_cred(&self, user_id: &str, id: &str) -> Result<(), StoreError> {
        self.identity_write(|c| delete_app_cred(c, user_id, id))
    }
    fn revoke_token(&self, audit_id: &str, expires_at: i64) -> Result<(), StoreError> {
        self.identity_write(|c| revoke_token(c, audit_id, expires_at))
    }
    fn is_revoked(&self, audit_id: &str) -> Result<bool, StoreError> {
        self.engine.read(|c| is_revoked(c, audit_id))
    }
    fn purge_revocations(&self, before: i64) -> Result<(), StoreError> {
        self.identity_write(|c| purge_revocations(c, before))
    }
    fn insert_credential(&self, c: &Credential) -> Result<(), StoreError> {
        self.identity_write(|conn| insert_credential(conn, c))
    }
    fn get_credential(&self, id: &str) -> Result<Option<Credential>, StoreError> {
        self.engine.read(|c| get_credential(c, id))
    }
    fn find_credential(&self, cloud: &str, access: &str) -> Result<Option<Credential>, StoreError> {
        self.engine.read(|c| find_credential(c, cloud, access))
    }
    fn list_credentials(&self) -> Result<Vec<Credential>, StoreError> {
        self.engine.read(list_credentials)
    }
    fn delete_credential(&self, id: &str) -> Result<(), StoreError> {
        self.identity_write(|c| delete_credential(c, id))
    }
    fn revoke_user_tokens(&self, user_id: &str, before: i64) -> Result<(), StoreError> {
        self.identity_write(|c| revoke_user_tokens(c, user_id, before))
    }
    fn user_tokens_revoked_before(&self, user_id: &str) -> Result<Option<i64>, StoreError> {
        self.engine.read(|c| user_tokens_revoked_before(c, user_id))
    }
    fn signing_keys(&self, n: usize) -> Result<Vec<SigningKey>, StoreError> {
        self.engine.read(|c| signing_keys(c, n))
    }
    fn add_first_signing_key(
        &self,
        key: &SigningKey,
        created_at: &str,
    ) -> Result<bool, StoreError> {
        self.identity_write(|c| add_first_signing_key(c, key, created_at))
    }
    fn add_signing_key(
        &self,
        key: &SigningKey,
        created_at: &str,
        keep: usize,
    ) -> Result<(), StoreError> {
        self.identity_write(|c| add_signing_key(c, key, created_at, keep))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::migrations::migrate;

    #[test]
    fn users_cascade_and_duplicates() {
        let conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        migrate(&conn).unwrap();
        assert!(is_empty(&conn).unwrap());
        insert_domain(
            &conn,
            &Domain {
                id: "default".into(),
                name: "Default".into(),
                description: String::new(),
                enabled: true,
            },
        )
        .unwrap();
        let u = User {
            id: "u1".into(),
            name: "demo".into(),
            domain_id: "default".into(),
            enabled: true,
            default_project_id: None,
            password_hash: None,
            extra: Default::default(),
        };
        insert_user(&conn, &u).unwrap();
        assert!(matches!(
            insert_user(
                &conn,
                &User {
                    id: "u2".into(),
                    ..u.clone()
                }
            ),
            Err(StoreError::Duplicate)
        ));
        insert_role(
            &conn,
            &Role {
                id: "r1".into(),
                name: "member".into(),
                immutable: false,
            },
        )
        .unwrap();
        let a = Assignment {
            user_id: "u1".into(),
            target: Target::Project("p".into()),
            role_id: "r1".into(),
        };
        grant(&conn, &a).unwrap();
        assert_eq!(list_assignments(&conn).unwrap(), vec![a.clone()]);
        delete_user(&conn, "u1").unwrap();
        assert!(list_assignments(&conn).unwrap().is_empty());
        assert!(matches!(revoke_grant(&conn, &a), Err(StoreError::NotFound)));
    }
}
