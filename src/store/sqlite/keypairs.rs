//! # Key pairs in SQLite
//!
//! `key_pairs`: unique per user and name (the table's constraint), and per project when the
//! scope is shared (checked in the inserting transaction). `created_at` is stored as text in
//! one fixed format (`%Y-%m-%dT%H:%M:%S%.6f`).

use super::SqliteStore;
use crate::keys::KeyKind;
use crate::store::keypairs::{
    Keypair, KeypairChange, KeypairExtra, ListQuery, NewKeypair, Order, Owner, Tag,
};
use crate::store::{BoxFuture, ChangeToken, KeypairStore, StoreError};
use chrono::NaiveDateTime;
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::collections::HashMap;

impl Owner {
    fn column(&self) -> &'static str {
        match self {
            Owner::User(_) => "user_id",
            Owner::Project(_) => "project_id",
        }
    }
    fn value(&self) -> &str {
        match self {
            Owner::User(v) | Owner::Project(v) => v,
        }
    }
}

const COLUMNS: &str = "id, user_id, project_id, name, kind, public_key, fingerprint, created_at, \
                       description, resource_group, cloud_project";
const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6f";

fn kind_text(kind: KeyKind) -> &'static str {
    match kind {
        KeyKind::Ssh => "ssh",
        KeyKind::X509 => "x509",
    }
}

/// `created_at` as stored (`%Y-%m-%dT%H:%M:%S%.6f`), without chrono's format-string
/// interpreter (it showed in list profiles).
pub(super) fn format_time(t: &NaiveDateTime) -> String {
    use chrono::{Datelike, Timelike};
    let year = t.year();
    if !(0..=9999).contains(&year) {
        return t.format(TIME_FORMAT).to_string();
    }
    format!(
        "{year:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}",
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond() % 1_000_000_000 / 1000
    )
}

/// Parses what `format_time` writes; anything else goes through chrono's parser.
fn parse_time(s: &str) -> Result<NaiveDateTime, chrono::ParseError> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b.get(r.clone())?.iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let fast = (b.len() == 26
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.')
        .then(|| {
            chrono::NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?
                .and_hms_micro_opt(num(11..13)?, num(14..16)?, num(17..19)?, num(20..26)?)
        })
        .flatten();
    match fast {
        Some(t) => Ok(t),
        None => NaiveDateTime::parse_from_str(s, TIME_FORMAT),
    }
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<Keypair> {
    let kind: String = row.get(4)?;
    let created: String = row.get(7)?;
    Ok(Keypair {
        id: row.get(0)?,
        user_id: row.get(1)?,
        project_id: row.get(2)?,
        name: row.get(3)?,
        kind: if kind == "x509" {
            KeyKind::X509
        } else {
            KeyKind::Ssh
        },
        public_key: row.get(5)?,
        fingerprint: row.get(6)?,
        created_at: parse_time(&created).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(7, rusqlite::types::Type::Text, Box::new(e))
        })?,
        extra: KeypairExtra {
            description: row.get(8)?,
            resource_group: row.get(9)?,
            cloud_project: row.get(10)?,
        },
    })
}

fn constraint(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Duplicate
        }
        e => e.into(),
    }
}

/// How many key pairs `owner` holds.
fn count(conn: &Connection, owner: &Owner) -> Result<i64, StoreError> {
    let sql = format!(
        "SELECT count(*) FROM key_pairs WHERE {} = ?1",
        owner.column()
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([owner.value()], |r| r.get(0))?)
}

/// Name of the index that project lookups (`Owner::Project`) need.
const PROJECT_INDEX: &str = "key_pairs_project";

/// Creates or drops the index for lookups by project, so it exists exactly when `wanted` (key
/// pairs shared per project). Without it such lookups scan the table; with it every insert
/// also writes a second index entry — at random places, so a commit writes about a third more
/// pages — which only pays off when the lookups happen.
fn index_by_project(conn: &Connection, wanted: bool) -> Result<(), StoreError> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1)",
        [PROJECT_INDEX],
        |r| r.get(0),
    )?;
    match (wanted, exists) {
        (true, false) => conn.execute_batch(&format!(
            "CREATE INDEX {PROJECT_INDEX} ON key_pairs (project_id, name)"
        ))?,
        (false, true) => conn.execute_batch(&format!("DROP INDEX {PROJECT_INDEX}"))?,
        _ => {}
    }
    Ok(())
}

/// How many key pairs there are, of every owner.
fn count_all(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("SELECT count(*) FROM key_pairs", [], |r| r.get(0))?)
}

/// Inserts a key pair owned by `owner` (names are unique per owner, and always per user),
/// enforcing `limit` (if any) on the owner's count. Call it on the writer inside a transaction
/// (`Store::write_grouped` runs it in one), so concurrent creates cannot overshoot the limit.
fn create(
    tx: &Connection,
    new: &NewKeypair,
    owner: &Owner,
    limit: Option<i64>,
) -> Result<Keypair, StoreError> {
    if new.rules.unique_key {
        let blob = key_blob(&new.public_key);
        if let Some(same) = with_fingerprint(tx, owner, &new.fingerprint)?
            .into_iter()
            .find(|kp| key_blob(&kp.public_key) == blob)
        {
            return Err(StoreError::SameKey { id: same.id });
        }
    }
    // Per user the unique index refuses a taken name at the insert; asked before the limit,
    // or per project (no such index), it is looked up.
    let taken = || -> Result<bool, StoreError> { Ok(get(tx, owner, &new.name)?.is_some()) };
    let name_first = new.rules.name_before_limit && limit.is_some();
    if name_first && taken()? {
        return Err(StoreError::Duplicate);
    }
    if let Some(limit) = limit {
        if count(tx, owner)? + 1 > limit {
            return Err(StoreError::LimitReached { limit });
        }
    }
    if !name_first && matches!(owner, Owner::Project(_)) && taken()? {
        return Err(StoreError::Duplicate);
    }
    tx.prepare_cached(
        "INSERT INTO key_pairs (user_id, project_id, name, kind, public_key, fingerprint, created_at,
                                description, resource_group, cloud_project)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        new.user_id,
        new.project_id,
        new.name,
        kind_text(new.kind),
        new.public_key,
        new.fingerprint,
        format_time(&new.created_at),
        new.extra.description,
        new.extra.resource_group,
        new.extra.cloud_project,
    ])
    .map_err(constraint)?;
    let id = tx.last_insert_rowid();
    let public_key = match new.id_comment {
        Some(comment) => {
            let commented = format!("{} {}", new.public_key, comment(id));
            tx.prepare_cached("UPDATE key_pairs SET public_key = ?2 WHERE id = ?1")?
                .execute(params![id, commented])?;
            commented
        }
        None => new.public_key.clone(),
    };
    // Tags were checked by the front (unique keys): these inserts cannot fail on their own.
    for (position, tag) in new.tags.iter().enumerate() {
        tx.prepare_cached(
            "INSERT INTO key_pair_tags (key_pair_id, position, key, value) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![id, position as i64, tag.key, tag.value])?;
    }
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

/// The base64 blob of an OpenSSH public key line: the key itself, without its comment.
fn key_blob(public_key: &str) -> Option<&str> {
    public_key.split_whitespace().nth(1)
}

/// Renames and/or re-describes the key pair `name` of `owner`.
fn change(
    tx: &Connection,
    owner: &Owner,
    name: &str,
    change: &KeypairChange,
) -> Result<Keypair, StoreError> {
    let Some(mut kp) = get(tx, owner, name)? else {
        return Err(StoreError::NotFound);
    };
    let new_name = change.name.clone().unwrap_or_else(|| kp.name.clone());
    if new_name != kp.name
        && matches!(owner, Owner::Project(_))
        && get(tx, owner, &new_name)?.is_some()
    {
        return Err(StoreError::Duplicate);
    }
    if let Some(d) = &change.description {
        kp.extra.description = d.clone();
    }
    tx.prepare_cached("UPDATE key_pairs SET name = ?2, description = ?3 WHERE id = ?1")?
        .execute(params![kp.id, new_name, kp.extra.description])
        .map_err(constraint)?;
    kp.name = new_name;
    Ok(kp)
}

/// The tags of `ids`, each key pair's in their order. One statement for the lot: a query
/// per key pair is a read transaction (and its WAL locks) per key pair.
fn tags(conn: &Connection, ids: &[i64]) -> Result<HashMap<i64, Vec<Tag>>, StoreError> {
    let mut out: HashMap<i64, Vec<Tag>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let list = serde_json::to_string(ids).map_err(|e| StoreError::Io(e.to_string()))?;
    let mut stmt = conn.prepare_cached(
        "SELECT key_pair_id, key, value FROM key_pair_tags
          WHERE key_pair_id IN (SELECT value FROM json_each(?1))
          ORDER BY key_pair_id, position",
    )?;
    let rows = stmt.query_map([list], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            Tag {
                key: r.get(1)?,
                value: r.get(2)?,
            },
        ))
    })?;
    for row in rows {
        let (id, tag) = row?;
        out.entry(id).or_default().push(tag);
    }
    Ok(out)
}

/// The key pair `name` of `owner`.
fn get(conn: &Connection, owner: &Owner, name: &str) -> Result<Option<Keypair>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM key_pairs WHERE {} = ?1 AND name = ?2 ORDER BY id LIMIT 1",
        owner.column()
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![owner.value(), name], from_row)
        .optional()?)
}

/// One page of the owner's key pairs (see `ListQuery`).
fn list(conn: &Connection, owner: &Owner, q: &ListQuery) -> Result<Vec<Keypair>, StoreError> {
    if let Some(marker) = &q.after {
        if get(conn, owner, marker)?.is_none() {
            return Err(StoreError::MarkerNotFound);
        }
    }
    let order = match q.order {
        Order::Name => "name, id",
        Order::Newest => "id DESC",
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM key_pairs WHERE {} = ?1 AND (?2 IS NULL OR name > ?2) ORDER BY {order} LIMIT ?3 OFFSET ?4",
        owner.column()
    );
    let limit = q.limit.map(i64::from).unwrap_or(-1);
    let offset = i64::try_from(q.offset).unwrap_or(i64::MAX);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![owner.value(), q.after, limit, offset], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The owner's key pairs with `fingerprint` (indexed for users; `Owner::Project` scans the
/// project's rows through its index).
fn with_fingerprint(
    conn: &Connection,
    owner: &Owner,
    fingerprint: &str,
) -> Result<Vec<Keypair>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM key_pairs WHERE {} = ?1 AND fingerprint = ?2 ORDER BY id",
        owner.column()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![owner.value(), fingerprint], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes the key pair `name` of `owner`; `NotFound` if there is none; with `refuse_bound`,
/// `InUse` while an instance is bound to it (then nothing is deleted: one statement decides).
fn delete(
    conn: &Connection,
    owner: &Owner,
    name: &str,
    refuse_bound: bool,
) -> Result<(), StoreError> {
    let sql = if refuse_bound {
        format!(
            "DELETE FROM key_pairs WHERE {} = ?1 AND name = ?2
               AND NOT EXISTS (SELECT 1 FROM instances WHERE key_pair_id = key_pairs.id)",
            owner.column()
        )
    } else {
        format!(
            "DELETE FROM key_pairs WHERE {} = ?1 AND name = ?2",
            owner.column()
        )
    };
    match conn
        .prepare_cached(&sql)?
        .execute(params![owner.value(), name])?
    {
        0 if refuse_bound && get(conn, owner, name)?.is_some() => Err(StoreError::InUse),
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

fn ready<T: Send + 'static>(v: T) -> BoxFuture<'static, T> {
    Box::pin(std::future::ready(v))
}

impl KeypairStore for SqliteStore {
    fn keypairs_token(&self) -> ChangeToken {
        ChangeToken(self.engine.generation())
    }

    fn index_by_project(&self, wanted: bool) -> Result<(), StoreError> {
        self.engine.write(|c| index_by_project(c, wanted))
    }

    fn count_keypairs(&self, owner: &Owner) -> BoxFuture<'static, Result<i64, StoreError>> {
        // One indexed count from a reader connection: cheaper inline than a thread hop.
        ready(self.engine.read(|c| count(c, owner)))
    }

    fn count_all_keypairs(&self) -> Result<i64, StoreError> {
        self.engine.read(count_all)
    }

    fn get_keypair(
        &self,
        owner: &Owner,
        name: &str,
    ) -> BoxFuture<'static, Result<Option<Keypair>, StoreError>> {
        // One indexed row from a reader (never waits for the writer): inline.
        ready(self.engine.read(|c| get(c, owner, name)))
    }

    fn list_keypairs(
        &self,
        owner: &Owner,
        query: ListQuery,
    ) -> BoxFuture<'static, Result<Vec<Keypair>, StoreError>> {
        // Up to a thousand rows: off the async workers.
        let engine = self.engine.clone();
        let owner = owner.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || engine.read(|c| list(c, &owner, &query)))
                .await
                .unwrap_or_else(|e| Err(StoreError::Io(format!("list task failed: {e}"))))
        })
    }

    fn create_keypair(
        &self,
        new: NewKeypair,
        owner: Owner,
        limit: Option<i64>,
    ) -> BoxFuture<'static, Result<Keypair, StoreError>> {
        let engine = self.engine.clone();
        Box::pin(async move {
            engine
                .write_grouped_async(move |c| create(c, &new, &owner, limit))
                .await
        })
    }

    fn delete_keypair(
        &self,
        owner: Owner,
        name: String,
        refuse_bound: bool,
    ) -> BoxFuture<'static, Result<(), StoreError>> {
        let engine = self.engine.clone();
        Box::pin(async move {
            engine
                .write_grouped_async(move |c| delete(c, &owner, &name, refuse_bound))
                .await
        })
    }

    fn change_keypair(
        &self,
        owner: Owner,
        name: String,
        what: KeypairChange,
    ) -> BoxFuture<'static, Result<Keypair, StoreError>> {
        let engine = self.engine.clone();
        Box::pin(async move {
            engine
                .write_grouped_async(move |c| change(c, &owner, &name, &what))
                .await
        })
    }

    fn keypair_tags(
        &self,
        ids: Vec<i64>,
    ) -> BoxFuture<'static, Result<HashMap<i64, Vec<Tag>>, StoreError>> {
        ready(self.engine.read(|c| tags(c, &ids)))
    }

    fn load_keypairs(
        &self,
        rows: &mut dyn Iterator<Item = NewKeypair>,
        batch: usize,
    ) -> Result<u64, StoreError> {
        let batch = batch.max(1);
        let mut done = 0u64;
        self.engine.write(|conn| {
            conn.pragma_update(None, "synchronous", "OFF")?;
            // Per-user key pairs need no project index (a server started with
            // `keypair_scope = project` makes it again).
            index_by_project(conn, false)?;
            loop {
                let tx = conn.transaction()?;
                let mut n = 0;
                {
                    // Bulk rows carry no extra fields or tags (the columns' defaults).
                    let mut insert = tx.prepare_cached(
                        "INSERT INTO key_pairs (user_id, project_id, name, kind, public_key, fingerprint, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    )?;
                    for new in (&mut *rows).take(batch) {
                        insert.execute(params![
                            new.user_id,
                            new.project_id,
                            new.name,
                            kind_text(new.kind),
                            new.public_key,
                            new.fingerprint,
                            format_time(&new.created_at),
                        ])?;
                        n += 1;
                    }
                }
                tx.commit()?;
                done += n;
                if n < batch as u64 {
                    break;
                }
            }
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.execute_batch("ANALYZE;")?;
            super::engine::forget_value_samples(conn)?;
            conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
            Ok(())
        })?;
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::keypairs::CreateRules;
    use crate::store::sqlite::migrations;

    fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        migrations::migrate(&conn).unwrap();
        conn
    }

    fn page(after: Option<&str>, limit: Option<u32>) -> ListQuery {
        ListQuery {
            after: after.map(str::to_string),
            limit,
            ..ListQuery::default()
        }
    }

    fn user(id: &str) -> Owner {
        Owner::User(id.into())
    }

    fn new(user: &str, name: &str) -> NewKeypair {
        NewKeypair {
            user_id: user.into(),
            project_id: format!("p-{user}"),
            name: name.into(),
            kind: KeyKind::Ssh,
            public_key: "ssh-ed25519 AAAA x\n".into(),
            fingerprint: "aa".into(),
            created_at: chrono::DateTime::from_timestamp(1_700_000_000, 123_456_000)
                .unwrap()
                .naive_utc(),
            extra: KeypairExtra::default(),
            tags: Vec::new(),
            id_comment: None,
            rules: CreateRules::default(),
        }
    }

    #[test]
    fn create_rules_refuse_the_same_key_first_and_the_name_before_the_limit() {
        let conn = db();
        let mut first = new("u", "a");
        first.public_key = "ssh-rsa AAAAkey one@host".into();
        let first = create(&conn, &first, &user("u"), None).unwrap();
        // The same key under another comment, asked to be unique: refused, naming the first.
        let mut again = new("u", "a");
        again.public_key = "ssh-rsa AAAAkey other-comment".into();
        again.rules.unique_key = true;
        let err = create(&conn, &again, &user("u"), Some(1)).unwrap_err();
        assert!(
            matches!(err, StoreError::SameKey { id } if id == first.id),
            "{err:?}"
        );
        // Another user, or another key with the same stored fingerprint: no refusal.
        again.user_id = "v".into();
        create(&conn, &again, &user("v"), None).unwrap();
        let mut other = new("u", "b");
        other.public_key = "ssh-rsa AAAAother x".into();
        other.rules.unique_key = true;
        create(&conn, &other, &user("u"), None).unwrap();
        // At the limit with a taken name: the limit by default, the name when asked first.
        let taken = new("u", "a");
        let err = create(&conn, &taken, &user("u"), Some(2)).unwrap_err();
        assert!(
            matches!(err, StoreError::LimitReached { limit: 2 }),
            "{err:?}"
        );
        let mut name_first = new("u", "a");
        name_first.rules.name_before_limit = true;
        let err = create(&conn, &name_first, &user("u"), Some(2)).unwrap_err();
        assert!(matches!(err, StoreError::Duplicate), "{err:?}");
        assert_eq!(count(&conn, &user("u")).unwrap(), 2, "nothing was added");
    }

    #[test]
    fn create_get_list_delete_roundtrip() {
        let conn = db();
        let a = create(&conn, &new("u", "b"), &user("u"), None).unwrap();
        create(&conn, &new("u", "A"), &user("u"), None).unwrap();
        create(&conn, &new("v", "b"), &user("v"), None).unwrap();
        assert_eq!(get(&conn, &user("u"), "b").unwrap().unwrap(), a);
        assert_eq!(a.public_key, "ssh-ed25519 AAAA x\n", "stored verbatim");
        let names: Vec<_> = list(&conn, &user("u"), &ListQuery::default())
            .unwrap()
            .into_iter()
            .map(|k| k.name)
            .collect();
        assert_eq!(names, ["A", "b"], "binary order, other users excluded");
        let after: Vec<_> = list(&conn, &user("u"), &page(Some("A"), Some(5)))
            .unwrap()
            .into_iter()
            .map(|k| k.name)
            .collect();
        assert_eq!(after, ["b"]);
        assert!(matches!(
            list(&conn, &user("u"), &page(Some("zz"), None)),
            Err(StoreError::MarkerNotFound)
        ));
        assert_eq!(
            list(&conn, &Owner::Project("p-u".into()), &page(None, Some(1)))
                .unwrap()
                .len(),
            1
        );
        delete(&conn, &user("u"), "b", false).unwrap();
        assert!(matches!(
            delete(&conn, &user("u"), "b", false),
            Err(StoreError::NotFound)
        ));
        assert!(get(&conn, &user("u"), "b").unwrap().is_none());
    }

    #[test]
    fn duplicates_and_limits() {
        let conn = db();
        create(&conn, &new("u", "k"), &user("u"), None).unwrap();
        assert!(matches!(
            create(&conn, &new("u", "k"), &user("u"), None),
            Err(StoreError::Duplicate)
        ));
        assert!(
            create(&conn, &new("u", "K"), &user("u"), None).is_ok(),
            "names are case-sensitive"
        );
        let limited = create(&conn, &new("u", "third"), &user("u"), Some(2));
        assert!(matches!(
            limited,
            Err(StoreError::LimitReached { limit: 2 })
        ));
        assert_eq!(
            count(&conn, &user("u")).unwrap(),
            2,
            "nothing written on refusal"
        );
    }

    /// Lookups by project use the index once it is made; dropped again, they still work.
    #[test]
    fn the_project_index_follows_the_scope() {
        let conn = db();
        let plan = |conn: &Connection| -> String {
            conn.query_row(
                "EXPLAIN QUERY PLAN SELECT id FROM key_pairs WHERE project_id = 'p' AND name = 'k'",
                [],
                |r| r.get::<_, String>(3),
            )
            .unwrap()
        };
        // The schema's first step made it.
        assert!(plan(&conn).contains(PROJECT_INDEX), "{}", plan(&conn));
        index_by_project(&conn, false).unwrap();
        assert!(!plan(&conn).contains(PROJECT_INDEX), "{}", plan(&conn));
        index_by_project(&conn, true).unwrap();
        index_by_project(&conn, true).unwrap();
        assert!(plan(&conn).contains(PROJECT_INDEX), "{}", plan(&conn));
        create(&conn, &new("a", "k"), &user("a"), None).unwrap();
        let owner = Owner::Project("p-a".into());
        assert_eq!(get(&conn, &owner, "k").unwrap().unwrap().user_id, "a");
        index_by_project(&conn, false).unwrap();
        index_by_project(&conn, false).unwrap();
        assert!(!plan(&conn).contains(PROJECT_INDEX), "{}", plan(&conn));
        assert_eq!(get(&conn, &owner, "k").unwrap().unwrap().user_id, "a");
    }

    #[test]
    fn project_scope_shares_names_and_quota() {
        let conn = db();
        index_by_project(&conn, true).unwrap();
        let proj = Owner::Project("p-shared".into());
        let mut a = new("a", "k");
        a.project_id = "p-shared".into();
        let mut b = new("b", "k");
        b.project_id = "p-shared".into();
        create(&conn, &a, &proj, Some(5)).unwrap();
        assert!(matches!(
            create(&conn, &b, &proj, Some(5)),
            Err(StoreError::Duplicate)
        ));
        b.name = "other".into();
        assert!(matches!(
            create(&conn, &b, &proj, Some(1)),
            Err(StoreError::LimitReached { .. })
        ));
        create(&conn, &b, &proj, Some(2)).unwrap();
        assert_eq!(list(&conn, &proj, &ListQuery::default()).unwrap().len(), 2);
        assert_eq!(get(&conn, &proj, "other").unwrap().unwrap().user_id, "b");
    }

    #[test]
    fn time_format_roundtrips_like_chrono() {
        for (secs, nanos) in [
            (1_700_000_000, 123_456_000),
            (0, 0),
            (1_999_999_999, 999_999_999),
        ] {
            let t = chrono::DateTime::from_timestamp(secs, nanos)
                .unwrap()
                .naive_utc();
            let s = format_time(&t);
            assert_eq!(s, t.format(TIME_FORMAT).to_string());
            assert_eq!(
                parse_time(&s).unwrap(),
                NaiveDateTime::parse_from_str(&s, TIME_FORMAT).unwrap()
            );
        }
        for odd in [
            "2024-01-01T00:00:00",
            "2024-02-03T04:05:06.5",
            "2024-13-01T00:00:00.000000",
            "x",
        ] {
            assert_eq!(
                parse_time(odd).ok(),
                NaiveDateTime::parse_from_str(odd, TIME_FORMAT).ok(),
                "{odd}"
            );
        }
    }

    #[test]
    fn ids_are_never_reused() {
        let conn = db();
        let first = create(&conn, &new("u", "k"), &user("u"), None).unwrap();
        delete(&conn, &user("u"), "k", false).unwrap();
        let second = create(&conn, &new("u", "k"), &user("u"), None).unwrap();
        assert!(second.id > first.id);
    }

    #[test]
    fn extras_tags_renames_and_bound_deletes() {
        let conn = db();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        let mut k = new("u", "tagged");
        k.extra.description = "about".into();
        k.extra.cloud_project = 7;
        k.tags = vec![
            Tag {
                key: "z".into(),
                value: "1".into(),
            },
            Tag {
                key: "a".into(),
                value: String::new(),
            },
        ];
        let made = create(&conn, &k, &user("u"), None).unwrap();
        let plain = create(&conn, &new("u", "plain"), &user("u"), None).unwrap();
        let got = get(&conn, &user("u"), "tagged").unwrap().unwrap();
        assert_eq!(
            (got.extra.description.as_str(), got.extra.cloud_project),
            ("about", 7)
        );
        let t = tags(&conn, &[made.id, plain.id]).unwrap();
        assert_eq!(t[&made.id], k.tags, "in the order given");
        assert!(!t.contains_key(&plain.id));
        // Rename keeps the id; a taken name is refused.
        let renamed = change(
            &conn,
            &user("u"),
            "tagged",
            &KeypairChange {
                name: Some("renamed".into()),
                description: None,
            },
        )
        .unwrap();
        assert_eq!(
            (renamed.id, renamed.extra.description.as_str()),
            (made.id, "about")
        );
        assert!(matches!(
            change(
                &conn,
                &user("u"),
                "renamed",
                &KeypairChange {
                    name: Some("plain".into()),
                    description: None
                }
            ),
            Err(StoreError::Duplicate)
        ));
        assert!(matches!(
            change(&conn, &user("u"), "nope", &KeypairChange::default()),
            Err(StoreError::NotFound)
        ));
        // Bound: refused with refuse_bound, deleted without (the instance keeps the name).
        conn.execute(
            "INSERT INTO instances (id, cloud, name, user_id, project_id, region, os, state,
                                    key_pair_id, key_pair_name, created_at)
             VALUES ('i-1', 'alibaba', 'vm', 'u', 'p', 'RegionOne', 'linux', 'running', ?1, 'renamed', 'now')",
            [made.id],
        )
        .unwrap();
        assert!(matches!(
            delete(&conn, &user("u"), "renamed", true),
            Err(StoreError::InUse)
        ));
        assert!(matches!(
            delete(&conn, &user("u"), "gone", true),
            Err(StoreError::NotFound)
        ));
        delete(&conn, &user("u"), "renamed", false).unwrap();
        let (kp, name): (Option<i64>, String) = conn
            .query_row(
                "SELECT key_pair_id, key_pair_name FROM instances WHERE id = 'i-1'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((kp, name.as_str()), (None, "renamed"));
        assert!(
            tags(&conn, &[made.id]).unwrap().is_empty(),
            "tags go with it"
        );
    }

    /// Newest first, and offsets.
    #[test]
    fn newest_first_and_offsets() {
        let conn = db();
        for name in ["b", "c", "a"] {
            create(&conn, &new("u", name), &user("u"), None).unwrap();
        }
        let q = ListQuery {
            order: Order::Newest,
            offset: 1,
            limit: Some(5),
            after: None,
        };
        let names: Vec<_> = list(&conn, &user("u"), &q)
            .unwrap()
            .into_iter()
            .map(|k| k.name)
            .collect();
        assert_eq!(names, ["c", "b"]);
    }

    /// How often a lookup by owner and name was parsed again on a reader of `store`.
    fn reprepares(store: &crate::store::sqlite::SqliteStore) -> i32 {
        store
            .engine
            .read(|c| {
                let mut stmt = c.prepare(&format!(
                    "SELECT {COLUMNS} FROM key_pairs WHERE user_id = ?1 AND name = ?2"
                ))?;
                for (user, name) in [("u-1", "k-1"), ("u-2", "k-9"), ("u-1", "k-30")] {
                    stmt.query_row([user, name], |_| Ok(())).optional()?;
                }
                Ok(stmt.get_status(rusqlite::StatementStatus::RePrepare))
            })
            .unwrap()
    }

    /// With `ANALYZE`'s per-value samples a statement is parsed again at every execution:
    /// a seeded store (the seed runs ANALYZE) and one analyzed by an older binary are both
    /// served without them.
    #[test]
    fn analyzed_stores_keep_their_statements_prepared() {
        use crate::store::{sqlite::SqliteStore, Durability, KeypairStore};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nk.db");
        let path = path.to_str().unwrap();
        let rows = |n: usize| {
            (0..n).map(|i| {
                let mut kp = new(&format!("u-{}", i % 3), &format!("k-{i}"));
                kp.fingerprint = format!("fp-{i}");
                kp
            })
        };
        {
            let store = SqliteStore::open(path, Durability::Normal).unwrap();
            assert_eq!(store.load_keypairs(&mut rows(3000), 500).unwrap(), 3000);
        }
        let store = SqliteStore::open(path, Durability::Normal).unwrap();
        assert_eq!(reprepares(&store), 0);
        // As an older binary left it: samples written by ANALYZE itself.
        store
            .engine
            .write(|c| Ok(c.execute_batch("ANALYZE")?))
            .unwrap();
        let samples = |store: &SqliteStore| {
            store.engine.read(|c| {
                Ok(c.query_row("SELECT count(*) FROM sqlite_stat4", [], |r| {
                    r.get::<_, i64>(0)
                })?)
            })
        };
        assert!(samples(&store).unwrap() > 0);
        drop(store);
        let store = SqliteStore::open(path, Durability::Normal).unwrap();
        assert_eq!(samples(&store).unwrap(), 0);
        assert_eq!(reprepares(&store), 0);
    }
}
