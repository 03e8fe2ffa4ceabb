//! # Whole-store images in PostgreSQL
//!
//! The same images as the SQLite store's (same tables, columns and cell types: booleans are
//! integers 0/1 in an image, `nk_rowid` is left out, sequences are the serial ids' last
//! values), so a reset baseline built on an in-memory SQLite store applies here and an export
//! from one backend imports into the other.
//!
//! `capture` reads in one REPEATABLE READ snapshot. `apply` locks the state tables against
//! writers (readers go on, and see the old state until the commit), rewrites the tables whose
//! rows differ from the image (and those whose foreign keys point at them) and the sequences,
//! in one transaction with the foreign keys checked at commit.

use super::migrations::LATEST;
use super::{bump, Inner, Kind, PgStore};
use crate::store::image::{Cell, Image, Table};
use crate::store::{Applied, Durability, StateStore, Store, StoreError};
use deadpool_postgres::GenericClient;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tokio_postgres::types::ToSql;

/// The table of the token signing keys (a reset keeps the running store's own).
const SIGNING_KEYS: &str = "id_signing_keys";
/// The hidden column that keeps insertion order where SQLite uses its `rowid`.
const ROWID: &str = "nk_rowid";
/// Tables larger than this are rewritten without comparing them row by row (as in SQLite).
const COMPARE_AT_MOST: usize = 10_000;
/// Bind parameters per INSERT (PostgreSQL allows 65535).
const PARAMS_PER_INSERT: usize = 30_000;

/// `BYTEA` columns that hold text (what PostgreSQL text cannot hold, a NUL, they can): text
/// in an image, as SQLite stores them.
const TEXT_IN_BYTES: &[(&str, &str)] = &[("key_pairs", "public_key")];
/// The type name `schema` gives such a column.
const TEXT_BYTES: &str = "bytea (text)";

/// A state table as stored.
pub struct TableInfo {
    /// (name, data type), in order, without `nk_rowid`.
    columns: Vec<(String, String)>,
    /// What orders its rows as SQLite's `rowid` does.
    order: String,
    /// Its serial id's sequence, if it has one (the image's `sequences` entry).
    sequence: Option<String>,
}

/// The state tables by name.
pub type Schema = BTreeMap<String, TableInfo>;

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

fn incompatible(e: impl std::fmt::Display) -> StoreError {
    StoreError::Incompatible(e.to_string())
}

pub async fn schema(c: &impl GenericClient) -> Result<Schema, StoreError> {
    let rows = c
        .query(
            r"SELECT table_name::text, column_name::text, data_type::text,
                     coalesce(column_default, '')::text
                FROM information_schema.columns
               WHERE table_schema = current_schema() AND table_name NOT LIKE 'nk\_%'
               ORDER BY table_name, ordinal_position",
            &[],
        )
        .await?;
    let mut out = Schema::new();
    for r in rows {
        let (table, column, ty, default): (String, String, String, String) =
            (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
        let ty = if TEXT_IN_BYTES.contains(&(table.as_str(), column.as_str())) {
            TEXT_BYTES.to_string()
        } else {
            ty
        };
        let t = out.entry(table).or_insert_with(|| TableInfo {
            columns: Vec::new(),
            order: String::new(),
            sequence: None,
        });
        if column == ROWID {
            t.order = column;
            continue;
        }
        if default.starts_with("nextval(") && t.sequence.is_none() {
            t.order = column.clone();
            t.sequence = Some(column.clone());
        }
        t.columns.push((column, ty));
    }
    for (name, t) in out.iter_mut() {
        if let Some(col) = t.sequence.take() {
            let seq: Option<String> = c
                .query_one("SELECT pg_get_serial_sequence($1, $2)", &[name, &col])
                .await?
                .try_get(0)?;
            t.sequence = seq;
        }
        if t.order.is_empty() {
            t.order = t.columns.first().map(|c| c.0.clone()).unwrap_or_default();
        }
    }
    Ok(out)
}

fn column_list(t: &TableInfo) -> String {
    t.columns
        .iter()
        .map(|(c, _)| quote(c))
        .collect::<Vec<_>>()
        .join(", ")
}

fn cell(row: &tokio_postgres::Row, i: usize, ty: &str) -> Result<Cell, StoreError> {
    let v = match ty {
        "bigint" => row.try_get::<_, Option<i64>>(i)?.map(Cell::Integer),
        "integer" => row
            .try_get::<_, Option<i32>>(i)?
            .map(|v| Cell::Integer(v.into())),
        "smallint" => row
            .try_get::<_, Option<i16>>(i)?
            .map(|v| Cell::Integer(v.into())),
        "boolean" => row
            .try_get::<_, Option<bool>>(i)?
            .map(|v| Cell::Integer(v.into())),
        "text" | "character varying" => row.try_get::<_, Option<String>>(i)?.map(Cell::Text),
        "double precision" => row.try_get::<_, Option<f64>>(i)?.map(Cell::Real),
        "bytea" => row.try_get::<_, Option<Vec<u8>>>(i)?.map(Cell::Blob),
        TEXT_BYTES => row
            .try_get::<_, Option<Vec<u8>>>(i)?
            .map(|b| String::from_utf8(b).map(Cell::Text))
            .transpose()
            .map_err(|e| StoreError::Backend(format!("postgres: not text: {e}")))?,
        other => {
            return Err(StoreError::Backend(format!(
                "postgres: column type {other}"
            )))
        }
    };
    Ok(v.unwrap_or(Cell::Null))
}

type Param = Box<dyn ToSql + Sync + Send>;

/// `c` as a value of a column of type `ty` (as SQLite would store it in such a column).
fn param(c: &Cell, ty: &str) -> Result<Param, String> {
    let int = |c: &Cell| match c {
        Cell::Integer(i) => Ok(Some(*i)),
        Cell::Null => Ok(None),
        other => Err(format!("{other:?} is not an integer")),
    };
    Ok(match ty {
        "bigint" => Box::new(int(c)?),
        "integer" => Box::new(
            int(c)?
                .map(i32::try_from)
                .transpose()
                .map_err(|e| e.to_string())?,
        ),
        "smallint" => Box::new(
            int(c)?
                .map(i16::try_from)
                .transpose()
                .map_err(|e| e.to_string())?,
        ),
        "boolean" => Box::new(int(c)?.map(|i| i != 0)),
        "text" | "character varying" => Box::new(match c {
            Cell::Null => None,
            Cell::Text(s) => Some(s.clone()),
            Cell::Integer(i) => Some(i.to_string()),
            Cell::Real(f) => Some(f.to_string()),
            Cell::Blob(_) => return Err("a blob is not text".into()),
        }),
        "double precision" => Box::new(match c {
            Cell::Null => None,
            Cell::Real(f) => Some(*f),
            Cell::Integer(i) => Some(*i as f64),
            other => return Err(format!("{other:?} is not a number")),
        }),
        "bytea" => Box::new(match c {
            Cell::Null => None,
            Cell::Blob(b) => Some(b.clone()),
            other => return Err(format!("{other:?} is not a blob")),
        }),
        TEXT_BYTES => Box::new(match c {
            Cell::Null => None,
            Cell::Text(s) => Some(s.as_bytes().to_vec()),
            Cell::Integer(i) => Some(i.to_string().into_bytes()),
            Cell::Real(f) => Some(f.to_string().into_bytes()),
            Cell::Blob(_) => return Err("a blob is not text".into()),
        }),
        other => return Err(format!("column type {other}")),
    })
}

async fn read_table(
    c: &impl GenericClient,
    name: &str,
    t: &TableInfo,
) -> Result<Vec<Vec<Cell>>, StoreError> {
    let sql = format!(
        "SELECT {} FROM {} ORDER BY {}",
        column_list(t),
        quote(name),
        quote(&t.order)
    );
    let mut out = Vec::new();
    for row in c.query(&sql, &[]).await? {
        out.push(
            t.columns
                .iter()
                .enumerate()
                .map(|(i, (_, ty))| cell(&row, i, ty))
                .collect::<Result<_, _>>()?,
        );
    }
    Ok(out)
}

/// The serial tables' last handed-out ids (only those that handed one out, as SQLite's
/// `sqlite_sequence` has them).
async fn sequences(
    c: &impl GenericClient,
    schema: &Schema,
    wanted: &(dyn Fn(&str) -> bool + Sync),
) -> Result<BTreeMap<String, i64>, StoreError> {
    let mut out = BTreeMap::new();
    for (name, t) in schema.iter().filter(|(n, _)| wanted(n)) {
        if let Some(seq) = &t.sequence {
            let row = c
                .query_one(&format!("SELECT last_value, is_called FROM {seq}"), &[])
                .await?;
            if row.try_get::<_, bool>(1)? {
                out.insert(name.clone(), row.try_get(0)?);
            }
        }
    }
    Ok(out)
}

/// The state tables `wanted` names (and their sequences); call inside a snapshot.
pub async fn capture_where(
    c: &impl GenericClient,
    wanted: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Image, StoreError> {
    let schema = schema(c).await?;
    let mut image = Image {
        schema_version: LATEST,
        ..Image::default()
    };
    for (name, t) in schema.iter().filter(|(n, _)| wanted(n)) {
        let rows = read_table(c, name, t).await?;
        let columns = t.columns.iter().map(|(c, _)| c.clone()).collect();
        image.tables.insert(name.clone(), Table { columns, rows });
    }
    image.sequences = sequences(c, &schema, wanted).await?;
    Ok(image)
}

/// Everything, from one consistent snapshot.
pub async fn capture_consistent(
    inner: &Inner,
    wanted: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Image, StoreError> {
    let mut conn = inner.pool.get().await?;
    let tx = conn
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let image = capture_where(&tx, wanted).await?;
    tx.commit().await?;
    Ok(image)
}

/// That `image` fits `schema` (tables, columns, full rows), as `sqlite::state::check`.
fn check(schema: &Schema, image: &Image) -> Result<(), String> {
    for (name, table) in &image.tables {
        let Some(t) = schema.get(name) else {
            return Err(format!("unknown table '{name}'"));
        };
        let cols: Vec<&str> = t.columns.iter().map(|(c, _)| c.as_str()).collect();
        if cols != table.columns.iter().map(String::as_str).collect::<Vec<_>>() {
            return Err(format!(
                "table '{name}': columns {:?} do not match the schema's {cols:?}",
                table.columns
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

/// (child, parent) for every foreign key between tables of the schema.
async fn references(c: &impl GenericClient) -> Result<Vec<(String, String)>, StoreError> {
    let rows = c
        .query(
            "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint
              WHERE contype = 'f' AND connamespace = current_schema()::regnamespace",
            &[],
        )
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// Replaces the state with `image` (already at this schema version); the tables rewritten.
async fn apply_current(inner: &Inner, image: &Image) -> Result<Vec<String>, StoreError> {
    let mut conn = inner.pool.get().await?;
    let tx = conn.transaction().await?;
    let schema = schema(&tx).await?;
    check(&schema, image).map_err(StoreError::Incompatible)?;
    // Writers wait (readers do not) until the commit: the state is exactly the image.
    let all: Vec<String> = schema.keys().map(|n| quote(n)).collect();
    tx.batch_execute(&format!(
        "LOCK TABLE {} IN EXCLUSIVE MODE; SET CONSTRAINTS ALL DEFERRED",
        all.join(", ")
    ))
    .await?;
    let mut changed = BTreeSet::new();
    for (name, t) in &schema {
        let want = image.tables.get(name);
        let want_rows = want.map_or(0, |w| w.rows.len());
        let same = if want_rows > COMPARE_AT_MOST {
            false
        } else {
            let have = read_table(&tx, name, t).await?;
            have.len() == want_rows && want.is_none_or(|w| w.rows == have)
        };
        if !same {
            changed.insert(name.clone());
        }
    }
    let edges = references(&tx).await?;
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
        tx.execute(&format!("DELETE FROM {}", quote(name)), &[])
            .await?;
    }
    for name in &changed {
        let (Some(table), Some(t)) = (image.tables.get(name), schema.get(name)) else {
            continue;
        };
        insert_rows(&tx, name, t, table).await?;
    }
    let everything = |_: &str| true;
    if sequences(&tx, &schema, &everything).await? != image.sequences {
        for (name, t) in &schema {
            let Some(seq) = &t.sequence else { continue };
            let sql = format!("SELECT setval('{seq}', $1, $2)");
            match image.sequences.get(name) {
                Some(&n) if n >= 0 => tx.execute(&sql, &[&n, &true]).await?,
                _ => tx.execute(&sql, &[&1i64, &false]).await?,
            };
        }
    }
    let keypairs = bump(&tx, Kind::Keypairs).await?;
    let identity = bump(&tx, Kind::Identity).await?;
    tx.commit().await?;
    inner.committed(Kind::Keypairs, keypairs);
    inner.committed(Kind::Identity, identity);
    Ok(changed.into_iter().collect())
}

/// The image's rows in their order (so `nk_rowid` and serial order follow it), in multi-row
/// INSERTs.
async fn insert_rows(
    c: &impl GenericClient,
    name: &str,
    t: &TableInfo,
    table: &Table,
) -> Result<(), StoreError> {
    let width = t.columns.len().max(1);
    for chunk in table.rows.chunks((PARAMS_PER_INSERT / width).max(1)) {
        let mut params: Vec<Param> = Vec::with_capacity(chunk.len() * width);
        let mut values = Vec::with_capacity(chunk.len());
        for (r, row) in chunk.iter().enumerate() {
            let marks: Vec<String> = (0..width)
                .map(|i| format!("${}", r * width + i + 1))
                .collect();
            values.push(format!("({})", marks.join(", ")));
            for (v, (col, ty)) in row.iter().zip(&t.columns) {
                params.push(param(v, ty).map_err(|e| incompatible(format!("{name}.{col}: {e}")))?);
            }
        }
        let sql = format!(
            "INSERT INTO {} ({}) VALUES {}",
            quote(name),
            column_list(t),
            values.join(", ")
        );
        let refs: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        c.execute(&sql, &refs).await.map_err(|e| match e.code() {
            // The rows break the schema's rules: the image does not fit.
            Some(code) if code.code().starts_with("23") || code.code().starts_with("22") => {
                incompatible(format!("table '{name}': {}", super::describe(&e)))
            }
            _ => e.into(),
        })?;
    }
    Ok(())
}

impl StateStore for PgStore {
    fn capture(&self) -> Result<Image, StoreError> {
        self.block_state(|inner| async move { capture_consistent(&inner, &|_| true).await })
    }

    fn capture_signing_keys(&self) -> Result<Image, StoreError> {
        self.block(
            |inner| async move { capture_consistent(&inner, &|n: &str| n == SIGNING_KEYS).await },
        )
    }

    fn apply(&self, image: &Image) -> Result<Applied, StoreError> {
        let image = if image.schema_version == LATEST {
            image.clone()
        } else {
            upgrade(image)?
        };
        let tables =
            self.block_state(move |inner| async move { apply_current(&inner, &image).await });
        self.inner.after(Kind::Keypairs, &tables);
        self.inner.after(Kind::Identity, &tables);
        let tables = tables?;
        Ok(Applied {
            signing_keys: tables.iter().any(|t| t == SIGNING_KEYS),
            tables,
        })
    }

    /// An in-memory SQLite store: the images are the same, so its state applies here.
    fn scratch(&self) -> Result<Arc<dyn Store>, StoreError> {
        Ok(Arc::new(crate::store::sqlite::SqliteStore::open(
            ":memory:",
            Durability::Normal,
        )?))
    }

    fn save_snapshot(&self, name: &str) -> Result<crate::store::SnapshotInfo, StoreError> {
        super::snapshots::save(self, name)
    }

    fn restore_snapshot(&self, name: &str) -> Result<Option<Applied>, StoreError> {
        match super::snapshots::image(self, name)? {
            Some(image) => self.apply(&image).map(Some),
            None => Ok(None),
        }
    }

    fn delete_snapshot(&self, name: &str) -> Result<bool, StoreError> {
        super::snapshots::delete(self, name)
    }

    fn list_snapshots(&self) -> Result<Vec<crate::store::SnapshotInfo>, StoreError> {
        super::snapshots::list(self)
    }

    /// The first offered wins (`nk_baseline` holds one row), as the export document.
    fn shared_baseline(&self, mine: Image) -> Result<Image, StoreError> {
        let doc = mine.to_json().to_string();
        let kept: String = self.block_state(move |inner| async move {
            let conn = inner.pool.get().await?;
            conn.execute(
                "INSERT INTO nk_baseline (image) VALUES ($1) ON CONFLICT DO NOTHING",
                &[&doc],
            )
            .await?;
            Ok(conn
                .query_one("SELECT image FROM nk_baseline", &[])
                .await?
                .try_get(0)?)
        })?;
        let value: serde_json::Value =
            serde_json::from_str(&kept).map_err(|e| StoreError::Incompatible(e.to_string()))?;
        Image::from_json(&value).map_err(StoreError::Incompatible)
    }
}

/// An image of an older schema version, brought up to this one by the SQLite store's
/// migrations (the numbering is shared): applied to an in-memory SQLite store, captured again.
fn upgrade(image: &Image) -> Result<Image, StoreError> {
    let scratch = crate::store::sqlite::SqliteStore::open(":memory:", Durability::Normal)?;
    scratch.apply(image)?;
    scratch.capture()
}
