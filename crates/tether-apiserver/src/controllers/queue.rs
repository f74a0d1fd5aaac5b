//! A small work queue: keys are deduplicated while waiting, and a key can be re-queued after a
//! delay (a namespace whose content still has finalizers, a workload waiting to become ready).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

/// An object's address: namespace (if any) and name.
pub type Key = (Option<String>, String);

#[derive(Clone)]
pub struct Queue {
    tx: mpsc::UnboundedSender<Key>,
    waiting: Arc<Mutex<HashSet<Key>>>,
}

pub struct Receiver {
    rx: mpsc::UnboundedReceiver<Key>,
    waiting: Arc<Mutex<HashSet<Key>>>,
}

pub fn queue() -> (Queue, Receiver) {
    let (tx, rx) = mpsc::unbounded_channel();
    let waiting = Arc::new(Mutex::new(HashSet::new()));
    (
        Queue {
            tx,
            waiting: waiting.clone(),
        },
        Receiver { rx, waiting },
    )
}

impl Queue {
    /// Queues `key` unless it is already waiting.
    pub fn add(&self, key: Key) {
        let fresh = self
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key.clone());
        if fresh {
            let _ = self.tx.send(key);
        }
    }

    /// Queues `key` after `delay`.
    pub fn add_after(&self, key: Key, delay: Duration) {
        let queue = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            queue.add(key);
        });
    }
}

impl Receiver {
    /// The next key; it may be queued again from the moment it is handed out.
    pub async fn next(&mut self) -> Option<Key> {
        let key = self.rx.recv().await?;
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&key);
        Some(key)
    }
}
