//! Git sources: fetch a GitRepository's commit, pack it into an artifact, store and serve it,
//! as Flux's source-controller does.
//!
//! The controller maps a GitRepository onto plain inputs ([`GitSourceSpec`], and [`GitAuth`]
//! from the `secretRef` Secret's data) and calls, per reconcile:
//!
//! 1. [`fetch`]`(spec, auth, last_revision)`: in a private temporary bare repository, one gix
//!    connection lists the remote's refs (`ls-refs`), resolves the reference with Flux's
//!    precedence (`commit` › `name` › `tag` › `semver` › `branch`, default branch `master`) and,
//!    when the advertised revision equals `last_revision` (the artifact in status), stops there:
//!    [`FetchOutcome::Unchanged`], no pack downloaded (Flux's no-op clone). Otherwise it
//!    downloads a depth-1 pack of that one ref (branch, tag, semver, name), or full history of
//!    the branch (or of every branch and tag) for `commit`, and returns a [`Checkout`] with the
//!    revision string as Flux writes it (`main@sha1:<40 hex>`, `v1.2.3@sha1:…`,
//!    `refs/pull/1/head@sha1:…`, `sha1:…`). The whole fetch runs on a blocking thread under
//!    `spec.timeout`.
//! 2. [`ArtifactStore::archive`]`(namespace, name, checkout, spec.ignore)`: packs the commit's
//!    tree, straight from the object database, into `gitrepository/<ns>/<name>/<sha>.tar.gz`
//!    minus ignored files, and returns the [`Artifact`] for `status.artifact` (path, url,
//!    revision, `sha256:` digest, size, lastUpdateTime).
//! 3. [`ArtifactStore::garbage_collect`] keeps the newest N artifacts of the object (never the
//!    current one); [`ArtifactStore::remove_all`] when the GitRepository is deleted.
//!
//! [`ArtifactServer`] serves the store over HTTP; consumers call [`fetch_artifact`] (which checks
//! the digest) and [`read_artifact_files`].
//!
//! # Transports and credentials
//!
//! - `https://` and `http://` through gix's reqwest client (rustls): basic auth (`username`,
//!   `password`) answered through gix's credentials callback when the server asks (HTTP 401),
//!   bearer token (`bearerToken`) as an `Authorization` header on every request, a custom CA
//!   (`ca.crt`, or the legacy `caFile`) added to the system roots through gix's client hook.
//!   Credentials over plain `http://` are allowed, as source-controller allows them.
//! - `ssh://` (and `user@host:path`) through the system `ssh`, pinned by a wrapper to the
//!   Secret's `identity` and `known_hosts` only, with strict host-key checking and no agent;
//!   an encrypted key's passphrase (`password`) is given through `SSH_ASKPASS`. See the `ssh`
//!   module for the exact options. A URL without a user gets `git@`, as Flux does.
//! - `file://` and local paths through `git-upload-pack` (the `git` CLI must be installed).
//!
//! gix runs isolated: no system, global or environment Git configuration, no credential helpers,
//! no prompts.
//!
//! # Guarantees
//!
//! - Every fetch error ([`FetchError`]) names the URL and the reference, and says what failed:
//!   [`FetchErrorKind::Authentication`], [`FetchErrorKind::HostKeyVerification`] (never a silent
//!   accept), [`FetchErrorKind::Tls`], [`FetchErrorKind::ReferenceNotFound`], a timeout, …
//! - A failed fetch touches nothing in the store: the last good artifact stays on disk and keeps
//!   being served, so the controller keeps `status.artifact` and sets `FetchFailed`.
//! - Artifacts are deterministic: the same tree and ignore rules give the same bytes and digest
//!   (sorted entries, no owners, mtime 0, fixed modes, gzip without name or time).
//! - Artifacts appear atomically (temporary file in the same directory, then rename); readers
//!   need no lock.
//!
//! # Ignore rules
//!
//! As source-controller: `.sourceignore` files anywhere in the tree (gitignore syntax, each
//! applying below its own directory), then `spec.ignore`; the VCS files (`.git/`,
//! `.gitignore`, `.gitmodules`, `.gitattributes`) are always excluded, and Flux's default
//! excludes (images, archives, CI configuration, `.sops.yaml`, …) only when no other pattern
//! is given. Symbolic links and submodules are left out of artifacts, as source-controller does.
//! See [`EXCLUDE_VCS`] and friends.
//!
//! # Caveats
//!
//! - `include` is resolved by the controller (which reads the other GitRepositories) and packed
//!   with [`ArtifactStore::archive_with_includes`].
//! - Every fetch starts from an empty repository: nothing is cached between reconciles besides
//!   the no-op check.
//! - `semver` follows Masterminds' constraint syntax by rewriting it for the `semver` crate; two
//!   tags equal but for build metadata are ordered by the `semver` crate, where Flux uses commit
//!   time.
//! - A timeout stops waiting at once and signals gix to stop; gix notices between pack entries,
//!   so the blocking thread may outlive the timeout briefly.
//! - The no-op check compares revisions only: the controller must pass `last_revision` only
//!   when the stored artifact was packed with the current `spec.ignore` (Flux re-packs when the
//!   ignore rules change) and still [`exists`](ArtifactStore::exists).

mod auth;
mod client;
mod error;
mod fetch;
// Not API: what `fuzz/` needs of the crate-private parsers.
#[doc(hidden)]
pub mod fuzzing;
mod ignore_rules;
mod include;
mod pack;
mod semver_range;
mod server;
mod spec;
mod ssh;
mod store;
mod submodule;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub use auth::{BasicAuth, GitAuth, Scheme, SshAuth};
pub use client::{digest, fetch_artifact, read_artifact_files};
pub use error::{ArtifactError, AuthError, FetchError, FetchErrorKind};
pub use fetch::{Checkout, FetchOutcome};
pub use ignore_rules::{EXCLUDE_CI, EXCLUDE_EXT, EXCLUDE_EXTRA, EXCLUDE_VCS, IGNORE_FILE};
pub use include::IncludedFiles;
pub use server::ArtifactServer;
pub use spec::{DEFAULT_BRANCH, DEFAULT_TIMEOUT, GitReference, GitSourceSpec};
pub use store::{Artifact, ArtifactStore, KIND};

/// Fetches the commit `spec` selects. When `last_revision` is the revision the remote
/// advertises now, returns [`FetchOutcome::Unchanged`] without downloading a pack.
pub async fn fetch(
    spec: &GitSourceSpec,
    auth: &GitAuth,
    last_revision: Option<&str>,
) -> Result<FetchOutcome, FetchError> {
    let interrupt = Arc::new(AtomicBool::new(false));
    let task = {
        let spec = spec.clone();
        let auth = auth.clone();
        let last = last_revision.map(str::to_owned);
        let interrupt = interrupt.clone();
        tokio::task::spawn_blocking(move || {
            fetch::Fetch {
                spec: &spec,
                auth: &auth,
                last_revision: last.as_deref(),
                interrupt,
            }
            .run()
        })
    };
    let err = |kind| FetchError {
        url: spec.url.clone(),
        reference: spec.reference.describe(),
        kind,
    };
    match tokio::time::timeout(spec.timeout, task).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) => Err(err(FetchErrorKind::Transport(format!(
            "the fetch task failed: {join}"
        )))),
        Err(_) => {
            // gix checks the flag between pack entries; the task ends soon after.
            interrupt.store(true, Ordering::Relaxed);
            Err(err(FetchErrorKind::Timeout(spec.timeout)))
        }
    }
}

/// The blocking form of [`fetch`], for callers without a runtime (no timeout is enforced
/// besides the HTTP client's and ssh's connect timeouts).
pub fn fetch_blocking(
    spec: &GitSourceSpec,
    auth: &GitAuth,
    last_revision: Option<&str>,
) -> Result<FetchOutcome, FetchError> {
    fetch::Fetch {
        spec,
        auth,
        last_revision,
        interrupt: Arc::new(AtomicBool::new(false)),
    }
    .run()
}
