use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use parking_lot::RwLock;
use tokio::sync::oneshot;

use crate::persist;
use crate::state::State;
use crate::writer::{Request, Writer};
use crate::{
    Error, Filter, ListPage, ListRequest, Object, StoreConfig, Watch, WriteError, WriteOp,
};

/// What the writer thread and every handle share.
pub(crate) struct Shared {
    pub(crate) state: RwLock<State>,
    /// The file, or "(in memory)", for error messages.
    pub(crate) path: String,
    /// Successful group commits and the writes they carried, since open.
    pub(crate) commits: AtomicU64,
    pub(crate) committed_writes: AtomicU64,
    pub(crate) commit_nanos: AtomicU64,
}

/// Counters for metrics and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreStats {
    pub revision: u64,
    pub objects: usize,
    pub history_events: usize,
    pub oldest_revision: u64,
    /// Successful group commits since open (one fsync each).
    pub commits: u64,
    /// Writes those commits carried; `committed_writes / commits` is the mean batch size.
    pub committed_writes: u64,
    /// Time spent in redb commits (writing pages and the fsync), summed.
    pub commit_time: std::time::Duration,
}

/// The object store. Cheap to clone; all clones are the same store.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    queue: mpsc::Sender<Request>,
}

/// A committed write.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteOutcome {
    pub revision: u64,
    /// The new state; for a deletion, the last state stamped with the deletion revision.
    pub object: Arc<Object>,
    /// The state before the write (`None` after a create).
    pub previous: Option<Arc<Object>>,
}

impl Store {
    /// Opens (or creates) the store, loads its objects and history into memory, and starts the
    /// writer thread. Blocking: call it before serving, or from `spawn_blocking`.
    pub fn open(config: StoreConfig) -> Result<Store, Error> {
        let path = persist::location(&config);
        let db = persist::open(&config, &path)?;
        Store::start(&config, path, db)
    }

    /// Loads an opened database and starts the writer on it.
    pub(crate) fn start(
        config: &StoreConfig,
        path: String,
        db: redb::Database,
    ) -> Result<Store, Error> {
        let started = std::time::Instant::now();
        let loaded = persist::load(&db, &path)?;
        let max_events = config.history.max_events;
        let mut state = State::new(
            loaded.index,
            loaded.history,
            loaded.revision,
            loaded.floor,
            config.watch_buffer,
        );
        let old_floor = state.floor;
        state.trim(max_events);
        if state.floor != old_floor {
            persist::trim(&db, &path, old_floor, state.floor)?;
        }
        tracing::info!(
            store = %path,
            objects = state.index.len(),
            events = state.history.len(),
            revision = state.revision,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "store opened"
        );
        let shared = Arc::new(Shared {
            state: RwLock::new(state),
            path: path.clone(),
            commits: AtomicU64::new(0),
            committed_writes: AtomicU64::new(0),
            commit_nanos: AtomicU64::new(0),
        });
        let (queue, requests) = mpsc::channel();
        let writer = Writer {
            db,
            shared: shared.clone(),
            max_batch: config.max_batch.max(1),
            max_events,
        };
        std::thread::Builder::new()
            .name("tether-store-writer".to_owned())
            .spawn(move || writer.run(requests))
            .map_err(|source| Error::Spawn { path, source })?;
        Ok(Store {
            inner: Arc::new(Inner { shared, queue }),
        })
    }

    /// The last committed revision (0 for an empty new store).
    pub fn revision(&self) -> u64 {
        self.inner.shared.state.read().revision
    }

    /// The oldest revision a watch or a past-revision list can start from.
    pub fn oldest_revision(&self) -> u64 {
        self.inner.shared.state.read().floor
    }

    pub fn stats(&self) -> StoreStats {
        let shared = &self.inner.shared;
        let state = shared.state.read();
        StoreStats {
            revision: state.revision,
            objects: state.index.len(),
            history_events: state.history.len(),
            oldest_revision: state.floor,
            commits: shared.commits.load(Ordering::Relaxed),
            committed_writes: shared.committed_writes.load(Ordering::Relaxed),
            commit_time: std::time::Duration::from_nanos(
                shared.commit_nanos.load(Ordering::Relaxed),
            ),
        }
    }

    /// The current state of `key`, from memory.
    pub fn get(&self, key: &str) -> Option<Arc<Object>> {
        self.inner.shared.state.read().index.get(key).cloned()
    }

    /// One page of the objects under a prefix, at the current or a past revision.
    pub fn list(&self, req: ListRequest<'_>) -> Result<ListPage, Error> {
        self.inner.shared.state.read().list(&req)
    }

    /// Queues a write for the next group commit; the future resolves once it is durable and
    /// visible (or refused).
    ///
    /// The write is queued when `write` is called, not when the future is first polled, so the
    /// order of calls is the order the writer checks them in, also for writes issued together
    /// and awaited later. Dropping the future does not cancel the write: it may still commit.
    pub fn write(
        &self,
        op: WriteOp,
    ) -> impl Future<Output = Result<WriteOutcome, WriteError>> + Send + 'static {
        let key = op.key().to_owned();
        let (reply, answer) = oneshot::channel();
        let queued = self.inner.queue.send(Request::Write { op, reply }).is_ok();
        async move {
            if !queued {
                return Err(WriteError::Closed { key });
            }
            answer.await.unwrap_or(Err(WriteError::Closed { key }))
        }
    }

    /// Every event after `after_revision` that passes `filter`, then live events.
    ///
    /// `Err(Expired)` if the history no longer reaches back that far, `Err(FutureRevision)` if
    /// `after_revision` is past the current revision.
    pub fn watch(&self, after_revision: u64, filter: Filter) -> Result<Watch, Error> {
        let state = self.inner.shared.state.read();
        let Some(live) = &state.live else {
            return Err(Error::Closed {
                path: self.inner.shared.path.clone(),
            });
        };
        // Copy the tail of the history and subscribe under the same read lock: the writer
        // publishes under the write lock, so no event falls between the two.
        let backlog: VecDeque<_> = state.events_after(after_revision)?.cloned().collect();
        let receiver = live.subscribe();
        drop(state);
        Ok(Watch::new(backlog, receiver, filter, after_revision))
    }

    /// Commits what is queued, stops the writer and closes the file. Other handles keep serving
    /// reads from memory; their writes and new watches fail with `Closed`; open watches end.
    pub async fn close(self) -> Result<(), Error> {
        let (reply, done) = oneshot::channel();
        if self.inner.queue.send(Request::Close { reply }).is_err() {
            return Ok(());
        }
        done.await.unwrap_or(Ok(()))
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.shared.path)
            .field("revision", &self.revision())
            .finish()
    }
}
