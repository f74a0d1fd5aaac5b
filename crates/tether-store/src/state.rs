//! The in-memory side: the index that serves reads, the history that serves watches and
//! past-revision lists, and the live channel. Only the writer thread mutates it.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::sync::Arc;

use tokio::sync::broadcast;

use crate::{Error, Event, EventKind, Object};

pub(crate) struct State {
    pub(crate) index: BTreeMap<String, Arc<Object>>,
    pub(crate) revision: u64,
    /// Every event with a revision in `floor + 1 ..= revision`, oldest first: revisions are dense,
    /// so the event at revision `r` sits at `r - floor - 1`.
    pub(crate) history: VecDeque<Arc<Event>>,
    pub(crate) floor: u64,
    /// `None` once the store is closed; dropping the sender ends every watch.
    pub(crate) live: Option<broadcast::Sender<Arc<Event>>>,
}

/// A request for one page of a list.
pub struct ListRequest<'a> {
    /// Only keys starting with this (bytewise). `""` lists everything.
    pub prefix: &'a str,
    /// Show the state as of this revision (`None`: the current state).
    pub at_revision: Option<u64>,
    /// Start after this key (the previous page's `next_key`).
    pub start_after: Option<&'a str>,
    /// At most this many items. `None` and `Some(0)` mean no limit, as in Kubernetes.
    pub limit: Option<usize>,
    /// Only objects for which this returns true; applied before `limit`.
    pub filter: Option<&'a dyn Fn(&Object) -> bool>,
}

impl<'a> ListRequest<'a> {
    /// Everything under `prefix`, current state, no paging, no filter.
    pub fn new(prefix: &'a str) -> Self {
        ListRequest {
            prefix,
            at_revision: None,
            start_after: None,
            limit: None,
            filter: None,
        }
    }
}

impl std::fmt::Debug for ListRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListRequest")
            .field("prefix", &self.prefix)
            .field("at_revision", &self.at_revision)
            .field("start_after", &self.start_after)
            .field("limit", &self.limit)
            .field("filter", &self.filter.map(|_| "<fn>"))
            .finish()
    }
}

/// One page of a list, consistent at `revision`.
#[derive(Debug, Clone)]
pub struct ListPage {
    /// In key order.
    pub items: Vec<Arc<Object>>,
    /// The revision the page shows; pass it as `at_revision` for the next page.
    pub revision: u64,
    /// Set when more matching items follow: the last returned key, for `start_after`.
    pub next_key: Option<String>,
    /// With `next_key` and no filter: how many items follow (Kubernetes' `remainingItemCount`).
    /// `None` with a filter, as kube-apiserver omits the count when a selector is set.
    pub remaining: Option<u64>,
}

impl State {
    pub(crate) fn new(
        index: BTreeMap<String, Arc<Object>>,
        history: VecDeque<Arc<Event>>,
        revision: u64,
        floor: u64,
        watch_buffer: usize,
    ) -> State {
        let (live, _) = broadcast::channel(watch_buffer.max(1));
        State {
            index,
            revision,
            history,
            floor,
            live: Some(live),
        }
    }

    /// The events after `revision`, or why there are none to give.
    pub(crate) fn events_after(
        &self,
        revision: u64,
    ) -> Result<impl Iterator<Item = &Arc<Event>>, Error> {
        if revision < self.floor {
            return Err(Error::Expired {
                requested: revision,
                oldest: self.floor,
            });
        }
        if revision > self.revision {
            return Err(Error::FutureRevision {
                requested: revision,
                current: self.revision,
            });
        }
        let skip = usize::try_from(revision - self.floor).unwrap_or(usize::MAX);
        Ok(self.history.iter().skip(skip))
    }

    /// Makes committed events visible: index, history (trimmed to `max_events`), watchers.
    /// Runs under the write lock, so a watch registering under the read lock sees each event
    /// either in the history or on its live receiver, never both and never neither.
    pub(crate) fn publish(&mut self, events: Vec<Arc<Event>>, max_events: usize) {
        for event in events {
            let key = &event.object.key;
            match event.kind {
                EventKind::Deleted => {
                    self.index.remove(key);
                }
                EventKind::Added | EventKind::Modified => {
                    self.index.insert(key.clone(), event.object.clone());
                }
            }
            self.revision = event.revision;
            if let Some(live) = &self.live {
                // An error only means nobody is watching.
                let _ = live.send(event.clone());
            }
            self.history.push_back(event);
        }
        self.trim(max_events);
    }

    pub(crate) fn trim(&mut self, max_events: usize) {
        while self.history.len() > max_events {
            self.history.pop_front();
            self.floor += 1;
        }
    }

    pub(crate) fn list(&self, req: &ListRequest<'_>) -> Result<ListPage, Error> {
        let revision = req.at_revision.unwrap_or(self.revision);
        if revision == self.revision {
            let page = paginate(self.current_range(req), req);
            return Ok(ListPage { revision, ..page });
        }
        let overlay = self.snapshot_overlay(revision, req)?;
        let merged = MergeOverlay {
            index: self.current_range(req).peekable(),
            overlay: overlay.into_iter().peekable(),
        };
        let page = paginate(merged, req);
        Ok(ListPage { revision, ..page })
    }

    /// Current objects from where the request starts to the end of its prefix.
    fn current_range<'s>(
        &'s self,
        req: &ListRequest<'_>,
    ) -> impl Iterator<Item = &'s Arc<Object>> + 's {
        let prefix = req.prefix.to_owned();
        self.index
            .range::<str, _>((lower_bound(req), Bound::Unbounded))
            .take_while(move |(key, _)| key.starts_with(&prefix))
            .map(|(_, object)| object)
    }

    /// For each key in the requested range that changed after `revision`, its state at
    /// `revision`: the `previous` of the first event after it (`None`: it did not exist).
    fn snapshot_overlay<'s>(
        &'s self,
        revision: u64,
        req: &ListRequest<'_>,
    ) -> Result<BTreeMap<&'s str, Option<&'s Arc<Object>>>, Error> {
        let mut overlay = BTreeMap::new();
        for event in self.events_after(revision)? {
            let key = event.key();
            if key.starts_with(req.prefix) && req.start_after.is_none_or(|after| key > after) {
                overlay.entry(key).or_insert(event.previous.as_ref());
            }
        }
        Ok(overlay)
    }
}

fn lower_bound<'r>(req: &ListRequest<'r>) -> Bound<&'r str> {
    match req.start_after {
        Some(after) if after >= req.prefix => Bound::Excluded(after),
        _ => Bound::Included(req.prefix),
    }
}

/// Applies filter and limit; finds whether more matching items follow.
fn paginate<'s>(objects: impl Iterator<Item = &'s Arc<Object>>, req: &ListRequest<'_>) -> ListPage {
    let limit = req.limit.filter(|&l| l > 0).unwrap_or(usize::MAX);
    let mut matching = objects.filter(|o| req.filter.is_none_or(|f| f(o)));
    let mut items: Vec<Arc<Object>> = Vec::new();
    let mut next_key = None;
    let mut remaining = None;
    while let Some(object) = matching.next() {
        if items.len() == limit {
            next_key = items.last().map(|o| o.key.clone());
            if req.filter.is_none() {
                remaining = Some(1 + matching.count() as u64);
            }
            break;
        }
        items.push(object.clone());
    }
    ListPage {
        items,
        revision: 0,
        next_key,
        remaining,
    }
}

/// Current objects in key order with the snapshot's overrides applied.
struct MergeOverlay<'s, I: Iterator<Item = &'s Arc<Object>>> {
    index: std::iter::Peekable<I>,
    overlay: std::iter::Peekable<
        std::collections::btree_map::IntoIter<&'s str, Option<&'s Arc<Object>>>,
    >,
}

impl<'s, I: Iterator<Item = &'s Arc<Object>>> Iterator for MergeOverlay<'s, I> {
    type Item = &'s Arc<Object>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let from_index = self.index.peek().map(|o| o.key.as_str());
            let from_overlay = self.overlay.peek().map(|(k, _)| *k);
            match (from_index, from_overlay) {
                (None, None) => return None,
                (Some(i), Some(o)) if i < o => return self.index.next(),
                (Some(_), None) => return self.index.next(),
                (Some(i), Some(o)) => {
                    if i == o {
                        self.index.next();
                    }
                    if let Some((_, Some(object))) = self.overlay.next() {
                        return Some(object);
                    }
                }
                (None, Some(_)) => {
                    if let Some((_, Some(object))) = self.overlay.next() {
                        return Some(object);
                    }
                }
            }
        }
    }
}
