//! # The instance registry in PostgreSQL
//!
//! As `sqlite::instances`: a binding is a key pair id that goes `NULL` when the key pair is
//! deleted (`ON DELETE SET NULL`); the name the instance was given stays. Instance writes
//! move the key pair token, like every write of the SQLite store's writer.

use super::{bump, changed, constraint, Inner, Kind, PgStore};
use crate::store::instances::{Instance, Os, State};
use crate::store::{BoxFuture, InstanceStore, StoreError};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

const COLUMNS: &str =
    "id, cloud, name, user_id, project_id, region, os, state, key_pair_id, key_pair_name, created_at";

fn from_row(r: &Row) -> Result<Instance, StoreError> {
    let os: String = r.try_get(6)?;
    let state: String = r.try_get(7)?;
    Ok(Instance {
        id: r.try_get(0)?,
        cloud: r.try_get(1)?,
        name: r.try_get(2)?,
        user_id: r.try_get(3)?,
        project_id: r.try_get(4)?,
        region: r.try_get(5)?,
        os: Os::parse(&os).unwrap_or(Os::Linux),
        state: State::parse(&state).unwrap_or(State::Running),
        key_pair_id: r.try_get(8)?,
        key_pair_name: r.try_get(9)?,
        created_at: r.try_get(10)?,
    })
}

/// One statement in a transaction that also moves the key pair counter; the rows it touched.
async fn write(
    inner: &Inner,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64, StoreError> {
    let mut conn = inner.pool.get().await?;
    let tx = conn.transaction().await?;
    let st = tx.prepare_cached(sql).await?;
    let n = match tx.execute(&st, params).await {
        Ok(n) => n,
        // What no row can hold, no row matches (an id with a NUL in it).
        Err(e) if super::unmatchable(&e) && !sql.trim_start().starts_with("INSERT") => 0,
        Err(e) => return Err(constraint(e)),
    };
    if n == 0 {
        // Nothing written (the transaction rolls back as it goes).
        return Ok(0);
    }
    let committed: Result<i64, StoreError> = async move {
        let counter = bump(&tx, Kind::Keypairs).await?;
        tx.commit().await?;
        Ok(counter)
    }
    .await;
    inner.after(Kind::Keypairs, &committed);
    inner.committed(Kind::Keypairs, committed?);
    Ok(n)
}

impl InstanceStore for PgStore {
    fn insert_instance(&self, i: Instance) -> BoxFuture<'static, Result<(), StoreError>> {
        self.spawn(move |inner| async move {
            write(
                &inner,
                "INSERT INTO instances (id, cloud, name, user_id, project_id, region, os, state,
                                        key_pair_id, key_pair_name, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                &[
                    &i.id,
                    &i.cloud,
                    &i.name,
                    &i.user_id,
                    &i.project_id,
                    &i.region,
                    &i.os.as_str(),
                    &i.state.as_str(),
                    &i.key_pair_id,
                    &i.key_pair_name,
                    &i.created_at,
                ],
            )
            .await
            .map(|_| ())
        })
    }

    fn get_instance(&self, id: &str) -> BoxFuture<'static, Result<Option<Instance>, StoreError>> {
        let id = id.to_string();
        self.spawn(move |inner| async move {
            let conn = inner.pool.get().await?;
            let st = conn
                .prepare_cached(&format!("SELECT {COLUMNS} FROM instances WHERE id = $1"))
                .await?;
            super::found(conn.query_opt(&st, &[&id]).await)?
                .as_ref()
                .map(from_row)
                .transpose()
        })
    }

    fn list_instances(
        &self,
        cloud: Option<&str>,
    ) -> BoxFuture<'static, Result<Vec<Instance>, StoreError>> {
        let cloud = cloud.map(str::to_string);
        self.spawn(move |inner| async move {
            let conn = inner.pool.get().await?;
            let st = conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM instances WHERE $1::text IS NULL OR cloud = $1
                      ORDER BY seq"
                ))
                .await?;
            super::found(conn.query(&st, &[&cloud]).await)?
                .iter()
                .map(from_row)
                .collect()
        })
    }

    fn delete_instance(&self, id: &str) -> BoxFuture<'static, Result<(), StoreError>> {
        let id = id.to_string();
        self.spawn(move |inner| async move {
            changed(write(&inner, "DELETE FROM instances WHERE id = $1", &[&id]).await?)
        })
    }

    fn bind_instance(
        &self,
        id: &str,
        key_pair: Option<(i64, String)>,
    ) -> BoxFuture<'static, Result<(), StoreError>> {
        let id = id.to_string();
        self.spawn(move |inner| async move {
            let (kp, name) = match key_pair {
                Some((kp, name)) => (Some(kp), Some(name)),
                None => (None, None),
            };
            changed(
                write(
                    &inner,
                    "UPDATE instances SET key_pair_id = $2, key_pair_name = $3 WHERE id = $1
                       AND ($2::bigint IS NULL OR EXISTS (SELECT 1 FROM key_pairs WHERE id = $2))",
                    &[&id, &kp, &name],
                )
                .await?,
            )
        })
    }

    fn set_instance_state(
        &self,
        id: &str,
        state: State,
    ) -> BoxFuture<'static, Result<(), StoreError>> {
        let id = id.to_string();
        self.spawn(move |inner| async move {
            changed(
                write(
                    &inner,
                    "UPDATE instances SET state = $2 WHERE id = $1",
                    &[&id, &state.as_str()],
                )
                .await?,
            )
        })
    }
}
