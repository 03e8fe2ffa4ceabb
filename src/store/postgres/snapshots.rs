//! # Named snapshots in the database
//!
//! `nk_snapshots`: one row per name holding the image's export document (the backend-neutral
//! form), so every process on the database sees the same snapshots. Saving reads the state in
//! one consistent snapshot; restoring applies the image in one transaction.

use super::state::capture_consistent;
use super::PgStore;
use crate::store::image::Image;
use crate::store::{SnapshotInfo, StoreError};

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Saves (or replaces) `name`.
pub fn save(store: &PgStore, name: &str) -> Result<SnapshotInfo, StoreError> {
    let name = name.to_string();
    let created = now();
    let (n, c) = (name.clone(), created.clone());
    store.block_state(move |inner| async move {
        let image = capture_consistent(&inner, &|_| true).await?;
        let doc = image.to_json().to_string();
        let conn = inner.pool.get().await?;
        conn.execute(
            "INSERT INTO nk_snapshots (name, created_at, image) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET created_at = EXCLUDED.created_at,
                                              image = EXCLUDED.image",
            &[&n, &c, &doc],
        )
        .await?;
        Ok(())
    })?;
    Ok(SnapshotInfo {
        name,
        created_at: created,
        size: None,
    })
}

/// The image of `name` (None: no such snapshot).
pub fn image(store: &PgStore, name: &str) -> Result<Option<Image>, StoreError> {
    let name = name.to_string();
    let doc: Option<String> = store.block_state(move |inner| async move {
        let conn = inner.pool.get().await?;
        Ok(conn
            .query_opt("SELECT image FROM nk_snapshots WHERE name = $1", &[&name])
            .await?
            .map(|r| r.try_get(0))
            .transpose()?)
    })?;
    let Some(doc) = doc else { return Ok(None) };
    let value: serde_json::Value =
        serde_json::from_str(&doc).map_err(|e| StoreError::Incompatible(e.to_string()))?;
    Image::from_json(&value)
        .map(Some)
        .map_err(StoreError::Incompatible)
}

pub fn delete(store: &PgStore, name: &str) -> Result<bool, StoreError> {
    let name = name.to_string();
    store.block_state(move |inner| async move {
        let conn = inner.pool.get().await?;
        Ok(conn
            .execute("DELETE FROM nk_snapshots WHERE name = $1", &[&name])
            .await?
            > 0)
    })
}

/// By name; the size is the stored document's.
pub fn list(store: &PgStore) -> Result<Vec<SnapshotInfo>, StoreError> {
    store.block_state(|inner| async move {
        let conn = inner.pool.get().await?;
        conn.query(
            "SELECT name, created_at, octet_length(image)::bigint FROM nk_snapshots
              ORDER BY name",
            &[],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(SnapshotInfo {
                name: r.try_get(0)?,
                created_at: r.try_get(1)?,
                size: Some(r.try_get::<_, i64>(2)? as u64),
            })
        })
        .collect()
    })
}
