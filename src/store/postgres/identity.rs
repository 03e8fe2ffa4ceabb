//! # Identity records in PostgreSQL
//!
//! `id_*` tables, as `sqlite::identity`: assignments, application credentials, access keys
//! and user revocations go with their user (cascading foreign keys); lists keep insertion
//! order (`nk_rowid` or the table's serial). Every write is one transaction that also moves
//! the identity counter in the database.

use super::{bump, constraint, Kind, PgStore};
use crate::store::identity::{
    AppCred, Assignment, Bootstrap, Credential, Domain, Project, Role, SigningKey, Target, User,
};
use crate::store::{ChangeToken, IdentityStore, StoreError};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

type Param = Box<dyn ToSql + Sync + Send>;

macro_rules! params {
    ($($p:expr),* $(,)?) => { vec![$(Box::new($p) as Param),*] };
}

/// One statement of a write; `unique`: a constraint failure is `Duplicate` (as the SQLite
/// store maps it on the same statements), not a backend error.
struct Stmt {
    sql: &'static str,
    params: Vec<Param>,
    unique: bool,
}

fn stmt(sql: &'static str, params: Vec<Param>) -> Stmt {
    Stmt {
        sql,
        params,
        unique: false,
    }
}

fn unique(sql: &'static str, params: Vec<Param>) -> Stmt {
    Stmt {
        sql,
        params,
        unique: true,
    }
}

fn refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

fn one(n: Vec<u64>) -> Result<(), StoreError> {
    super::changed(n.last().copied().unwrap_or(0))
}

impl Target {
    fn kind_text(&self) -> &'static str {
        match self {
            Target::Project(_) => "project",
            Target::Domain(_) => "domain",
            Target::System => "system",
        }
    }
    fn id_text(&self) -> String {
        match self {
            Target::Project(id) | Target::Domain(id) => id.clone(),
            Target::System => "all".into(),
        }
    }
    fn from_text(kind: &str, id: String) -> Target {
        match kind {
            "project" => Target::Project(id),
            "domain" => Target::Domain(id),
            _ => Target::System,
        }
    }
}

impl PgStore {
    fn query(&self, sql: &'static str, params: Vec<Param>) -> Result<Vec<Row>, StoreError> {
        self.block(move |inner| async move {
            let conn = inner.pool.get().await?;
            let st = conn.prepare_cached(sql).await?;
            super::found(conn.query(&st, &refs(&params)).await)
        })
    }

    fn query_map<T>(
        &self,
        sql: &'static str,
        params: Vec<Param>,
        f: impl Fn(&Row) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        self.query(sql, params)?.iter().map(f).collect()
    }

    fn query_first<T>(
        &self,
        sql: &'static str,
        params: Vec<Param>,
        f: impl Fn(&Row) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        Ok(self.query_map(sql, params, f)?.into_iter().next())
    }

    /// The statements in one transaction that moves the identity counters; the rows each
    /// touched.
    fn identity_write(&self, stmts: Vec<Stmt>) -> Result<Vec<u64>, StoreError> {
        let result = self.block(move |inner| async move {
            let mut conn = inner.pool.get().await?;
            let tx = conn.transaction().await?;
            let mut counts = Vec::with_capacity(stmts.len());
            for s in &stmts {
                let st = tx.prepare_cached(s.sql).await?;
                let n = tx.execute(&st, &refs(&s.params)).await;
                counts.push(match n {
                    Ok(n) => n,
                    // What no row can hold, no row matches: nothing to delete.
                    Err(e) if super::unmatchable(&e) && s.sql.starts_with("DELETE") => {
                        return Err(StoreError::NotFound)
                    }
                    Err(e) if s.unique => return Err(constraint(e)),
                    Err(e) => return Err(e.into()),
                });
            }
            let counter = bump(&tx, Kind::Identity).await?;
            tx.commit().await?;
            inner.committed(Kind::Identity, counter);
            Ok(counts)
        });
        self.inner.after(Kind::Identity, &result);
        result
    }
}

fn domain_row(r: &Row) -> Result<Domain, StoreError> {
    Ok(Domain {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        description: r.try_get(2)?,
        enabled: r.try_get(3)?,
    })
}

fn project_row(r: &Row) -> Result<Project, StoreError> {
    Ok(Project {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        domain_id: r.try_get(2)?,
        description: r.try_get(3)?,
        enabled: r.try_get(4)?,
    })
}

fn user_row(r: &Row) -> Result<User, StoreError> {
    let extra: String = r.try_get(6)?;
    Ok(User {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        domain_id: r.try_get(2)?,
        enabled: r.try_get(3)?,
        default_project_id: r.try_get(4)?,
        password_hash: r.try_get(5)?,
        extra: serde_json::from_str(&extra).unwrap_or_default(),
    })
}

fn role_row(r: &Row) -> Result<Role, StoreError> {
    Ok(Role {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        immutable: r.try_get(2)?,
    })
}

fn app_cred_row(r: &Row) -> Result<AppCred, StoreError> {
    let roles: String = r.try_get(8)?;
    Ok(AppCred {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        description: r.try_get(2)?,
        user_id: r.try_get(3)?,
        project_id: r.try_get(4)?,
        secret_hash: r.try_get(5)?,
        expires_at: r.try_get(6)?,
        unrestricted: r.try_get(7)?,
        role_ids: serde_json::from_str(&roles).unwrap_or_default(),
    })
}

fn credential_row(r: &Row) -> Result<Credential, StoreError> {
    Ok(Credential {
        id: r.try_get(0)?,
        cloud: r.try_get(1)?,
        access: r.try_get(2)?,
        secret: r.try_get(3)?,
        user_id: r.try_get(4)?,
        project_id: r.try_get(5)?,
        created_at: r.try_get(6)?,
    })
}

fn insert_domain(d: &Domain) -> Stmt {
    unique(
        "INSERT INTO id_domains (id, name, description, enabled) VALUES ($1, $2, $3, $4)",
        params![
            d.id.clone(),
            d.name.clone(),
            d.description.clone(),
            d.enabled
        ],
    )
}

fn insert_project(p: &Project) -> Stmt {
    unique(
        "INSERT INTO id_projects (id, name, domain_id, description, enabled)
         VALUES ($1, $2, $3, $4, $5)",
        params![
            p.id.clone(),
            p.name.clone(),
            p.domain_id.clone(),
            p.description.clone(),
            p.enabled
        ],
    )
}

fn extra_text(u: &User) -> String {
    serde_json::Value::Object(u.extra.clone()).to_string()
}

fn insert_user(u: &User) -> Stmt {
    unique(
        "INSERT INTO id_users (id, name, domain_id, enabled, default_project_id, password_hash,
                               extra)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        params![
            u.id.clone(),
            u.name.clone(),
            u.domain_id.clone(),
            u.enabled,
            u.default_project_id.clone(),
            u.password_hash.clone(),
            extra_text(u)
        ],
    )
}

fn insert_role(r: &Role) -> Stmt {
    unique(
        "INSERT INTO id_roles (id, name, immutable) VALUES ($1, $2, $3)",
        params![r.id.clone(), r.name.clone(), r.immutable],
    )
}

/// Idempotent (`INSERT OR IGNORE` in SQLite).
fn grant(a: &Assignment) -> Stmt {
    stmt(
        "INSERT INTO id_assignments (actor_id, target_type, target_id, role_id)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        params![
            a.user_id.clone(),
            a.target.kind_text(),
            a.target.id_text(),
            a.role_id.clone()
        ],
    )
}

fn insert_credential(c: &Credential) -> Stmt {
    unique(
        "INSERT INTO id_credentials (id, cloud, access, secret, user_id, project_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        params![
            c.id.clone(),
            c.cloud.clone(),
            c.access.clone(),
            c.secret.clone(),
            c.user_id.clone(),
            c.project_id.clone(),
            c.created_at.clone()
        ],
    )
}

/// Any constant: the advisory lock key under which processes bootstrap one at a time.
const BOOTSTRAP_LOCK: i64 = 0x6e6b_626f_6f74;

impl IdentityStore for PgStore {
    fn identity_token(&self) -> ChangeToken {
        self.identity_token_value()
    }

    fn identity_is_empty(&self) -> Result<bool, StoreError> {
        let n: i64 = self.query("SELECT count(*) FROM id_domains", params![])?[0].try_get(0)?;
        Ok(n == 0)
    }

    /// Under an advisory lock: two processes starting on one empty database bootstrap once.
    fn bootstrap(&self, b: &Bootstrap) -> Result<bool, StoreError> {
        let mut stmts = Vec::new();
        stmts.extend(b.domains.iter().map(insert_domain));
        stmts.extend(b.roles.iter().map(insert_role));
        stmts.extend(b.projects.iter().map(insert_project));
        stmts.extend(b.users.iter().map(insert_user));
        stmts.extend(b.grants.iter().map(grant));
        stmts.extend(b.credentials.iter().map(insert_credential));
        let done = self.block(move |inner| async move {
            let mut conn = inner.pool.get().await?;
            let tx = conn.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&BOOTSTRAP_LOCK])
                .await?;
            let n: i64 = tx
                .query_one("SELECT count(*) FROM id_domains", &[])
                .await?
                .try_get(0)?;
            if n > 0 {
                return Ok(false);
            }
            for s in &stmts {
                let st = tx.prepare_cached(s.sql).await?;
                tx.execute(&st, &refs(&s.params)).await.map_err(|e| {
                    if s.unique {
                        constraint(e)
                    } else {
                        e.into()
                    }
                })?;
            }
            let counter = bump(&tx, Kind::Identity).await?;
            tx.commit().await?;
            inner.committed(Kind::Identity, counter);
            Ok(true)
        });
        self.inner.after(Kind::Identity, &done);
        done
    }

    fn insert_domain(&self, d: &Domain) -> Result<(), StoreError> {
        self.identity_write(vec![insert_domain(d)]).map(|_| ())
    }
    fn get_domain(&self, id: &str) -> Result<Option<Domain>, StoreError> {
        self.query_first(
            "SELECT id, name, description, enabled FROM id_domains WHERE id = $1",
            params![id.to_string()],
            domain_row,
        )
    }
    fn get_domain_by_name(&self, name: &str) -> Result<Option<Domain>, StoreError> {
        self.query_first(
            "SELECT id, name, description, enabled FROM id_domains WHERE name = $1",
            params![name.to_string()],
            domain_row,
        )
    }
    fn list_domains(&self) -> Result<Vec<Domain>, StoreError> {
        self.query_map(
            "SELECT id, name, description, enabled FROM id_domains ORDER BY nk_rowid",
            params![],
            domain_row,
        )
    }

    fn insert_project(&self, p: &Project) -> Result<(), StoreError> {
        self.identity_write(vec![insert_project(p)]).map(|_| ())
    }
    fn update_project(&self, p: &Project) -> Result<(), StoreError> {
        one(self.identity_write(vec![unique(
            "UPDATE id_projects SET name = $2, description = $3, enabled = $4 WHERE id = $1",
            params![
                p.id.clone(),
                p.name.clone(),
                p.description.clone(),
                p.enabled
            ],
        )])?)
    }
    fn delete_project(&self, id: &str) -> Result<(), StoreError> {
        let id = id.to_string();
        one(self.identity_write(vec![
            stmt(
                "DELETE FROM id_assignments WHERE target_type = 'project' AND target_id = $1",
                params![id.clone()],
            ),
            stmt(
                "DELETE FROM id_app_creds WHERE project_id = $1",
                params![id.clone()],
            ),
            stmt(
                "UPDATE id_users SET default_project_id = NULL WHERE default_project_id = $1",
                params![id.clone()],
            ),
            stmt("DELETE FROM id_projects WHERE id = $1", params![id]),
        ])?)
    }
    fn get_project(&self, id: &str) -> Result<Option<Project>, StoreError> {
        self.query_first(
            "SELECT id, name, domain_id, description, enabled FROM id_projects WHERE id = $1",
            params![id.to_string()],
            project_row,
        )
    }
    fn get_project_by_name(
        &self,
        domain_id: &str,
        name: &str,
    ) -> Result<Option<Project>, StoreError> {
        self.query_first(
            "SELECT id, name, domain_id, description, enabled FROM id_projects
              WHERE domain_id = $1 AND name = $2",
            params![domain_id.to_string(), name.to_string()],
            project_row,
        )
    }
    fn list_projects(&self) -> Result<Vec<Project>, StoreError> {
        self.query_map(
            "SELECT id, name, domain_id, description, enabled FROM id_projects ORDER BY nk_rowid",
            params![],
            project_row,
        )
    }

    fn insert_user(&self, u: &User) -> Result<(), StoreError> {
        self.identity_write(vec![insert_user(u)]).map(|_| ())
    }
    fn update_user(&self, u: &User) -> Result<(), StoreError> {
        one(self.identity_write(vec![unique(
            "UPDATE id_users SET name = $2, enabled = $3, default_project_id = $4,
                                 password_hash = $5, extra = $6
              WHERE id = $1",
            params![
                u.id.clone(),
                u.name.clone(),
                u.enabled,
                u.default_project_id.clone(),
                u.password_hash.clone(),
                extra_text(u)
            ],
        )])?)
    }
    fn delete_user(&self, id: &str) -> Result<(), StoreError> {
        one(self.identity_write(vec![stmt(
            "DELETE FROM id_users WHERE id = $1",
            params![id.to_string()],
        )])?)
    }
    fn get_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.query_first(
            "SELECT id, name, domain_id, enabled, default_project_id, password_hash, extra
               FROM id_users WHERE id = $1",
            params![id.to_string()],
            user_row,
        )
    }
    fn get_user_by_name(&self, domain_id: &str, name: &str) -> Result<Option<User>, StoreError> {
        self.query_first(
            "SELECT id, name, domain_id, enabled, default_project_id, password_hash, extra
               FROM id_users WHERE domain_id = $1 AND name = $2",
            params![domain_id.to_string(), name.to_string()],
            user_row,
        )
    }
    fn list_users(&self) -> Result<Vec<User>, StoreError> {
        self.query_map(
            "SELECT id, name, domain_id, enabled, default_project_id, password_hash, extra
               FROM id_users ORDER BY nk_rowid",
            params![],
            user_row,
        )
    }

    fn insert_role(&self, r: &Role) -> Result<(), StoreError> {
        self.identity_write(vec![insert_role(r)]).map(|_| ())
    }
    fn get_role(&self, id: &str) -> Result<Option<Role>, StoreError> {
        self.query_first(
            "SELECT id, name, immutable FROM id_roles WHERE id = $1",
            params![id.to_string()],
            role_row,
        )
    }
    fn list_roles(&self) -> Result<Vec<Role>, StoreError> {
        self.query_map(
            "SELECT id, name, immutable FROM id_roles ORDER BY seq",
            params![],
            role_row,
        )
    }

    fn grant(&self, a: &Assignment) -> Result<(), StoreError> {
        self.identity_write(vec![grant(a)]).map(|_| ())
    }
    fn revoke_grant(&self, a: &Assignment) -> Result<(), StoreError> {
        one(self.identity_write(vec![stmt(
            "DELETE FROM id_assignments
              WHERE actor_id = $1 AND target_type = $2 AND target_id = $3 AND role_id = $4",
            params![
                a.user_id.clone(),
                a.target.kind_text(),
                a.target.id_text(),
                a.role_id.clone()
            ],
        )])?)
    }
    fn list_assignments(&self) -> Result<Vec<Assignment>, StoreError> {
        self.query_map(
            "SELECT actor_id, target_type, target_id, role_id FROM id_assignments
              ORDER BY target_type, target_id, actor_id, role_id",
            params![],
            |r| {
                let kind: String = r.try_get(1)?;
                Ok(Assignment {
                    user_id: r.try_get(0)?,
                    target: Target::from_text(&kind, r.try_get(2)?),
                    role_id: r.try_get(3)?,
                })
            },
        )
    }
    fn direct_roles(&self, user_id: &str, target: &Target) -> Result<Vec<Role>, StoreError> {
        self.query_map(
            "SELECT r.id, r.name, r.immutable FROM id_assignments a
               JOIN id_roles r ON r.id = a.role_id
              WHERE a.actor_id = $1 AND a.target_type = $2 AND a.target_id = $3
              ORDER BY a.nk_rowid",
            params![user_id.to_string(), target.kind_text(), target.id_text()],
            role_row,
        )
    }

    fn insert_app_cred(&self, a: &AppCred) -> Result<(), StoreError> {
        let roles = serde_json::to_string(&a.role_ids).unwrap_or_else(|_| "[]".into());
        self.identity_write(vec![unique(
            "INSERT INTO id_app_creds (id, name, description, user_id, project_id, secret_hash,
                                       expires_at, unrestricted, role_ids)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            params![
                a.id.clone(),
                a.name.clone(),
                a.description.clone(),
                a.user_id.clone(),
                a.project_id.clone(),
                a.secret_hash.clone(),
                a.expires_at.clone(),
                a.unrestricted,
                roles
            ],
        )])
        .map(|_| ())
    }
    fn get_app_cred(&self, id: &str) -> Result<Option<AppCred>, StoreError> {
        self.query_first(
            "SELECT id, name, description, user_id, project_id, secret_hash, expires_at,
                    unrestricted, role_ids
               FROM id_app_creds WHERE id = $1",
            params![id.to_string()],
            app_cred_row,
        )
    }
    fn get_app_cred_by_name(
        &self,
        user_id: &str,
        name: &str,
    ) -> Result<Option<AppCred>, StoreError> {
        self.query_first(
            "SELECT id, name, description, user_id, project_id, secret_hash, expires_at,
                    unrestricted, role_ids
               FROM id_app_creds WHERE user_id = $1 AND name = $2",
            params![user_id.to_string(), name.to_string()],
            app_cred_row,
        )
    }
    fn list_app_creds(&self, user_id: &str) -> Result<Vec<AppCred>, StoreError> {
        self.query_map(
            "SELECT id, name, description, user_id, project_id, secret_hash, expires_at,
                    unrestricted, role_ids
               FROM id_app_creds WHERE user_id = $1 ORDER BY seq",
            params![user_id.to_string()],
            app_cred_row,
        )
    }
    fn delete_app_cred(&self, user_id: &str, id: &str) -> Result<(), StoreError> {
        one(self.identity_write(vec![stmt(
            "DELETE FROM id_app_creds WHERE user_id = $1 AND id = $2",
            params![user_id.to_string(), id.to_string()],
        )])?)
    }

    fn revoke_token(&self, audit_id: &str, expires_at: i64) -> Result<(), StoreError> {
        self.identity_write(vec![stmt(
            "INSERT INTO id_revocations (audit_id, expires_at) VALUES ($1, $2)
             ON CONFLICT DO NOTHING",
            params![audit_id.to_string(), expires_at],
        )])
        .map(|_| ())
    }
    fn is_revoked(&self, audit_id: &str) -> Result<bool, StoreError> {
        Ok(!self
            .query(
                "SELECT 1 FROM id_revocations WHERE audit_id = $1",
                params![audit_id.to_string()],
            )?
            .is_empty())
    }
    fn purge_revocations(&self, before: i64) -> Result<(), StoreError> {
        self.identity_write(vec![stmt(
            "DELETE FROM id_revocations WHERE expires_at < $1",
            params![before],
        )])
        .map(|_| ())
    }

    fn insert_credential(&self, c: &Credential) -> Result<(), StoreError> {
        self.identity_write(vec![insert_credential(c)]).map(|_| ())
    }
    fn get_credential(&self, id: &str) -> Result<Option<Credential>, StoreError> {
        self.query_first(
            "SELECT id, cloud, access, secret, user_id, project_id, created_at
               FROM id_credentials WHERE id = $1",
            params![id.to_string()],
            credential_row,
        )
    }
    fn find_credential(&self, cloud: &str, access: &str) -> Result<Option<Credential>, StoreError> {
        self.query_first(
            "SELECT id, cloud, access, secret, user_id, project_id, created_at
               FROM id_credentials WHERE cloud = $1 AND access = $2",
            params![cloud.to_string(), access.to_string()],
            credential_row,
        )
    }
    fn list_credentials(&self) -> Result<Vec<Credential>, StoreError> {
        self.query_map(
            "SELECT id, cloud, access, secret, user_id, project_id, created_at
               FROM id_credentials ORDER BY seq",
            params![],
            credential_row,
        )
    }
    fn delete_credential(&self, id: &str) -> Result<(), StoreError> {
        one(self.identity_write(vec![stmt(
            "DELETE FROM id_credentials WHERE id = $1",
            params![id.to_string()],
        )])?)
    }

    fn revoke_user_tokens(&self, user_id: &str, before: i64) -> Result<(), StoreError> {
        self.identity_write(vec![stmt(
            "INSERT INTO id_user_revocations (user_id, revoked_before) VALUES ($1, $2)
             ON CONFLICT (user_id) DO UPDATE
               SET revoked_before = GREATEST(id_user_revocations.revoked_before,
                                             EXCLUDED.revoked_before)",
            params![user_id.to_string(), before],
        )])
        .map(|_| ())
    }
    fn user_tokens_revoked_before(&self, user_id: &str) -> Result<Option<i64>, StoreError> {
        self.query_first(
            "SELECT revoked_before FROM id_user_revocations WHERE user_id = $1",
            params![user_id.to_string()],
            |r| Ok(r.try_get(0)?),
        )
    }

    fn signing_keys(&self, n: usize) -> Result<Vec<SigningKey>, StoreError> {
        self.query_map(
            "SELECT private_pem, public_pem FROM id_signing_keys ORDER BY id DESC LIMIT $1",
            params![n as i64],
            |r| {
                Ok(SigningKey {
                    private_pem: r.try_get(0)?,
                    public_pem: r.try_get(1)?,
                })
            },
        )
    }
    /// Under the bootstrap's advisory lock (READ COMMITTED alone would let two transactions
    /// both see no key).
    fn add_first_signing_key(
        &self,
        key: &SigningKey,
        created_at: &str,
    ) -> Result<bool, StoreError> {
        let n = self.identity_write(vec![
            stmt("SELECT pg_advisory_xact_lock($1)", params![BOOTSTRAP_LOCK]),
            stmt(
                "INSERT INTO id_signing_keys (private_pem, public_pem, created_at)
                 SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM id_signing_keys)",
                params![
                    key.private_pem.clone(),
                    key.public_pem.clone(),
                    created_at.to_string()
                ],
            ),
        ])?;
        Ok(n.last().copied().unwrap_or(0) > 0)
    }
    fn add_signing_key(
        &self,
        key: &SigningKey,
        created_at: &str,
        keep: usize,
    ) -> Result<(), StoreError> {
        self.identity_write(vec![
            stmt(
                "INSERT INTO id_signing_keys (private_pem, public_pem, created_at)
                 VALUES ($1, $2, $3)",
                params![
                    key.private_pem.clone(),
                    key.public_pem.clone(),
                    created_at.to_string()
                ],
            ),
            stmt(
                "DELETE FROM id_signing_keys WHERE id NOT IN
                   (SELECT id FROM id_signing_keys ORDER BY id DESC LIMIT $1)",
                params![keep as i64],
            ),
        ])
        .map(|_| ())
    }
}
