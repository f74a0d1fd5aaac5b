//! Watch: the events of a resource after a revision, filtered by selectors, with the initial
//! state first when asked (`resourceVersion` unset or `"0"`, or `sendInitialEvents=true`, which
//! ends the initial state with a bookmark annotated `k8s.io/initial-events-end`).
//!
//! Selectors apply to both sides of a change, as kube-apiserver's watch cache does: an object
//! that starts matching arrives as ADDED, one that stops matching leaves as DELETED.

use std::collections::VecDeque;
use std::sync::Arc;

use serde_json::Value;
use tether_store::{Event, EventKind, Filter, ListRequest, Watch};

use super::list::{RvMatch, parse_revision};
use super::{Core, Output, present};
use crate::object;
use crate::registry::Resource;
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::{ApiError, Cause};

#[derive(Debug, Clone, Default)]
pub struct WatchOptions {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    pub resource_version: Option<String>,
    pub rv_match: Option<RvMatch>,
    pub allow_bookmarks: bool,
    pub send_initial_events: Option<bool>,
}

#[derive(Debug, Clone)]
pub enum WatchEvent {
    Added(Output),
    Modified(Output),
    Deleted(Output),
    Bookmark {
        revision: u64,
        initial_events_end: bool,
    },
    Error(ApiError),
}

/// The events of one watch request.
pub struct WatchStream {
    resource: Arc<Resource>,
    labels: LabelSelector,
    fields: FieldSelector,
    queued: VecDeque<WatchEvent>,
    watch: Option<Watch>,
    revision: u64,
}

impl std::fmt::Debug for WatchStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchStream")
            .field("revision", &self.revision)
            .finish_non_exhaustive()
    }
}

fn options_invalid(field: &str, message: &str) -> ApiError {
    ApiError::invalid(
        "meta.k8s.io",
        "ListOptions",
        "",
        vec![Cause::new("FieldValueForbidden", field, message.to_owned())],
    )
}

impl Core {
    pub async fn watch(
        &self,
        r: &Arc<Resource>,
        namespace: Option<&str>,
        opts: WatchOptions,
    ) -> Result<WatchStream, ApiError> {
        match (opts.send_initial_events, opts.rv_match) {
            (Some(_), m) if m != Some(RvMatch::NotOlderThan) => {
                return Err(options_invalid(
                    "resourceVersionMatch",
                    "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                ));
            }
            (Some(true), _) if !opts.allow_bookmarks => {
                return Err(options_invalid(
                    "allowWatchBookmarks",
                    "Required value: sendInitialEvents requires setting allowWatchBookmarks to true",
                ));
            }
            (None, Some(_)) => {
                return Err(options_invalid(
                    "resourceVersionMatch",
                    "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                ));
            }
            _ => {}
        }
        let rv = opts.resource_version.as_deref().filter(|rv| !rv.is_empty());
        let initial = match opts.send_initial_events {
            Some(send) => send,
            None => matches!(rv, None | Some("0")),
        };
        let mut stream = WatchStream {
            resource: r.clone(),
            labels: opts.labels,
            fields: opts.fields,
            queued: VecDeque::new(),
            watch: None,
            revision: 0,
        };
        let prefix = r.prefix(namespace);
        let start = if initial || rv.is_none() {
            if let Some(wanted) = rv.filter(|rv| *rv != "0") {
                self.wait_for_revision(parse_revision(wanted)?).await?;
            }
            let labels = &stream.labels;
            let fields = &stream.fields;
            let filter =
                |o: &tether_store::Object| labels.matches(&o.value) && fields.matches(&o.value);
            let page = self
                .store
                .list(ListRequest {
                    filter: Some(&filter),
                    ..ListRequest::new(&prefix)
                })
                .map_err(|e| ApiError::internal(e.to_string()))?;
            if initial {
                for item in page.items {
                    stream.queued.push_back(WatchEvent::Added(present(r, item)));
                }
                if opts.send_initial_events == Some(true) {
                    stream.queued.push_back(WatchEvent::Bookmark {
                        revision: page.revision,
                        initial_events_end: true,
                    });
                }
            }
            page.revision
        } else {
            let wanted = parse_revision(rv.unwrap_or("0"))?;
            self.wait_for_revision(wanted).await?;
            wanted
        };
        stream.revision = start;
        let (labels, fields) = (stream.labels.clone(), stream.fields.clone());
        let filter = Filter::prefix(prefix).with_predicate(move |event: &Event| {
            let matches = |v: &Value| labels.matches(v) && fields.matches(v);
            matches(&event.object.value)
                || event.previous.as_ref().is_some_and(|p| matches(&p.value))
        });
        match self.store.watch(start, filter) {
            Ok(watch) => stream.watch = Some(watch),
            Err(tether_store::Error::Expired { requested, oldest }) => {
                stream
                    .queued
                    .push_back(WatchEvent::Error(ApiError::expired(format!(
                        "too old resource version: {requested} ({oldest})"
                    ))));
            }
            Err(other) => return Err(ApiError::internal(other.to_string())),
        }
        Ok(stream)
    }
}

impl WatchStream {
    /// The next event; `None` when the watch ends (server shutdown, or a watcher that fell too
    /// far behind: the client re-watches from its last revision, as after any closed watch).
    pub async fn next(&mut self) -> Option<WatchEvent> {
        if let Some(event) = self.queued.pop_front() {
            return Some(event);
        }
        loop {
            let event = match self.watch.as_mut()?.next().await {
                Some(Ok(event)) => event,
                Some(Err(err)) => {
                    tracing::debug!(%err, "watch closed");
                    self.watch = None;
                    return None;
                }
                None => {
                    self.watch = None;
                    return None;
                }
            };
            self.revision = event.revision;
            if let Some(out) = self.translate(&event) {
                return Some(out);
            }
        }
    }

    /// The revision this watch has seen up to, for bookmarks.
    pub fn revision(&self) -> u64 {
        self.watch
            .as_ref()
            .map_or(self.revision, |w| w.last_revision().max(self.revision))
    }

    fn matches(&self, value: &Value) -> bool {
        self.labels.matches(value) && self.fields.matches(value)
    }

    fn translate(&self, event: &Event) -> Option<WatchEvent> {
        let r = &self.resource;
        let now = self.matches(&event.object.value);
        let before = event
            .previous
            .as_ref()
            .is_some_and(|p| self.matches(&p.value));
        let out = |o: &Arc<tether_store::Object>| present(r, o.clone());
        match event.kind {
            EventKind::Added if now => Some(WatchEvent::Added(out(&event.object))),
            EventKind::Deleted if now => Some(WatchEvent::Deleted(out(&event.object))),
            EventKind::Modified if now && before => Some(WatchEvent::Modified(out(&event.object))),
            EventKind::Modified if now => Some(WatchEvent::Added(out(&event.object))),
            EventKind::Modified if before => {
                // Left the selection: the state it was last seen in, at this event's revision.
                let previous = event.previous.as_ref()?;
                let mut value = previous.value.clone();
                object::set_meta(
                    &mut value,
                    "resourceVersion",
                    Value::String(event.revision.to_string()),
                );
                if r.version != r.storage_version {
                    value["apiVersion"] = Value::String(r.api_version());
                }
                Some(WatchEvent::Deleted(Output::Value(value)))
            }
            _ => None,
        }
    }
}
