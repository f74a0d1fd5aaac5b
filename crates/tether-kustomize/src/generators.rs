//! `configMapGenerator` and `secretGenerator`: ConfigMaps and Secrets from literals, files
//! and env files (kustomize's `generators` and `kv` packages).

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::kustomization::{GeneratorArgs, GeneratorOptions};
use crate::loader::Loader;
use crate::resource::{Behavior, Resource};

/// Which object a generator makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeneratedKind {
    ConfigMap,
    Secret,
}

/// Makes one ConfigMap or Secret; `global` is the kustomization's `generatorOptions`.
pub fn generate(
    kind: GeneratedKind,
    args: &GeneratorArgs,
    global: Option<&GeneratorOptions>,
    loader: &Loader,
) -> Result<Resource> {
    let options = GeneratorOptions::merged(args.options.as_ref(), global);
    if args.name.is_empty() {
        // kustomize says "configmap" for Secrets too.
        return Err(Error::msg("a configmap must have a name"));
    }
    // kustomize treats any behavior it does not know as `create`.
    let behavior = Behavior::parse(&args.behavior).unwrap_or(Behavior::Create);
    let pairs = load_pairs(args, loader)?;
    let mut seen = std::collections::HashSet::new();
    for (key, _) in &pairs {
        check_key(key)?;
        if !seen.insert(key.as_str()) {
            let what = match kind {
                GeneratedKind::ConfigMap => "configmap",
                GeneratedKind::Secret => "secret",
            };
            return Err(Error::msg(format!(
                "{what} {} illegally repeats the key `{key}`",
                args.name
            )));
        }
    }

    let mut metadata = Map::new();
    metadata.insert("name".into(), Value::String(args.name.clone()));
    if !args.namespace.is_empty() {
        metadata.insert("namespace".into(), Value::String(args.namespace.clone()));
    }
    let string_map = |m: &std::collections::BTreeMap<String, String>| {
        Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    };
    if !options.labels.is_empty() {
        metadata.insert("labels".into(), string_map(&options.labels));
    }
    if !options.annotations.is_empty() {
        metadata.insert("annotations".into(), string_map(&options.annotations));
    }

    let mut obj = Map::new();
    obj.insert("apiVersion".into(), Value::String("v1".into()));
    match kind {
        GeneratedKind::ConfigMap => {
            obj.insert("kind".into(), Value::String("ConfigMap".into()));
            obj.insert("metadata".into(), Value::Object(metadata));
            let (mut data, mut binary) = (Map::new(), Map::new());
            for (k, v) in pairs {
                match String::from_utf8(v) {
                    Ok(s) => data.insert(k, Value::String(s)),
                    Err(e) => binary.insert(k, Value::String(encode_base64(e.as_bytes()))),
                };
            }
            if !data.is_empty() {
                obj.insert("data".into(), Value::Object(data));
            }
            if !binary.is_empty() {
                obj.insert("binaryData".into(), Value::Object(binary));
            }
        }
        GeneratedKind::Secret => {
            obj.insert("kind".into(), Value::String("Secret".into()));
            obj.insert("metadata".into(), Value::Object(metadata));
            let ty = if args.secret_type.is_empty() {
                "Opaque"
            } else {
                &args.secret_type
            };
            obj.insert("type".into(), Value::String(ty.to_owned()));
            let data: Map<String, Value> = pairs
                .into_iter()
                .map(|(k, v)| (k, Value::String(encode_base64(&v))))
                .collect();
            // An empty Secret still prints `data: {}` (kyaml creates the field up front).
            obj.insert("data".into(), Value::Object(data));
        }
    }
    if options.immutable {
        obj.insert("immutable".into(), Value::Bool(true));
    }
    let mut r = Resource::new(Value::Object(obj));
    r.behavior = behavior;
    r.needs_hash = !options.disable_name_suffix_hash.unwrap_or(false);
    Ok(r)
}

/// Base64 as kyaml writes generated data: encodings of 70 characters or more are cut into
/// lines of 70, each ended by a newline (so they print as literal blocks).
fn encode_base64(bytes: &[u8]) -> String {
    const LINE: usize = 70;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    if encoded.len() < LINE {
        return encoded;
    }
    let mut out = String::with_capacity(encoded.len() + encoded.len() / LINE + 1);
    for chunk in encoded.as_bytes().chunks(LINE) {
        // Base64 output is ASCII, so every chunk boundary is a char boundary.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// Key/value pairs in kustomize's order: env files, literals, files.
fn load_pairs(args: &GeneratorArgs, loader: &Loader) -> Result<Vec<(String, Vec<u8>)>> {
    let mut pairs = Vec::new();
    for env in &args.envs {
        let content = loader.load(env)?;
        pairs.extend(env_pairs(&content, env)?);
    }
    for literal in &args.literals {
        let (k, v) = literal.split_once('=').ok_or_else(|| {
            Error::msg(format!(
                "invalid literal source {literal}, expected key=value"
            ))
        })?;
        pairs.push((k.to_owned(), remove_quotes(v).as_bytes().to_vec()));
    }
    for source in &args.files {
        let (key, path) = match source.split_once('=') {
            None => {
                let base = source.rsplit('/').next().unwrap_or(source);
                (base.to_owned(), source.as_str())
            }
            Some(("", _)) => {
                return Err(Error::msg(format!(
                    "key name for file path {source} missing"
                )));
            }
            Some((_, "")) => {
                return Err(Error::msg(format!(
                    "file path for key name {source} missing"
                )));
            }
            Some((k, p)) => (k.to_owned(), p),
        };
        pairs.push((key, loader.load(path)?));
    }
    Ok(pairs)
}

fn remove_quotes(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 2 && b[0] == b[b.len() - 1] && (b[0] == b'"' || b[0] == b'\'') {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// An env file's pairs: `KEY=value` lines; blank lines and `#` comments skipped; a line
/// without `=` takes the value from the environment, as kustomize does.
fn env_pairs(content: &[u8], path: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let mut pairs = Vec::new();
    for (n, raw) in content.split(|&b| b == b'\n').enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = std::str::from_utf8(raw)
            .map_err(|_| Error::msg(format!("{path}: line {} has invalid utf8 bytes", n + 1)))?;
        let line = line.strip_prefix('\u{feff}').unwrap_or(line).trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k, v.to_owned()),
            None => (line, std::env::var(line).unwrap_or_default()),
        };
        if !is_env_var_name(key) {
            return Err(Error::msg(format!(
                "{key:?} is not a valid key name: a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit"
            )));
        }
        pairs.push((key.to_owned(), value.into_bytes()));
    }
    Ok(pairs)
}

fn is_env_var_name(key: &str) -> bool {
    !key.is_empty()
        && !key.starts_with(|c: char| c.is_ascii_digit())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// kustomize does not validate data keys, but its output step reads a generated map back as
/// YAML: a key that reads as a boolean, null or number is not a string there, and the build
/// fails printing it.
fn check_key(key: &str) -> Result<()> {
    if tether_yaml::plain_scalar_is_string(key) {
        Ok(())
    } else {
        Err(Error::msg(format!(
            "data key {key:?} reads back as a non-string YAML key (json: unsupported type: map[interface {{}}]interface {{}})"
        )))
    }
}

/// kustomize's built-in `IAMPolicyGenerator` (GKE workload identity): a ServiceAccount
/// annotated with the Google service account it acts as.
pub fn iam_policy_service_account(config: &Value) -> Result<Resource> {
    let field = |path: &str| config.pointer(path).and_then(Value::as_str).unwrap_or("");
    let cloud = field("/cloud");
    if cloud != "gke" {
        return Err(Error::msg(format!(
            "IAMPolicyGenerator: cloud {cloud:?} is not supported (only \"gke\")"
        )));
    }
    let (name, namespace) = (
        field("/kubernetesService/name"),
        field("/kubernetesService/namespace"),
    );
    let (account, project) = (
        field("/serviceAccount/name"),
        field("/serviceAccount/projectId"),
    );
    if name.is_empty() || account.is_empty() || project.is_empty() {
        return Err(Error::msg(
            "IAMPolicyGenerator: kubernetesService.name, serviceAccount.name and serviceAccount.projectId are required",
        ));
    }
    let mut metadata = Map::new();
    let mut annotations = Map::new();
    annotations.insert(
        "iam.gke.io/gcp-service-account".into(),
        Value::String(format!("{account}@{project}.iam.gserviceaccount.com")),
    );
    metadata.insert("annotations".into(), Value::Object(annotations));
    metadata.insert("name".into(), Value::String(name.to_owned()));
    if !namespace.is_empty() {
        metadata.insert("namespace".into(), Value::String(namespace.to_owned()));
    }
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), Value::String("v1".into()));
    obj.insert("kind".into(), Value::String("ServiceAccount".into()));
    obj.insert("metadata".into(), Value::Object(metadata));
    Ok(Resource::new(Value::Object(obj)))
}
