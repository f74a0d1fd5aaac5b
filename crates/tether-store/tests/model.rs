//! The store against a simple model: a sequential map with a revision counter that records
//! every state. Random operations (some conflicting, some in one batch) on keys whose prefixes
//! overlap; then every list, snapshot and watch the store can serve is compared with the model,
//! and again after a restart for file-backed cases.

// Test code: a panic is a failed assertion with a backtrace (clippy.toml allows this only
// inside #[test] functions, not in their helpers).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use common::*;
use proptest::prelude::*;
use serde_json::Value;
use tether_store::{
    Error, EventKind, Filter, HistoryLimits, ListRequest, Store, StoreConfig, WriteError, WriteOp,
};

const KEYS: &[&str] = &[
    "a/x/1", "a/x/2", "a/x/10", "a/x/1/z", "a/xy/1", "a/y/1", "b/x/1",
];
const PREFIXES: &[&str] = &["", "a/", "a/x/", "a/x", "a/x/1", "a/y/", "b/", "c/"];

#[derive(Debug, Clone, Copy)]
enum Expect {
    Any,
    Current,
    Stale,
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Create(usize),
    Update(usize, Expect),
    Delete(usize, Expect),
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0..KEYS.len();
    let expect = prop_oneof![
        Just(Expect::Any),
        Just(Expect::Current),
        Just(Expect::Stale)
    ];
    prop_oneof![
        3 => key.clone().prop_map(Op::Create),
        3 => (key.clone(), expect.clone()).prop_map(|(k, e)| Op::Update(k, e)),
        1 => (key, expect).prop_map(|(k, e)| Op::Delete(k, e)),
    ]
}

type State = BTreeMap<String, (u64, Value)>;

#[derive(Debug, Clone, PartialEq)]
struct ModelEvent {
    kind: EventKind,
    revision: u64,
    key: String,
    value: Value,
    previous: Option<Value>,
}

#[derive(Debug, PartialEq)]
enum Refusal {
    AlreadyExists,
    NotFound,
    Conflict(u64),
}

#[derive(Default)]
struct Model {
    revision: u64,
    /// `states[r]`: everything as of revision `r`.
    states: Vec<State>,
    events: Vec<ModelEvent>,
}

impl Model {
    fn new() -> Model {
        Model {
            revision: 0,
            states: vec![State::new()],
            events: Vec::new(),
        }
    }

    fn current(&self) -> &State {
        &self.states[self.revision as usize]
    }

    /// Turns a generated op into a concrete write against the current model state, applies it
    /// to the model, and says what the store must answer.
    fn apply(&mut self, op: Op, data: u64) -> (WriteOp, Result<u64, Refusal>) {
        let (index, expect) = match op {
            Op::Create(i) => (i, Expect::Any),
            Op::Update(i, e) | Op::Delete(i, e) => (i, e),
        };
        let key = KEYS[index].to_owned();
        let existing = self.current().get(&key).cloned();
        let current_revision = existing.as_ref().map(|(r, _)| *r);
        let expected = match expect {
            Expect::Any => None,
            Expect::Current => Some(current_revision.unwrap_or(1)),
            Expect::Stale => {
                Some(current_revision.map_or(1, |r| r.saturating_sub(1).max(1) + u64::from(r == 1)))
            }
        };
        let write = match op {
            Op::Create(_) => create(&key, data),
            Op::Update(..) => update(&key, data, expected),
            Op::Delete(..) => delete(&key, expected),
        };
        let refusal = match (&op, &existing, expected) {
            (Op::Create(_), Some(_), _) => Some(Refusal::AlreadyExists),
            (Op::Create(_), None, _) => None,
            (_, None, _) => Some(Refusal::NotFound),
            (_, Some((rev, _)), Some(e)) if e != *rev => Some(Refusal::Conflict(*rev)),
            _ => None,
        };
        if let Some(refusal) = refusal {
            return (write, Err(refusal));
        }
        let revision = self.revision + 1;
        let mut next = self.current().clone();
        let (kind, value) = match op {
            Op::Create(_) => (EventKind::Added, stamped(object(&key, data), revision)),
            Op::Update(..) => (EventKind::Modified, stamped(object(&key, data), revision)),
            Op::Delete(..) => {
                let (_, old) = existing.clone().unwrap();
                (EventKind::Deleted, stamped(old, revision))
            }
        };
        if kind == EventKind::Deleted {
            next.remove(&key);
        } else {
            next.insert(key.clone(), (revision, value.clone()));
        }
        self.events.push(ModelEvent {
            kind,
            revision,
            key,
            value,
            previous: existing.map(|(_, v)| v),
        });
        self.states.push(next);
        self.revision = revision;
        (write, Ok(revision))
    }
}

fn answer(result: &Result<tether_store::WriteOutcome, WriteError>) -> Result<u64, Refusal> {
    match result {
        Ok(outcome) => Ok(outcome.revision),
        Err(WriteError::AlreadyExists { .. }) => Err(Refusal::AlreadyExists),
        Err(WriteError::NotFound { .. }) => Err(Refusal::NotFound),
        Err(WriteError::Conflict { current, .. }) => Err(Refusal::Conflict(*current)),
        Err(other) => panic!("unexpected write error: {other}"),
    }
}

fn listed(items: &[std::sync::Arc<tether_store::Object>]) -> Vec<(String, u64, Value)> {
    items
        .iter()
        .map(|o| (o.key.clone(), o.revision, o.value.clone()))
        .collect()
}

fn expected(state: &State, prefix: &str) -> Vec<(String, u64, Value)> {
    state
        .iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(k, (r, v))| (k.clone(), *r, v.clone()))
        .collect()
}

/// Every list, snapshot, page and watch the store can serve, against the model.
async fn check(store: &Store, model: &Model, max_events: usize, page: usize) {
    assert_eq!(store.revision(), model.revision);
    let oldest = model.revision.saturating_sub(max_events as u64);
    assert_eq!(store.oldest_revision(), oldest);
    for revision in 0..=model.revision {
        for prefix in PREFIXES {
            let at = ListRequest {
                at_revision: Some(revision),
                ..ListRequest::new(prefix)
            };
            if revision < oldest {
                assert!(
                    matches!(store.list(at), Err(Error::Expired { oldest: o, .. }) if o == oldest)
                );
                assert!(matches!(
                    store.watch(revision, Filter::prefix(*prefix)),
                    Err(Error::Expired { .. })
                ));
                continue;
            }
            let want = expected(&model.states[revision as usize], prefix);
            let full = store.list(at).unwrap();
            assert_eq!(full.revision, revision);
            assert_eq!(listed(&full.items), want, "list {prefix:?} at {revision}");

            // The same snapshot in pages.
            let mut paged = Vec::new();
            let mut start_after: Option<String> = None;
            loop {
                let p = store
                    .list(ListRequest {
                        at_revision: Some(revision),
                        start_after: start_after.as_deref(),
                        limit: Some(page),
                        ..ListRequest::new(prefix)
                    })
                    .unwrap();
                paged.extend(listed(&p.items));
                let left = (want.len() - paged.len()) as u64;
                assert_eq!(
                    p.remaining,
                    (left > 0).then_some(left),
                    "remaining {prefix:?} at {revision}"
                );
                match p.next_key {
                    Some(k) => start_after = Some(k),
                    None => break,
                }
            }
            assert_eq!(paged, want, "pages {prefix:?} at {revision}");

            let mut watch = store.watch(revision, Filter::prefix(*prefix)).unwrap();
            let seen: Vec<ModelEvent> = collect_until(&mut watch, model.revision)
                .await
                .iter()
                .map(|e| ModelEvent {
                    kind: e.kind,
                    revision: e.revision,
                    key: e.key().to_owned(),
                    value: e.object.value.clone(),
                    previous: e.previous.as_ref().map(|p| p.value.clone()),
                })
                .collect();
            let want: Vec<ModelEvent> = model
                .events
                .iter()
                .filter(|e| e.revision > revision && e.key.starts_with(prefix))
                .cloned()
                .collect();
            assert_eq!(seen, want, "watch {prefix:?} after {revision}");
        }
    }
    assert_eq!(
        listed(&store.list(ListRequest::new("")).unwrap().items),
        expected(model.current(), "")
    );
}

async fn run(ops: Vec<(Op, bool)>, max_events: usize, page: usize, durable: bool) {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        path: durable.then(|| dir.path().join("store.redb")),
        history: HistoryLimits { max_events },
        ..StoreConfig::in_memory()
    };
    let store = Store::open(config.clone()).unwrap();
    let mut model = Model::new();
    let mut group = Vec::new();
    for (i, (op, ends_group)) in ops.into_iter().enumerate() {
        let (write, want) = model.apply(op, i as u64);
        // Queued now, awaited with the rest of the group: one or few batches.
        group.push((store.write(write), want));
        if ends_group {
            for (write, want) in group.drain(..) {
                assert_eq!(answer(&write.await), want);
            }
        }
    }
    for (write, want) in group {
        assert_eq!(answer(&write.await), want);
    }
    check(&store, &model, max_events, page).await;
    if durable {
        store.close().await.unwrap();
        let store = Store::open(config).unwrap();
        check(&store, &model, max_events, page).await;
        let next = store.write(create("z/after-restart", 0)).await.unwrap();
        assert_eq!(next.revision, model.revision + 1);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn store_matches_the_model(
        ops in proptest::collection::vec((op(), proptest::bool::weighted(0.3)), 1..60),
        max_events in prop_oneof![Just(0usize), Just(3), Just(10), Just(1000)],
        page in 1usize..4,
        durable in proptest::bool::weighted(0.25),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(run(ops, max_events, page, durable));
    }
}
