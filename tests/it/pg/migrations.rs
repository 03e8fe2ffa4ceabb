//! The PostgreSQL schema: migrated once however many processes start together, idempotent,
//! numbered as SQLite's, and refusing databases that are not novakeys' or are newer.

use novakeys::store::{Durability, StoreError};

fn open(conn: &str) -> Result<std::sync::Arc<dyn novakeys::store::Store>, StoreError> {
    novakeys::store::open(conn, Durability::Normal)
}

#[test]
fn processes_starting_together_migrate_once_and_reopening_changes_nothing() {
    let conn = super::fresh_database();
    let db = super::name_of(&conn).to_string();
    let opened: Vec<_> = (0..4)
        .map(|_| {
            let conn = conn.clone();
            std::thread::spawn(move || open(&conn).map(|_| ()))
        })
        .collect();
    for t in opened {
        t.join().unwrap().expect("every concurrent start succeeds");
    }
    let version = super::server().psql_in(&db, "SELECT version FROM nk_schema");
    assert_eq!(
        version.trim(),
        novakeys::store::postgres::migrations::LATEST.to_string()
    );
    assert_eq!(
        novakeys::store::postgres::migrations::LATEST,
        novakeys::store::sqlite::migrations::LATEST,
        "one numbering for both backends"
    );
    assert_eq!(
        super::server()
            .psql_in(&db, "SELECT count(*) FROM nk_schema")
            .trim(),
        "1"
    );
    open(&conn).unwrap();
}

#[test]
fn a_foreign_or_newer_database_is_refused() {
    let conn = super::fresh_database();
    let db = super::name_of(&conn).to_string();
    super::server().psql_in(&db, "CREATE TABLE theirs (x int)");
    let err = open(&conn).err().expect("refused");
    assert!(
        matches!(&err, StoreError::Incompatible(m) if m.contains("not a novakeys database")),
        "{err}"
    );

    let conn = super::fresh_database();
    let db = super::name_of(&conn).to_string();
    open(&conn).unwrap();
    super::server().psql_in(&db, "UPDATE nk_schema SET version = 99");
    let err = open(&conn).err().expect("refused");
    assert!(
        matches!(&err, StoreError::Incompatible(m) if m.contains("newer")),
        "{err}"
    );
}
