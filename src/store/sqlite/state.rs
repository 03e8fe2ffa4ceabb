//! # Whole-store images in SQLite
//!
//! An image holds every row of every novakeys table, plus `sqlite_sequence` (so AUTOINCREMENT
//! ids continue where they were). `capture` reads one under the caller's transaction;
//! `apply` replaces the store's contents with one in a single transaction (DELETEs, then
//! INSERTs, foreign keys checked at commit), so readers see either the old or the new state.

use super::migrations::LATEST;
use super::SqliteStore;
use crate::store::image::{Cell, Image, Table};
use crate::store::{Applied, Durability, StateStore, Store, StoreError};
use rusqlite::types::Value as Sql;
use rusqlite::Connection;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The table of the token signing keys (a reset keeps the running store's own).
const SIGNING_KEYS: &str = "id_signing_keys";

/// Tables that are not "state" (caches, pools of pre-made material): never captured, never
/// cleared. Add a table here if handing its rows out twice would be wrong. (The key pool of
/// pre-generated keys is not one: it lives in memory only, `keys::KeyPool`.)
pub const NOT_STATE: &[&str] = &[];

fn state_tables(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(names
        .into_iter()
        .filter(|n| !NOT_STATE.contains(&n.as_str()))
        .collect())
}

fn columns(conn: &Connection, table: &str) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({})", quote(table)))?;
    let cols = stmt
        .query_map([], |r| r.get::<_, String>(1))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(cols)
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// `"a", "b", ...`: a table's columns for a statement.
fn column_list(table: &Table) -> String {
    table
        .columns
        .iter()
        .map(|c| quote(c))
        .collect::<Vec<_>>()
        .join(", ")
}

fn has_sequence_table(conn: &Connection) -> Result<bool, StoreError> {
    let n: i64 = conn
        .prepare_cached("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'")?
        .query_row([], |r| r.get(0))?;
    Ok(n > 0)
}

/// Reads the whole state (call inside a transaction, or on the writer, for consistency).
pub fn capture(conn: &Connection) -> Result<Image, StoreError> {
    capture_where(conn, |_| true)
}

/// Reads the state tables `wanted` names (and their sequences).
pub fn capture_where(
    conn: &Connection,
    wanted: impl Fn(&str) -> bool,
) -> Result<Image, StoreError> {
    let mut image = Image {
        schema_version: LATEST,
        ..Image::default()
    };
    for name in state_tables(conn)?.into_iter().filter(|n| wanted(n)) {
        let cols = columns(conn, &name)?;
        let mut stmt = conn.prepare(&format!("SELECT * FROM {} ORDER BY rowid", quote(&name)))?;
        let n = cols.len();
        let rows = stmt
            .query_map([], |r| {
                (0..n).map(|i| r.get::<_, Sql>(i).map(cell)).collect()
            })?
            .collect::<Result<Vec<Vec<Cell>>, _>>()?;
        image.tables.insert(
            name,
            Table {
                columns: cols,
                rows,
            },
        );
    }
    if has_sequence_table(conn)? {
        let mut stmt = conn.prepare("SELECT name, seq FROM sqlite_sequence")?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
            let (name, seq) = row?;
            if !NOT_STATE.contains(&name.as_str()) && wanted(&name) {
                image.sequences.insert(name, seq);
            }
        }
    }
    Ok(image)
}

/// The state tables and their columns (what an image must match).
pub type Schema = BTreeMap<String, Vec<String>>;

pub fn schema(conn: &Connection) -> Result<Schema, StoreError> {
    let mut out = Schema::new();
    for name in state_tables(conn)? {
        let cols = columns(conn, &name)?;
        out.insert(name, cols);
    }
    Ok(out)
}

/// Checks that `image` fits `schema` (tables, columns, full rows).
pub fn check(schema: &Schema, image: &Image) -> Result<(), String> {
    for (name, table) in &image.tables {
        let Some(cols) = schema.get(name) else {
            return Err(format!("unknown table '{name}'"));
        };
        if *cols != table.columns {
            return Err(format!(
                "table '{name}': columns {:?} do not match the schema's {:?}",
                table.columns, cols
            ));
        }
        for (i, row) in table.rows.iter().enumerate() {
            if row.len() != cols.len() {
                return Err(format!(
                    "table '{name}' row {i}: {} values for {} columns",
                    row.len(),
                    cols.len()
                ));
            }
        }
    }
    for name in image.sequences.keys() {
        if !schema.contains_key(name) {
            return Err(format!("sequence for unknown table '{name}'"));
        }
    }
    Ok(())
}

/// `apply` for an image already known to fit the schema (the reset baseline). Only the tables
/// whose rows differ from the image are rewritten (plus the tables whose foreign keys point
/// at those, which a delete would cascade into): a reset after a test that only made key pairs
/// writes one table, not all of them. Returns the tables rewritten.
pub fn apply_checked(conn: &mut Connection, image: &Image) -> Result<Vec<String>, StoreError> {
    let tables = state_tables(conn)?;
    let seq = has_sequence_table(conn)?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute_batch("PRAGMA defer_foreign_keys = ON")?;
    let mut changed = std::collections::BTreeSet::new();
    for name in &tables {
        if !holds(&tx, name, image.tables.get(name))? {
            changed.insert(name.clone());
        }
    }
    let edges = references(&tx, &tables)?;
    loop {
        let more: Vec<String> = edges
            .iter()
            .filter(|(child, parent)| changed.contains(parent) && !changed.contains(child))
            .map(|(child, _)| child.clone())
            .collect();
        if more.is_empty() {
            break;
        }
        changed.extend(more);
    }
    for name in &changed {
        tx.prepare_cached(&format!("DELETE FROM {}", quote(name)))?
            .execute([])?;
    }
    for (name, table) in image.tables.iter().filter(|(n, _)| changed.contains(*n)) {
        if table.rows.is_empty() {
            continue;
        }
        let marks = vec!["?"; table.columns.len()].join(", ");
        let cols = column_list(table);
        let mut ins = tx.prepare_cached(&format!(
            "INSERT INTO {} ({cols}) VALUES ({marks})",
            quote(name)
        ))?;
        for row in &table.rows {
            ins.execute(rusqlite::params_from_iter(row.iter().map(sql)))?;
        }
    }
    // AUTOINCREMENT counters as the image has them (ids handed out since, or a re-insert,
    // moved them).
    if seq && sequences(&tx, &tables)? != image.sequences {
        let mut del = tx.prepare_cached("DELETE FROM sqlite_sequence WHERE name = ?1")?;
        for name in &tables {
            del.execute([name])?;
        }
        let mut ins =
            tx.prepare_cached("INSERT INTO sqlite_sequence (name, seq) VALUES (?1, ?2)")?;
        for (name, seq) in &image.sequences {
            ins.execute(rusqlite::params![name, seq])?;
        }
    }
    tx.commit()?;
    Ok(changed.into_iter().collect())
}

/// Whether `name` holds exactly `want`'s rows, in rowid order (no table = no rows). Large
/// tables are not compared row by row: rewriting them costs far more than the comparison saves.
fn holds(conn: &Connection, name: &str, want: Option<&Table>) -> Result<bool, StoreError> {
    const COMPARE_AT_MOST: usize = 10_000;
    let n: i64 = conn
        .prepare_cached(&format!("SELECT count(*) FROM {}", quote(name)))?
        .query_row([], |r| r.get(0))?;
    let want_rows = want.map_or(0, |t| t.rows.len());
    if n as usize != want_rows || want_rows > COMPARE_AT_MOST {
        return Ok(false);
    }
    let Some(want) = want.filter(|t| !t.rows.is_empty()) else {
        return Ok(true);
    };
    let cols = column_list(want);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {cols} FROM {} ORDER BY rowid",
        quote(name)
    ))?;
    let k = want.columns.len();
    let mut rows = stmt.query([])?;
    let mut i = 0;
    while let Some(row) = rows.next()? {
        for (c, wanted) in want.rows[i].iter().enumerate().take(k) {
            if cell(row.get::<_, Sql>(c)?) != *wanted {
                return Ok(false);
            }
        }
        i += 1;
    }
    Ok(i == want_rows)
}

/// (child, parent) for every foreign key between state tables.
fn references(conn: &Connection, tables: &[String]) -> Result<Vec<(String, String)>, StoreError> {
    let mut edges = Vec::new();
    for child in tables {
        let mut stmt =
            conn.prepare_cached(&format!("PRAGMA foreign_key_list({})", quote(child)))?;
        for parent in stmt.query_map([], |r| r.get::<_, String>(2))? {
            edges.push((child.clone(), parent?));
        }
    }
    Ok(edges)
}

/// The state tables' `sqlite_sequence` entries.
fn sequences(conn: &Connection, tables: &[String]) -> Result<BTreeMap<String, i64>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT name, seq FROM sqlite_sequence")?;
    let mut out = BTreeMap::new();
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        let (name, seq) = row?;
        if tables.contains(&name) {
            out.insert(name, seq);
        }
    }
    Ok(out)
}

fn cell(v: Sql) -> Cell {
    match v {
        Sql::Null => Cell::Null,
        Sql::Integer(i) => Cell::Integer(i),
        Sql::Real(f) => Cell::Real(f),
        Sql::Text(s) => Cell::Text(s),
        Sql::Blob(b) => Cell::Blob(b),
    }
}

fn sql(c: &Cell) -> rusqlite::types::ToSqlOutput<'_> {
    use rusqlite::types::ValueRef;
    rusqlite::types::ToSqlOutput::Borrowed(match c {
        Cell::Null => ValueRef::Null,
        Cell::Integer(i) => ValueRef::Integer(*i),
        Cell::Real(f) => ValueRef::Real(*f),
        Cell::Text(s) => ValueRef::Text(s.as_bytes()),
        Cell::Blob(b) => ValueRef::Blob(b),
    })
}

/// An image of an older schema version, brought up to this binary's: applied to a scratch
/// database at its own version, which the remaining migration steps then bring up to date.
fn upgrade(image: &Image) -> Result<Image, StoreError> {
    let v = image.schema_version;
    if !(1..LATEST).contains(&v) {
        return Err(StoreError::Incompatible(format!(
            "schema_version {v} is not one this binary reads (1 to {LATEST})"
        )));
    }
    let mut conn = Connection::open_in_memory()?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    super::migrations::migrate_to(&conn, v)?;
    check(&schema(&conn)?, image).map_err(StoreError::Incompatible)?;
    apply_checked(&mut conn, image)?;
    super::migrations::migrate(&conn)?;
    capture(&conn)
}

impl StateStore for SqliteStore {
    fn capture(&self) -> Result<Image, StoreError> {
        // On the writer: no write can land halfway through.
        self.engine.write(|c| capture(c))
    }

    fn capture_signing_keys(&self) -> Result<Image, StoreError> {
        self.engine
            .write(|c| capture_where(c, |n| n == SIGNING_KEYS))
    }

    fn apply(&self, image: &Image) -> Result<Applied, StoreError> {
        let upgraded;
        let image = if image.schema_version == LATEST {
            image
        } else {
            upgraded = upgrade(image)?;
            &upgraded
        };
        let tables = self.engine.write(|c| {
            // The schema cannot change while the store is open: read it once.
            let schema = match self.schema.get() {
                Some(s) => s,
                None => {
                    let s = schema(c)?;
                    self.schema.get_or_init(|| s)
                }
            };
            check(schema, image).map_err(StoreError::Incompatible)?;
            apply_checked(c, image)
        });
        self.identity_changed();
        let tables = tables?;
        Ok(Applied {
            signing_keys: tables.iter().any(|t| t == SIGNING_KEYS),
            tables,
        })
    }

    fn scratch(&self) -> Result<Arc<dyn Store>, StoreError> {
        Ok(Arc::new(SqliteStore::open(":memory:", Durability::Normal)?))
    }

    fn save_snapshot(&self, name: &str) -> Result<crate::store::SnapshotInfo, StoreError> {
        self.snapshots.save(&self.engine, name)
    }

    fn restore_snapshot(&self, name: &str) -> Result<Option<Applied>, StoreError> {
        match self.snapshots.image(name)? {
            Some(image) => self.apply(&image).map(Some),
            None => Ok(None),
        }
    }

    fn delete_snapshot(&self, name: &str) -> Result<bool, StoreError> {
        self.snapshots.delete(name)
    }

    fn list_snapshots(&self) -> Result<Vec<crate::store::SnapshotInfo>, StoreError> {
        self.snapshots.list()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::identity::{Bootstrap, Domain};
    use crate::store::IdentityStore;

    fn store() -> SqliteStore {
        SqliteStore::open(":memory:", Durability::Normal).unwrap()
    }

    /// Two users, each with a project role (enough for cascades).
    fn bootstrap(store: &SqliteStore) {
        use crate::store::identity::{Assignment, Project, Role, Target, User};
        let user = |id: &str, name: &str| User {
            id: id.into(),
            name: name.into(),
            domain_id: "default".into(),
            enabled: true,
            default_project_id: None,
            password_hash: None,
            extra: Default::default(),
        };
        let b = Bootstrap {
            credentials: Vec::new(),
            domains: vec![Domain {
                id: "default".into(),
                name: "Default".into(),
                description: String::new(),
                enabled: true,
            }],
            roles: vec![Role {
                id: "r".into(),
                name: "member".into(),
                immutable: true,
            }],
            projects: vec![Project {
                id: "p".into(),
                name: "demo".into(),
                domain_id: "default".into(),
                description: String::new(),
                enabled: true,
            }],
            users: vec![user("u1", "admin"), user("u2", "demo")],
            grants: ["u1", "u2"]
                .iter()
                .map(|u| Assignment {
                    user_id: u.to_string(),
                    target: Target::Project("p".into()),
                    role_id: "r".into(),
                })
                .collect(),
        };
        assert!(store.bootstrap(&b).unwrap());
    }

    #[test]
    fn capture_apply_round_trip_and_json() {
        let store = store();
        store
            .engine
            .write(|c| {
                c.execute_batch(
                    "INSERT INTO key_pairs (user_id, project_id, name, kind, public_key, fingerprint, created_at)
                     VALUES ('u', 'p', 'k', 'ssh', 'ssh-rsa AAAA', 'aa', '2026-01-01T00:00:00.000000')",
                )?;
                Ok(())
            })
            .unwrap();
        let image = store.capture().unwrap();
        assert_eq!(image.rows("key_pairs"), 1);
        assert_eq!(image.sequences.get("key_pairs"), Some(&1));
        let parsed = Image::from_json(&image.to_json()).unwrap();
        assert_eq!(parsed, image);
        let empty = Image {
            schema_version: LATEST,
            ..Image::default()
        };
        store.apply(&empty).unwrap();
        assert_eq!(store.capture().unwrap().rows("key_pairs"), 0);
        store.apply(&parsed).unwrap();
        assert_eq!(store.capture().unwrap(), image);
    }

    /// Reset rewrites only what differs, yet ends exactly at the image: a deleted user comes
    /// back with the role assignments its delete cascaded away, and AUTOINCREMENT counters
    /// moved by rows made and deleted since are set back.
    #[test]
    fn apply_rewrites_only_what_differs_and_ends_at_the_image() {
        let store = store();
        bootstrap(&store);
        let baseline = store.capture().unwrap();
        assert!(baseline.rows("id_assignments") > 0);
        assert_eq!(
            store.apply(&baseline).unwrap(),
            Applied::default(),
            "nothing differs, nothing is written"
        );
        store
            .engine
            .write(|c| {
                c.execute_batch(
                    "INSERT INTO key_pairs (user_id, project_id, name, kind, public_key, fingerprint, created_at)
                     VALUES ('u', 'p', 'k', 'ssh', 'ssh-rsa AAAA', 'aa', '2026-01-01T00:00:00.000000');
                     DELETE FROM key_pairs;
                     INSERT INTO key_pairs (user_id, project_id, name, kind, public_key, fingerprint, created_at)
                     VALUES ('u', 'p', 'k2', 'ssh', 'ssh-rsa AAAA', 'aa', '2026-01-01T00:00:00.000000');
                     DELETE FROM id_users WHERE name = 'demo';",
                )?;
                Ok(())
            })
            .unwrap();
        let mid = store.capture().unwrap();
        assert!(mid.rows("id_assignments") < baseline.rows("id_assignments"));
        let rewritten = store.apply(&baseline).unwrap().tables;
        for t in ["id_users", "id_assignments", "key_pairs"] {
            assert!(rewritten.iter().any(|r| r == t), "{t} not in {rewritten:?}");
        }
        assert!(
            !rewritten.iter().any(|r| r == "id_domains"),
            "{rewritten:?}"
        );
        assert_eq!(store.capture().unwrap(), baseline);
        // A renamed user leaves the assignments as they were, but rewriting the users table
        // cascades into them: they must be rewritten too.
        store
            .engine
            .write(|c| {
                c.execute_batch("UPDATE id_users SET name = 'demo2' WHERE name = 'demo'")?;
                Ok(())
            })
            .unwrap();
        let rewritten = store.apply(&baseline).unwrap().tables;
        assert!(
            rewritten.iter().any(|r| r == "id_assignments"),
            "{rewritten:?}"
        );
        assert_eq!(store.capture().unwrap(), baseline);
    }

    #[test]
    fn rejects_images_that_do_not_fit() {
        let store = store();
        let mut image = store.capture().unwrap();
        image.tables.insert("nope".into(), Table::default());
        assert!(matches!(
            store.apply(&image),
            Err(StoreError::Incompatible(_))
        ));
        // Version 1 had none of the identity tables later steps added: today's tables under
        // that version are not an image any version-1 store could have written.
        let mut old = store.capture().unwrap();
        old.schema_version = 1;
        assert!(matches!(
            store.apply(&old),
            Err(StoreError::Incompatible(_))
        ));
        // The previous version had the same tables and columns: its image comes up to date.
        let mut previous = store.capture().unwrap();
        previous.schema_version = LATEST - 1;
        store.apply(&previous).unwrap();
    }
}
