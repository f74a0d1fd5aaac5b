//! Streaming a watch: one JSON event per line over a chunked (HTTP/1.1) or streamed (HTTP/2)
//! body, with periodic BOOKMARKs when the client allows them, ending at `timeoutSeconds`, at
//! shutdown, or when the client goes away.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::{BufMut, Bytes, BytesMut};
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

fn frame(kind: &str, object: &[u8]) -> Bytes {
    let mut buf = BytesMut::with_capacity(object.len() + 32);
    buf.put_slice(b"{\"type\":\"");
    buf.put_slice(kind.as_bytes());
    buf.put_slice(b"\",\"object\":");
    buf.put_slice(object);
    buf.put_slice(b"}\n");
    buf.freeze()
}

fn encode_object(r: &Resource, out: &Output, shape: Shape) -> Vec<u8> {
    match (shape, out) {
        (Shape::Object, Output::Stored(stored)) => stored.json.to_vec(),
        (Shape::Object, Output::Value(v)) => serde_json::to_vec(v).unwrap_or_default(),
        (Shape::PartialMetadata, out) => {
            serde_json::to_vec(&partial_metadata(out.value())).unwrap_or_default()
        }
        (Shape::Table { v1beta1 }, out) => {
            let t = table::table(r, std::slice::from_ref(out.value()), None, v1beta1, true);
            serde_json::to_vec(&t).unwrap_or_default()
        }
    }
}

fn bookmark(r: &Resource, revision: u64, initial_events_end: bool) -> Bytes {
    let mut metadata = json!({"resourceVersion": revision.to_string(), "creationTimestamp": null});
    if initial_events_end {
        metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    let object: Value =
        json!({"kind": r.kind, "apiVersion": r.api_version(), "metadata": metadata});
    frame("BOOKMARK", &serde_json::to_vec(&object).unwrap_or_default())
}

fn encode_event(r: &Resource, event: WatchEvent, shape: Shape, bookmarks: bool) -> Option<Bytes> {
    Some(match event {
        WatchEvent::Added(o) => frame("ADDED", &encode_object(r, &o, shape)),
        WatchEvent::Modified(o) => frame("MODIFIED", &encode_object(r, &o, shape)),
        WatchEvent::Deleted(o) => frame("DELETED", &encode_object(r, &o, shape)),
        WatchEvent::Bookmark {
            revision,
            initial_events_end,
        } => {
            if !bookmarks {
                return None;
            }
            bookmark(r, revision, initial_events_end)
        }
        WatchEvent::Error(err) => frame(
            "ERROR",
            &serde_json::to_vec(&err.to_status()).unwrap_or_default(),
        ),
    })
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
    tokio::spawn(async move {
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        loop {
            let frame = tokio::select! {
                event = stream.next() => match event {
                    Some(event) => encode_event(&r, event, shape, allow_bookmarks),
                    None => break,
                },
                _ = ticker.tick() => allow_bookmarks.then(|| bookmark(&r, stream.revision(), false)),
                _ = &mut deadline => break,
                _ = shutdown.changed() => break,
            };
            // A failed send means the client went away.
            if let Some(frame) = frame
                && tx.send(Ok(frame)).await.is_err()
            {
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
