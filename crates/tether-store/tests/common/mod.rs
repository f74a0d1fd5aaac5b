#![allow(dead_code)] // each test binary uses a different part

use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use futures_core::Stream;
use serde_json::{Value, json};
use tether_store::{Event, Watch, WriteOp};

/// A small Kubernetes-like object.
pub fn object(name: &str, data: u64) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"parity": if data.is_multiple_of(2) { "even" } else { "odd" }}},
        "data": {"n": data.to_string()},
    })
}

pub fn data_of(value: &Value) -> u64 {
    value["data"]["n"].as_str().unwrap().parse().unwrap()
}

pub fn create(key: &str, data: u64) -> WriteOp {
    WriteOp::Create {
        key: key.into(),
        value: object(key, data),
    }
}

pub fn update(key: &str, data: u64, expected_revision: Option<u64>) -> WriteOp {
    WriteOp::Update {
        key: key.into(),
        value: object(key, data),
        expected_revision,
    }
}

pub fn delete(key: &str, expected_revision: Option<u64>) -> WriteOp {
    WriteOp::Delete {
        key: key.into(),
        expected_revision,
    }
}

/// `value` as the store returns it: stamped with `revision`.
pub fn stamped(mut value: Value, revision: u64) -> Value {
    value["metadata"]["resourceVersion"] = json!(revision.to_string());
    value
}

/// Reads a watch until it has processed every revision up to `until`. Fails on a watch error,
/// an early end, or no progress for 30 s.
pub async fn collect_until(watch: &mut Watch, until: u64) -> Vec<Arc<Event>> {
    let mut events = Vec::new();
    let mut deadline = Instant::now() + Duration::from_secs(30);
    while watch.last_revision() < until {
        // Poll once without waiting: a pending watch has processed all that is there, so
        // `last_revision` may already be `until` (the tail was filtered out).
        let polled =
            std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *watch).poll_next(cx))).await;
        let item = match polled {
            Poll::Ready(item) => Some(item),
            Poll::Pending if watch.last_revision() >= until => break,
            Poll::Pending => tokio::time::timeout(Duration::from_millis(20), watch.next())
                .await
                .ok(),
        };
        match item {
            Some(Some(Ok(event))) => {
                events.push(event);
                deadline = Instant::now() + Duration::from_secs(30);
            }
            Some(Some(Err(error))) => panic!("watch failed: {error}"),
            Some(None) => panic!("watch ended at {} before {until}", watch.last_revision()),
            None => assert!(
                Instant::now() < deadline,
                "watch stuck at {} waiting for {until}",
                watch.last_revision()
            ),
        }
    }
    events
}

/// The observable content of an event, for comparisons.
pub fn summary(event: &Event) -> (tether_store::EventKind, u64, String, Value, Option<Value>) {
    (
        event.kind,
        event.revision,
        event.key().to_owned(),
        event.object.value.clone(),
        event.previous.as_ref().map(|p| p.value.clone()),
    )
}
