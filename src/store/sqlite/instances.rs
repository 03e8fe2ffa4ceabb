//! # The instance registry in SQLite
//!
//! `instances`: a key pair binding is an id that goes `NULL` when the key pair is deleted (the
//! foreign key's `ON DELETE SET NULL`), and the name the instance was given stays.

use super::SqliteStore;
use crate::store::instances::{Instance, Os, State};
use crate::store::{BoxFuture, InstanceStore, StoreError};
use rusqlite::{params, Connection, OptionalExtension, Row};

const COLUMNS: &str =
    "id, cloud, name, user_id, project_id, region, os, state, key_pair_id, key_pair_name, created_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Instance> {
    let os: String = r.get(6)?;
    let state: String = r.get(7)?;
    Ok(Instance {
        id: r.get(0)?,
        cloud: r.get(1)?,
        name: r.get(2)?,
        user_id: r.get(3)?,
        project_id: r.get(4)?,
        region: r.get(5)?,
        os: Os::parse(&os).unwrap_or(Os::Linux),
        state: State::parse(&state).unwrap_or(State::Running),
        key_pair_id: r.get(8)?,
        key_pair_name: r.get(9)?,
        created_at: r.get(10)?,
    })
}

fn insert(c: &Connection, i: &Instance) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO instances (id, cloud, name, user_id, project_id, region, os, state,
                                key_pair_id, key_pair_name, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        i.id,
        i.cloud,
        i.name,
        i.user_id,
        i.project_id,
        i.region,
        i.os.as_str(),
        i.state.as_str(),
        i.key_pair_id,
        i.key_pair_name,
        i.created_at
    ])
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Duplicate
        }
        e => e.into(),
    })?;
    Ok(())
}

fn get(c: &Connection, id: &str) -> Result<Option<Instance>, StoreError> {
    Ok(
        c.prepare_cached(&format!("SELECT {COLUMNS} FROM instances WHERE id = ?1"))?
            .query_row([id], from_row)
            .optional()?,
    )
}

fn list(c: &Connection, cloud: Option<&str>) -> Result<Vec<Instance>, StoreError> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM instances WHERE ?1 IS NULL OR cloud = ?1 ORDER BY seq"
    ))?;
    let rows = stmt.query_map([cloud], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn changed(n: usize) -> Result<(), StoreError> {
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

fn bind(c: &Connection, id: &str, key_pair: &Option<(i64, String)>) -> Result<(), StoreError> {
    let (kp, name) = match key_pair {
        Some((kp, name)) => (Some(*kp), Some(name.as_str())),
        None => (None, None),
    };
    let n = c
        .prepare_cached(
            "UPDATE instances SET key_pair_id = ?2, key_pair_name = ?3 WHERE id = ?1
               AND (?2 IS NULL OR EXISTS (SELECT 1 FROM key_pairs WHERE id = ?2))",
        )?
        .execute(params![id, kp, name])?;
    changed(n)
}

fn ready<T: Send + 'static>(v: T) -> BoxFuture<'static, T> {
    Box::pin(std::future::ready(v))
}

impl InstanceStore for SqliteStore {
    fn insert_instance(&self, i: Instance) -> BoxFuture<'static, Result<(), StoreError>> {
        let engine = self.engine.clone();
        Box::pin(async move { engine.write_grouped_async(move |c| insert(c, &i)).await })
    }

    fn get_instance(&self, id: &str) -> BoxFuture<'static, Result<Option<Instance>, StoreError>> {
        ready(self.engine.read(|c| get(c, id)))
    }

    fn list_instances(
        &self,
        cloud: Option<&str>,
    ) -> BoxFuture<'static, Result<Vec<Instance>, StoreError>> {
        ready(self.engine.read(|c| list(c, cloud)))
    }

    fn delete_instance(&self, id: &str) -> BoxFuture<'static, Result<(), StoreError>> {
        let engine = self.engine.clone();
        let id = id.to_string();
        Box::pin(async move {
            engine
                .write_grouped_async(move |c| {
                    changed(
                        c.prepare_cached("DELETE FROM instances WHERE id = ?1")?
                            .execute([&id])?,
                    )
                })
                .await
        })
    }

    fn bind_instance(
        &self,
        id: &str,
        key_pair: Option<(i64, String)>,
    ) -> BoxFuture<'static, Result<(), StoreError>> {
        let engine = self.engine.clone();
        let id = id.to_string();
        Box::pin(async move {
            engine
                .write_grouped_async(move |c| bind(c, &id, &key_pair))
                .await
        })
    }

    fn set_instance_state(
        &self,
        id: &str,
        state: State,
    ) -> BoxFuture<'static, Result<(), StoreError>> {
        let engine = self.engine.clone();
        let id = id.to_string();
        Box::pin(async move {
            engine
                .write_grouped_async(move |c| {
                    changed(
                        c.prepare_cached("UPDATE instances SET state = ?2 WHERE id = ?1")?
                            .execute(params![id, state.as_str()])?,
                    )
                })
                .await
        })
    }
}
