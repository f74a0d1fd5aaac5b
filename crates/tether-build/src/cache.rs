//! Builds shared between Kustomizations: many Kustomizations over one artifact and path build
//! once.
//!
//! Three bounded levels, each keyed by a SHA-256 of what decides its result:
//!
//! 1. unpacked artifacts, by artifact digest;
//! 2. kustomize output, by artifact digest and the spec fields kustomize sees (`path`,
//!    `targetNamespace`, `namePrefix`, `nameSuffix`, `patches`, `images`, `components`,
//!    `ignoreMissingComponents`);
//! 3. post-built objects, by the level-2 key, the variables, `commonMetadata`, whether
//!    `postBuild` is set, and the build options.
//!
//! Concurrent requests for one key wait for the first and share its result; build failures
//! are cached like successes (a build is a function of its key), loading failures are not.
//! When a level is full, the least recently used entry goes.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::json;
use sha2::{Digest, Sha256};
use tether_api::KustomizationSpec;

use crate::artifact::Artifact;
use crate::build::{BuildOptions, Built, Kustomized, kustomize, post_build};
use crate::error::Error;

type Key = [u8; 32];
type Slot<V> = Arc<Mutex<Option<V>>>;

/// Unpacked artifacts kept by default (they are the largest entries).
const ARTIFACT_CAPACITY: usize = 8;

/// How often each level computed instead of reusing, and how often level 3 was reused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Artifacts unpacked (loader calls that succeeded).
    pub artifact_loads: u64,
    /// kustomize builds run.
    pub kustomize_builds: u64,
    /// Post-build steps run.
    pub post_builds: u64,
    /// Requests answered from level 3.
    pub hits: u64,
}

/// A bounded, thread-safe cache of builds. Share one per process (`Arc<BuildCache>`).
#[derive(Debug)]
pub struct BuildCache {
    inner: Mutex<Levels>,
    artifact_loads: AtomicU64,
    kustomize_builds: AtomicU64,
    post_builds: AtomicU64,
    hits: AtomicU64,
}

#[derive(Debug)]
struct Levels {
    tick: u64,
    artifacts: Lru<Arc<Artifact>>,
    kustomized: Lru<Result<Arc<Kustomized>, Error>>,
    built: Lru<Result<Built, Error>>,
}

#[derive(Debug)]
struct Lru<V> {
    capacity: usize,
    entries: HashMap<Key, (u64, Slot<V>)>,
}

impl<V> Lru<V> {
    fn new(capacity: usize) -> Lru<V> {
        Lru {
            capacity: capacity.max(1),
            entries: HashMap::new(),
        }
    }

    /// The slot of `key`, created empty when missing; evicts the least recently used entry
    /// when over capacity (a slot in use stays alive for its users).
    fn slot(&mut self, key: Key, tick: u64) -> Slot<V> {
        if let Some((used, slot)) = self.entries.get_mut(&key) {
            *used = tick;
            return slot.clone();
        }
        if self.entries.len() >= self.capacity
            && let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, (used, _))| *used)
                .map(|(k, _)| *k)
        {
            self.entries.remove(&oldest);
        }
        let slot: Slot<V> = Arc::new(Mutex::new(None));
        self.entries.insert(key, (tick, slot.clone()));
        slot
    }

    fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Locks, recovering from a panic in another holder (the slot then holds whatever it held).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl BuildCache {
    /// A cache keeping up to `capacity` kustomize outputs and `capacity` post-built results.
    pub fn new(capacity: usize) -> BuildCache {
        BuildCache::with_artifact_capacity(capacity, ARTIFACT_CAPACITY)
    }

    /// Like [`BuildCache::new`], keeping up to `artifacts` unpacked artifacts.
    pub fn with_artifact_capacity(capacity: usize, artifacts: usize) -> BuildCache {
        BuildCache::with_capacities(artifacts, capacity, capacity)
    }

    /// A cache keeping up to `artifacts` unpacked artifacts, `kustomized` kustomize outputs and
    /// `built` post-built results. Post-built results are one per Kustomization when each has
    /// its own variables, and re-running post-build is cheap next to kustomize, so a process
    /// with many Kustomizations keeps `built` small to bound its memory.
    pub fn with_capacities(artifacts: usize, kustomized: usize, built: usize) -> BuildCache {
        BuildCache {
            inner: Mutex::new(Levels {
                tick: 0,
                artifacts: Lru::new(artifacts),
                kustomized: Lru::new(kustomized),
                built: Lru::new(built),
            }),
            artifact_loads: AtomicU64::new(0),
            kustomize_builds: AtomicU64::new(0),
            post_builds: AtomicU64::new(0),
            hits: AtomicU64::new(0),
        }
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            artifact_loads: self.artifact_loads.load(Ordering::Relaxed),
            kustomize_builds: self.kustomize_builds.load(Ordering::Relaxed),
            post_builds: self.post_builds.load(Ordering::Relaxed),
            hits: self.hits.load(Ordering::Relaxed),
        }
    }

    /// Entries held at each level: (artifacts, kustomize outputs, post-built results).
    pub fn len(&self) -> (usize, usize, usize) {
        let levels = lock(&self.inner);
        (
            levels.artifacts.len(),
            levels.kustomized.len(),
            levels.built.len(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.len() == (0, 0, 0)
    }

    fn slot<V>(&self, key: Key, pick: impl FnOnce(&mut Levels) -> &mut Lru<V>) -> Slot<V> {
        let mut levels = lock(&self.inner);
        levels.tick += 1;
        let tick = levels.tick;
        pick(&mut levels).slot(key, tick)
    }

    /// The artifact with `digest`, unpacking it with `load` only when it is not cached.
    pub fn artifact<E>(
        &self,
        digest: &str,
        load: impl FnOnce() -> Result<Arc<Artifact>, E>,
    ) -> Result<Arc<Artifact>, E> {
        let slot = self.slot(hash(&json!(["artifact", digest])), |l| &mut l.artifacts);
        let mut held = lock(&slot);
        if let Some(artifact) = held.as_ref() {
            return Ok(artifact.clone());
        }
        let artifact = load()?;
        self.artifact_loads.fetch_add(1, Ordering::Relaxed);
        *held = Some(artifact.clone());
        Ok(artifact)
    }

    /// The build of `spec` over the artifact with digest `artifact_digest`, computed at most
    /// once per key. `load` provides the unpacked artifact and runs only when no cached level
    /// can answer; its errors pass through uncached, build errors convert with `E::from`.
    pub fn get_or_build<E: From<Error>>(
        &self,
        artifact_digest: &str,
        spec: &KustomizationSpec,
        vars: &BTreeMap<String, String>,
        options: &BuildOptions,
        load: impl FnOnce() -> Result<Arc<Artifact>, E>,
    ) -> Result<Built, E> {
        let kustomize_key = kustomize_key(artifact_digest, spec);
        let built_key = built_key(&kustomize_key, spec, vars, options);
        let slot = self.slot(built_key, |l| &mut l.built);
        let mut held = lock(&slot);
        if let Some(result) = held.as_ref() {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return result.clone().map_err(E::from);
        }
        let kustomized = self.kustomized(kustomize_key, artifact_digest, spec, load)?;
        let result = kustomized.and_then(|k| post_build(&k, spec, vars, options));
        self.post_builds.fetch_add(1, Ordering::Relaxed);
        *held = Some(result.clone());
        result.map_err(E::from)
    }

    /// Level 2; the outer `Err` is a load failure, the inner result the (cached) build.
    fn kustomized<E>(
        &self,
        key: Key,
        artifact_digest: &str,
        spec: &KustomizationSpec,
        load: impl FnOnce() -> Result<Arc<Artifact>, E>,
    ) -> Result<Result<Arc<Kustomized>, Error>, E> {
        let slot = self.slot(key, |l| &mut l.kustomized);
        let mut held = lock(&slot);
        if let Some(result) = held.as_ref() {
            return Ok(result.clone());
        }
        let artifact = self.artifact(artifact_digest, load)?;
        let result = kustomize(&artifact, spec).map(Arc::new);
        self.kustomize_builds.fetch_add(1, Ordering::Relaxed);
        *held = Some(result.clone());
        Ok(result)
    }
}

fn hash(value: &serde_json::Value) -> Key {
    Sha256::digest(value.to_string().as_bytes()).into()
}

/// What kustomize's output depends on.
fn kustomize_key(artifact_digest: &str, spec: &KustomizationSpec) -> Key {
    hash(&json!({
        "artifact": artifact_digest,
        "path": crate::generate::resolve_path(spec.path.as_deref()),
        "targetNamespace": spec.target_namespace,
        "namePrefix": spec.name_prefix,
        "nameSuffix": spec.name_suffix,
        "patches": spec.patches,
        "images": spec.images,
        "components": spec.components,
        "ignoreMissingComponents": spec.ignore_missing_components,
    }))
}

/// What the post-built objects depend on beyond kustomize's output.
fn built_key(
    kustomize_key: &Key,
    spec: &KustomizationSpec,
    vars: &BTreeMap<String, String>,
    options: &BuildOptions,
) -> Key {
    hash(&json!({
        "kustomize": kustomize_key,
        "postBuild": spec.post_build.is_some(),
        "vars": vars,
        "commonMetadata": spec.common_metadata,
        "decryption": spec.decryption.is_some(),
        "strict": options.strict_substitution,
    }))
}
