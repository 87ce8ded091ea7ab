//! Where `imgsize scan`'s records are kept and read back for `imgsize fleet`: files of
//! JSON lines, and runs in Redis (`redis://host:port/db/RUN`), where every worker of a
//! fleet scan pushes its records (docs/fleet.md). In a run, an image's record is kept
//! under its digest (a pod that retries adds no duplicate), each name points at the
//! digest it was read as (a restarted worker skips the names already read), and an
//! error is kept under its name until the name is read. Also the saved fleet report a
//! next one is compared with (`--baseline`).

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::model::fleet::Fleet;
use crate::model::record::Record;
use crate::model::text::url_shown;

/// How long a connection attempt or one command may take.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a run's keys live after its last record: 30 days.
pub const RUN_TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// The longest run name.
const RUN_NAME_MAX: usize = 128;

/// Whether an output or a source names a Redis run rather than a file.
pub fn is_run(text: &str) -> bool {
    text.starts_with("redis://")
}

/// Records from a reader of JSON lines; blank lines are skipped, a line that is no
/// record is an error naming `from` and the line.
pub fn read_lines(reader: impl Read, from: &str) -> Result<Vec<Record>> {
    let mut records = Vec::new();
    for (n, line) in BufReader::new(reader).lines().enumerate() {
        let line = line.map_err(|e| Error::io(from, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let record = serde_json::from_str(&line).map_err(|e| {
            Error::json(
                format!("{from}: line {}", n + 1),
                format!("not an imgsize scan record: {e}"),
            )
        })?;
        records.push(record);
    }
    Ok(records)
}

/// A saved fleet report (`imgsize fleet --format json`), as the baseline of the next.
pub fn read_fleet(reader: impl Read, from: &str) -> Result<Fleet> {
    let value: serde_json::Value =
        serde_json::from_reader(BufReader::new(reader)).map_err(|e| Error::json(from, e))?;
    if value.get("kind").and_then(|k| k.as_str()) != Some("fleet") {
        return Err(Error::invalid(
            from,
            "not a fleet report (no \"kind\": \"fleet\"); save one with imgsize fleet --format json",
        ));
    }
    serde_json::from_value(value).map_err(|e| Error::json(from, e))
}

/// A run of records in Redis.
pub struct Run {
    /// The URL as messages show it (no password).
    shown: String,
    conn: redis::Connection,
    /// `imgsize:run:<name>:`.
    prefix: String,
}

/// `redis://[user:password@]host[:port]/[db/]RUN`: the database URL and the run name.
fn split_url(url: &str) -> std::result::Result<(String, String), String> {
    let rest = url
        .strip_prefix("redis://")
        .ok_or("a run is redis://host:port/db/RUN")?;
    let (authority, path) = rest
        .split_once('/')
        .ok_or("the URL names no run: redis://host:port/db/RUN")?;
    let parts: Vec<&str> = path.split('/').collect();
    let (db, run) = match parts.as_slice() {
        [run] => ("0", *run),
        [db, run] if db.parse::<u32>().is_ok() => (*db, *run),
        _ => {
            return Err(
                "a run is redis://host:port/db/RUN (a database number, then a name)".into(),
            );
        }
    };
    let good = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if run.is_empty() || run.len() > RUN_NAME_MAX || !run.chars().all(good) {
        return Err(format!(
            "the run name must be 1 to {RUN_NAME_MAX} letters, digits, `.`, `_` or `-`"
        ));
    }
    Ok((format!("redis://{authority}/{db}"), run.to_string()))
}

impl Run {
    /// Connect to the run at `url`.
    pub fn open(url: &str) -> Result<Run> {
        let shown = url_shown(url);
        let bad = |message: String| Error::Run {
            run: shown.clone(),
            message,
        };
        let (db, name) = split_url(url).map_err(bad)?;
        let connect = || -> redis::RedisResult<redis::Connection> {
            let conn = redis::Client::open(db.as_str())?.get_connection_with_timeout(IO_TIMEOUT)?;
            conn.set_read_timeout(Some(IO_TIMEOUT))?;
            conn.set_write_timeout(Some(IO_TIMEOUT))?;
            Ok(conn)
        };
        let conn = connect().map_err(|e| bad(format!("cannot reach Redis: {e}")))?;
        Ok(Run {
            shown: shown.clone(),
            conn,
            prefix: format!("imgsize:run:{name}:"),
        })
    }

    /// The URL, as messages show it.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    fn key(&self, what: &str) -> String {
        format!("{}{what}", self.prefix)
    }

    fn failed(&self, doing: &str, e: redis::RedisError) -> Error {
        Error::Run {
            run: self.shown.clone(),
            message: format!("cannot {doing}: {e}"),
        }
    }

    /// The names the run has read already (errors are read again).
    pub fn done(&mut self) -> Result<HashSet<String>> {
        let names: Vec<String> = redis::cmd("HKEYS")
            .arg(self.key("names"))
            .query(&mut self.conn)
            .map_err(|e| self.failed("read the run's names", e))?;
        Ok(names.into_iter().collect())
    }

    /// Keep a record: an image under its digest, with its name pointing there and any
    /// earlier error of the name dropped; an error under its name. `json` is the
    /// record's line.
    pub fn put(&mut self, record: &Record, json: &str) -> Result<()> {
        let ttl = RUN_TTL.as_secs();
        let (images, names, errors) = (self.key("images"), self.key("names"), self.key("errors"));
        let mut pipe = redis::pipe();
        pipe.atomic();
        match record {
            Record::Image(r) => {
                pipe.hset(&images, r.key(), json)
                    .hset(&names, &r.name, r.key())
                    .hdel(&errors, &r.name);
            }
            Record::Error(e) => {
                pipe.hset(&errors, &e.name, json);
            }
        }
        for key in [&images, &names, &errors] {
            pipe.expire(key, ttl as i64);
        }
        pipe.query::<()>(&mut self.conn)
            .map_err(|e| self.failed("write the record", e))
    }

    /// Every record of the run: the images by digest, then the errors by name.
    pub fn records(&mut self) -> Result<Vec<Record>> {
        let mut records = Vec::new();
        for what in ["images", "errors"] {
            let all: BTreeMap<String, String> = redis::cmd("HGETALL")
                .arg(self.key(what))
                .query(&mut self.conn)
                .map_err(|e| self.failed("read the run's records", e))?;
            for (field, json) in all {
                let record = serde_json::from_str(&json).map_err(|e| {
                    Error::json(
                        format!("{}: {what} {field}", self.shown),
                        format!("not an imgsize scan record: {e}"),
                    )
                })?;
                records.push(record);
            }
        }
        Ok(records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_url_names_the_database_and_the_run() {
        assert_eq!(
            split_url("redis://h:6379/2/nightly-2026.12.07"),
            Ok(("redis://h:6379/2".into(), "nightly-2026.12.07".into()))
        );
        assert_eq!(
            split_url("redis://u:p@h/run1"),
            Ok(("redis://u:p@h/0".into(), "run1".into()))
        );
        for bad in [
            "redis://h:6379",
            "redis://h/",
            "redis://h/x/run",
            "redis://h/0/a b",
            "redis://h/0/a/b",
            "http://h/0/run",
        ] {
            assert!(split_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lines_are_records_and_a_bad_line_is_named() {
        let text = "{\"kind\":\"error\",\"schema_version\":1,\"name\":\"a\",\"error\":\"e\"}\n\n";
        let records = read_lines(text.as_bytes(), "r.jsonl").expect("read");
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].name(), "a");
        let err = read_lines("{}\n".as_bytes(), "r.jsonl").expect_err("bad");
        assert!(err.to_string().starts_with("r.jsonl: line 1"), "{err}");
    }
}
