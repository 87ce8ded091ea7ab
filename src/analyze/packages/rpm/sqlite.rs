//! rpm's SQLite database, `rpmdb.sqlite` (Fedora ≥ 33, RHEL/UBI 9): the rows of
//! `Packages(hnum, blob)`, read with SQLite itself (the `rusqlite` crate, bundled)
//! from a copy in memory: nothing of an image is written to disk. rpm keeps the file
//! in WAL mode; it is opened as a plain rollback-journal file (a checkpointed WAL
//! holds nothing more: rpm checkpoints when it closes the database).

use rusqlite::{Connection, OpenFlags};

/// The header blobs, by header number.
pub(super) fn blobs(data: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if data.len() < 100 || !data.starts_with(b"SQLite format 3\0") {
        return Err("not an SQLite database".into());
    }
    let mut copy = data.to_vec();
    // File format versions: 2 (WAL) cannot be opened from memory; 1 reads the same
    // pages.
    copy[18] = 1;
    copy[19] = 1;
    let err = |e: rusqlite::Error| e.to_string();
    let mut db = Connection::open_with_flags(
        ":memory:",
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(err)?;
    db.deserialize_read_exact("main", copy.as_slice(), copy.len(), true)
        .map_err(err)?;
    let mut rows = db
        .prepare("SELECT blob FROM Packages ORDER BY hnum")
        .map_err(err)?;
    let blobs = rows
        .query_map([], |r| r.get::<_, Vec<u8>>(0))
        .map_err(err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    Ok(blobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_rows_are_read_from_memory() {
        let mut db = Connection::open_in_memory().expect("memory");
        db.execute_batch(
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);
             INSERT INTO Packages (blob) VALUES (x'0102'), (x'03');",
        )
        .expect("fill");
        let bytes = db.serialize("main").expect("serialize").to_vec();
        assert_eq!(blobs(&bytes).expect("reads"), vec![vec![1, 2], vec![3]]);
        drop(db);
        assert!(blobs(b"SQLite format 3\0 but nothing else").is_err());
        for cut in [100, 512, 1024, bytes.len() - 1] {
            let _ = blobs(&bytes[..cut.min(bytes.len())]);
        }
        let mut bad = bytes.clone();
        for b in bad.iter_mut().skip(100).step_by(3) {
            *b ^= 0x33;
        }
        let _ = blobs(&bad);
    }
}
