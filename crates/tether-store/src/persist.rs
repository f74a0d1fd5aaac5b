//! The redb side: the file format, loading it on open, and committing a batch.
//!
//! Tables:
//! - `objects`: key → (revision, JSON) for every live object.
//! - `events`: revision → (kind, key, previous (revision, JSON)), exactly the revisions
//!   `history_floor + 1 ..= revision`: an undo log. Each event's new state is the key's current
//!   object or the previous state of its next event, so loading walks the log from the newest
//!   event back, and every persisted event can be replayed and undone after a restart. An update
//!   writes its JSON twice (object, and as the next event's previous), a create or delete once.
//! - `meta`: `format`, `revision`, `history_floor`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use redb::{
    Builder, Database, Durability, ReadableDatabase, ReadableTable, TableDefinition,
    backends::InMemoryBackend,
};

use crate::{Error, Event, EventKind, Object, StoreConfig};

/// (kind, key, previous state as (revision, JSON)). The new state is not stored: it is the
/// current object, or the previous state of the key's next event, which the history always
/// holds because the history is a suffix of the log.
type EventRecord<'a> = (u8, &'a str, Option<(u64, &'a [u8])>);

const OBJECTS: TableDefinition<&str, (u64, &[u8])> = TableDefinition::new("objects");
const EVENTS: TableDefinition<u64, EventRecord> = TableDefinition::new("events");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

const FORMAT: u64 = 1;

/// Where the store lives, for error messages.
pub(crate) fn location(config: &StoreConfig) -> String {
    match &config.path {
        Some(path) => path.display().to_string(),
        None => "(in memory)".to_owned(),
    }
}

fn storage<'a>(path: &'a str, operation: &'static str) -> impl FnOnce(redb::Error) -> Error + 'a {
    move |source| Error::Storage {
        path: path.to_owned(),
        operation,
        source: Box::new(source),
    }
}

/// Shorthand: any redb error into [`Error::Storage`].
macro_rules! io {
    ($path:expr, $op:literal, $e:expr) => {
        $e.map_err(|e| storage($path, $op)(e.into()))
    };
}

pub(crate) fn open(config: &StoreConfig, path: &str) -> Result<Database, Error> {
    let mut builder = Builder::new();
    builder.set_cache_size(config.cache_size);
    builder.set_check_integrity_on_open(config.verify_on_open);
    let opened = match &config.path {
        Some(file) => builder.create(file),
        None => builder.create_with_backend(InMemoryBackend::new()),
    };
    opened.map_err(|source| Error::Open {
        path: path.to_owned(),
        source,
    })
}

/// What a file holds, ready to become the in-memory state.
pub(crate) struct Loaded {
    pub(crate) index: BTreeMap<String, Arc<Object>>,
    pub(crate) history: VecDeque<Arc<Event>>,
    pub(crate) revision: u64,
    pub(crate) floor: u64,
}

/// Creates the tables of a new file (or checks the format of an existing one) and loads it.
pub(crate) fn load(db: &Database, path: &str) -> Result<Loaded, Error> {
    init(db, path)?;
    let txn = io!(path, "begin read", db.begin_read())?;
    let meta = io!(path, "open table meta", txn.open_table(META))?;
    let read_meta = |name: &'static str| -> Result<u64, Error> {
        let value = io!(path, "read meta", meta.get(name))?;
        Ok(value.map(|v| v.value()).unwrap_or(0))
    };
    let revision = read_meta("revision")?;
    let floor = read_meta("history_floor")?;
    if floor > revision {
        return Err(corrupt(
            path,
            "meta",
            "history_floor",
            format!("history floor {floor} is after the last revision {revision}"),
        ));
    }

    let mut index = BTreeMap::new();
    let objects = io!(path, "open table objects", txn.open_table(OBJECTS))?;
    for entry in io!(path, "read objects", objects.iter())? {
        let (key, value) = io!(path, "read objects", entry)?;
        let key = key.value();
        let (object_revision, json) = value.value();
        if object_revision == 0 || object_revision > revision {
            return Err(corrupt(
                path,
                "objects",
                key,
                format!("revision {object_revision} is outside 1..={revision}"),
            ));
        }
        let object = Object::decode(key, object_revision, json)
            .map_err(|reason| corrupt(path, "objects", key, reason))?;
        index.insert(key.to_owned(), Arc::new(object));
    }

    let history = load_events(&txn, path, &index, floor, revision)?;
    Ok(Loaded {
        index,
        history,
        revision,
        floor,
    })
}

fn init(db: &Database, path: &str) -> Result<(), Error> {
    let txn = io!(path, "begin write", db.begin_write())?;
    {
        let mut meta = io!(path, "open table meta", txn.open_table(META))?;
        let format = io!(path, "read meta", meta.get("format"))?.map(|v| v.value());
        match format {
            None => {
                io!(path, "write meta", meta.insert("format", FORMAT))?;
            }
            Some(FORMAT) => {}
            Some(other) => {
                return Err(corrupt(
                    path,
                    "meta",
                    "format",
                    format!("unsupported format {other} (this build reads format {FORMAT})"),
                ));
            }
        }
        io!(path, "open table objects", txn.open_table(OBJECTS))?;
        io!(path, "open table events", txn.open_table(EVENTS))?;
    }
    io!(path, "commit", txn.commit())
}

/// Rebuilds the history from the undo log, newest event first, sharing `Arc`s between the
/// index, each event's object and the next event's previous state, and checks that the log
/// agrees with the objects table.
fn load_events(
    txn: &redb::ReadTransaction,
    path: &str,
    index: &BTreeMap<String, Arc<Object>>,
    floor: u64,
    revision: u64,
) -> Result<VecDeque<Arc<Event>>, Error> {
    let events = io!(path, "open table events", txn.open_table(EVENTS))?;
    let mut newest_first = Vec::new();
    // For each key seen so far (newer events): the state its oldest seen event says came before.
    let mut before: HashMap<String, Option<Arc<Object>>> = HashMap::new();
    let mut expected = revision;
    for entry in io!(path, "read events", events.iter())?.rev() {
        let (rev, record) = io!(path, "read events", entry)?;
        let rev = rev.value();
        let record_name = rev.to_string();
        if rev != expected || rev <= floor {
            return Err(corrupt(
                path,
                "events",
                &record_name,
                format!(
                    "expected revision {expected} (history floor {floor}, last revision {revision})"
                ),
            ));
        }
        expected -= 1;
        let (code, key, previous) = record.value();
        let bad = |reason: String| corrupt(path, "events", &record_name, reason);
        let kind = EventKind::from_code(code).ok_or_else(|| bad(format!("unknown kind {code}")))?;
        if (kind == EventKind::Added) != previous.is_none() {
            return Err(bad(format!(
                "{kind:?} event {} a previous state",
                if previous.is_some() {
                    "with"
                } else {
                    "without"
                }
            )));
        }
        let previous = match previous {
            None => None,
            Some((prev_rev, json)) if prev_rev < rev => {
                Some(Arc::new(Object::decode(key, prev_rev, json).map_err(&bad)?))
            }
            Some((prev_rev, _)) => {
                return Err(bad(format!(
                    "previous state at a later revision {prev_rev}"
                )));
            }
        };
        let object = match (kind, before.remove(key)) {
            (EventKind::Deleted, later) => {
                let present = match &later {
                    Some(later) => later.is_some(),
                    None => index.contains_key(key),
                };
                if present {
                    return Err(bad(format!("{key} deleted here but present afterwards")));
                }
                let last = previous
                    .as_ref()
                    .ok_or_else(|| bad("no previous state".into()))?;
                Arc::new(last.restamped(rev).map_err(&bad)?)
            }
            (_, None) => match index.get(key) {
                Some(current) if current.revision == rev => current.clone(),
                current => {
                    return Err(bad(format!(
                        "{key} is the newest event of its key, but the object is at {:?}",
                        current.map(|o| o.revision)
                    )));
                }
            },
            (_, Some(Some(state))) if state.revision == rev => state,
            (_, Some(later)) => {
                return Err(bad(format!(
                    "the next event of {key} starts from revision {:?}",
                    later.map(|o| o.revision)
                )));
            }
        };
        before.insert(key.to_owned(), previous.clone());
        newest_first.push(Arc::new(Event {
            kind,
            revision: rev,
            object,
            previous,
        }));
    }
    if expected != floor {
        return Err(corrupt(
            path,
            "events",
            &expected.to_string(),
            format!(
                "missing: the history should reach back to revision {}",
                floor + 1
            ),
        ));
    }
    // Objects changed after the floor must have their event.
    for (key, object) in index {
        if object.revision > floor && !before.contains_key(key) {
            return Err(corrupt(
                path,
                "objects",
                key,
                format!("revision {} has no event in the history", object.revision),
            ));
        }
    }
    Ok(newest_first.into_iter().rev().collect())
}

fn corrupt(path: &str, table: &'static str, record: &str, reason: String) -> Error {
    Error::Corrupt {
        path: path.to_owned(),
        table,
        record: record.to_owned(),
        reason,
    }
}

/// Commits one batch of events with one fsync, trimming the history to `new_floor`.
pub(crate) fn commit(
    db: &Database,
    path: &str,
    events: &[Arc<Event>],
    old_floor: u64,
    new_floor: u64,
) -> Result<(), Error> {
    let mut txn = io!(path, "begin write", db.begin_write())?;
    io!(
        path,
        "set durability",
        txn.set_durability(Durability::Immediate)
    )?;
    {
        let mut objects = io!(path, "open table objects", txn.open_table(OBJECTS))?;
        let mut persisted = io!(path, "open table events", txn.open_table(EVENTS))?;
        let mut meta = io!(path, "open table meta", txn.open_table(META))?;
        for event in events {
            let object = &event.object;
            match event.kind {
                EventKind::Deleted => {
                    io!(path, "delete object", objects.remove(object.key.as_str()))?;
                }
                EventKind::Added | EventKind::Modified => {
                    let record = (object.revision, &object.json[..]);
                    io!(
                        path,
                        "write object",
                        objects.insert(object.key.as_str(), record)
                    )?;
                }
            }
            let previous = event.previous.as_ref().map(|p| (p.revision, &p.json[..]));
            let record = (event.kind.code(), object.key.as_str(), previous);
            io!(
                path,
                "write event",
                persisted.insert(event.revision, record)
            )?;
        }
        trim_events(&mut persisted, path, old_floor, new_floor)?;
        if let Some(last) = events.last() {
            io!(path, "write meta", meta.insert("revision", last.revision))?;
        }
        io!(path, "write meta", meta.insert("history_floor", new_floor))?;
    }
    io!(path, "commit", txn.commit())
}

fn trim_events(
    table: &mut redb::Table<u64, EventRecord>,
    path: &str,
    old_floor: u64,
    new_floor: u64,
) -> Result<(), Error> {
    for revision in old_floor + 1..=new_floor {
        io!(path, "trim events", table.remove(revision))?;
    }
    Ok(())
}

/// Trims the persisted history without new events (the limit shrank since the last run).
pub(crate) fn trim(db: &Database, path: &str, old_floor: u64, new_floor: u64) -> Result<(), Error> {
    commit(db, path, &[], old_floor, new_floor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corrupt_one(mutate: impl FnOnce(&redb::WriteTransaction)) -> Error {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("store.redb");
        let config = StoreConfig::at(&file);
        let path = location(&config);
        {
            let db = open(&config, &path).unwrap();
            load(&db, &path).unwrap();
            let a = Arc::new(Object::new("g/r/a".into(), 1, serde_json::json!({})).unwrap());
            let b = Arc::new(a.restamped(2).unwrap());
            let added = |o: &Arc<Object>, prev: Option<Arc<Object>>| {
                Arc::new(Event {
                    kind: if prev.is_some() {
                        EventKind::Modified
                    } else {
                        EventKind::Added
                    },
                    revision: o.revision,
                    object: o.clone(),
                    previous: prev,
                })
            };
            commit(
                &db,
                &path,
                &[added(&a, None), added(&b, Some(a.clone()))],
                0,
                0,
            )
            .unwrap();
            let txn = db.begin_write().unwrap();
            mutate(&txn);
            txn.commit().unwrap();
        }
        let db = open(&config, &path).unwrap();
        match load(&db, &path) {
            Err(e) => {
                assert!(e.to_string().contains(&path), "{e} names the file");
                e
            }
            Ok(_) => panic!("corrupt store loaded"),
        }
    }

    #[test]
    fn invalid_object_json_names_table_and_key() {
        let e = corrupt_one(|txn| {
            let mut t = txn.open_table(OBJECTS).unwrap();
            t.insert("g/r/a", (2, &b"{oops"[..])).unwrap();
        });
        assert!(
            matches!(&e, Error::Corrupt { table: "objects", record, .. } if record == "g/r/a"),
            "{e}"
        );
    }

    #[test]
    fn missing_event_names_the_revision() {
        let e = corrupt_one(|txn| {
            txn.open_table(EVENTS).unwrap().remove(1).unwrap();
        });
        assert!(
            matches!(&e, Error::Corrupt { table: "events", record, .. } if record == "1"),
            "{e}"
        );
    }

    #[test]
    fn unknown_event_kind_and_disagreeing_object_are_reported() {
        let e = corrupt_one(|txn| {
            let mut t = txn.open_table(EVENTS).unwrap();
            t.insert(1, (9, "g/r/a", None)).unwrap();
        });
        assert!(e.to_string().contains("unknown kind 9"), "{e}");
        let e = corrupt_one(|txn| {
            txn.open_table(OBJECTS).unwrap().remove("g/r/a").unwrap();
        });
        assert!(
            matches!(&e, Error::Corrupt { table: "events", record, .. } if record == "2"),
            "{e}"
        );
        assert!(e.to_string().contains("object is at None"), "{e}");
    }

    #[test]
    fn unsupported_format_is_refused() {
        let e = corrupt_one(|txn| {
            txn.open_table(META).unwrap().insert("format", 99).unwrap();
        });
        assert!(e.to_string().contains("unsupported format 99"), "{e}");
    }
}
