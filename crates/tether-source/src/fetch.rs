//! Fetching with gix: one private bare repository per fetch, one connection that lists the
//! remote's refs (`ls-refs`), resolves the spec's reference, and downloads a pack only when the
//! revision differs from the last one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use gix::error::ErrorExt;
use gix::remote::Direction;

use crate::auth::{GitAuth, Scheme};
use crate::error::{FetchError, FetchErrorKind};
use crate::semver_range::{self, Range};
use crate::spec::{GitSourceSpec, Strategy, revision};
use crate::ssh::SshWrapper;

/// The local ref every fetch writes its target to.
const TARGET: &str = "refs/tether/target";

/// The result of [`fetch`](crate::fetch).
#[derive(Debug)]
pub enum FetchOutcome {
    /// The remote's revision equals `last_revision`: nothing was downloaded.
    Unchanged { revision: String },
    /// A new revision was downloaded; pack it with [`ArtifactStore::archive`](crate::ArtifactStore::archive).
    Fetched(Box<Checkout>),
}

/// A fetched commit: its revision string and its tree, held in a private temporary repository
/// that is removed when this value drops.
pub struct Checkout {
    pub(crate) revision: String,
    pub(crate) commit: gix::ObjectId,
    pub(crate) tree: gix::ObjectId,
    pub(crate) repo: gix::ThreadSafeRepository,
    /// With `recurseSubmodules`: the submodules, fetched at their pinned commits.
    pub(crate) submodules: Vec<(String, Box<Checkout>)>,
    pub(crate) _dir: tempfile::TempDir,
}

impl std::fmt::Debug for Checkout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkout")
            .field("revision", &self.revision)
            .field("commit", &self.commit)
            .finish_non_exhaustive()
    }
}

impl Checkout {
    /// Flux's revision string, e.g. `main@sha1:<40 hex>`.
    pub fn revision(&self) -> &str {
        &self.revision
    }

    /// The commit's SHA-1 in hex.
    pub fn commit(&self) -> String {
        self.commit.to_string()
    }

    /// The submodules' trees, recursively, for packing.
    pub(crate) fn submodule_trees(&self) -> Vec<crate::submodule::SubmoduleTree> {
        self.submodules
            .iter()
            .map(|(path, sub)| crate::submodule::SubmoduleTree {
                path: path.clone(),
                repo: sub.repo.clone(),
                tree: sub.tree,
                nested: sub.submodule_trees(),
            })
            .collect()
    }
}

#[allow(clippy::large_enum_variant)] // One value per fetch, moved once.
enum Fetched {
    Unchanged(String),
    New {
        revision: String,
        commit: gix::ObjectId,
        tree: gix::ObjectId,
        repo: gix::ThreadSafeRepository,
    },
}

pub(crate) struct Fetch<'a> {
    pub(crate) spec: &'a GitSourceSpec,
    pub(crate) auth: &'a GitAuth,
    pub(crate) last_revision: Option<&'a str>,
    pub(crate) interrupt: Arc<AtomicBool>,
}

impl Fetch<'_> {
    fn err(&self, kind: FetchErrorKind) -> FetchError {
        FetchError {
            url: self.spec.url.clone(),
            reference: self.spec.reference.describe(),
            kind,
        }
    }

    pub(crate) fn run(&self) -> Result<FetchOutcome, FetchError> {
        self.run_at_depth(0)
    }

    fn run_at_depth(&self, depth: usize) -> Result<FetchOutcome, FetchError> {
        let strategy = self.spec.reference.strategy();
        self.auth
            .check_for(&self.spec.url)
            .map_err(|e| self.err(e.into()))?;
        if let Strategy::Commit { sha, .. } = &strategy
            && (sha.len() != 40 || !sha.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(self.err(FetchErrorKind::InvalidSpec(format!(
                "commit '{sha}' is not a full 40-character SHA-1"
            ))));
        }
        let dir = tempfile::Builder::new()
            .prefix("tether-fetch-")
            .tempdir()
            .map_err(|source| {
                self.err(FetchErrorKind::Io {
                    what: "creating a temporary directory in",
                    path: std::env::temp_dir(),
                    source,
                })
            })?;
        let scheme = Scheme::of(&self.spec.url);
        let ssh = match (&self.auth.ssh, scheme) {
            (Some(ssh), Scheme::Ssh) => Some(
                SshWrapper::write(dir.path(), ssh, self.spec.timeout).map_err(|k| self.err(k))?,
            ),
            _ => None,
        };
        // Classified while `dir` (holding ssh's error log) still exists.
        match self.fetch_into(&strategy, dir.path(), ssh.as_ref()) {
            Ok(Fetched::Unchanged(revision)) => Ok(FetchOutcome::Unchanged { revision }),
            Ok(Fetched::New {
                revision,
                commit,
                tree,
                repo,
            }) => {
                let submodules = if self.spec.recurse_submodules {
                    self.fetch_submodules(&repo, tree, depth)?
                } else {
                    Vec::new()
                };
                Ok(FetchOutcome::Fetched(Box::new(Checkout {
                    revision,
                    commit,
                    tree,
                    repo,
                    submodules,
                    _dir: dir,
                })))
            }
            Err(kind) => Err(self.err(classify(kind, ssh.as_ref()))),
        }
    }

    /// The submodules `tree` pins, each fetched at its commit with the same credentials.
    fn fetch_submodules(
        &self,
        repo: &gix::ThreadSafeRepository,
        tree: gix::ObjectId,
        depth: usize,
    ) -> Result<Vec<(String, Box<Checkout>)>, FetchError> {
        let pinned = crate::submodule::pinned(&repo.to_thread_local(), tree, &self.spec.url)
            .map_err(|detail| {
                self.err(FetchErrorKind::Submodule {
                    path: ".gitmodules".into(),
                    detail,
                })
            })?;
        if !pinned.is_empty() && depth >= crate::submodule::MAX_DEPTH {
            return Err(self.err(FetchErrorKind::Submodule {
                path: pinned[0].path.clone(),
                detail: format!(
                    "submodules nest deeper than {} levels (a cycle?)",
                    crate::submodule::MAX_DEPTH
                ),
            }));
        }
        let mut out = Vec::new();
        for sub in pinned {
            let mut spec = GitSourceSpec::new(sub.url.clone())
                .with_reference(crate::GitReference::commit(&sub.commit));
            spec.recurse_submodules = true;
            spec.timeout = self.spec.timeout;
            let fetch = Fetch {
                spec: &spec,
                auth: self.auth,
                last_revision: None,
                interrupt: self.interrupt.clone(),
            };
            match fetch.run_at_depth(depth + 1) {
                Ok(FetchOutcome::Fetched(checkout)) => out.push((sub.path, checkout)),
                // Without a last revision a fetch always downloads; never seen.
                Ok(FetchOutcome::Unchanged { .. }) => {
                    return Err(self.err(FetchErrorKind::Submodule {
                        path: sub.path,
                        detail: "the fetch returned no commit".into(),
                    }));
                }
                Err(e) => {
                    return Err(self.err(FetchErrorKind::Submodule {
                        path: sub.path,
                        detail: e.to_string(),
                    }));
                }
            }
        }
        Ok(out)
    }

    fn fetch_into(
        &self,
        strategy: &Strategy,
        dir: &std::path::Path,
        ssh: Option<&SshWrapper>,
    ) -> Result<Fetched, FetchErrorKind> {
        let mut overrides = vec![
            // Our own credentials callback answers; never a terminal prompt or a helper.
            "credential.helper=".to_owned(),
            "core.askPass=".to_owned(),
        ];
        if let Some(ssh) = ssh {
            overrides.push(format!("core.sshCommand={}", ssh.program.display()));
            overrides.push("ssh.variant=ssh".to_owned());
        }
        let git_dir = dir.join("repo.git");
        let repo = gix::ThreadSafeRepository::init_opts(
            &git_dir,
            gix::create::Kind::Bare,
            gix::create::Options::default(),
            gix::open::Options::isolated().config_overrides(overrides),
        )
        .map_err(|e| transport("initializing the fetch repository", &e))?;
        let local = repo.to_thread_local();

        let (refspecs, shallow) = match strategy {
            Strategy::Branch(b) => (vec![format!("+refs/heads/{b}:{TARGET}")], true),
            Strategy::Tag(t) => (vec![format!("+refs/tags/{t}:{TARGET}")], true),
            Strategy::Name(n) => (vec![format!("+{n}:{TARGET}")], true),
            Strategy::Semver(range) => {
                let parsed = Range::parse(range).map_err(FetchErrorKind::InvalidSpec)?;
                let tags = self.list(&local, "+refs/tags/*:refs/tether/tags/*")?;
                let names: Vec<&str> = tags
                    .iter()
                    .filter_map(|(name, _)| name.strip_prefix("refs/tags/"))
                    .collect();
                let best =
                    semver_range::best_tag(&parsed, names.iter().copied()).ok_or_else(|| {
                        FetchErrorKind::NoSemverMatch {
                            range: range.clone(),
                            tags: names.len(),
                        }
                    })?;
                (vec![format!("+refs/tags/{best}:{TARGET}")], true)
            }
            Strategy::Commit {
                branch: Some(b), ..
            } => (vec![format!("+refs/heads/{b}:{TARGET}")], false),
            Strategy::Commit { name, .. } => {
                // No branch: the commit may be anywhere, so take every branch and tag, as
                // Flux's full clone does.
                let mut specs = vec![
                    "+refs/heads/*:refs/tether/heads/*".to_owned(),
                    "+refs/tags/*:refs/tether/tags/*".to_owned(),
                ];
                if let Some(name) = name {
                    specs.push(format!("+{name}:{TARGET}"));
                }
                (specs, false)
            }
        };

        let remote = local
            .remote_at(self.url()?)
            .map_err(|e| transport("configuring the remote", &e))?
            .with_fetch_tags(gix::remote::fetch::Tags::None)
            .with_refspecs(refspecs.iter().map(String::as_str), Direction::Fetch)
            .map_err(|e| FetchErrorKind::InvalidSpec(format!("refspec {refspecs:?}: {e}")))?;
        let connection = self.connect(&remote)?;
        let prepare = connection
            .prepare_fetch(gix::progress::Discard, Default::default())
            .map_err(|e| transport("listing remote refs", &e))?;

        // Resolve the target from the advertised refs before downloading anything.
        let (resolved_name, advertised) = match strategy {
            Strategy::Commit { sha, .. } => (String::new(), Some(parse_id(sha)?)),
            _ => {
                let wanted = refspecs[0]
                    .trim_start_matches('+')
                    .split(':')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let id = advertised_commit(&prepare.ref_map().remote_refs, &wanted)
                    .ok_or_else(|| FetchErrorKind::ReferenceNotFound(describe_ref(&wanted)))?;
                let short = wanted
                    .strip_prefix("refs/heads/")
                    .or_else(|| wanted.strip_prefix("refs/tags/"))
                    .unwrap_or(&wanted)
                    .to_owned();
                (short, Some(id))
            }
        };
        if let (Some(last), Some(id)) = (self.last_revision, advertised) {
            let rev = revision(strategy, &resolved_name, &id.to_string());
            if rev == last {
                return Ok(Fetched::Unchanged(rev));
            }
        }
        let mut prepare = prepare;
        if shallow {
            prepare = prepare.with_shallow(gix::remote::fetch::Shallow::DepthAtRemote(
                std::num::NonZeroU32::MIN,
            ));
        }
        prepare
            .receive(gix::progress::Discard, &self.interrupt)
            .map_err(|e| transport("downloading the pack", &e))?;
        if self.interrupt.load(Ordering::Relaxed) {
            return Err(FetchErrorKind::Timeout(self.spec.timeout));
        }

        let commit_id = match strategy {
            Strategy::Commit { sha, branch, .. } => {
                let id = parse_id(sha)?;
                let found = local
                    .find_object(id)
                    .ok()
                    .and_then(|o| o.try_into_commit().ok());
                if found.is_none() {
                    return Err(FetchErrorKind::ReferenceNotFound(match branch {
                        Some(b) => format!("commit '{sha}' in branch '{b}'"),
                        None => format!("commit '{sha}'"),
                    }));
                }
                id
            }
            _ => {
                let mut target = local
                    .find_reference(TARGET)
                    .map_err(|e| transport("reading the fetched ref", &e))?;
                target
                    .peel_to_id()
                    .map_err(|e| transport("peeling the fetched ref", &e))?
                    .detach()
            }
        };
        let commit = local
            .find_object(commit_id)
            .map_err(|e| transport("reading the fetched commit", &e))?
            .peel_to_commit()
            .map_err(|e| transport("peeling to a commit", &e))?;
        let tree = commit
            .tree_id()
            .map_err(|e| transport("reading the commit's tree", &e))?
            .detach();
        let commit_hex = commit.id.to_string();
        Ok(Fetched::New {
            revision: revision(strategy, &resolved_name, &commit_hex),
            commit: commit.id,
            tree,
            repo,
        })
    }

    /// The URL gix connects to. SSH URLs without a user get `git@`, as Flux does.
    fn url(&self) -> Result<gix::Url, FetchErrorKind> {
        let mut url = gix::url::parse(gix::bstr::BStr::new(self.spec.url.as_bytes()))
            .map_err(|e| FetchErrorKind::InvalidSpec(format!("URL '{}': {e}", self.spec.url)))?;
        if url.scheme == gix::url::Scheme::Ssh && url.user().is_none() {
            url.set_user(Some("git".to_owned()));
        }
        Ok(url)
    }

    /// Lists the refs one refspec selects, without downloading anything.
    fn list(
        &self,
        repo: &gix::Repository,
        refspec: &str,
    ) -> Result<Vec<(String, gix::ObjectId)>, FetchErrorKind> {
        let remote = repo
            .remote_at(self.url()?)
            .map_err(|e| transport("configuring the remote", &e))?
            .with_fetch_tags(gix::remote::fetch::Tags::None)
            .with_refspecs([refspec], Direction::Fetch)
            .map_err(|e| FetchErrorKind::InvalidSpec(format!("refspec {refspec}: {e}")))?;
        let connection = self.connect(&remote)?;
        let (ref_map, _) = connection
            .ref_map(gix::progress::Discard, Default::default())
            .map_err(|e| transport("listing remote refs", &e))?;
        Ok(ref_map
            .remote_refs
            .iter()
            .filter_map(|r| {
                let (name, id) = peeled(r)?;
                Some((name.to_owned(), id))
            })
            .collect())
    }

    fn connect<'r>(
        &self,
        remote: &'r gix::Remote<'r>,
    ) -> Result<
        gix::remote::Connection<
            'r,
            'static,
            'r,
            Box<dyn gix::protocol::transport::client::blocking_io::Transport + Send>,
        >,
        FetchErrorKind,
    > {
        let mut connection = remote
            .connect(Direction::Fetch)
            .map_err(|e| transport("connecting", &e))?;
        let basic = self.auth.basic.clone();
        connection.set_credentials(move |action| credentials(action, basic.as_ref()));
        if matches!(Scheme::of(&self.spec.url), Scheme::Http | Scheme::Https) {
            let url = self.url()?.to_bstring();
            let options = remote
                .repo()
                .transport_options(gix::bstr::BStr::new(&url), None)
                .map_err(|e| transport("configuring HTTP", &e))?;
            let mut options = match options.and_then(|o| {
                o.downcast::<gix::protocol::transport::client::blocking_io::http::Options>()
                    .ok()
            }) {
                Some(o) => *o,
                None => Default::default(),
            };
            if let Some(token) = &self.auth.bearer_token {
                options
                    .extra_headers
                    .push(format!("Authorization: Bearer {token}"));
            }
            let ca = self.auth.ca_pem.clone();
            let timeout = self.spec.timeout;
            let backend = gix::protocol::transport::client::blocking_io::http::reqwest::Options {
                configure_client: Some(Box::new(move |mut builder| {
                    builder = builder.timeout(timeout);
                    if let Some(ca) = &ca {
                        let certs = reqwest::Certificate::from_pem_bundle(ca).map_err(|e| {
                            gix::error::Message::new(format!("the Secret's CA certificate: {e}"))
                                .raise()
                        })?;
                        builder = builder.tls_certs_merge(certs);
                    }
                    Ok(builder)
                })),
                configure_request: None,
            };
            options.backend = Some(Arc::new(std::sync::Mutex::new(backend)));
            connection.set_transport_options(Box::new(options));
        }
        Ok(connection)
    }
}

type CredentialsResult = gix::Result<Option<gix::credentials::protocol::Outcome>>;

fn credentials(
    action: gix::credentials::helper::Action,
    basic: Option<&crate::auth::BasicAuth>,
) -> CredentialsResult {
    use gix::credentials::helper::Action;
    match action {
        Action::Get(ctx) => match basic {
            Some(basic) => Ok(Some(gix::credentials::protocol::Outcome {
                identity: gix::sec::identity::Account {
                    username: basic.username.clone(),
                    password: basic.password.clone(),
                    oauth_refresh_token: None,
                },
                next: ctx.into(),
            })),
            None => Err(gix::error::message(
                "the remote asks for credentials (HTTP 401) and none accepted: set username/password or bearerToken in the Secret",
            )
            .raise()),
        },
        Action::Store(_) | Action::Erase(_) => Ok(None),
    }
}

fn parse_id(sha: &str) -> Result<gix::ObjectId, FetchErrorKind> {
    gix::ObjectId::from_hex(sha.as_bytes())
        .map_err(|e| FetchErrorKind::InvalidSpec(format!("commit '{sha}': {e}")))
}

/// A ref's name and the commit it peels to, as advertised.
fn peeled(r: &gix::protocol::handshake::Ref) -> Option<(&str, gix::ObjectId)> {
    use gix::protocol::handshake::Ref;
    let (name, id) = match r {
        Ref::Peeled {
            full_ref_name,
            object,
            ..
        } => (full_ref_name, *object),
        Ref::Direct {
            full_ref_name,
            object,
        } => (full_ref_name, *object),
        Ref::Symbolic {
            full_ref_name,
            object,
            ..
        } => (full_ref_name, *object),
        Ref::Unborn { .. } => return None,
    };
    Some((std::str::from_utf8(name.as_ref()).ok()?, id))
}

fn advertised_commit(
    refs: &[gix::protocol::handshake::Ref],
    wanted: &str,
) -> Option<gix::ObjectId> {
    refs.iter()
        .filter_map(peeled)
        .find(|(name, _)| *name == wanted)
        .map(|(_, id)| id)
}

fn describe_ref(full: &str) -> String {
    if let Some(b) = full.strip_prefix("refs/heads/") {
        format!("branch '{b}'")
    } else if let Some(t) = full.strip_prefix("refs/tags/") {
        format!("tag '{t}'")
    } else {
        format!("ref '{full}'")
    }
}

/// A gix error with its whole chain of causes, as one line.
fn transport(what: &str, err: &(dyn std::error::Error + 'static)) -> FetchErrorKind {
    let mut parts: Vec<String> = vec![what.to_owned()];
    let mut next = Some(err);
    while let Some(e) = next {
        let text = flatten(&e.to_string());
        if !text.is_empty() && parts.last() != Some(&text) {
            parts.push(text);
        }
        next = e.source();
    }
    FetchErrorKind::Transport(parts.join(": "))
}

fn flatten(text: &str) -> String {
    text.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(": ")
}

/// The lines of ssh's host-key complaint that help a user (ssh's banner and its advice about
/// the temporary known_hosts file do not).
fn host_key_summary(stderr: &str) -> String {
    const USEFUL: [&str; 5] = [
        "fingerprint for",
        "SHA256:",
        "Host key for",
        "host key is known",
        "Host key verification failed",
    ];
    stderr
        .lines()
        .map(str::trim)
        .filter(|l| USEFUL.iter().any(|u| l.contains(u)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Names authentication, host-key and TLS failures, which gix reports as transport errors.
fn classify(kind: FetchErrorKind, ssh: Option<&SshWrapper>) -> FetchErrorKind {
    let FetchErrorKind::Transport(text) = kind else {
        return kind;
    };
    if let Some(ssh) = ssh {
        let stderr = flatten(&ssh.stderr());
        if stderr.contains("Host key verification failed")
            || stderr.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
            || stderr.contains("No ED25519 host key is known")
            || stderr.contains("host key for")
        {
            return FetchErrorKind::HostKeyVerification(host_key_summary(&ssh.stderr()));
        }
        if stderr.contains("Permission denied") {
            return FetchErrorKind::Authentication(stderr);
        }
        if !stderr.is_empty() {
            return FetchErrorKind::Transport(format!("{text}; ssh: {stderr}"));
        }
    }
    let lower = text.to_ascii_lowercase();
    if lower.contains("not accepted by the remote")
        || lower.contains("asks for credentials")
        || lower.contains("401")
        || lower.contains("unauthorized")
        || lower.contains("permission denied")
    {
        return FetchErrorKind::Authentication(text);
    }
    if lower.contains("certificate") || lower.contains("unknownissuer") || lower.contains("tls") {
        return FetchErrorKind::Tls(text);
    }
    FetchErrorKind::Transport(text)
}
