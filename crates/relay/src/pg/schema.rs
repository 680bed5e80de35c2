//! The PostgreSQL schema's versions, as the SQLite store keeps its own: a
//! `schema_version` table, and migrations run in order, each in its own
//! transaction, under an advisory lock so that nodes starting together do
//! not run them twice. A database made before versions existed (the tables
//! without `schema_version`) is version 1. A database newer than this relay
//! is refused with both versions named, before anything is written.

use samizdat_store::{StoreError, StoreResult};
use tokio_postgres::Client;

use super::backend;

/// Migrations, oldest first: `MIGRATIONS[i]` takes version `i` to `i + 1`.
pub(super) const MIGRATIONS: &[&str] = &[super::SCHEMA];

/// The version this relay writes.
pub const LATEST: i32 = MIGRATIONS.len() as i32;

/// The lock every node takes while it migrates.
const LOCK: i64 = 7771;

/// Brings the database (the connection's schema) to [`LATEST`]; the version
/// it found.
pub(super) async fn migrate(client: &mut Client, schema: Option<&str>) -> StoreResult<i32> {
    let err = backend("migrating the schema");
    if let Some(schema) = schema {
        // Checked by `connect::target`: letters, digits and `_`.
        client
            .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .await
            .map_err(backend("choosing the schema"))?;
    }
    client
        .execute("SELECT pg_advisory_lock($1)", &[&LOCK])
        .await
        .map_err(&err)?;
    let result = migrate_locked(client).await;
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&LOCK])
        .await
        .map_err(&err);
    let found = result?;
    unlocked?;
    Ok(found)
}

async fn migrate_locked(client: &mut Client) -> StoreResult<i32> {
    let err = backend("migrating the schema");
    client
        .batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        .await
        .map_err(&err)?;
    let stored: Option<i32> = client
        .query_one("SELECT max(version) FROM schema_version", &[])
        .await
        .map_err(&err)?
        .get(0);
    let found = match stored {
        Some(v) => v,
        None => {
            // Before versions: the events table means version 1.
            let old: bool = client
                .query_one("SELECT to_regclass('events') IS NOT NULL", &[])
                .await
                .map_err(&err)?
                .get(0);
            i32::from(old)
        }
    };
    if found > LATEST {
        return Err(StoreError::Backend {
            operation: "opening the database",
            message: format!(
                "its schema is version {found}, newer than this relay knows ({LATEST}): upgrade samizdat"
            ),
        });
    }
    for (i, migration) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        let next = i as i32 + 1;
        let tx = client.transaction().await.map_err(&err)?;
        tx.batch_execute(migration).await.map_err(&err)?;
        tx.execute("DELETE FROM schema_version", &[])
            .await
            .map_err(&err)?;
        tx.execute("INSERT INTO schema_version (version) VALUES ($1)", &[&next])
            .await
            .map_err(&err)?;
        tx.commit().await.map_err(&err)?;
        tracing::info!(version = next, "database schema migrated");
    }
    if stored.is_none() && found == LATEST {
        client
            .execute(
                "INSERT INTO schema_version (version) VALUES ($1)",
                &[&LATEST],
            )
            .await
            .map_err(&err)?;
    }
    Ok(found)
}
