//! The writer thread: the only owner of redb write transactions and the only mutator of the
//! in-memory state. Each round it drains the queue, validates the batch, commits it with one
//! fsync, publishes it, and answers the callers.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;

use redb::Database;
use serde_json::Value;
use tokio::sync::oneshot;

use crate::store::Shared;
use crate::{Error, Event, EventKind, Object, WriteError, WriteOutcome, persist};

/// One change to one key.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    /// Fails with [`WriteError::AlreadyExists`] if the key exists.
    Create { key: String, value: Value },
    /// Fails with [`WriteError::NotFound`], or [`WriteError::Conflict`] when
    /// `expected_revision` is set and differs from the current revision.
    Update {
        key: String,
        value: Value,
        expected_revision: Option<u64>,
    },
    /// Fails with [`WriteError::NotFound`] or [`WriteError::Conflict`].
    Delete {
        key: String,
        expected_revision: Option<u64>,
    },
}

impl WriteOp {
    pub fn key(&self) -> &str {
        match self {
            WriteOp::Create { key, .. }
            | WriteOp::Update { key, .. }
            | WriteOp::Delete { key, .. } => key,
        }
    }
}

pub(crate) type Reply = oneshot::Sender<Result<WriteOutcome, WriteError>>;

pub(crate) enum Request {
    Write {
        op: WriteOp,
        reply: Reply,
    },
    Close {
        reply: oneshot::Sender<Result<(), Error>>,
    },
}

pub(crate) struct Writer {
    pub(crate) db: Database,
    pub(crate) shared: Arc<Shared>,
    pub(crate) max_batch: usize,
    pub(crate) max_events: usize,
}

impl Writer {
    pub(crate) fn run(self, queue: Receiver<Request>) {
        // However the thread ends (even by a panic, which would be a bug), watches must end
        // rather than wait forever for events that will never come.
        let end_watches = EndWatches(self.shared.clone());
        let mut batch: Vec<(WriteOp, Reply)> = Vec::new();
        let mut close = None;
        while close.is_none() {
            // Blocks until there is work; Err means every Store handle is gone.
            let Ok(first) = queue.recv() else { break };
            let mut next = Some(first);
            while let Some(request) = next.take() {
                match request {
                    Request::Write { op, reply } => batch.push((op, reply)),
                    Request::Close { reply } => {
                        close = Some(reply);
                        break;
                    }
                }
                if batch.len() < self.max_batch {
                    next = queue.try_recv().ok();
                }
            }
            if !batch.is_empty() {
                self.commit_batch(std::mem::take(&mut batch));
            }
        }
        // Requests still queued are dropped with the receiver; their callers see `Closed`.
        drop(queue);
        let Writer { db, shared, .. } = self;
        let closed = db.close().map_err(|source| Error::Close {
            path: shared.path.clone(),
            source,
        });
        drop(end_watches);
        if let Some(reply) = close {
            let _ = reply.send(closed);
        }
    }

    fn commit_batch(&self, batch: Vec<(WriteOp, Reply)>) {
        let (planned, old_floor, old_revision) = self.plan(batch);
        let events: Vec<Arc<Event>> = planned
            .iter()
            .filter_map(|(_, result)| result.as_ref().ok().cloned())
            .collect();
        let Some(last) = events.last().map(|e| e.revision) else {
            // Nothing valid: no commit, no revision consumed.
            return answer(planned);
        };
        let new_floor = old_floor.max(last.saturating_sub(self.max_events as u64));
        let started = std::time::Instant::now();
        let committed = persist::commit(&self.db, &self.shared.path, &events, old_floor, new_floor);
        let took = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        match committed {
            Ok(()) => {
                let shared = &self.shared;
                shared.commits.fetch_add(1, Ordering::Relaxed);
                shared
                    .committed_writes
                    .fetch_add(events.len() as u64, Ordering::Relaxed);
                shared.commit_nanos.fetch_add(took, Ordering::Relaxed);
                shared.state.write().publish(events, self.max_events);
                answer(planned);
            }
            Err(error) => {
                tracing::error!(
                    %error,
                    writes = planned.len(),
                    revision = old_revision,
                    "group commit failed; every write of the batch fails"
                );
                let error = Arc::new(error);
                for (reply, result) in planned {
                    let key = match &result {
                        Ok(event) => event.key().to_owned(),
                        Err(e) => error_key(e),
                    };
                    let _ = reply.send(Err(WriteError::Commit {
                        key,
                        source: error.clone(),
                    }));
                }
            }
        }
    }

    /// Checks each write against the committed state plus the earlier writes of the batch and
    /// gives the valid ones consecutive revisions.
    #[allow(clippy::type_complexity)]
    fn plan(
        &self,
        batch: Vec<(WriteOp, Reply)>,
    ) -> (Vec<(Reply, Result<Arc<Event>, WriteError>)>, u64, u64) {
        let state = self.shared.state.read();
        let mut pending: HashMap<String, Option<Arc<Object>>> = HashMap::new();
        let mut next = state.revision + 1;
        let mut planned = Vec::with_capacity(batch.len());
        for (op, reply) in batch {
            let current = match pending.get(op.key()) {
                Some(state) => state.clone(),
                None => state.index.get(op.key()).cloned(),
            };
            let result = plan_one(op, current, next);
            if let Ok(event) = &result {
                let after = (event.kind != EventKind::Deleted).then(|| event.object.clone());
                pending.insert(event.key().to_owned(), after);
                next += 1;
            }
            planned.push((reply, result.map(Arc::new)));
        }
        (planned, state.floor, state.revision)
    }
}

struct EndWatches(Arc<Shared>);

impl Drop for EndWatches {
    fn drop(&mut self) {
        self.0.state.write().live = None;
    }
}

fn plan_one(op: WriteOp, current: Option<Arc<Object>>, revision: u64) -> Result<Event, WriteError> {
    let invalid = |key: &str| {
        let key = key.to_owned();
        move |reason| WriteError::InvalidObject { key, reason }
    };
    match op {
        WriteOp::Create { key, value } => {
            if current.is_some() {
                return Err(WriteError::AlreadyExists { key });
            }
            let object = Object::new(key.clone(), revision, value).map_err(invalid(&key))?;
            Ok(Event {
                kind: EventKind::Added,
                revision,
                object: Arc::new(object),
                previous: None,
            })
        }
        WriteOp::Update {
            key,
            value,
            expected_revision,
        } => {
            let current = check(&key, current, expected_revision)?;
            let object = Object::new(key.clone(), revision, value).map_err(invalid(&key))?;
            Ok(Event {
                kind: EventKind::Modified,
                revision,
                object: Arc::new(object),
                previous: Some(current),
            })
        }
        WriteOp::Delete {
            key,
            expected_revision,
        } => {
            let current = check(&key, current, expected_revision)?;
            let object = current.restamped(revision).map_err(invalid(&key))?;
            Ok(Event {
                kind: EventKind::Deleted,
                revision,
                object: Arc::new(object),
                previous: Some(current),
            })
        }
    }
}

fn check(
    key: &str,
    current: Option<Arc<Object>>,
    expected: Option<u64>,
) -> Result<Arc<Object>, WriteError> {
    let current = current.ok_or_else(|| WriteError::NotFound {
        key: key.to_owned(),
    })?;
    match expected {
        Some(expected) if expected != current.revision => Err(WriteError::Conflict {
            key: key.to_owned(),
            expected,
            current: current.revision,
        }),
        _ => Ok(current),
    }
}

fn answer(planned: Vec<(Reply, Result<Arc<Event>, WriteError>)>) {
    for (reply, result) in planned {
        // A dropped receiver means the caller stopped waiting; the write stands.
        let _ = reply.send(result.map(|event| WriteOutcome {
            revision: event.revision,
            object: event.object.clone(),
            previous: event.previous.clone(),
        }));
    }
}

fn error_key(error: &WriteError) -> String {
    match error {
        WriteError::AlreadyExists { key }
        | WriteError::NotFound { key }
        | WriteError::Conflict { key, .. }
        | WriteError::InvalidObject { key, .. }
        | WriteError::Commit { key, .. }
        | WriteError::Closed { key } => key.clone(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use redb::StorageBackend;
    use redb::backends::InMemoryBackend;
    use serde_json::json;

    use crate::{Filter, ListRequest, Store, StoreConfig, WriteError, WriteOp};

    /// Memory whose fsync can be held (to line writes up into one batch) and made to fail, like
    /// a disk returning EIO.
    #[derive(Debug, Clone, Default)]
    struct FaultyDisk {
        memory: Arc<InMemoryBackend>,
        fail: Arc<AtomicBool>,
        syncs: Arc<AtomicUsize>,
        gate: Arc<Mutex<()>>,
    }

    impl StorageBackend for FaultyDisk {
        fn len(&self) -> Result<u64, std::io::Error> {
            self.memory.len()
        }
        fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), std::io::Error> {
            self.memory.read(offset, out)
        }
        fn set_len(&self, len: u64) -> Result<(), std::io::Error> {
            self.memory.set_len(len)
        }
        fn sync_data(&self) -> Result<(), std::io::Error> {
            self.syncs.fetch_add(1, Ordering::SeqCst);
            let _open = self.gate.lock().unwrap();
            if self.fail.load(Ordering::SeqCst) {
                return Err(std::io::Error::other("injected fsync failure"));
            }
            self.memory.sync_data()
        }
        fn write(&self, offset: u64, data: &[u8]) -> Result<(), std::io::Error> {
            self.memory.write(offset, data)
        }
    }

    fn open(disk: &FaultyDisk) -> Store {
        let db = redb::Builder::new()
            .create_with_backend(disk.clone())
            .unwrap();
        Store::start(&StoreConfig::in_memory(), "(test)".into(), db).unwrap()
    }

    fn create(key: &str) -> WriteOp {
        WriteOp::Create {
            key: key.into(),
            value: json!({"metadata": {"name": key}}),
        }
    }

    // The held guard blocks the writer's OS thread inside fsync, on purpose.
    #[allow(clippy::await_holding_lock)]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn failed_commit_fails_the_whole_batch_and_consumes_no_revision() {
        let disk = FaultyDisk::default();
        let store = open(&disk);
        store.write(create("a")).await.unwrap();
        store.write(create("b")).await.unwrap();
        let mut watch = store.watch(2, Filter::all()).unwrap();

        // Hold the writer inside the fsync of a first write, so the next ones queue into one
        // batch behind it.
        let held = disk.gate.lock().unwrap();
        let syncs = disk.syncs.load(Ordering::SeqCst);
        let first = tokio::spawn({
            let store = store.clone();
            async move { store.write(create("x")).await }
        });
        while disk.syncs.load(Ordering::SeqCst) == syncs {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let batch: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                // "a" exists: refused on its own, but in a failed batch it reports the failure.
                let op = if i == 0 {
                    create("a")
                } else {
                    create(&format!("c{i}"))
                };
                tokio::spawn(async move { store.write(op).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        disk.fail.store(true, Ordering::SeqCst);
        drop(held);

        for write in std::iter::once(first).chain(batch) {
            let result = write.await.unwrap();
            assert!(
                matches!(result, Err(WriteError::Commit { .. })),
                "{result:?}"
            );
        }
        assert_eq!(store.revision(), 2);
        assert!(store.get("x").is_none() && store.get("c1").is_none());
        assert_eq!(store.list(ListRequest::new("")).unwrap().items.len(), 2);
        assert!(
            tokio::time::timeout(Duration::from_millis(50), watch.next())
                .await
                .is_err(),
            "a watcher saw an event of a failed batch"
        );

        // redb refuses further writes after an I/O error and reports it again on close. A reopen
        // on the same bytes shows the last good commit and numbering continues there.
        assert!(matches!(
            store.write(create("y")).await,
            Err(WriteError::Commit { .. })
        ));
        let closed = store.close().await;
        assert!(
            matches!(closed, Err(crate::Error::Close { .. })),
            "{closed:?}"
        );
        assert_eq!(watch.next().await, None, "close ends the watch");
        disk.fail.store(false, Ordering::SeqCst);
        let store = open(&disk);
        // redb's 1-phase commit writes the commit slot before it syncs, so bytes whose fsync
        // "failed" may still be on the disk: after a restart a failed write may be there,
        // whole, with its revision. Nothing acknowledged is lost and nothing is half-applied.
        let revision = store.revision();
        match store.get("x") {
            Some(x) => assert_eq!((x.revision, revision), (3, 3)),
            None => assert_eq!(revision, 2),
        }
        assert!(
            store.get("c1").is_none(),
            "the batch after the I/O error was never written"
        );
        assert_eq!(
            store.write(create("c1")).await.unwrap().revision,
            revision + 1
        );
    }
}
