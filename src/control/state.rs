//! # Whole-store images: reset, snapshots, export/import
//!
//! An `Image` is every row of every novakeys table (plus `sqlite_sequence`, so AUTOINCREMENT
//! ids continue where they were). `capture` reads one under the caller's transaction;
//! `apply` replaces the store's contents with one in a single transaction (DELETEs, then
//! INSERTs, foreign keys checked at commit), so readers see either the old or the new state.

use crate::store::migrations::LATEST;
use crate::store::StoreError;
use base64::Engine;
use rusqlite::types::Value as Sql;
use rusqlite::Connection;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Tables that are not "state" (caches, pools of pre-made material): never captured, never
/// cleared. Add a table here if handing its rows out twice would be wrong. (The key pool of
/// pre-generated keys is not one: it lives in memory only, `keys::KeyPool`.)
pub const NOT_STATE: &[&str] = &[];

/// The export format's name and version.
pub const FORMAT: &str = "novakeys-state";
pub const FORMAT_VERSION: i64 = 1;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Sql>>,
}

/// Every row of every state table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Image {
    pub tables: BTreeMap<String, Table>,
    /// `sqlite_sequence`: table name → last AUTOINCREMENT id.
    pub sequences: BTreeMap<String, i64>,
}

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
    let mut image = Image::default();
    for name in state_tables(conn)?.into_iter().filter(|n| wanted(n)) {
        let cols = columns(conn, &name)?;
        let mut stmt = conn.prepare(&format!("SELECT * FROM {} ORDER BY rowid", quote(&name)))?;
        let n = cols.len();
        let rows = stmt
            .query_map([], |r| (0..n).map(|i| r.get::<_, Sql>(i)).collect())?
            .collect::<Result<Vec<Vec<Sql>>, _>>()?;
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

/// Checks that `image` fits this store's schema (same tables, same columns, full rows).
pub fn check(conn: &Connection, image: &Image) -> Result<(), String> {
    let tables = state_tables(conn).map_err(|e| e.to_string())?;
    for (name, table) in &image.tables {
        if !tables.contains(name) {
            return Err(format!("unknown table '{name}'"));
        }
        let cols = columns(conn, name).map_err(|e| e.to_string())?;
        if cols != table.columns {
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
        if !tables.contains(name) {
            return Err(format!("sequence for unknown table '{name}'"));
        }
    }
    Ok(())
}

/// Replaces the whole state with `image`, atomically.
pub fn apply(conn: &mut Connection, image: &Image) -> Result<(), StoreError> {
    check(conn, image).map_err(StoreError::Incompatible)?;
    apply_checked(conn, image).map(|_| ())
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
            ins.execute(rusqlite::params_from_iter(row.iter()))?;
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
            if row.get::<_, Sql>(c)? != *wanted {
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

fn to_json(v: &Sql) -> Value {
    match v {
        Sql::Null => Value::Null,
        Sql::Integer(i) => json!(i),
        Sql::Real(f) => json!(f),
        Sql::Text(s) => json!(s),
        Sql::Blob(b) => json!({ "base64": base64::engine::general_purpose::STANDARD.encode(b) }),
    }
}

fn from_json(v: &Value) -> Result<Sql, String> {
    Ok(match v {
        Value::Null => Sql::Null,
        Value::Bool(b) => Sql::Integer(*b as i64),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Sql::Integer(i),
            None => Sql::Real(n.as_f64().ok_or("number out of range")?),
        },
        Value::String(s) => Sql::Text(s.clone()),
        Value::Object(o) if o.len() == 1 && o.get("base64").is_some_and(Value::is_string) => {
            Sql::Blob(
                base64::engine::general_purpose::STANDARD
                    .decode(o["base64"].as_str().unwrap_or_default())
                    .map_err(|e| format!("bad base64: {e}"))?,
            )
        }
        other => return Err(format!("not a column value: {other}")),
    })
}

impl Image {
    /// The versioned export document.
    pub fn to_json(&self) -> Value {
        let mut tables = Map::new();
        for (name, t) in &self.tables {
            let rows: Vec<Value> = t
                .rows
                .iter()
                .map(|r| Value::Array(r.iter().map(to_json).collect()))
                .collect();
            tables.insert(name.clone(), json!({ "columns": t.columns, "rows": rows }));
        }
        json!({
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "schema_version": LATEST,
            "exported_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "tables": tables,
            "sequences": self.sequences,
        })
    }

    /// Parses and validates an export document (shape only; `check` compares with a schema).
    pub fn from_json(doc: &Value) -> Result<Image, String> {
        let obj = doc.as_object().ok_or("not a JSON object")?;
        if obj.get("format").and_then(Value::as_str) != Some(FORMAT) {
            return Err(format!("\"format\" must be \"{FORMAT}\""));
        }
        match obj.get("version").and_then(Value::as_i64) {
            Some(FORMAT_VERSION) => {}
            other => {
                return Err(format!(
                    "unsupported format version {other:?} (this binary reads {FORMAT_VERSION})"
                ))
            }
        }
        match obj.get("schema_version").and_then(Value::as_i64) {
            Some(LATEST) => {}
            other => {
                return Err(format!(
                    "schema_version {other:?} does not match this binary's {LATEST}"
                ))
            }
        }
        let mut image = Image::default();
        let tables = obj
            .get("tables")
            .and_then(Value::as_object)
            .ok_or("\"tables\" must be an object")?;
        for (name, t) in tables {
            let columns: Vec<String> = t
                .get("columns")
                .and_then(Value::as_array)
                .ok_or(format!("tables.{name}.columns must be an array"))?
                .iter()
                .map(|c| c.as_str().map(str::to_string))
                .collect::<Option<_>>()
                .ok_or(format!("tables.{name}.columns must be strings"))?;
            let mut rows = Vec::new();
            for (i, r) in t
                .get("rows")
                .and_then(Value::as_array)
                .ok_or(format!("tables.{name}.rows must be an array"))?
                .iter()
                .enumerate()
            {
                let r = r
                    .as_array()
                    .ok_or(format!("tables.{name}.rows[{i}] must be an array"))?;
                rows.push(
                    r.iter()
                        .map(from_json)
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| format!("tables.{name}.rows[{i}]: {e}"))?,
                );
            }
            image.tables.insert(name.clone(), Table { columns, rows });
        }
        if let Some(seqs) = obj.get("sequences") {
            for (name, v) in seqs.as_object().ok_or("\"sequences\" must be an object")? {
                let n = v
                    .as_i64()
                    .ok_or(format!("sequences.{name} must be an integer"))?;
                image.sequences.insert(name.clone(), n);
            }
        }
        Ok(image)
    }

    pub fn rows(&self, table: &str) -> usize {
        self.tables.get(table).map_or(0, |t| t.rows.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Durability, Store};

    #[test]
    fn capture_apply_round_trip_and_json() {
        let store = Store::open(":memory:", Durability::Normal).unwrap();
        store
            .write(|c| {
                c.execute_batch(
                    "INSERT INTO key_pairs (user_id, project_id, name, kind, public_key, fingerprint, created_at)
                     VALUES ('u', 'p', 'k', 'ssh', 'ssh-rsa AAAA', 'aa', '2026-01-01T00:00:00.000000')",
                )?;
                Ok(())
            })
            .unwrap();
        let image = store.write(|c| capture(c)).unwrap();
        assert_eq!(image.rows("key_pairs"), 1);
        assert_eq!(image.sequences.get("key_pairs"), Some(&1));
        let parsed = Image::from_json(&image.to_json()).unwrap();
        assert_eq!(parsed, image);
        store.write(|c| apply(c, &Image::default())).unwrap();
        assert_eq!(store.write(|c| capture(c)).unwrap().rows("key_pairs"), 0);
        store.write(|c| apply(c, &parsed)).unwrap();
        assert_eq!(store.write(|c| capture(c)).unwrap(), image);
    }

    /// Reset rewrites only what differs, yet ends exactly at the image: a deleted user comes
    /// back with the role assignments its delete cascaded away, and AUTOINCREMENT counters
    /// moved by rows made and deleted since are set back.
    #[test]
    fn apply_rewrites_only_what_differs_and_ends_at_the_image() {
        let store = Store::open(":memory:", Durability::Normal).unwrap();
        crate::identity::fixtures::Fixtures::load(None)
            .unwrap()
            .apply(&store, 4, "fixtures")
            .unwrap();
        let baseline = store.write(|c| capture(c)).unwrap();
        assert!(baseline.rows("id_assignments") > 0);
        assert_eq!(
            store.write(|c| apply_checked(c, &baseline)).unwrap(),
            Vec::<String>::new(),
            "nothing differs, nothing is written"
        );
        store
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
        let mid = store.write(|c| capture(c)).unwrap();
        assert!(mid.rows("id_assignments") < baseline.rows("id_assignments"));
        let rewritten = store.write(|c| apply_checked(c, &baseline)).unwrap();
        for t in ["id_users", "id_assignments", "key_pairs"] {
            assert!(rewritten.iter().any(|r| r == t), "{t} not in {rewritten:?}");
        }
        assert!(
            !rewritten.iter().any(|r| r == "id_domains"),
            "{rewritten:?}"
        );
        assert_eq!(store.write(|c| capture(c)).unwrap(), baseline);
        // A renamed user leaves the assignments as they were, but rewriting the users table
        // cascades into them: they must be rewritten too.
        store
            .write(|c| {
                c.execute_batch("UPDATE id_users SET name = 'demo2' WHERE name = 'demo'")?;
                Ok(())
            })
            .unwrap();
        let rewritten = store.write(|c| apply_checked(c, &baseline)).unwrap();
        assert!(
            rewritten.iter().any(|r| r == "id_assignments"),
            "{rewritten:?}"
        );
        assert_eq!(store.write(|c| capture(c)).unwrap(), baseline);
    }

    #[test]
    fn rejects_foreign_documents() {
        assert!(Image::from_json(&json!({"format": "x"})).is_err());
        let store = Store::open(":memory:", Durability::Normal).unwrap();
        let mut image = store.write(|c| capture(c)).unwrap();
        image.tables.insert("nope".into(), Table::default());
        assert!(store.write(|c| apply(c, &image)).is_err());
    }
}
