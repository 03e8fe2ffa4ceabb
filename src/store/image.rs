//! # Whole-store images: reset, snapshots, export/import
//!
//! An `Image` is every row of every state table (plus the tables' id counters, so ids continue
//! where they were), in a form no backend owns: cells are null, integer, real, text or blob.
//! The versioned JSON document of `novakeys export` is its serialised form.

use base64::Engine;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The export format's name and version.
pub const FORMAT: &str = "novakeys-state";
pub const FORMAT_VERSION: i64 = 1;

/// One stored value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// Every row of every state table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Image {
    /// The schema version the rows were read from (checked when the image is applied).
    pub schema_version: i64,
    pub tables: BTreeMap<String, Table>,
    /// Table name → last id handed out.
    pub sequences: BTreeMap<String, i64>,
}

fn to_json(v: &Cell) -> Value {
    match v {
        Cell::Null => Value::Null,
        Cell::Integer(i) => json!(i),
        Cell::Real(f) => json!(f),
        Cell::Text(s) => json!(s),
        Cell::Blob(b) => json!({ "base64": base64::engine::general_purpose::STANDARD.encode(b) }),
    }
}

fn from_json(v: &Value) -> Result<Cell, String> {
    Ok(match v {
        Value::Null => Cell::Null,
        Value::Bool(b) => Cell::Integer(*b as i64),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Cell::Integer(i),
            None => Cell::Real(n.as_f64().ok_or("number out of range")?),
        },
        Value::String(s) => Cell::Text(s.clone()),
        Value::Object(o) if o.len() == 1 && o.get("base64").is_some_and(Value::is_string) => {
            Cell::Blob(
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
            "schema_version": self.schema_version,
            "exported_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "tables": tables,
            "sequences": self.sequences,
        })
    }

    /// Parses and validates an export document's shape (the store checks it against its
    /// schema when it applies it).
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
        let schema_version = obj
            .get("schema_version")
            .and_then(Value::as_i64)
            .ok_or("\"schema_version\" must be an integer")?;
        let mut image = Image {
            schema_version,
            ..Image::default()
        };
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

    /// How many rows `table` holds in the image.
    pub fn rows(&self, table: &str) -> usize {
        self.tables.get(table).map_or(0, |t| t.rows.len())
    }

    /// Takes `other`'s tables (and their counters) in place of this image's.
    pub fn overlay(&mut self, other: Image) {
        for (name, table) in other.tables {
            match other.sequences.get(&name) {
                Some(s) => self.sequences.insert(name.clone(), *s),
                None => self.sequences.remove(&name),
            };
            self.tables.insert(name, table);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_and_foreign_documents() {
        let mut image = Image {
            schema_version: 2,
            ..Image::default()
        };
        image.tables.insert(
            "t".into(),
            Table {
                columns: vec!["a".into(), "b".into()],
                rows: vec![
                    vec![Cell::Integer(1), Cell::Text("x".into())],
                    vec![Cell::Blob(vec![0, 255]), Cell::Null],
                    vec![Cell::Real(0.5), Cell::Null],
                ],
            },
        );
        image.sequences.insert("t".into(), 7);
        assert_eq!(Image::from_json(&image.to_json()).unwrap(), image);
        assert!(Image::from_json(&json!({"format": "x"})).is_err());
        assert!(Image::from_json(&json!({"format": FORMAT, "version": 2})).is_err());
    }

    #[test]
    fn overlay_takes_tables_and_their_counters() {
        let table = |n: i64| Table {
            columns: vec!["id".into()],
            rows: vec![vec![Cell::Integer(n)]],
        };
        let mut base = Image::default();
        base.tables.insert("a".into(), table(1));
        base.tables.insert("keys".into(), table(1));
        base.sequences.insert("keys".into(), 1);
        let mut other = Image::default();
        other.tables.insert("keys".into(), table(9));
        base.overlay(other);
        assert_eq!(base.tables["keys"], table(9));
        assert_eq!(base.tables["a"], table(1));
        assert!(!base.sequences.contains_key("keys"));
    }
}
