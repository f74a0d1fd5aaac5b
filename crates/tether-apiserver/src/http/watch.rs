//! Streaming a watch: one JSON event per line over a chunked (HTTP/1.1) or streamed (HTTP/2)
//! body, with periodic BOOKMARKs when the client allows them, ending at `timeoutSeconds`, at
//! shutdown, or when the client goes away.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::{BufMut, Bytes, BytesMut};
use futures::FutureExt;
use http::StatusCode;
use rand::Rng;
use serde_json::{Value, json};

use super::AppState;
use super::negotiate::{Negotiated, Shape};
use super::respond::{self, partial_metadata};
use super::table;
use crate::core::{Output, WatchEvent, WatchStream};
use crate::registry::Resource;

/// kube-apiserver ends watches without `timeoutSeconds` after a random time in
/// [min-request-timeout, 2 × min-request-timeout) so clients reconnect spread out.
const MIN_REQUEST_TIMEOUT: Duration = Duration::from_secs(1800);

/// Appends one watch event line: `{"type":"<kind>","object":<object>}\n`.
fn append_frame(buf: &mut BytesMut, kind: &str, object: &[u8]) {
    buf.reserve(object.len() + 32);
    buf.put_slice(b"{\"type\":\"");
    buf.put_slice(kind.as_bytes());
    buf.put_slice(b"\",\"object\":");
    buf.put_slice(object);
    buf.put_slice(b"}\n");
}

fn append_object(buf: &mut BytesMut, kind: &str, r: &Resource, out: &Output, shape: Shape) {
    match (shape, out) {
        // The common case: the stored bytes go out as they are, copied once.
        (Shape::Object, Output::Stored(stored)) => append_frame(buf, kind, &stored.json),
        (Shape::Object, Output::Value(v)) => {
            append_frame(buf, kind, &serde_json::to_vec(v).unwrap_or_default())
        }
        (Shape::PartialMetadata, out) => append_frame(
            buf,
            kind,
            &serde_json::to_vec(&partial_metadata(out.value())).unwrap_or_default(),
        ),
        (Shape::Table { v1beta1 }, out) => {
            let t = table::table(r, &[out.value()], None, v1beta1, true);
            append_frame(buf, kind, &serde_json::to_vec(&t).unwrap_or_default())
        }
    }
}

fn append_bookmark(buf: &mut BytesMut, r: &Resource, revision: u64, initial_events_end: bool) {
    let mut metadata = json!({"resourceVersion": revision.to_string(), "creationTimestamp": null});
    if initial_events_end {
        metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    let object: Value =
        json!({"kind": r.kind, "apiVersion": r.api_version(), "metadata": metadata});
    append_frame(
        buf,
        "BOOKMARK",
        &serde_json::to_vec(&object).unwrap_or_default(),
    );
}

fn append_event(
    buf: &mut BytesMut,
    r: &Resource,
    event: WatchEvent,
    shape: Shape,
    bookmarks: bool,
) {
    match event {
        WatchEvent::Added(o) => append_object(buf, "ADDED", r, &o, shape),
        WatchEvent::Modified(o) => append_object(buf, "MODIFIED", r, &o, shape),
        WatchEvent::Deleted(o) => append_object(buf, "DELETED", r, &o, shape),
        WatchEvent::Bookmark {
            revision,
            initial_events_end,
        } => {
            if bookmarks {
                append_bookmark(buf, r, revision, initial_events_end);
            }
        }
        WatchEvent::Error(err) => append_frame(
            buf,
            "ERROR",
            &serde_json::to_vec(&err.to_status()).unwrap_or_default(),
        ),
    }
}

/// Events that are ready together go out in one chunk up to this size: under load, one write
/// (one TLS record, one syscall) carries many events instead of one each.
const MAX_CHUNK: usize = 256 * 1024;

/// Counts a watch as open for as long as its task runs.
struct OpenWatch(Arc<AtomicUsize>);

impl OpenWatch {
    fn new(count: Arc<AtomicUsize>) -> OpenWatch {
        count.fetch_add(1, Ordering::Relaxed);
        OpenWatch(count)
    }
}

impl Drop for OpenWatch {
    fn drop(&mut self) {
        let left = self.0.fetch_sub(1, Ordering::Relaxed) - 1;
        tracing::debug!(open = left, "watch closed");
    }
}

pub fn respond(
    state: &AppState,
    r: Arc<Resource>,
    mut stream: WatchStream,
    negotiated: Negotiated,
    timeout: Option<Duration>,
    allow_bookmarks: bool,
) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    let timeout = timeout.unwrap_or_else(|| {
        let base = MIN_REQUEST_TIMEOUT.as_secs();
        Duration::from_secs(rand::rng().random_range(base..base * 2))
    });
    let interval = state.bookmark_interval;
    let mut shutdown = state.shutdown.clone();
    let shape = negotiated.shape;
    let open = OpenWatch::new(state.watches.clone());
    tokio::spawn(async move {
        let _open = open;
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        let mut ended = false;
        while !ended {
            let mut buf = BytesMut::new();
            tokio::select! {
                event = stream.next() => match event {
                    Some(event) => append_event(&mut buf, &r, event, shape, allow_bookmarks),
                    None => break,
                },
                _ = ticker.tick() => {
                    if allow_bookmarks {
                        append_bookmark(&mut buf, &r, stream.revision(), false);
                    }
                }
                _ = &mut deadline => break,
                _ = shutdown.changed() => break,
                // The client went away: end now, not at the next event (an idle watch would
                // otherwise linger until its timeout).
                _ = tx.closed() => break,
            }
            while buf.len() < MAX_CHUNK {
                match stream.next().now_or_never() {
                    Some(Some(event)) => append_event(&mut buf, &r, event, shape, allow_bookmarks),
                    Some(None) => {
                        ended = true;
                        break;
                    }
                    None => break,
                }
            }
            // A failed send means the client went away.
            if !buf.is_empty() && tx.send(Ok(buf.freeze())).await.is_err() {
                break;
            }
        }
    });
    let content_type = match shape {
        Shape::Table { v1beta1: false } => "application/json;as=Table;v=v1;g=meta.k8s.io",
        Shape::Table { v1beta1: true } => "application/json;as=Table;v=v1beta1;g=meta.k8s.io",
        _ => respond::JSON,
    };
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    respond::raw(StatusCode::OK, content_type, body)
}
