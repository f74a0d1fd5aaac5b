use std::path::PathBuf;

/// How a [`Store`](crate::Store) is opened.
///
/// Build one with [`StoreConfig::in_memory`] or [`StoreConfig::at`] and adjust fields with struct
/// update syntax (`StoreConfig { watch_buffer: 64, ..StoreConfig::at(path) }`).
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// The redb file. `None` keeps everything in memory (redb's in-memory backend, same code path).
    pub path: Option<PathBuf>,
    /// How much watch history is kept (in memory and in the file).
    pub history: HistoryLimits,
    /// How many live events a watcher may fall behind before it gets
    /// [`WatchError::Lagged`](crate::WatchError::Lagged). Rounded up to a power of two.
    pub watch_buffer: usize,
    /// The most writes committed together in one group commit.
    pub max_batch: usize,
    /// redb's page cache in bytes. Reads never touch redb after open, so this mostly buffers the
    /// pages a commit writes.
    pub cache_size: usize,
    /// Verify every page checksum when opening a file, so a file damaged outside redb is reported
    /// as an error instead of risking a panic inside redb. Costs one read of the whole file.
    pub verify_on_open: bool,
}

impl StoreConfig {
    /// A store that lives in memory only and is lost when dropped.
    pub fn in_memory() -> Self {
        StoreConfig {
            path: None,
            history: HistoryLimits::default(),
            watch_buffer: 8192,
            max_batch: 512,
            cache_size: 64 << 20,
            verify_on_open: true,
        }
    }

    /// A durable store in the redb file at `path` (created when missing).
    pub fn at(path: impl Into<PathBuf>) -> Self {
        StoreConfig {
            path: Some(path.into()),
            ..StoreConfig::in_memory()
        }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig::in_memory()
    }
}

/// Bounds on the event history that serves watches and past-revision lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryLimits {
    /// The most recent events kept; older ones are trimmed inside the commit that pushes them out.
    /// Zero keeps none: watches and lists can then start only at the current revision.
    pub max_events: usize,
}

impl Default for HistoryLimits {
    fn default() -> Self {
        HistoryLimits { max_events: 20_000 }
    }
}
