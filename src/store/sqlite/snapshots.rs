//! # Named snapshots of the whole state
//!
//! Kept next to the database file (`<db>.snapshots/<name>.db`, written with `VACUUM INTO` on
//! the writer connection, so no write can interleave), or in memory for `:memory:` stores.
//! Restoring replaces the state in one transaction.

use super::engine::Engine;
use super::migrations::LATEST;
use super::state;
use crate::store::image::Image;
use crate::store::{valid_snapshot_name as valid_name, SnapshotInfo, StoreError};
use rusqlite::{Connection, OpenFlags};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

pub enum Snapshots {
    Dir(PathBuf),
    Memory(Mutex<BTreeMap<String, (String, Image)>>),
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn io(e: impl std::fmt::Display) -> StoreError {
    StoreError::Io(e.to_string())
}

impl Snapshots {
    pub fn for_file(db: Option<&std::path::Path>) -> Snapshots {
        match db {
            Some(p) => {
                let mut dir = p.as_os_str().to_owned();
                dir.push(".snapshots");
                Snapshots::Dir(PathBuf::from(dir))
            }
            None => Snapshots::Memory(Mutex::new(BTreeMap::new())),
        }
    }

    fn file(dir: &std::path::Path, name: &str) -> PathBuf {
        dir.join(format!("{name}.db"))
    }

    /// Saves (or replaces) `name`.
    pub fn save(&self, store: &Engine, name: &str) -> Result<SnapshotInfo, StoreError> {
        match self {
            Snapshots::Dir(dir) => {
                std::fs::create_dir_all(dir).map_err(io)?;
                let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
                let target = Self::file(dir, name);
                let tmp_s = tmp.to_string_lossy().into_owned();
                store.write(|c| {
                    c.execute("VACUUM INTO ?1", [&tmp_s])?;
                    Ok(())
                })?;
                std::fs::rename(&tmp, &target).map_err(|e| {
                    let _ = std::fs::remove_file(&tmp);
                    io(e)
                })?;
                Ok(SnapshotInfo {
                    name: name.to_string(),
                    created_at: now(),
                    size: None,
                })
            }
            Snapshots::Memory(map) => {
                let image = store.write(|c| state::capture(c))?;
                let created = now();
                map.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(name.to_string(), (created.clone(), image));
                Ok(SnapshotInfo {
                    name: name.to_string(),
                    created_at: created,
                    size: None,
                })
            }
        }
    }

    /// The image of `name` (None: no such snapshot).
    pub fn image(&self, name: &str) -> Result<Option<Image>, StoreError> {
        match self {
            Snapshots::Dir(dir) => {
                let path = Self::file(dir, name);
                if !path.is_file() {
                    return Ok(None);
                }
                let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
                let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
                if v > LATEST {
                    return Err(StoreError::Incompatible(format!(
                        "snapshot {name} has schema version {v}, this binary {LATEST}"
                    )));
                }
                // An older snapshot is read at its own version; applying it migrates it.
                let mut image = state::capture(&conn)?;
                image.schema_version = v;
                Ok(Some(image))
            }
            Snapshots::Memory(map) => Ok(map
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(name)
                .map(|(_, i)| i.clone())),
        }
    }

    pub fn delete(&self, name: &str) -> Result<bool, StoreError> {
        match self {
            Snapshots::Dir(dir) => match std::fs::remove_file(Self::file(dir, name)) {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
                Err(e) => Err(io(e)),
            },
            Snapshots::Memory(map) => Ok(map
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(name)
                .is_some()),
        }
    }

    pub fn list(&self) -> Result<Vec<SnapshotInfo>, StoreError> {
        match self {
            Snapshots::Dir(dir) => {
                let mut out = Vec::new();
                let entries = match std::fs::read_dir(dir) {
                    Ok(e) => e,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
                    Err(e) => return Err(io(e)),
                };
                for entry in entries {
                    let entry = entry.map_err(io)?;
                    let file = entry.file_name().to_string_lossy().into_owned();
                    let Some(name) = file.strip_suffix(".db") else {
                        continue;
                    };
                    if !valid_name(name) {
                        continue;
                    }
                    let meta = entry.metadata().map_err(io)?;
                    let created = meta
                        .modified()
                        .ok()
                        .map(|t| {
                            chrono::DateTime::<chrono::Utc>::from(t)
                                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                        })
                        .unwrap_or_default();
                    out.push(SnapshotInfo {
                        name: name.to_string(),
                        created_at: created,
                        size: Some(meta.len()),
                    });
                }
                out.sort_by(|a, b| a.name.cmp(&b.name));
                Ok(out)
            }
            Snapshots::Memory(map) => Ok(map
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|(n, (c, _))| SnapshotInfo {
                    name: n.clone(),
                    created_at: c.clone(),
                    size: None,
                })
                .collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("before-test_1.a"));
        assert!(!valid_name(""));
        assert!(!valid_name(".."));
        assert!(!valid_name("a/b"));
        assert!(!valid_name(&"x".repeat(65)));
    }
}
