//! The embedded durable object store under tether's API server, in the role etcd plays for
//! kube-apiserver: keyed JSON objects, one global revision, watch history, consistent snapshots.
//!
//! Objects are `serde_json::Value`s under opaque string keys ordered bytewise. The API server
//! uses `{group}/{resource}/{namespace}/{name}` (cluster-scoped: `{group}/{resource}/{name}`), so
//! "all deployments" and "deployments in one namespace" are key prefixes. The one
//! Kubernetes-specific thing the store does is stamp `metadata.resourceVersion` with the
//! revision (decimal) on every write.
//!
//! # The write path
//! 1. [`Store::write`] queues a [`WriteOp`] to the writer thread and awaits the answer.
//! 2. The writer thread, the only owner of redb write transactions, takes every queued write
//!    (up to [`StoreConfig::max_batch`]).
//! 3. It checks each write against the committed state plus the earlier writes of the same batch
//!    (exists / not found / expected revision) and gives each valid one the next revision. The
//!    object is stamped and serialized once here ([`Object::json`]).
//! 4. It commits the batch in one redb transaction with [`redb::Durability::Immediate`] (one
//!    fsync): objects, the batch's events, the history trimmed to
//!    [`HistoryLimits::max_events`], the last revision.
//! 5. Only after the commit succeeds it publishes, under the state's write lock: the in-memory
//!    index, the in-memory history, and the live channel of the watchers.
//! 6. It answers every caller of the batch. A write is acknowledged only once it is on disk and
//!    visible to [`Store::get`].
//!
//! If the commit fails, every write of the batch fails with [`WriteError::Commit`], nothing of it
//! becomes visible and no revision is consumed. Writes refused by validation consume none either.
//! While one batch is being fsynced the next one queues up, which is what makes many concurrent
//! writers cheap (group commit). [`Store::write`] queues the write when it is called, so the
//! order of calls is the order of validation.
//!
//! A failed commit is "not acknowledged", not "certainly absent": redb writes the commit before
//! its fsync, so when fsync reports an error the data may still reach the disk, and a restart
//! may show that batch, whole, with the revisions it would have had. After an I/O error redb
//! refuses further writes; reopening the store recovers (this is etcd's "unknown outcome").
//!
//! # Guarantees
//! - **Revisions:** one global counter, strictly increasing, dense: every successful write gets
//!   its own revision and every revision belongs to exactly one event. A reopened store continues
//!   from its last committed revision.
//! - **Durability:** with [`StoreConfig::path`], an acknowledged write survives a process crash
//!   (SIGKILL) or power loss as far as fsync does. Without a path the same code runs on redb's
//!   in-memory backend.
//! - **Reads** ([`Store::get`], [`Store::list`]) come from the in-memory index and never touch
//!   the disk. A caller sees its own acknowledged writes.
//! - **Deletes:** the event and the outcome carry the object's last state with
//!   `metadata.resourceVersion` set to the deletion revision, as kube-apiserver does.
//! - **Watch:** [`Store::watch`] delivers every event after the requested revision that passes
//!   the [`Filter`], from the history then live, in revision order, without gap or duplicate: the
//!   history is copied and the live channel subscribed under one read lock, while events are
//!   published under the write lock. A watcher more than [`StoreConfig::watch_buffer`] events
//!   behind gets a terminal [`WatchError::Lagged`], never a silent gap; it names the last
//!   revision processed, from which a new watch resumes while the history has it. A revision
//!   older than the history gives [`Error::Expired`] (HTTP 410 for the API server), whose
//!   `oldest` is the oldest revision a watch can start after; one past [`Store::revision`] gives
//!   [`Error::FutureRevision`]. [`Watch::last_revision`] is what a BOOKMARK carries.
//! - **Snapshots:** [`ListRequest::at_revision`] shows the state as of a past revision, rebuilt
//!   from the current index by undoing the newer events with their `previous` states. Any
//!   revision from [`Store::oldest_revision`] to [`Store::revision`] works, also after a restart,
//!   because persisted events keep their previous state. Older ones give [`Error::Expired`].
//!   The filter applies before the limit; [`ListPage::remaining`] is counted only without a
//!   filter (as kube-apiserver omits `remainingItemCount` with a selector).
//! - **Corruption:** a file that redb cannot verify, or a record that does not decode or does not
//!   fit the others, fails [`Store::open`] with an error naming the file, table and record.
//!
//! # On disk
//! One redb file with three tables: `objects` (key → revision, JSON of the current state),
//! `events` (revision → kind, key, previous revision and JSON), `meta` (format, last revision,
//! history floor). The events table holds exactly the revisions after the history floor and is
//! an undo log: an event does not repeat its new state, which is either the key's current object
//! or the previous state of the key's next event (always inside the history, a suffix of the
//! log). [`Store::open`] rebuilds the history by walking it from the newest event back, and
//! checks that it agrees with the objects table. So an update writes its JSON twice, a create or
//! a delete once, and exact snapshots and label-transition watches still work after a restart.
//!
//! # Limits
//! - Everything lives in memory: all current objects, plus the history (events share their
//!   `Arc<Object>`s with the index, so the history costs about one object per event).
//! - One writer thread: throughput is bounded by one core's validation + serialization and by the
//!   commit rate. A redb commit copies the touched B-tree paths (about 25-35 pages of 4 KiB for
//!   a one-write commit here) and fsyncs once, so batches amortize a fixed cost of about 1 ms on
//!   this machine's disk. Reads scale with cores. [`Store::stats`] counts commits, writes and
//!   commit time.
//! - A dropped [`Store::write`] future does not cancel the write.
//! - No multi-key transactions; no compaction of the redb file beyond redb's own page reuse.
//! - [`Store::open`] reads and parses the whole file (and verifies its checksums when
//!   [`StoreConfig::verify_on_open`] is set, the default): proportional to the data size.

mod config;
mod error;
mod object;
mod persist;
mod state;
mod store;
mod watch;
mod writer;

pub use config::{HistoryLimits, StoreConfig};
pub use error::{Error, WatchError, WriteError};
pub use object::{Event, EventKind, Object};
pub use state::{ListPage, ListRequest};
pub use store::{Store, StoreStats, WriteOutcome};
pub use watch::{Filter, Watch};
pub use writer::WriteOp;
