//! # Key pairs in PostgreSQL
//!
//! Same rules as `sqlite::keypairs`: unique per user and name (the table's constraint), per
//! project when the scope is shared, the quota and the `CreateRules` (the same public key,
//! the name before the limit) checked in the inserting transaction.
//!
//! Race-free across processes: every create and rename first takes a transaction-scoped
//! advisory lock on its owner (`pg_advisory_xact_lock`), then counts, checks names and
//! writes. Under READ COMMITTED a bare count-then-insert lets two processes both see room for
//! one more; SERIALIZABLE would catch that but needs a retry loop around every create; a row
//! lock needs an owner row that may not exist. The advisory lock queues only the writes of one
//! owner, and is released by the commit or rollback whatever happens to the process.

use super::{bump, constraint, storable, Inner, Kind, PgStore};
use crate::keys::KeyKind;
use crate::store::keypairs::{
    Keypair, KeypairChange, KeypairExtra, ListQuery, NewKeypair, Order, Owner, Tag,
};
use crate::store::{BoxFuture, ChangeToken, KeypairStore, StoreError};
use chrono::NaiveDateTime;
use deadpool_postgres::GenericClient;
use std::collections::HashMap;
use tokio_postgres::Row;

const COLUMNS: &str = "id, user_id, project_id, name, kind, public_key, fingerprint, created_at, \
                       description, resource_group, cloud_project";
/// As the SQLite store writes it (images move between the two).
const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6f";

fn column(owner: &Owner) -> &'static str {
    match owner {
        Owner::User(_) => "user_id",
        Owner::Project(_) => "project_id",
    }
}

fn value(owner: &Owner) -> &str {
    match owner {
        Owner::User(v) | Owner::Project(v) => v,
    }
}

fn kind_text(kind: KeyKind) -> &'static str {
    match kind {
        KeyKind::Ssh => "ssh",
        KeyKind::X509 => "x509",
    }
}

fn format_time(t: &NaiveDateTime) -> String {
    t.format(TIME_FORMAT).to_string()
}

fn from_row(row: &Row) -> Result<Keypair, StoreError> {
    let kind: String = row.try_get(4)?;
    let created: String = row.try_get(7)?;
    Ok(Keypair {
        id: row.try_get(0)?,
        user_id: row.try_get(1)?,
        project_id: row.try_get(2)?,
        name: row.try_get(3)?,
        kind: if kind == "x509" {
            KeyKind::X509
        } else {
            KeyKind::Ssh
        },
        public_key: key_text(row.try_get(5)?)?,
        fingerprint: row.try_get(6)?,
        created_at: NaiveDateTime::parse_from_str(&created, TIME_FORMAT)
            .map_err(|e| StoreError::Backend(format!("postgres: created_at {created:?}: {e}")))?,
        extra: KeypairExtra {
            description: row.try_get(8)?,
            resource_group: row.try_get(9)?,
            cloud_project: row.try_get(10)?,
        },
    })
}

fn rows(rows: Vec<Row>) -> Result<Vec<Keypair>, StoreError> {
    rows.iter().map(from_row).collect()
}

/// A stored public key (`BYTEA`, written from a `String`) as text.
fn key_text(bytes: Vec<u8>) -> Result<String, StoreError> {
    String::from_utf8(bytes)
        .map_err(|e| StoreError::Backend(format!("postgres: a stored public key: {e}")))
}

/// The base64 blob of an OpenSSH public key line: the key itself, without its comment.
fn key_blob(public_key: &str) -> Option<&str> {
    public_key.split_whitespace().nth(1)
}

/// Queues behind every other create or rename of `owner`, until this transaction ends.
async fn lock_owner(c: &impl GenericClient, owner: &Owner) -> Result<(), StoreError> {
    let key = format!("key_pairs:{}:{}", column(owner), value(owner));
    c.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        &[&key],
    )
    .await?;
    Ok(())
}

async fn count(c: &impl GenericClient, owner: &Owner) -> Result<i64, StoreError> {
    if !storable(value(owner)) {
        return Ok(0);
    }
    let sql = format!(
        "SELECT count(*) FROM key_pairs WHERE {} = $1",
        column(owner)
    );
    let st = c.prepare_cached(&sql).await?;
    Ok(c.query_one(&st, &[&value(owner)]).await?.try_get(0)?)
}

async fn get(
    c: &impl GenericClient,
    owner: &Owner,
    name: &str,
) -> Result<Option<Keypair>, StoreError> {
    if !storable(value(owner)) || !storable(name) {
        return Ok(None);
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM key_pairs WHERE {} = $1 AND name = $2 ORDER BY id LIMIT 1",
        column(owner)
    );
    let st = c.prepare_cached(&sql).await?;
    c.query_opt(&st, &[&value(owner), &name])
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

async fn list(
    c: &impl GenericClient,
    owner: &Owner,
    q: &ListQuery,
) -> Result<Vec<Keypair>, StoreError> {
    if let Some(marker) = &q.after {
        if get(c, owner, marker).await?.is_none() {
            return Err(StoreError::MarkerNotFound);
        }
    }
    if !storable(value(owner)) {
        return Ok(Vec::new());
    }
    let order = match q.order {
        Order::Name => "name, id",
        Order::Newest => "id DESC",
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM key_pairs WHERE {} = $1 AND ($2::text IS NULL OR name > $2)
          ORDER BY {order} LIMIT $3 OFFSET $4",
        column(owner)
    );
    let limit = q.limit.map(i64::from);
    let offset = i64::try_from(q.offset).unwrap_or(i64::MAX);
    let st = c.prepare_cached(&sql).await?;
    rows(
        c.query(&st, &[&value(owner), &q.after, &limit, &offset])
            .await?,
    )
}

async fn with_fingerprint(
    c: &impl GenericClient,
    owner: &Owner,
    fingerprint: &str,
) -> Result<Vec<Keypair>, StoreError> {
    if !storable(value(owner)) || !storable(fingerprint) {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM key_pairs WHERE {} = $1 AND fingerprint = $2 ORDER BY id",
        column(owner)
    );
    let st = c.prepare_cached(&sql).await?;
    rows(c.query(&st, &[&value(owner), &fingerprint]).await?)
}

async fn tags(c: &impl GenericClient, ids: &[i64]) -> Result<HashMap<i64, Vec<Tag>>, StoreError> {
    let mut out: HashMap<i64, Vec<Tag>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let st = c
        .prepare_cached(
            "SELECT key_pair_id, key, value FROM key_pair_tags
              WHERE key_pair_id = ANY($1) ORDER BY key_pair_id, position",
        )
        .await?;
    for row in c.query(&st, &[&ids]).await? {
        out.entry(row.try_get(0)?).or_default().push(Tag {
            key: row.try_get(1)?,
            value: row.try_get(2)?,
        });
    }
    Ok(out)
}

async fn create(
    inner: &Inner,
    new: &NewKeypair,
    owner: &Owner,
    limit: Option<i64>,
) -> Result<Keypair, StoreError> {
    let mut conn = inner.pool.get().await?;
    let tx = conn.transaction().await?;
    lock_owner(&tx, owner).await?;
    if new.rules.unique_key {
        let blob = key_blob(&new.public_key);
        if let Some(same) = with_fingerprint(&tx, owner, &new.fingerprint)
            .await?
            .into_iter()
            .find(|kp| key_blob(&kp.public_key) == blob)
        {
            return Err(StoreError::SameKey { id: same.id });
        }
    }
    // Per user the unique constraint refuses a taken name at the insert; asked before the
    // limit, or per project (no such constraint), it is looked up (under the owner's lock).
    let name_first = new.rules.name_before_limit && limit.is_some();
    if name_first && get(&tx, owner, &new.name).await?.is_some() {
        return Err(StoreError::Duplicate);
    }
    if let Some(limit) = limit {
        if count(&tx, owner).await? + 1 > limit {
            return Err(StoreError::LimitReached { limit });
        }
    }
    if !name_first
        && matches!(owner, Owner::Project(_))
        && get(&tx, owner, &new.name).await?.is_some()
    {
        return Err(StoreError::Duplicate);
    }
    let insert = tx
        .prepare_cached(
            "INSERT INTO key_pairs (user_id, project_id, name, kind, public_key, fingerprint,
                                    created_at, description, resource_group, cloud_project)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .await?;
    let id: i64 = tx
        .query_one(
            &insert,
            &[
                &new.user_id,
                &new.project_id,
                &new.name,
                &kind_text(new.kind),
                &new.public_key.as_bytes(),
                &new.fingerprint,
                &format_time(&new.created_at),
                &new.extra.description,
                &new.extra.resource_group,
                &new.extra.cloud_project,
            ],
        )
        .await
        .map_err(constraint)?
        .try_get(0)?;
    let public_key = match new.id_comment {
        Some(comment) => {
            let commented = format!("{} {}", new.public_key, comment(id));
            tx.execute(
                "UPDATE key_pairs SET public_key = $2 WHERE id = $1",
                &[&id, &commented.as_bytes()],
            )
            .await?;
            commented
        }
        None => new.public_key.clone(),
    };
    if !new.tags.is_empty() {
        let st = tx
            .prepare_cached(
                "INSERT INTO key_pair_tags (key_pair_id, position, key, value)
                 VALUES ($1, $2, $3, $4)",
            )
            .await?;
        for (position, tag) in new.tags.iter().enumerate() {
            tx.execute(&st, &[&id, &(position as i64), &tag.key, &tag.value])
                .await
                .map_err(constraint)?;
        }
    }
    let counter = bump(&tx, Kind::Keypairs).await?;
    tx.commit().await?;
    inner.committed(Kind::Keypairs, counter);
    Ok(Keypair {
        id,
        user_id: new.user_id.clone(),
        project_id: new.project_id.clone(),
        name: new.name.clone(),
        kind: new.kind,
        public_key,
        fingerprint: new.fingerprint.clone(),
        created_at: new.created_at,
        extra: new.extra.clone(),
    })
}

async fn change(
    inner: &Inner,
    owner: &Owner,
    name: &str,
    what: &KeypairChange,
) -> Result<Keypair, StoreError> {
    let mut conn = inner.pool.get().await?;
    let tx = conn.transaction().await?;
    lock_owner(&tx, owner).await?;
    let Some(mut kp) = get(&tx, owner, name).await? else {
        return Err(StoreError::NotFound);
    };
    let new_name = what.name.clone().unwrap_or_else(|| kp.name.clone());
    if new_name != kp.name
        && matches!(owner, Owner::Project(_))
        && get(&tx, owner, &new_name).await?.is_some()
    {
        return Err(StoreError::Duplicate);
    }
    if let Some(d) = &what.description {
        kp.extra.description = d.clone();
    }
    tx.execute(
        "UPDATE key_pairs SET name = $2, description = $3 WHERE id = $1",
        &[&kp.id, &new_name, &kp.extra.description],
    )
    .await
    .map_err(constraint)?;
    let counter = bump(&tx, Kind::Keypairs).await?;
    tx.commit().await?;
    inner.committed(Kind::Keypairs, counter);
    kp.name = new_name;
    Ok(kp)
}

/// One statement decides (as in SQLite): with `refuse_bound`, nothing is deleted while an
/// instance is bound.
async fn delete(
    inner: &Inner,
    owner: &Owner,
    name: &str,
    refuse_bound: bool,
) -> Result<(), StoreError> {
    if !storable(value(owner)) || !storable(name) {
        return Err(StoreError::NotFound);
    }
    let mut conn = inner.pool.get().await?;
    let tx = conn.transaction().await?;
    let sql = if refuse_bound {
        format!(
            "DELETE FROM key_pairs WHERE {} = $1 AND name = $2
               AND NOT EXISTS (SELECT 1 FROM instances WHERE key_pair_id = key_pairs.id)",
            column(owner)
        )
    } else {
        format!(
            "DELETE FROM key_pairs WHERE {} = $1 AND name = $2",
            column(owner)
        )
    };
    let st = tx.prepare_cached(&sql).await?;
    match tx.execute(&st, &[&value(owner), &name]).await? {
        0 if refuse_bound && get(&tx, owner, name).await?.is_some() => Err(StoreError::InUse),
        0 => Err(StoreError::NotFound),
        _ => {
            let counter = bump(&tx, Kind::Keypairs).await?;
            tx.commit().await?;
            inner.committed(Kind::Keypairs, counter);
            Ok(())
        }
    }
}

/// Name of the index that project lookups (`Owner::Project`) need.
const PROJECT_INDEX: &str = "key_pairs_project";

impl KeypairStore for PgStore {
    fn keypairs_token(&self) -> ChangeToken {
        self.keypairs_token_value()
    }

    /// As in SQLite: the project index exists exactly when lookups by project happen.
    fn index_by_project(&self, wanted: bool) -> Result<(), StoreError> {
        let result = self.block(move |inner| async move {
            let conn = inner.pool.get().await?;
            let sql = if wanted {
                format!(
                    "CREATE INDEX IF NOT EXISTS {PROJECT_INDEX} ON key_pairs (project_id, name)"
                )
            } else {
                format!("DROP INDEX IF EXISTS {PROJECT_INDEX}")
            };
            conn.batch_execute(&sql).await?;
            Ok(())
        });
        // DDL moves no counter; only this process's own token needs to say so.
        self.inner.unsure(Kind::Keypairs);
        result
    }

    fn count_keypairs(&self, owner: &Owner) -> BoxFuture<'static, Result<i64, StoreError>> {
        let owner = owner.clone();
        self.spawn(move |inner| async move {
            let conn = inner.pool.get().await?;
            count(&conn, &owner).await
        })
    }

    fn count_all_keypairs(&self) -> Result<i64, StoreError> {
        self.block(|inner| async move {
            let conn = inner.pool.get().await?;
            Ok(conn
                .query_one("SELECT count(*) FROM key_pairs", &[])
                .await?
                .try_get(0)?)
        })
    }

    fn get_keypair(
        &self,
        owner: &Owner,
        name: &str,
    ) -> BoxFuture<'static, Result<Option<Keypair>, StoreError>> {
        let (owner, name) = (owner.clone(), name.to_string());
        self.spawn(move |inner| async move {
            let conn = inner.pool.get().await?;
            get(&conn, &owner, &name).await
        })
    }

    fn list_keypairs(
        &self,
        owner: &Owner,
        query: ListQuery,
    ) -> BoxFuture<'static, Result<Vec<Keypair>, StoreError>> {
        let owner = owner.clone();
        self.spawn(move |inner| async move {
            let mut conn = inner.pool.get().await?;
            // The marker check and the page from one snapshot.
            let tx = conn
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            let page = list(&tx, &owner, &query).await?;
            tx.commit().await?;
            Ok(page)
        })
    }

    fn create_keypair(
        &self,
        new: NewKeypair,
        owner: Owner,
        limit: Option<i64>,
    ) -> BoxFuture<'static, Result<Keypair, StoreError>> {
        self.spawn(move |inner| async move {
            let result = create(&inner, &new, &owner, limit).await;
            inner.after(Kind::Keypairs, &result);
            result
        })
    }

    fn delete_keypair(
        &self,
        owner: Owner,
        name: String,
        refuse_bound: bool,
    ) -> BoxFuture<'static, Result<(), StoreError>> {
        self.spawn(move |inner| async move {
            let result = delete(&inner, &owner, &name, refuse_bound).await;
            inner.after(Kind::Keypairs, &result);
            result
        })
    }

    fn change_keypair(
        &self,
        owner: Owner,
        name: String,
        what: KeypairChange,
    ) -> BoxFuture<'static, Result<Keypair, StoreError>> {
        self.spawn(move |inner| async move {
            let result = change(&inner, &owner, &name, &what).await;
            inner.after(Kind::Keypairs, &result);
            result
        })
    }

    fn keypair_tags(
        &self,
        ids: Vec<i64>,
    ) -> BoxFuture<'static, Result<HashMap<i64, Vec<Tag>>, StoreError>> {
        self.spawn(move |inner| async move {
            let conn = inner.pool.get().await?;
            tags(&conn, &ids).await
        })
    }

    /// Batches are read on the calling thread (the iterator is not `Send`) and written, one
    /// transaction each, as one multi-row insert.
    fn load_keypairs(
        &self,
        rows: &mut dyn Iterator<Item = NewKeypair>,
        batch: usize,
    ) -> Result<u64, StoreError> {
        let batch = batch.max(1);
        let mut done = 0u64;
        loop {
            let chunk: Vec<NewKeypair> = (&mut *rows).take(batch).collect();
            let n = chunk.len();
            if n > 0 {
                let result = self.block(move |inner| async move { load(&inner, chunk).await });
                self.inner.after(Kind::Keypairs, &result);
                result?;
                done += n as u64;
            }
            if n < batch {
                return Ok(done);
            }
        }
    }
}

async fn load(inner: &Inner, chunk: Vec<NewKeypair>) -> Result<(), StoreError> {
    let mut cols: [Vec<String>; 6] = Default::default();
    let mut keys: Vec<Vec<u8>> = Vec::with_capacity(chunk.len());
    for new in chunk {
        cols[0].push(new.user_id);
        cols[1].push(new.project_id);
        cols[2].push(new.name);
        cols[3].push(kind_text(new.kind).to_string());
        keys.push(new.public_key.into_bytes());
        cols[4].push(new.fingerprint);
        cols[5].push(format_time(&new.created_at));
    }
    let mut conn = inner.pool.get().await?;
    let tx = conn.transaction().await?;
    // Bulk rows carry no extra fields or tags (the columns' defaults).
    tx.execute(
        "INSERT INTO key_pairs (user_id, project_id, name, kind, public_key, fingerprint,
                                created_at)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[],
                              $6::text[], $7::text[])",
        &[
            &cols[0], &cols[1], &cols[2], &cols[3], &keys, &cols[4], &cols[5],
        ],
    )
    .await?;
    let counter = bump(&tx, Kind::Keypairs).await?;
    tx.commit().await?;
    inner.committed(Kind::Keypairs, counter);
    Ok(())
}
