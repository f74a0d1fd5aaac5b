use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use crate::{Event, WatchError};

type Predicate = Arc<dyn Fn(&Event) -> bool + Send + Sync>;

/// Which events a watch delivers: a key prefix (cheap) and an optional predicate.
///
/// The predicate sees the whole [`Event`], new and previous state, so the API server can pass an
/// event whose old state matched a label selector and the new one no longer does, and send it
/// as DELETED.
#[derive(Clone, Default)]
pub struct Filter {
    prefix: String,
    predicate: Option<Predicate>,
}

impl Filter {
    /// Every event.
    pub fn all() -> Self {
        Filter::default()
    }

    /// Events whose key starts with `prefix`.
    pub fn prefix(prefix: impl Into<String>) -> Self {
        Filter {
            prefix: prefix.into(),
            predicate: None,
        }
    }

    /// Also require `predicate` (called only for keys under the prefix).
    pub fn with_predicate(
        mut self,
        predicate: impl Fn(&Event) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.predicate = Some(Arc::new(predicate));
        self
    }

    pub fn matches(&self, event: &Event) -> bool {
        event.key().starts_with(&self.prefix) && self.predicate.as_ref().is_none_or(|p| p(event))
    }
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filter")
            .field("prefix", &self.prefix)
            .field("predicate", &self.predicate.as_ref().map(|_| "<fn>"))
            .finish()
    }
}

/// A stream of the events after a revision that pass a [`Filter`]: first those from the
/// history, then live ones, in revision order, without gap or duplicate.
///
/// Ends (`None`) when the store is closed; ends after a [`WatchError::Lagged`] item when the
/// watcher falls too far behind. Also a [`Stream`].
pub struct Watch {
    backlog: VecDeque<Arc<Event>>,
    live: BroadcastStream<Arc<Event>>,
    filter: Filter,
    last_revision: u64,
    done: bool,
}

impl Watch {
    pub(crate) fn new(
        backlog: VecDeque<Arc<Event>>,
        live: tokio::sync::broadcast::Receiver<Arc<Event>>,
        filter: Filter,
        after_revision: u64,
    ) -> Watch {
        Watch {
            backlog,
            live: BroadcastStream::new(live),
            filter,
            last_revision: after_revision,
            done: false,
        }
    }

    /// The next event, `Some(Err(Lagged))` once when the watcher fell behind, `None` at the end.
    pub async fn next(&mut self) -> Option<Result<Arc<Event>, WatchError>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// The revision of the last event this watch has processed, delivered or filtered out.
    /// While [`Watch::next`] is pending this is the store revision as far as the watch has seen
    /// it, which is what a Kubernetes BOOKMARK carries.
    pub fn last_revision(&self) -> u64 {
        self.last_revision
    }

    fn accept(&mut self, event: Arc<Event>) -> Option<Arc<Event>> {
        // The lock protocol rules out overlaps between backlog and live events; this keeps a
        // watch strictly increasing even if that ever broke.
        if event.revision <= self.last_revision {
            return None;
        }
        self.last_revision = event.revision;
        self.filter.matches(&event).then_some(event)
    }
}

impl Stream for Watch {
    type Item = Result<Arc<Event>, WatchError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        while let Some(event) = this.backlog.pop_front() {
            if let Some(event) = this.accept(event) {
                return Poll::Ready(Some(Ok(event)));
            }
        }
        loop {
            match Pin::new(&mut this.live).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    this.done = true;
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Ok(event))) => {
                    if let Some(event) = this.accept(event) {
                        return Poll::Ready(Some(Ok(event)));
                    }
                }
                Poll::Ready(Some(Err(BroadcastStreamRecvError::Lagged(missed)))) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(WatchError::Lagged {
                        last_revision: this.last_revision,
                        missed,
                    })));
                }
            }
        }
    }
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch")
            .field("filter", &self.filter)
            .field("backlog", &self.backlog.len())
            .field("last_revision", &self.last_revision)
            .field("done", &self.done)
            .finish()
    }
}
