//! The build itself: a kustomization's resources, components, generators and transformers,
//! level by level (kustomize's `KustTarget` and `ResAccumulator`).

use serde_json::Value;

use crate::config::TransformerConfig;
use crate::error::{Error, Result};
use crate::generators::{GeneratedKind, generate};
use crate::kustomization::{COMPONENT_KIND, FILE_NAMES, Kustomization};
use crate::loader::Loader;
use crate::resmap::ResMap;
use crate::resource::{Behavior, Origin, Resource, join_origin, rewrite_annotation_values};

/// What accumulates while a kustomization and everything it includes is built.
#[derive(Debug, Clone, Default)]
pub struct Accumulator {
    pub resources: ResMap,
    pub config: TransformerConfig,
    /// `vars` declared so far (resolved at the top).
    pub vars: crate::vars::VarSet,
}

impl Accumulator {
    pub fn new() -> Self {
        Accumulator {
            config: TransformerConfig::default(),
            ..Default::default()
        }
    }

    /// Adds a sub-kustomization's result (kustomize's `MergeAccumulator`).
    fn merge(&mut self, other: Accumulator) -> Result<()> {
        self.resources.append_all(other.resources)?;
        self.config.merge(&other.config)?;
        self.vars.merge_set(other.vars)?;
        Ok(())
    }

    /// Adds generated resources, honouring their behavior (kustomize's `AbsorbAll`).
    pub(crate) fn absorb(&mut self, generated: Resource) -> Result<()> {
        let id = generated.cur_id();
        let matches = self.resources.matching_any_id(&id);
        match matches.as_slice() {
            [] => match generated.behavior {
                Behavior::Create => self.resources.append(generated),
                _ => Err(Error::msg(format!(
                    "id {id} does not exist; cannot merge or replace"
                ))),
            },
            [index] => {
                let old = &self.resources.resources[*index];
                let mut new = generated;
                match new.behavior {
                    Behavior::Create => {
                        return Err(Error::msg(format!(
                            "id {id} exists; behavior must be merge or replace"
                        )));
                    }
                    Behavior::Replace => {
                        copy_merge_metadata(&mut new, old);
                        // A base that disabled its hash suffix keeps it disabled.
                        new.needs_hash = old.needs_hash && new.needs_hash;
                    }
                    Behavior::Merge => {
                        copy_merge_metadata(&mut new, old);
                        for field in ["data", "binaryData"] {
                            merge_string_map_field(&mut new.object, &old.object, field);
                        }
                        new.needs_hash = old.needs_hash && new.needs_hash;
                    }
                }
                new.behavior = Behavior::Create;
                self.resources.resources[*index] = new;
                Ok(())
            }
            _ => Err(Error::msg(format!(
                "found multiple objects that could accept merge of {id}"
            ))),
        }
    }
}

/// The new resource keeps its content, takes the old one's name, namespace and history, and
/// the union of labels and annotations (the new one's values win).
fn copy_merge_metadata(new: &mut Resource, old: &Resource) {
    for field in ["labels", "annotations"] {
        let mut meta_new = new.object.get("metadata").cloned().unwrap_or(Value::Null);
        let meta_old = old.object.get("metadata").cloned().unwrap_or(Value::Null);
        merge_string_map_field(&mut meta_new, &meta_old, field);
        if let Some(m) = new.object.as_object_mut() {
            m.insert("metadata".into(), meta_new);
        }
    }
    new.set_name(old.name());
    let ns = old.namespace().to_owned();
    if ns.is_empty() {
        if let Some(Value::Object(meta)) = new.object.get_mut("metadata") {
            meta.shift_remove("namespace");
        }
    } else {
        new.set_namespace(&ns);
    }
    new.previous_ids = old.previous_ids.clone();
    if old.origin.is_some() {
        new.origin = old.origin.clone();
    }
    new.prefixes = old.prefixes.clone();
    new.suffixes = old.suffixes.clone();
}

/// `into[field]` = `from[field]` ∪ `into[field]`, `into`'s values winning; absent when empty.
fn merge_string_map_field(into: &mut Value, from: &Value, field: &str) {
    let mut merged = from
        .get(field)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(own) = into.get(field).and_then(Value::as_object) {
        for (k, v) in own {
            merged.insert(k.clone(), v.clone());
        }
    }
    if let Some(m) = into.as_object_mut() {
        if merged.is_empty() {
            m.shift_remove(field);
        } else {
            m.insert(field.to_owned(), Value::Object(merged));
        }
    }
}

/// One kustomization directory being built.
#[derive(Debug)]
pub struct Target {
    pub loader: Loader,
    pub kustomization: Kustomization,
    pub file_name: &'static str,
    pub warnings: Vec<String>,
    /// With buildMetadata, this kustomization's directory relative to the top one (origin
    /// tracking); `None` when the build does not track origins.
    pub origin: Option<String>,
    /// How remote bases are fetched; `None` refuses them.
    pub remote: Option<std::sync::Arc<dyn crate::remote::RemoteFetcher>>,
    /// The strategic-merge schema in force, shared by the whole build: like kyaml's global, a
    /// kustomization with `openapi:` replaces it for everything built after it.
    pub schema: SharedSchema,
}

/// The Kubernetes OpenAPI version kustomize v5.6.0 embeds (`openapi: version:`).
const BUILTIN_OPENAPI_VERSION: &str = "v1.21.2";

/// The build-wide patch schema cell.
pub type SharedSchema = std::sync::Arc<std::sync::Mutex<crate::patch::PatchSchema>>;

impl Target {
    /// Reads the kustomization file of the loader's root.
    pub fn load(loader: Loader) -> Result<Target> {
        let mut found = None;
        for name in FILE_NAMES {
            if let Ok(bytes) = loader.load(name) {
                if found.is_some() {
                    return Err(Error::msg(format!(
                        "Found multiple kustomization files under: {}\n",
                        loader.root().display()
                    )));
                }
                found = Some((name, bytes));
            }
        }
        let Some((file_name, bytes)) = found else {
            return Err(Error::msg(format!(
                "unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory '{}'",
                loader.root().display()
            )));
        };
        let path = loader.root().join(file_name).display().to_string();
        let text =
            String::from_utf8(bytes).map_err(|_| Error::msg(format!("{path}: not valid UTF-8")))?;
        let mut kustomization = Kustomization::parse(&text, &path)?;
        let warnings = kustomization.deprecation_warnings();
        kustomization.fix_and_check(&loader.root().display().to_string())?;
        Ok(Target {
            loader,
            kustomization,
            file_name,
            warnings,
            origin: None,
            remote: None,
            schema: SharedSchema::default(),
        })
    }

    /// Builds this kustomization into `acc` (a fresh accumulator, or the parent's for a
    /// component).
    pub fn accumulate(
        &self,
        mut acc: Accumulator,
        warnings: &mut Vec<String>,
    ) -> Result<Accumulator> {
        warnings.extend(self.warnings.iter().cloned());
        let k = &self.kustomization;
        acc = self
            .accumulate_resources(acc, &k.resources, warnings)
            .map_err(|e| e.context("accumulating resources"))?;
        // kustomize's MakeTransformerConfig: the defaults, merged with the user's files (read
        // into an empty configuration first), then merged into the accumulation. Every merge
        // sorts, so the order of these steps shows (see `TransformerConfig::merge`).
        let mut user = TransformerConfig::default();
        for path in &k.configurations {
            let bytes = self.loader.load(path)?;
            let text = String::from_utf8_lossy(&bytes);
            let value = tether_yaml::parse_document(&text).map_err(|error| Error::Yaml {
                path: path.clone(),
                error,
            })?;
            let config: TransformerConfig = serde_json::from_value(value).map_err(|e| {
                Error::msg(format!("invalid transformer configuration {path}: {e}"))
            })?;
            user.merge(&config)?;
        }
        let level = if k.configurations.is_empty() {
            std::borrow::Cow::Borrowed(TransformerConfig::builtin())
        } else {
            let mut level = TransformerConfig::builtin().clone();
            level.merge(&user)?;
            std::borrow::Cow::Owned(level)
        };
        acc.config
            .merge(&level)
            .map_err(|e| e.context(format!("merging config {:?}", k.configurations)))?;
        let crd_config = crate::crds::config_from_crds(&self.loader, &k.crds)
            .map_err(|e| e.context(format!("loading CRDs {:?}", k.crds)))?;
        acc.config.merge(&crd_config)?;
        self.run_generators(&mut acc)?;
        for path in &k.components {
            let child = self
                .loader
                .child(path)
                .map_err(|e| Error::msg(format!("loader.New {:?}", e.to_string())))?;
            let origin = self.origin.as_ref().map(|o| join_origin(o, path));
            acc = accumulate_directory(
                acc,
                child,
                true,
                origin,
                self.remote.clone(),
                self.schema.clone(),
                warnings,
            )
            .map_err(|e| Error::msg(format!("accumulateDirectory: {:?}", e.to_string())))?;
        }
        crate::pipeline::run_transformers(self, &mut acc)?;
        let vars: Vec<crate::vars::Var> = k
            .vars
            .iter()
            .map(|v| serde_json::from_value(v.clone()))
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| Error::Kustomization {
                message: format!("vars: {e}"),
            })?;
        let Accumulator {
            resources,
            vars: set,
            ..
        } = &mut acc;
        crate::vars::merge_vars(resources, set, &vars)
            .map_err(|e| e.context(format!("merging vars {:?}", k.vars)))?;
        Ok(acc)
    }

    fn accumulate_resources(
        &self,
        mut acc: Accumulator,
        paths: &[String],
        warnings: &mut Vec<String>,
    ) -> Result<Accumulator> {
        for path in paths {
            if crate::remote::is_remote(path) {
                acc = self.accumulate_remote(acc, path, warnings)?;
                continue;
            }
            match self.accumulate_file(path) {
                Ok(resources) => acc.resources.append_all(resources)?,
                Err(file_err) => {
                    if file_err.is_malformed_yaml() {
                        return Err(file_err);
                    }
                    let child = self
                        .loader
                        .child(path)
                        .map_err(|e| e.context(format!("accumulation err='{file_err}'")))?;
                    let origin = self.origin.as_ref().map(|o| join_origin(o, path));
                    acc = accumulate_directory(
                        acc,
                        child,
                        false,
                        origin,
                        self.remote.clone(),
                        self.schema.clone(),
                        warnings,
                    )
                    .map_err(|e| e.context(format!("accumulation err='{file_err}'")))?;
                }
            }
        }
        Ok(acc)
    }

    /// A git URL in `resources:`: fetched by the build's [`RemoteFetcher`], refused without one.
    fn accumulate_remote(
        &self,
        acc: Accumulator,
        url: &str,
        warnings: &mut Vec<String>,
    ) -> Result<Accumulator> {
        let Some(fetcher) = &self.remote else {
            return Err(Error::msg(format!(
                "remote base {url:?} refused: remote bases are disabled for this build"
            )));
        };
        let base = crate::remote::parse(url).map_err(Error::msg)?;
        let checkout = fetcher
            .fetch(&base)
            .map_err(|e| Error::msg(format!("fetching remote base {url:?}: {e}")))?;
        let loader = Loader::new(
            std::sync::Arc::new(crate::fs::DiskFs),
            &checkout.join(&base.path),
            self.loader.restrictor(),
        )?;
        let mut target = Target::load(loader)
            .map_err(|e| e.context(format!("couldn't make target for remote base {url:?}")))?;
        target.remote = self.remote.clone();
        target.schema = self.schema.clone();
        target.apply_openapi(false)?;
        target.origin = self.origin.as_ref().map(|_| base.path.clone());
        if target.kustomization.kind == COMPONENT_KIND {
            return Err(Error::msg(format!(
                "expected kind != '{COMPONENT_KIND}' for remote base {url:?}"
            )));
        }
        let sub = target
            .accumulate(Accumulator::new(), warnings)
            .map_err(|e| e.context(format!("recursed accumulation of remote base {url:?}")))?;
        let mut acc = acc;
        acc.merge(sub)?;
        Ok(acc)
    }

    fn accumulate_file(&self, path: &str) -> Result<ResMap> {
        let bytes = self.loader.load(path)?;
        let display = self.loader.root().join(path).display().to_string();
        let mut resources = resources_from_bytes(&bytes, &display)
            .map_err(|e| e.context(format!("accumulating resources from '{path}'")))?;
        if let Some(dir) = &self.origin {
            for r in resources.iter_mut() {
                r.origin = Some(Origin {
                    path: join_origin(dir, path),
                    ..Origin::default()
                });
            }
        }
        Ok(resources)
    }

    /// Installs this kustomization's `openapi:` document as the build's patch schema; without
    /// one, `reset` restores the built-in schema (the top kustomization) and otherwise the
    /// schema in force stays.
    pub fn apply_openapi(&self, reset: bool) -> Result<()> {
        let open_api = &self.kustomization.open_api;
        let Ok(mut current) = self.schema.lock() else {
            return Ok(());
        };
        // kyaml sets its schema once: after a custom document or version, later ones are
        // ignored (the top kustomization resets it).
        if !reset && !matches!(*current, crate::patch::PatchSchema::Builtin) {
            return Ok(());
        }
        match (open_api.get("version"), open_api.get("path")) {
            (Some(_), Some(_)) => Err(Error::msg(
                "builtin version and custom schema provided, cannot use both",
            )),
            (None, Some(path)) => {
                let bytes = self.loader.load(path)?;
                let text = String::from_utf8_lossy(&bytes);
                let doc = tether_yaml::parse_document(&text).map_err(|error| Error::Yaml {
                    path: path.clone(),
                    error,
                })?;
                let mut custom = crate::patch::OpenApiSchema::from_document(doc)
                    .map_err(|e| Error::msg(format!("openapi {path}: {e}")))?;
                if !reset {
                    custom = custom.over_builtin();
                }
                *current = crate::patch::PatchSchema::Custom(custom);
                Ok(())
            }
            (Some(version), None) if version != BUILTIN_OPENAPI_VERSION => {
                Err(Error::msg("the specified OpenAPI version is not built in"))
            }
            _ => {
                if reset {
                    *current = crate::patch::PatchSchema::Builtin;
                }
                Ok(())
            }
        }
    }

    /// The patch schema in force.
    pub fn current_schema(&self) -> crate::patch::PatchSchema {
        self.schema.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Notes that a transformer this kustomization configures ran over every resource.
    pub fn record_transformation(&self, acc: &mut Accumulator, kind: &str) {
        if let Some(origin) = self.generator_origin(kind, "") {
            for r in acc.resources.iter_mut() {
                r.transformations.push(origin.clone());
            }
        }
    }

    /// The origin of a resource made by a `generators:` entry, read from `source` (a file) or
    /// inline in the kustomization file.
    pub fn plugin_origin(&self, kind: &str, name: &str, source: Option<&str>) -> Option<Origin> {
        let mut origin = self.generator_origin(kind, name)?;
        if let (Some(dir), Some(file)) = (&self.origin, source) {
            origin.configured_in = join_origin(dir, file);
        }
        Some(origin)
    }

    /// The origin of a resource made by a generator this kustomization configures.
    pub fn generator_origin(&self, kind: &str, name: &str) -> Option<Origin> {
        self.origin.as_ref().map(|dir| Origin {
            path: String::new(),
            configured_in: join_origin(dir, self.file_name),
            configured_by: Some((kind.to_owned(), name.to_owned())),
        })
    }

    fn run_generators(&self, acc: &mut Accumulator) -> Result<()> {
        let k = &self.kustomization;
        let global = k.generator_options.as_ref();
        for args in &k.config_map_generator {
            let mut r = generate(GeneratedKind::ConfigMap, args, global, &self.loader)?;
            r.origin = self.generator_origin("ConfigMapGenerator", "");
            acc.absorb(r)
                .map_err(|e| e.context("merging from generator"))?;
        }
        for args in &k.secret_generator {
            let mut r = generate(GeneratedKind::Secret, args, global, &self.loader)?;
            r.origin = self.generator_origin("SecretGenerator", "");
            acc.absorb(r)
                .map_err(|e| e.context("merging from generator"))?;
        }
        if !k.helm_charts.is_empty() || !k.helm_chart_inflation_generator.is_empty() {
            return Err(Error::msg(
                "helmCharts: Helm chart inflation is not supported by tether yet",
            ));
        }
        crate::pipeline::run_generator_entries(self, acc, &k.generators)
            .map_err(|e| e.context("loading generator plugins"))
    }
}

/// Builds the kustomization in `loader`'s root and merges it into `acc`.
pub fn accumulate_directory(
    acc: Accumulator,
    loader: Loader,
    is_component: bool,
    origin: Option<String>,
    remote: Option<std::sync::Arc<dyn crate::remote::RemoteFetcher>>,
    schema: SharedSchema,
    warnings: &mut Vec<String>,
) -> Result<Accumulator> {
    let root = loader.root().display().to_string();
    let mut target = Target::load(loader)
        .map_err(|e| e.context(format!("couldn't make target for path '{root}'")))?;
    target.origin = origin;
    target.remote = remote;
    target.schema = schema;
    target.apply_openapi(false)?;
    let kind = target.kustomization.kind.as_str();
    if is_component && kind != COMPONENT_KIND {
        return Err(Error::msg(format!(
            "expected kind '{COMPONENT_KIND}' for path '{root}' but got '{kind}'"
        )));
    }
    if !is_component && kind == COMPONENT_KIND {
        return Err(Error::msg(format!(
            "expected kind != '{COMPONENT_KIND}' for path '{root}'"
        )));
    }
    if is_component {
        // A component works on its parent's accumulation.
        target
            .accumulate(acc, warnings)
            .map_err(|e| e.context(format!("recursed accumulation of path '{root}'")))
    } else {
        let sub = target
            .accumulate(Accumulator::new(), warnings)
            .map_err(|e| e.context(format!("recursed accumulation of path '{root}'")))?;
        let mut acc = acc;
        acc.merge(sub)
            .map_err(|e| e.context(format!("recursed merging from path '{root}'")))?;
        Ok(acc)
    }
}

/// The resources of a YAML stream: every non-empty document, `List` kinds expanded.
pub fn resources_from_bytes(bytes: &[u8], path: &str) -> Result<ResMap> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| Error::msg(format!("{path}: not valid UTF-8")))?;
    let docs = tether_yaml::parse_documents(text).map_err(|error| Error::Yaml {
        path: path.to_owned(),
        error,
    })?;
    let mut objects = Vec::with_capacity(docs.len());
    for doc in docs {
        push_object(&mut objects, doc.value, path, doc.line)?;
    }
    // Ids are checked once, hashed, rather than per document against all before it.
    let mut out = ResMap::new();
    out.append_all(ResMap { resources: objects })?;
    Ok(out)
}

fn push_object(out: &mut Vec<Resource>, value: Value, path: &str, line: usize) -> Result<()> {
    let Value::Object(map) = value else {
        return Err(Error::msg(format!(
            "{path}: line {line}: a resource must be a YAML map, not {}",
            kind_of(&value)
        )));
    };
    if map.is_empty() {
        return Ok(());
    }
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
    if kind.ends_with("List")
        && let Some(Value::Array(items)) = map.get("items")
    {
        for item in items.clone() {
            push_object(out, item, path, line)?;
        }
        return Ok(());
    }
    if kind.is_empty() {
        return Err(Error::msg(format!(
            "{path}: line {line}: missing kind in object {}",
            brief(&map)
        )));
    }
    let name = map
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if name.is_empty() {
        return Err(Error::msg(format!(
            "{path}: line {line}: missing metadata.name in object {}",
            brief(&map)
        )));
    }
    let mut object = Value::Object(map);
    stringify_annotations(&mut object);
    if let Some(Value::Object(annotations)) = object.pointer("/metadata/annotations")
        && let Some(key) = annotations
            .keys()
            .find(|k| !tether_yaml::plain_scalar_is_string(k))
    {
        // kustomize rewrites annotations with plain keys: `"true"`, `"1"` or `""` then read
        // back as non-strings and the build fails (kustomize cannot print them).
        return Err(Error::msg(format!(
            "{path}: line {line}: annotation key {key:?} of {} is not a string once kustomize rewrites it plain",
            brief(object.as_object().unwrap_or(&serde_json::Map::new()))
        )));
    }
    out.push(Resource::new(object));
    Ok(())
}

/// kustomize's reader rewrites annotations as a string map: scalars become their text,
/// lists and maps empty strings. (Labels are left alone.)
fn stringify_annotations(object: &mut Value) {
    rewrite_annotation_values(object, |v| match v {
        Value::String(_) => None,
        Value::Null => Some("null".to_owned()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(_) | Value::Object(_) => Some(String::new()),
    });
}

/// A short description of an object for errors: its apiVersion, kind and name.
fn brief(map: &serde_json::Map<String, Value>) -> String {
    let field = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_owned();
    format!(
        "{{apiVersion: {:?}, kind: {:?}, name: {:?}}}",
        field(map.get("apiVersion")),
        field(map.get("kind")),
        field(map.get("metadata").and_then(|m| m.get("name")))
    )
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}
