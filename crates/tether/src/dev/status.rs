//! Whether the GitRepositories and Kustomizations of a cluster converged, and live progress
//! while they do: one line per object with its Ready state (indicatif on a terminal, a plain
//! line per change otherwise; colour only on a terminal without `NO_COLOR`).

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, ObjectMeta};
use kube::api::{Api, ListParams};
use tether_api::{GitRepository, Kustomization};

use crate::cli::colour::{self, Palette};

/// Where an object stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Ready,
    Waiting,
    /// Ready=False for a reason retrying will not fix by itself.
    Failed,
}

/// One object's Ready condition, at its generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    pub state: State,
    /// `True`, `False`, `Unknown`, or `-` before the controller reported.
    pub ready: String,
    pub message: String,
}

impl Row {
    pub fn id(&self) -> String {
        format!("{}/{}/{}", self.kind, self.namespace, self.name)
    }

    fn line(&self, palette: Palette) -> String {
        let ready = match self.state {
            State::Ready => palette.green(&self.ready),
            State::Failed => palette.red(&self.ready),
            State::Waiting => palette.yellow(&self.ready),
        };
        format!("{:<48} {:<7} {}", self.id(), ready, self.message)
    }
}

/// Reasons of Ready=False that mean the object failed, not that it waits for something.
const FAILED_REASONS: &[&str] = &[
    "BuildFailed",
    "HealthCheckFailed",
    "ReconciliationFailed",
    "PruneFailed",
    "FetchFailed",
    "AuthenticationFailed",
    "URLInvalid",
    "InvalidPath",
];

/// The state of an object with `conditions` at `generation`, having observed `observed`.
pub fn state(conditions: &[Condition], generation: i64, observed: i64) -> (State, String, String) {
    let Some(ready) = tether_api::conditions::find(conditions, "Ready") else {
        return (
            State::Waiting,
            "-".into(),
            "waiting for the controller".into(),
        );
    };
    let message = format!("{} ({})", ready.message, ready.reason);
    // The controller records the generation it reconciled on the condition; a failure leaves
    // status.observedGeneration behind (as Flux's does), so only Ready needs both.
    let condition_current = ready.observed_generation.is_none_or(|g| g == generation);
    let state = match ready.status.as_str() {
        "True" if condition_current && observed == generation => State::Ready,
        "False" if condition_current && FAILED_REASONS.contains(&ready.reason.as_str()) => {
            State::Failed
        }
        _ => State::Waiting,
    };
    (state, ready.status.clone(), message)
}

/// One object's row, judged at its generation.
fn row(kind: &'static str, meta: &ObjectMeta, conditions: &[Condition], observed: i64) -> Row {
    let (state, ready, message) = state(conditions, meta.generation.unwrap_or_default(), observed);
    Row {
        kind,
        namespace: meta.namespace.clone().unwrap_or_default(),
        name: meta.name.clone().unwrap_or_default(),
        state,
        ready,
        message,
    }
}

/// Every GitRepository and Kustomization of the cluster.
pub async fn snapshot(client: &kube::Client) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    let repos: Api<GitRepository> = Api::all(client.clone());
    for repo in repos
        .list(&ListParams::default())
        .await
        .context("cannot list GitRepositories")?
    {
        let observed = repo.status.as_ref().map_or(0, |s| s.observed_generation);
        rows.push(row(
            "GitRepository",
            &repo.metadata,
            repo.conditions(),
            observed,
        ));
    }
    let kss: Api<Kustomization> = Api::all(client.clone());
    for ks in kss
        .list(&ListParams::default())
        .await
        .context("cannot list Kustomizations")?
    {
        let observed = ks.status.as_ref().map_or(0, |s| s.observed_generation);
        rows.push(row(
            "Kustomization",
            &ks.metadata,
            ks.conditions(),
            observed,
        ));
    }
    Ok(rows)
}

/// How a wait ended.
#[derive(Debug)]
pub enum Outcome {
    /// Every object is Ready.
    Ready(Vec<Row>),
    /// These objects failed.
    Failed(Vec<Row>),
    /// The timeout passed; these objects were not Ready.
    TimedOut(Vec<Row>),
}

impl Outcome {
    /// An error naming each object that is not Ready and why, or `Ok` when all are.
    pub fn into_result(self, timeout: Duration) -> anyhow::Result<Vec<Row>> {
        let (rows, what) = match self {
            Outcome::Ready(rows) => return Ok(rows),
            Outcome::Failed(rows) => (rows, "failed".to_owned()),
            Outcome::TimedOut(rows) => (
                rows,
                format!(
                    "not Ready within {}",
                    tether_api::Duration::from_std(timeout)
                ),
            ),
        };
        let list: Vec<String> = rows
            .iter()
            .map(|r| format!("{} {what}: {}", r.id(), r.message))
            .collect();
        anyhow::bail!("{}", list.join("; "))
    }
}

/// The live display of rows: indicatif bars on a terminal, a plain line per change otherwise.
pub struct Board {
    multi: Option<indicatif::MultiProgress>,
    bars: BTreeMap<String, indicatif::ProgressBar>,
    shown: BTreeMap<String, String>,
    palette: Palette,
    quiet: bool,
}

impl Board {
    /// `quiet` shows nothing (`--check` prints a table at the end instead).
    pub fn new(quiet: bool) -> Board {
        let terminal = std::io::stderr().is_terminal();
        Board {
            multi: (terminal && !quiet).then(indicatif::MultiProgress::new),
            bars: BTreeMap::new(),
            shown: BTreeMap::new(),
            palette: Palette::new(colour::for_stderr()),
            quiet,
        }
    }

    pub fn show(&mut self, rows: &[Row]) {
        if self.quiet {
            return;
        }
        for row in rows {
            let line = row.line(self.palette);
            let id = row.id();
            if self.shown.get(&id) == Some(&line) {
                continue;
            }
            self.shown.insert(id.clone(), line.clone());
            match &self.multi {
                Some(multi) => {
                    let bar = self.bars.entry(id).or_insert_with(|| {
                        let bar = multi.add(indicatif::ProgressBar::new_spinner());
                        bar.enable_steady_tick(Duration::from_millis(120));
                        bar
                    });
                    if row.state == State::Waiting {
                        bar.set_message(line);
                    } else {
                        bar.finish_with_message(line);
                    }
                }
                None => eprintln!("{line}"),
            }
        }
    }

    /// Leaves the final lines on screen.
    pub fn finish(&mut self) {
        for bar in self.bars.values() {
            if !bar.is_finished() {
                bar.abandon();
            }
        }
    }
}

/// Polls the cluster until every GitRepository and Kustomization is Ready (at least one
/// Kustomization must exist), one fails, or `timeout` passes.
pub async fn wait_converged(
    client: &kube::Client,
    board: &mut Board,
    timeout: Duration,
) -> anyhow::Result<Outcome> {
    let deadline = Instant::now() + timeout;
    loop {
        let rows = snapshot(client).await?;
        board.show(&rows);
        let failed: Vec<Row> = rows
            .iter()
            .filter(|r| r.state == State::Failed)
            .cloned()
            .collect();
        if !failed.is_empty() {
            board.finish();
            return Ok(Outcome::Failed(failed));
        }
        let any_ks = rows.iter().any(|r| r.kind == "Kustomization");
        if any_ks && rows.iter().all(|r| r.state == State::Ready) {
            board.finish();
            return Ok(Outcome::Ready(rows));
        }
        if Instant::now() >= deadline {
            board.finish();
            let waiting = rows
                .into_iter()
                .filter(|r| r.state != State::Ready)
                .collect();
            return Ok(Outcome::TimedOut(waiting));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(status: &str, reason: &str, generation: i64) -> Condition {
        Condition {
            type_: "Ready".into(),
            status: status.into(),
            reason: reason.into(),
            message: "m".into(),
            observed_generation: Some(generation),
            last_transition_time: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                jiff::Timestamp::UNIX_EPOCH,
            ),
        }
    }

    #[test]
    fn ready_only_at_the_current_generation() {
        let c = [ready("True", "ReconciliationSucceeded", 2)];
        assert_eq!(state(&c, 2, 2).0, State::Ready);
        assert_eq!(state(&c, 3, 2).0, State::Waiting);
        assert_eq!(state(&[], 1, 0).0, State::Waiting);
    }

    #[test]
    fn waiting_reasons_are_not_failures() {
        // A failure leaves status.observedGeneration at the last success.
        let build = [ready("False", "BuildFailed", 2)];
        assert_eq!(state(&build, 2, 1).0, State::Failed);
        assert_eq!(state(&build, 3, 1).0, State::Waiting);
        let deps = [ready("False", "DependencyNotReady", 1)];
        assert_eq!(state(&deps, 1, 1).0, State::Waiting);
        let progressing = [ready("Unknown", "Progressing", 1)];
        assert_eq!(state(&progressing, 1, 1).0, State::Waiting);
    }
}
