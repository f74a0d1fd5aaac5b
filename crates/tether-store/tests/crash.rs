//! Crash durability: a child process (this test binary, re-run with an environment variable)
//! writes from several tasks and prints each acknowledged revision; the test SIGKILLs it
//! mid-stream, reopens the file, and checks every acknowledged write is there with its revision.
//! Twice on the same file, so the second round also starts from a crash-recovered file.

// Test code: a panic is a failed assertion with a backtrace (clippy.toml allows this only
// inside #[test] functions, not in their helpers).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use tether_store::{Filter, HistoryLimits, Store, StoreConfig};

const CHILD_PATH: &str = "TETHER_STORE_CRASH_CHILD_PATH";
const CHILD_ROUND: &str = "TETHER_STORE_CRASH_CHILD_ROUND";
const TASKS: u64 = 8;
/// Acknowledgements to wait for before the kill.
const ACKS_BEFORE_KILL: usize = 1500;

fn config(path: &Path) -> StoreConfig {
    StoreConfig {
        history: HistoryLimits {
            max_events: 1_000_000,
        },
        ..StoreConfig::at(path)
    }
}

/// The child: writes until killed. Not a test on its own; `sigkill_keeps_every_acknowledged_write`
/// runs it in a separate process.
#[test]
#[ignore = "child process of sigkill_keeps_every_acknowledged_write, which starts it"]
fn crash_child() {
    let path = std::env::var(CHILD_PATH).expect("the parent test sets the store path");
    let round = std::env::var(CHILD_ROUND).expect("the parent test sets the round");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async move {
        let store = Store::open(config(Path::new(&path))).unwrap();
        println!("ready {}", store.revision());
        let tasks: Vec<_> = (0..TASKS)
            .map(|task| {
                let store = store.clone();
                let round = round.clone();
                tokio::spawn(async move {
                    // New keys, plus updates of one counter per task.
                    let counter = format!("r{round}/t{task}/counter");
                    store.write(create(&counter, 0)).await.unwrap();
                    for n in 1.. {
                        let (key, op) = if n % 3 == 0 {
                            (counter.clone(), update(&counter, n, None))
                        } else {
                            let key = format!("r{round}/t{task}/{n}");
                            (key.clone(), create(&key, n))
                        };
                        let outcome = store.write(op).await.unwrap();
                        // One line per acknowledgement, printed only after `write` returned.
                        println!("ack {} {key} {n}", outcome.revision);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
}

/// An acknowledged write: revision → (key, data).
type Acks = BTreeMap<u64, (String, u64)>;

/// The next complete line; a tail cut by the kill (no newline) is not a whole record.
fn next_line(output: &mut impl BufRead) -> Option<String> {
    let mut line = String::new();
    match output.read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => line.ends_with('\n').then(|| line.trim_end().to_owned()),
    }
}

/// Reads the child's records. libtest may print its own text before them on the same line
/// (`test crash_child ... ready 0`), so records are found by their first word.
fn parse(line: &str, acks: &mut Acks, ready: &mut Option<u64>) {
    let words: Vec<&str> = line.split(' ').collect();
    if let Some(i) = words.iter().position(|w| *w == "ready") {
        *ready = Some(words[i + 1].parse().unwrap());
    } else if let ["ack", revision, key, n] = words.as_slice() {
        let previous = acks.insert(
            revision.parse().unwrap(),
            ((*key).to_owned(), n.parse().unwrap()),
        );
        assert!(previous.is_none(), "revision acknowledged twice: {line}");
    }
}

/// Runs one child until it has acknowledged enough writes, kills it, and returns its
/// acknowledgements and the revision it started from.
fn run_child_and_kill(path: &Path, round: u32) -> (u64, Acks) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "crash_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_PATH, path)
        .env(CHILD_ROUND, round.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut output = BufReader::new(child.stdout.take().unwrap());
    let mut ready = None;
    let mut acks = Acks::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while acks.len() < ACKS_BEFORE_KILL {
        assert!(
            Instant::now() < deadline,
            "child too slow: {} acks",
            acks.len()
        );
        let line = next_line(&mut output)
            .unwrap_or_else(|| panic!("child ended early after {} acks", acks.len()));
        parse(&line, &mut acks, &mut ready);
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // Lines already in the pipe were printed before the kill: they are acknowledgements too.
    while let Some(line) = next_line(&mut output) {
        parse(&line, &mut acks, &mut ready);
    }
    (ready.expect("the child printed its start revision"), acks)
}

fn check_acknowledged(store: &Store, acks: &Acks) {
    let last = store.revision();
    let events = {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut watch = store.watch(0, Filter::all()).unwrap();
            collect_until(&mut watch, last).await
        })
    };
    assert_eq!(events.len() as u64, last, "every revision has its event");
    for (revision, (key, n)) in acks {
        assert!(
            *revision <= last,
            "acknowledged revision {revision} missing: store ends at {last}"
        );
        let event = &events[(*revision - 1) as usize];
        assert_eq!(event.revision, *revision);
        assert_eq!(event.key(), key, "revision {revision}");
        assert_eq!(data_of(&event.object.value), *n, "revision {revision}");
        if !key.ends_with("/counter") {
            let object = store
                .get(key)
                .unwrap_or_else(|| panic!("acknowledged {key} missing"));
            assert_eq!(object.revision, *revision);
            assert_eq!(data_of(&object.value), *n);
        }
    }
}

#[test]
fn sigkill_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let mut all = Acks::new();
    let mut next_start = 0;
    for round in 0..2 {
        let (started_at, acks) = run_child_and_kill(&path, round);
        assert_eq!(
            started_at, next_start,
            "round {round} continues the numbering"
        );
        assert!(acks.len() >= ACKS_BEFORE_KILL);
        assert!(*acks.keys().next().unwrap() > started_at);
        all.extend(acks);

        let store = Store::open(config(&path)).unwrap();
        assert!(store.revision() >= *all.keys().last().unwrap());
        check_acknowledged(&store, &all);
        // Numbering continues after the crash.
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let before = store.revision();
        let outcome = runtime
            .block_on(store.write(create(&format!("after-crash/{round}"), 0)))
            .unwrap();
        assert_eq!(outcome.revision, before + 1);
        runtime.block_on(store.close()).unwrap();
        next_start = before + 1;
    }
}
