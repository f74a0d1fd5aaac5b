//! Test support shared by tether's end-to-end tests: real Git remotes that a test starts and
//! stops itself, and work repositories with reproducible commits.
//!
//! # What is here
//!
//! - [`GitHttpServer`]: a smart-HTTP Git remote. It serves the bare repositories under a root
//!   directory through `git http-backend` (run as CGI for every request) on `127.0.0.1` at an
//!   ephemeral port (or a port the test picks, so a test can stop a remote and bring it back on
//!   the same URL). Optional HTTP basic auth, optional bearer token, optional TLS with a CA
//!   generated per server ([`GitHttpServer::ca_pem`] is what clients must trust). Pushing works
//!   (`http.receivepack` is enabled). Every request is recorded ([`GitHttpServer::requests`]) so a
//!   test can tell an `ls-refs` from a pack download.
//! - [`SshGitServer`]: an OpenSSH `sshd` run by the test as the current user (no root needed:
//!   its own `sshd_config` with `UsePAM no` and `StrictModes no`, host key, authorized key and pid
//!   file in a temporary directory), listening on `127.0.0.1`. It serves bare repositories by
//!   absolute path: `ssh://user@127.0.0.1:PORT/abs/path/repo.git`. It exposes the client's
//!   private key and the `known_hosts` line of its host key. `sshd` comes from Debian's
//!   `openssh-server`; when `/usr/sbin/sshd` is missing, [`SshGitServer::start`] fails with an
//!   error naming that package.
//! - [`WorkRepo`]: a non-bare repository in a temporary directory, driven through the `git` CLI
//!   with a fixed author, committer and clock (each commit one minute after the previous one), so
//!   the same steps give the same SHAs on every machine. [`init_bare`] makes a bare remote.
//!
//! # Guarantees
//!
//! - Servers bind `127.0.0.1` only and stop on drop (the HTTP server's thread and runtime end,
//!   `sshd` is killed and reaped); temporary directories are removed on drop.
//! - The `git` CLI runs with `GIT_CONFIG_NOSYSTEM=1` and an empty global config, so the
//!   developer's own Git configuration never changes a test's outcome.
//!
//! # Caveats
//!
//! - The HTTP server buffers each request and response body in memory: fine for test
//!   repositories, not a production server.
//! - `SshGitServer` picks a free port by binding and releasing it before `sshd` starts; if another
//!   process takes the port in between, it retries with a new one.

mod error;
mod http;
mod repo;
mod ssh;
mod tls;

pub use error::TestkitError;
pub use http::{GitHttpConfig, GitHttpServer, RecordedRequest};
pub use repo::{WorkRepo, git_command, init_bare};
pub use ssh::{SshGitServer, SshKeyPair, generate_ed25519_key};
pub use tls::TestCa;
