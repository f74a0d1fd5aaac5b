//! The protobuf field table (`src/protobuf/generated.json`): its generator and its checks.
//!
//! Regenerate with
//!
//! ```text
//! TETHER_BLESS=1 cargo test -p tether-apiserver --test protobuf_table -- --ignored
//! ```
//!
//! Blessing reads three inputs:
//! - the prost sources of `k8s-pb` 0.9.0 (field numbers and wire types): `TETHER_K8S_PB_SRC`, or
//!   `$CARGO_HOME/registry/src/*/k8s-pb-0.9.0/src` (`cargo fetch` after adding the crate brings it);
//! - the OpenAPI document `shared/kubernetes/swagger-1.36.json` (JSON names, `required`, GVKs);
//! - the Go type information compiled into a kubectl binary (`TETHER_GO_TYPES_BINARY`, or
//!   `kubectl.1.33` beside the `kubectl` on `PATH`): which Go fields are pointers, which carry
//!   `omitempty`, and their declaration order. Only Go knows these, and they decide whether a zero
//!   value on the wire becomes a JSON field (`replicas: 0` is a `*int32`; `paused: false` is a
//!   plain `bool` with `omitempty`).
//!
//! Without `--ignored` the tests check the committed table against the OpenAPI document only,
//! so they run where neither k8s-pb's sources nor kubectl are present; `--ignored` without
//! `TETHER_BLESS` regenerates in memory and fails if the committed table is stale.

// A test file: a malformed input here is a failed test.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

const TABLE: &str = "src/protobuf/generated.json";
const SWAGGER: &str = "../../../shared/kubernetes/swagger-1.36.json";

fn manifest_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn swagger_definitions() -> serde_json::Map<String, Value> {
    let doc = read_json(&manifest_path(SWAGGER));
    doc["definitions"]
        .as_object()
        .expect("swagger has definitions")
        .clone()
}

// ---------------------------------------------------------------------------------------------
// Always-on checks of the committed table.

fn table() -> Value {
    read_json(&manifest_path(TABLE))
}

/// Every GVK the server serves (and every subresource body kind) decodes to a definition of the
/// table that has fields.
#[test]
fn every_served_gvk_has_a_definition() {
    let table = table();
    let gvks = table["gvks"].as_object().expect("gvks");
    let messages = table["messages"].as_object().expect("messages");
    let mut wanted = BTreeSet::new();
    for r in tether_schema::builtin_resources() {
        wanted.insert(format!("{} {}", r.api_version(), r.kind));
        for s in &r.subresources {
            let av = if s.group.is_empty() {
                s.version.clone()
            } else {
                format!("{}/{}", s.group, s.version)
            };
            wanted.insert(format!("{av} {}", s.kind));
        }
    }
    assert!(
        wanted.len() > 50,
        "tether-schema lists {} kinds",
        wanted.len()
    );
    let mut missing = Vec::new();
    for gvk in &wanted {
        match gvks.get(gvk).and_then(Value::as_str) {
            Some(def) => {
                let fields = messages[def]["fields"].as_array().map_or(0, Vec::len);
                if fields == 0 {
                    missing.push(format!("{gvk} -> {def} (no fields)"));
                }
            }
            None => missing.push(gvk.clone()),
        }
    }
    assert!(
        missing.is_empty(),
        "served kinds without a message: {missing:#?}"
    );
}

/// Field names exist in the OpenAPI definition, tags are unique, message references resolve,
/// `required` agrees with the OpenAPI document, and every GVK points at its own definition.
#[test]
fn table_agrees_with_the_openapi_document() {
    let table = table();
    let defs = swagger_definitions();
    let messages = table["messages"].as_object().expect("messages");
    let mut problems = Vec::new();
    for (name, msg) in messages {
        let def = defs.get(name);
        let props = def
            .and_then(|d| d.get("properties"))
            .and_then(Value::as_object);
        let required: BTreeSet<&str> = def
            .and_then(|d| d.get("required"))
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let special = msg.get("special").is_some();
        if !special && msg["swagger"] == json!(true) && props.is_none() {
            problems.push(format!(
                "{name}: marked as an OpenAPI definition with properties"
            ));
        }
        let mut tags = BTreeSet::new();
        for f in msg["fields"].as_array().expect("fields") {
            let tag = f[0].as_u64().expect("tag");
            let json_name = f[1].as_str().expect("name");
            let kind = f[2].as_str().expect("kind");
            let flags = f[3].as_str().expect("flags");
            if !tags.insert(tag) {
                problems.push(format!("{name}: tag {tag} twice"));
            }
            if tag == 0 || tag > 536_870_911 {
                problems.push(format!("{name}: tag {tag} out of range"));
            }
            if flags.contains('i') {
                let target = kind.strip_prefix("msg:").unwrap_or_default();
                for tf in messages[target]["fields"].as_array().into_iter().flatten() {
                    let n = tf[1].as_str().unwrap_or_default();
                    if !n.is_empty() && !props.is_some_and(|p| p.contains_key(n)) {
                        problems.push(format!("{name}: inlined {target}.{n} is not in OpenAPI"));
                    }
                }
                continue;
            }
            if let (Some(props), false) = (props, special) {
                if !props.contains_key(json_name) {
                    problems.push(format!("{name}.{json_name} (tag {tag}) is not in OpenAPI"));
                }
                let is_required = required.contains(json_name);
                if is_required != flags.contains('q') {
                    problems.push(format!("{name}.{json_name}: required flag disagrees"));
                }
            }
            let target = kind
                .strip_prefix("map:string,")
                .unwrap_or(kind)
                .strip_prefix("msg:");
            if let Some(target) = target
                && !messages.contains_key(target)
            {
                problems.push(format!("{name}.{json_name}: unknown message {target}"));
            }
            let scalar = kind.strip_prefix("map:string,").unwrap_or(kind);
            if !scalar.starts_with("msg:")
                && !["string", "bytes", "bool", "int32", "int64", "double"].contains(&scalar)
            {
                problems.push(format!("{name}.{json_name}: unknown kind {kind}"));
            }
        }
    }
    for (gvk, def) in table["gvks"].as_object().expect("gvks") {
        let def = def.as_str().expect("definition name");
        let listed = defs
            .get(def)
            .and_then(|d| d.get("x-kubernetes-group-version-kind"))
            .and_then(Value::as_array)
            .is_some_and(|l| {
                l.iter().any(|g| {
                    let group = g["group"].as_str().unwrap_or_default();
                    let version = g["version"].as_str().unwrap_or_default();
                    let av = if group.is_empty() {
                        version.to_owned()
                    } else {
                        format!("{group}/{version}")
                    };
                    format!("{av} {}", g["kind"].as_str().unwrap_or_default()) == *gvk
                })
            });
        if !listed {
            problems.push(format!(
                "{gvk} -> {def}: not an x-kubernetes-group-version-kind"
            ));
        }
        if !messages.contains_key(def) {
            problems.push(format!("{gvk} -> {def}: no message"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// A few facts the decoder depends on, checked so a regeneration that loses the Go type
/// information (pointers, `omitempty`) or the special types fails loudly.
#[test]
fn table_keeps_go_facts_and_special_types() {
    let table = table();
    let messages = &table["messages"];
    let field = |def: &str, name: &str| -> Value {
        messages[def]["fields"]
            .as_array()
            .unwrap_or_else(|| panic!("{def} is in the table"))
            .iter()
            .find(|f| f[1] == json!(name))
            .unwrap_or_else(|| panic!("{def}.{name} is in the table"))
            .clone()
    };
    // `replicas` is a *int32: zero is sent and kept.
    let replicas = field("io.k8s.api.apps.v1.DeploymentSpec", "replicas");
    assert_eq!(replicas[0], json!(1));
    assert_eq!(replicas[2], json!("int32"));
    assert!(replicas[3].as_str().unwrap().contains('p'), "{replicas}");
    // `paused` is a plain bool with omitempty: false is dropped.
    let paused = field("io.k8s.api.apps.v1.DeploymentSpec", "paused");
    assert_eq!(paused[3], json!("go"));
    // Container.name has no omitempty.
    let name = field("io.k8s.api.core.v1.Container", "name");
    assert!(name[3].as_str().unwrap().contains('q'));
    let data = field("io.k8s.api.core.v1.Secret", "data");
    assert_eq!(data[2], json!("map:string,bytes"));
    let limits = field("io.k8s.api.core.v1.ResourceRequirements", "limits");
    assert_eq!(
        limits[2],
        json!("map:string,msg:io.k8s.apimachinery.pkg.api.resource.Quantity")
    );
    for (def, special) in [
        ("io.k8s.apimachinery.pkg.apis.meta.v1.Time", "time"),
        (
            "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime",
            "microtime",
        ),
        ("io.k8s.apimachinery.pkg.api.resource.Quantity", "quantity"),
        (
            "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
            "intorstring",
        ),
        (
            "io.k8s.apimachinery.pkg.runtime.RawExtension",
            "rawextension",
        ),
        ("io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1", "rawjson"),
    ] {
        assert_eq!(messages[def]["special"], json!(special), "{def}");
    }
    assert_eq!(
        table["gvks"]["apps/v1 Deployment"],
        json!("io.k8s.api.apps.v1.Deployment")
    );
    // Go declaration order: metadata before spec before status.
    let names: Vec<&str> = messages["io.k8s.api.core.v1.Service"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f[1].as_str().unwrap())
        .collect();
    assert_eq!(names, ["metadata", "spec", "status"]);
}

// ---------------------------------------------------------------------------------------------
// The generator.

/// Regenerates the table from its three inputs: with `TETHER_BLESS=1` it writes the file,
/// otherwise it fails when the committed file differs. Ignored by default because the inputs
/// (k8s-pb's sources, a kubectl 1.33 binary) need not be where the suite runs.
#[test]
#[ignore = "needs k8s-pb's sources and kubectl 1.33; run with --ignored (TETHER_BLESS=1 writes)"]
fn generated_table_is_fresh() {
    let pb_src = k8s_pb_src();
    let go_binary = go_types_binary();
    let defs = swagger_definitions();
    let protos = prost::parse_tree(&pb_src);
    assert!(
        protos.len() > 1000,
        "only {} messages in {}",
        protos.len(),
        pb_src.display()
    );
    let go = gotypes::read(&go_binary);
    assert!(
        go.contains_key("io.k8s.api.core.v1.PodSpec"),
        "no Go type k8s.io/api/core/v1.PodSpec in {}; its Go version may lay types out \
         differently from what this reader knows",
        go_binary.display()
    );
    let (table, report) = build(&protos, &defs, &go);
    let text = serde_json::to_string(&table).expect("serialise") + "\n";
    eprintln!("{report}");
    if std::env::var_os("TETHER_BLESS").is_some() {
        std::fs::write(manifest_path(TABLE), text).expect("write the table");
        return;
    }
    let committed = std::fs::read_to_string(manifest_path(TABLE)).expect("read the table");
    assert!(
        committed == text,
        "{TABLE} is stale: regenerate it with TETHER_BLESS=1 cargo test -p tether-apiserver \
         --test protobuf_table -- --ignored"
    );
}

fn k8s_pb_src() -> PathBuf {
    if let Some(dir) = std::env::var_os("TETHER_K8S_PB_SRC") {
        return PathBuf::from(dir);
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .expect("CARGO_HOME or HOME");
    let registry = cargo_home.join("registry/src");
    let found = std::fs::read_dir(&registry).ok().and_then(|dirs| {
        dirs.filter_map(Result::ok)
            .map(|d| d.path().join("k8s-pb-0.9.0/src"))
            .find(|p| p.join("lib.rs").is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "blessing needs the sources of the crate k8s-pb 0.9.0 (kube-rs's prost bindings of the \
             Kubernetes protos): fetch them with `cargo fetch` in a project that depends on \
             `k8s-pb = \"=0.9.0\"`, or point TETHER_K8S_PB_SRC at its src/ directory; looked in {}",
            registry.display()
        )
    })
}

fn go_types_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("TETHER_GO_TYPES_BINARY") {
        return PathBuf::from(path);
    }
    let from_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("kubectl"))
            .find(|p| p.is_file())
            .and_then(|p| std::fs::canonicalize(p).ok())
            .and_then(|p| p.parent().map(|d| d.join("kubectl.1.33")))
            .filter(|p| p.is_file())
    });
    from_path.unwrap_or_else(|| {
        panic!(
            "blessing needs a kubectl 1.33 binary (its Go type information says which fields are \
             pointers and which are omitempty): install kubectl.1.33 beside kubectl on PATH, or \
             point TETHER_GO_TYPES_BINARY at one"
        )
    })
}

/// Types whose JSON form is not their proto struct (custom MarshalJSON in Go).
fn special_kind(def: &str) -> Option<&'static str> {
    let (package, name) = def.rsplit_once('.')?;
    Some(match (package, name) {
        ("io.k8s.apimachinery.pkg.apis.meta.v1", "Time") => "time",
        ("io.k8s.apimachinery.pkg.apis.meta.v1", "MicroTime") => "microtime",
        ("io.k8s.apimachinery.pkg.apis.meta.v1", "Duration") => "duration",
        ("io.k8s.apimachinery.pkg.apis.meta.v1", "FieldsV1") => "rawjson",
        ("io.k8s.apimachinery.pkg.api.resource", "Quantity") => "quantity",
        ("io.k8s.apimachinery.pkg.util.intstr", "IntOrString") => "intorstring",
        ("io.k8s.apimachinery.pkg.runtime", "RawExtension") => "rawextension",
        (p, "JSON") if p.starts_with("io.k8s.apiextensions-apiserver.") => "rawjson",
        (p, "JSONSchemaPropsOrArray") if p.starts_with("io.k8s.apiextensions-apiserver.") => {
            "schemaorarray"
        }
        (p, "JSONSchemaPropsOrBool") if p.starts_with("io.k8s.apiextensions-apiserver.") => {
            "schemaorbool"
        }
        (p, "JSONSchemaPropsOrStringArray") if p.starts_with("io.k8s.apiextensions-apiserver.") => {
            "schemaorstringarray"
        }
        _ => return None,
    })
}

fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '_' | '-' | '$'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The package prefixes of the built-in API whose messages the table holds.
fn in_scope(package: &str) -> bool {
    (package.starts_with("io.k8s.api.")
        || package.starts_with("io.k8s.apimachinery.pkg.")
        || package.starts_with("io.k8s.apiextensions-apiserver.")
        || package.starts_with("io.k8s.kube-aggregator."))
        && !package.contains(".testapigroup.")
}

fn build(
    protos: &BTreeMap<String, prost::Message>,
    defs: &serde_json::Map<String, Value>,
    go: &HashMap<String, Vec<gotypes::Field>>,
) -> (Value, String) {
    // Proto message path (module path + prost name) -> definition name, matched without case
    // because prost renames `AWSElasticBlockStoreVolumeSource` to `AwsElasticBlockStoreVolumeSource`.
    let mut defs_by_lower: HashMap<String, &str> = HashMap::new();
    for name in defs.keys() {
        defs_by_lower.insert(name.to_lowercase(), name);
    }
    let mut go_by_lower: HashMap<String, &str> = HashMap::new();
    for name in go.keys() {
        go_by_lower.insert(name.to_lowercase(), name);
    }
    let def_name = |proto: &str| -> String {
        let lower = proto.to_lowercase();
        if let Some(d) = defs_by_lower.get(&lower) {
            return (*d).to_owned();
        }
        if let Some(d) = go_by_lower.get(&lower) {
            return (*d).to_owned();
        }
        proto.to_owned()
    };

    // Start from the messages with an OpenAPI definition; add what they reference. Work
    // queue entries are (definition name, proto message path).
    let mut proto_of: BTreeMap<String, String> = BTreeMap::new();
    for p in protos.keys() {
        proto_of.insert(def_name(p), p.clone());
    }
    let mut wanted: Vec<(String, String)> = proto_of
        .iter()
        .filter(|(d, _)| {
            let package = d.rsplit_once('.').map_or("", |(p, _)| p);
            in_scope(package) && defs.contains_key(*d)
        })
        .map(|(d, p)| (d.clone(), p.clone()))
        .collect();
    // Kinds newer than k8s-pb (MutatingAdmissionPolicy went GA in 1.36): borrow the messages
    // of the newest other version of the group, whose field numbers the copy keeps.
    let mut borrowed = Vec::new();
    for (d, def) in defs {
        if proto_of.contains_key(d) || def.get("x-kubernetes-group-version-kind").is_none() {
            continue;
        }
        let Some((package, name)) = d.rsplit_once('.') else {
            continue;
        };
        let Some((group, _)) = package.rsplit_once('.') else {
            continue;
        };
        // Alpha versions change shape between releases; only settled ones are borrowed for.
        if !in_scope(package) || version_rank(d).0 < 2 {
            continue;
        }
        let donor = proto_of
            .iter()
            .filter(|(pd, _)| {
                pd.rsplit_once('.').is_some_and(|(pp, pn)| {
                    pn == name && pp.rsplit_once('.').is_some_and(|(g, _)| g == group)
                })
            })
            .max_by_key(|(pd, _)| version_rank(pd));
        if let Some((donor_def, donor_proto)) = donor {
            borrowed.push(format!("{d} from {donor_def}"));
            wanted.push((d.clone(), donor_proto.clone()));
        }
    }
    for extra in [
        "io.k8s.apimachinery.pkg.runtime.Unknown",
        "io.k8s.apimachinery.pkg.runtime.TypeMeta",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Duration",
        "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime",
    ] {
        wanted.push((def_name(extra), extra.to_owned()));
    }
    let mut seen = BTreeSet::new();
    let mut messages = serde_json::Map::new();
    let mut unmatched = Vec::new();
    let mut go_known = 0usize;
    let mut go_unknown = 0usize;
    while let Some((def, proto_name)) = wanted.pop() {
        if !seen.insert(def.clone()) {
            continue;
        }
        let msg = protos
            .get(&proto_name)
            .unwrap_or_else(|| panic!("k8s-pb has no message {proto_name}"));
        // A borrowed message refers to its donor version's types; keep those in the
        // borrowing version where it defines them.
        let (def_package, _) = def.rsplit_once('.').expect("qualified");
        let (proto_package, _) = proto_name.rsplit_once('.').expect("qualified");
        let reference = |m: &str| -> (String, String) {
            let target = def_name(m);
            if def_package != proto_package
                && let Some(local) = target
                    .strip_prefix(proto_package)
                    .map(|rest| format!("{def_package}{rest}"))
                    .filter(|l| defs.contains_key(l))
            {
                let proto = proto_of
                    .get(&local)
                    .cloned()
                    .unwrap_or_else(|| m.to_owned());
                return (local, proto);
            }
            (target, m.to_owned())
        };
        let swagger = defs.get(&def);
        let props = swagger
            .and_then(|d| d.get("properties"))
            .and_then(Value::as_object);
        let required: BTreeSet<&str> = swagger
            .and_then(|d| d.get("required"))
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let go_fields = go.get(&def);
        let special = special_kind(&def);
        let mut fields: Vec<(usize, Value)> = Vec::new();
        for f in &msg.fields {
            let go_field = go_fields.and_then(|g| g.iter().find(|gf| gf.tag == f.tag));
            let json_name = match (props, special) {
                (Some(props), None) => {
                    let by_name = props.keys().find(|k| normalise(k) == normalise(&f.name));
                    let by_go = go_field
                        .and_then(|g| g.json_name.as_deref())
                        .filter(|n| props.contains_key(*n));
                    match by_name.map(String::as_str).or(by_go) {
                        Some(n) => n.to_owned(),
                        None if inline(f, go_field, props, protos) => String::new(),
                        None => {
                            unmatched.push(format!("{def}.{} (tag {})", f.name, f.tag));
                            continue;
                        }
                    }
                }
                _ => go_field
                    .and_then(|g| g.json_name.clone())
                    .unwrap_or_else(|| lower_camel(&f.name)),
            };
            let kind = match &f.kind {
                prost::Kind::Scalar(s) => s.clone(),
                prost::Kind::Message(m) => {
                    let (target, proto) = reference(m);
                    wanted.push((target.clone(), proto));
                    format!("msg:{target}")
                }
                prost::Kind::MapScalar(s) => format!("map:string,{s}"),
                prost::Kind::MapMessage(m) => {
                    let (target, proto) = reference(m);
                    wanted.push((target.clone(), proto));
                    format!("map:string,msg:{target}")
                }
            };
            let mut flags = String::new();
            if f.repeated {
                flags.push('r');
            }
            if json_name.is_empty() {
                flags.push('i');
            }
            if required.contains(json_name.as_str()) {
                flags.push('q');
            }
            if let Some(g) = go_field {
                go_known += 1;
                flags.push_str("go");
                if g.pointer {
                    flags.push('p');
                }
                if !g.omitempty {
                    flags.push('e');
                }
            } else if special.is_none() {
                go_unknown += 1;
            }
            let order = go_field.map_or(usize::MAX, |g| g.index);
            fields.push((order, json!([f.tag, json_name, kind, flags])));
        }
        // Go's encoding/json writes fields in declaration order; fields Go did not tell us
        // about keep their tag order after the known ones.
        fields.sort_by_key(|(order, f)| (*order, f[0].as_u64()));
        let mut entry = serde_json::Map::new();
        entry.insert("swagger".into(), json!(props.is_some()));
        if let Some(s) = special {
            entry.insert("special".into(), json!(s));
        } else if swagger.is_none()
            && msg.fields.len() == 1
            && msg.fields[0].repeated
            && msg.fields[0].name == "items"
            && !def.ends_with("List")
        {
            // Go named slice types (`ExtraValue []string`) travel as a message with `items`.
            entry.insert("special".into(), json!("list"));
        }
        entry.insert(
            "fields".into(),
            Value::Array(fields.into_iter().map(|(_, f)| f).collect()),
        );
        messages.insert(def, Value::Object(entry));
    }
    let mut gvks = serde_json::Map::new();
    for name in messages.keys() {
        let Some(list) = defs
            .get(name)
            .and_then(|d| d.get("x-kubernetes-group-version-kind"))
            .and_then(Value::as_array)
        else {
            continue;
        };
        for g in list {
            let group = g["group"].as_str().unwrap_or_default();
            let version = g["version"].as_str().unwrap_or_default();
            let kind = g["kind"].as_str().unwrap_or_default();
            let av = if group.is_empty() {
                version.to_owned()
            } else {
                format!("{group}/{version}")
            };
            gvks.insert(format!("{av} {kind}"), json!(name));
        }
    }
    let mut sorted = serde_json::Map::new();
    let mut names: Vec<_> = messages.keys().cloned().collect();
    names.sort();
    for n in names {
        sorted.insert(n.clone(), messages[&n].clone());
    }
    let report = format!(
        "{} messages, {} GVKs; fields with Go facts {go_known}, without {go_unknown}; \
         proto fields with no OpenAPI property (left out): {unmatched:#?}; \
         kinds borrowed from another version: {borrowed:#?}",
        sorted.len(),
        gvks.len()
    );
    (
        json!({
            "about": "generated by tests/protobuf_table.rs from k8s-pb 0.9.0, swagger-1.36.json \
                      and kubectl 1.33's Go types; fields are [tag, json name, kind, flags] with \
                      maps as map:<key kind>,<value kind>; flags r=repeated q=required go=Go facts known p=Go pointer e=no omitempty",
            "gvks": gvks,
            "messages": sorted,
        }),
        report,
    )
}

/// Go embeds structs with `json:",inline"` (`Volume` embeds `VolumeSource`): protobuf sends
/// them as a nested message, JSON flattens their fields into the parent. Go's tag says so where
/// kubectl knows the type; otherwise every field of the nested message must be a property of
/// the parent.
fn inline(
    f: &prost::Field,
    go_field: Option<&gotypes::Field>,
    props: &serde_json::Map<String, Value>,
    protos: &BTreeMap<String, prost::Message>,
) -> bool {
    let prost::Kind::Message(target) = &f.kind else {
        return false;
    };
    if f.repeated {
        return false;
    }
    if let Some(g) = go_field {
        return g.json_name.is_none() && g.inline;
    }
    protos.get(target).is_some_and(|m| {
        !m.fields.is_empty()
            && m.fields
                .iter()
                .all(|tf| props.keys().any(|k| normalise(k) == normalise(&tf.name)))
    })
}

/// Orders versions: GA above beta above alpha, higher numbers first within each.
fn version_rank(def: &str) -> (u8, u32, u32) {
    let version = def.rsplit('.').nth(1).unwrap_or_default();
    let Some(rest) = version.strip_prefix('v') else {
        return (0, 0, 0);
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let major = digits.parse().unwrap_or(0);
    let rest = &rest[digits.len()..];
    let (level, minor) = if let Some(n) = rest.strip_prefix("beta") {
        (2, n.parse().unwrap_or(0))
    } else if let Some(n) = rest.strip_prefix("alpha") {
        (1, n.parse().unwrap_or(0))
    } else {
        (3, 0)
    };
    (level, major, minor)
}

fn lower_camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A reader of prost-generated sources: messages, their fields' tags and wire kinds.
mod prost {
    use std::collections::BTreeMap;
    use std::path::Path;

    #[derive(Debug)]
    pub enum Kind {
        Scalar(String),
        /// A message, by its proto path (`io.k8s.api.core.v1.PodSpec`, prost's casing).
        Message(String),
        MapScalar(String),
        MapMessage(String),
    }

    #[derive(Debug)]
    pub struct Field {
        pub name: String,
        pub tag: u32,
        pub kind: Kind,
        pub repeated: bool,
    }

    #[derive(Debug)]
    pub struct Message {
        pub fields: Vec<Field>,
    }

    /// Every message under `src`, keyed by `io.k8s.<module path>.<Name>`.
    pub fn parse_tree(src: &Path) -> BTreeMap<String, Message> {
        let mut out = BTreeMap::new();
        walk(src, src, &mut out);
        out
    }

    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Message>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.file_name().is_some_and(|n| n == "mod.rs") {
                let rel = path
                    .parent()
                    .expect("parent")
                    .strip_prefix(root)
                    .expect("under root");
                let module: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                let text = std::fs::read_to_string(&path).expect("read mod.rs");
                parse_file(&module, &text, out);
            }
        }
    }

    fn package(module: &[String]) -> String {
        let mut parts = vec!["io".to_owned(), "k8s".to_owned()];
        for (i, m) in module.iter().enumerate() {
            // Only the repository names carry dashes (`apiextensions-apiserver`); Go package
            // names such as `custom_metrics` keep their underscores.
            parts.push(if i == 0 {
                m.replace('_', "-")
            } else {
                m.clone()
            });
        }
        parts.join(".")
    }

    fn parse_file(module: &[String], text: &str, out: &mut BTreeMap<String, Message>) {
        let mut current: Option<(String, Message)> = None;
        let mut attr: Option<String> = None;
        let mut decl = String::new();
        for line in text.lines() {
            let t = line.trim();
            if let Some(rest) = t.strip_prefix("pub struct ") {
                if let Some(name) = rest.strip_suffix(" {}") {
                    let empty = Message { fields: Vec::new() };
                    out.insert(format!("{}.{name}", package(module)), empty);
                    continue;
                }
                let name = rest.trim_end_matches(" {").trim().to_owned();
                current = Some((name, Message { fields: Vec::new() }));
                continue;
            }
            if t == "}" && !line.starts_with(' ') {
                if let Some((name, msg)) = current.take() {
                    out.insert(format!("{}.{name}", package(module)), msg);
                }
                continue;
            }
            if t.starts_with("#[prost(") {
                attr = Some(t.to_owned());
                decl.clear();
                continue;
            }
            if attr.is_some() && !t.starts_with("///") && !t.starts_with("#[") {
                decl.push_str(t);
                decl.push(' ');
                let balanced = decl.matches('<').count() == decl.matches('>').count();
                if t.ends_with(',') && balanced {
                    let a = attr.take().expect("attr");
                    if let Some((_, msg)) = current.as_mut() {
                        msg.fields.push(field(module, &a, &decl));
                    }
                }
            }
        }
    }

    fn field(module: &[String], attr: &str, decl: &str) -> Field {
        let inner = attr
            .trim_start_matches("#[prost(")
            .trim_end_matches(")]")
            .to_owned();
        let tag: u32 = inner
            .split("tag = \"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no tag in {attr}"));
        let (name, ty) = decl
            .trim()
            .trim_start_matches("pub ")
            .split_once(':')
            .unwrap_or_else(|| panic!("odd field {decl}"));
        let name = name.trim().trim_start_matches("r#").to_owned();
        let ty: String = ty.chars().filter(|c| !c.is_whitespace()).collect();
        // rustfmt may leave a trailing comma inside the generics: `Option<\n path,\n>,`.
        let ty = ty.trim_end_matches([',', '>']);
        let repeated = inner.contains("repeated");
        let first = inner.split(',').next().unwrap_or_default().trim();
        let kind = if let Some(map) = inner.strip_prefix("btree_map = \"") {
            let kinds = map.split('"').next().unwrap_or_default();
            let (key_kind, value_kind) = kinds.split_once(',').expect("map key, value");
            // The decoder reads map keys as strings; Kubernetes has no other.
            assert_eq!(key_kind.trim(), "string", "map key kind in {attr}");
            let value_kind = value_kind.trim();
            if value_kind == "message" {
                let value_ty = ty
                    .rsplit_once(',')
                    .map(|(_, v)| v)
                    .unwrap_or_else(|| panic!("odd map type {ty}"));
                Kind::MapMessage(resolve(module, value_ty))
            } else {
                Kind::MapScalar(value_kind.to_owned())
            }
        } else if first == "message" {
            let mut t = ty;
            for wrapper in [
                "::core::option::Option<",
                "::prost::alloc::vec::Vec<",
                "::prost::alloc::boxed::Box<",
            ] {
                t = t.strip_prefix(wrapper).unwrap_or(t);
            }
            Kind::Message(resolve(module, t))
        } else if first.starts_with("bytes") {
            Kind::Scalar("bytes".into())
        } else {
            Kind::Scalar(first.to_owned())
        };
        Field {
            name,
            tag,
            kind,
            repeated,
        }
    }

    /// `super::super::meta::v1::ObjectMeta` relative to `module` -> `io.k8s.<...>.ObjectMeta`.
    fn resolve(module: &[String], path: &str) -> String {
        let mut base: Vec<String> = module.to_vec();
        let mut parts: Vec<&str> = path.split("::").collect();
        let name = parts.pop().expect("a type name");
        let mut rest = Vec::new();
        for p in parts {
            if p == "super" {
                base.pop();
            } else {
                rest.push(p.to_owned());
            }
        }
        base.extend(rest);
        format!("{}.{name}", package(&base))
    }
}

/// A reader of the Go runtime type information of a Go (1.21–1.24, amd64, non-PIE) binary:
/// struct types reached from the type links, with their fields' tags and kinds.
mod gotypes {
    use std::collections::{HashMap, HashSet};
    use std::path::Path;

    #[derive(Debug, Clone)]
    pub struct Field {
        /// Declaration index, for JSON field order.
        pub index: usize,
        pub tag: u32,
        pub json_name: Option<String>,
        pub omitempty: bool,
        pub pointer: bool,
        /// `json:",inline"`.
        pub inline: bool,
    }

    struct Image {
        bytes: Vec<u8>,
        /// (virtual address, file offset, size) of the loaded sections.
        sections: Vec<(u64, u64, u64, String)>,
    }

    impl Image {
        fn at(&self, addr: u64, len: usize) -> Option<&[u8]> {
            self.sections.iter().find_map(|(va, off, size, name)| {
                if name == ".bss" || name == ".noptrbss" {
                    return None;
                }
                (addr >= *va && addr + len as u64 <= va + size).then(|| {
                    let start = (off + (addr - va)) as usize;
                    &self.bytes[start..start + len]
                })
            })
        }
        fn u8(&self, a: u64) -> u8 {
            self.at(a, 1).map_or(0, |b| b[0])
        }
        fn u64(&self, a: u64) -> u64 {
            self.at(a, 8)
                .map_or(0, |b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
        }
        fn i32(&self, a: u64) -> i32 {
            self.at(a, 4)
                .map_or(0, |b| i32::from_le_bytes(b.try_into().expect("4 bytes")))
        }
        fn varint(&self, mut a: u64) -> (u64, u64) {
            let (mut v, mut shift) = (0u64, 0);
            loop {
                let b = self.u8(a);
                a += 1;
                v |= u64::from(b & 0x7f) << shift;
                shift += 7;
                if b < 0x80 || shift > 63 {
                    return (v, a);
                }
            }
        }
        /// A Go `abi.Name`: flags, varint length, bytes, then an optional tag.
        fn name(&self, a: u64) -> (String, String) {
            let flags = self.u8(a);
            let (len, p) = self.varint(a + 1);
            let name = self.at(p, len as usize).unwrap_or_default();
            let name = String::from_utf8_lossy(name).into_owned();
            let mut tag = String::new();
            if flags & 2 != 0 {
                let (tlen, tp) = self.varint(p + len);
                tag = String::from_utf8_lossy(self.at(tp, tlen as usize).unwrap_or_default())
                    .into_owned();
            }
            (name, tag)
        }
    }

    const KIND_ARRAY: u8 = 17;
    const KIND_MAP: u8 = 21;
    const KIND_POINTER: u8 = 22;
    const KIND_SLICE: u8 = 23;
    const KIND_STRUCT: u8 = 25;

    /// Struct types by definition name (`io.k8s.api.apps.v1.DeploymentSpec`).
    pub fn read(path: &Path) -> HashMap<String, Vec<Field>> {
        let bytes =
            std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        assert_eq!(&bytes[..4], b"\x7fELF", "{} is not ELF", path.display());
        let shoff = u64::from_le_bytes(bytes[0x28..0x30].try_into().unwrap()) as usize;
        let shentsize = u16::from_le_bytes(bytes[0x3a..0x3c].try_into().unwrap()) as usize;
        let shnum = u16::from_le_bytes(bytes[0x3c..0x3e].try_into().unwrap()) as usize;
        let shstrndx = u16::from_le_bytes(bytes[0x3e..0x40].try_into().unwrap()) as usize;
        let header = |i: usize| {
            let o = shoff + i * shentsize;
            let u32_at = |x: usize| u32::from_le_bytes(bytes[o + x..o + x + 4].try_into().unwrap());
            let u64_at = |x: usize| u64::from_le_bytes(bytes[o + x..o + x + 8].try_into().unwrap());
            (u32_at(0), u64_at(16), u64_at(24), u64_at(32))
        };
        let strtab = header(shstrndx).2 as usize;
        let mut sections = Vec::new();
        for i in 0..shnum {
            let (name_off, addr, off, size) = header(i);
            let start = strtab + name_off as usize;
            let end = start + bytes[start..].iter().position(|b| *b == 0).unwrap();
            let name = String::from_utf8_lossy(&bytes[start..end]).into_owned();
            sections.push((addr, off, size, name));
        }
        let find = |n: &str| {
            sections
                .iter()
                .find(|s| s.3 == n)
                .unwrap_or_else(|| panic!("{} has no {n} section", path.display()))
                .clone()
        };
        let rodata = find(".rodata");
        let typelink = find(".typelink");
        let image = Image { bytes, sections };
        let base = rodata.0;
        let mut seen = HashSet::new();
        let mut structs = Vec::new();
        let mut stack: Vec<u64> = (0..typelink.2 / 4)
            .map(|i| {
                let o = (typelink.1 + i * 4) as usize;
                let off = i32::from_le_bytes(image.bytes[o..o + 4].try_into().unwrap());
                base.wrapping_add_signed(i64::from(off))
            })
            .collect();
        while let Some(t) = stack.pop() {
            if t == 0 || !seen.insert(t) || image.at(t, 48).is_none() {
                continue;
            }
            match image.u8(t + 23) & 0x1f {
                KIND_POINTER | KIND_SLICE | KIND_ARRAY => stack.push(image.u64(t + 48)),
                KIND_MAP => {
                    stack.push(image.u64(t + 48));
                    stack.push(image.u64(t + 56));
                }
                KIND_STRUCT => {
                    structs.push(t);
                    let (fields, count) = (image.u64(t + 56), image.u64(t + 64));
                    for i in 0..count.min(10_000) {
                        stack.push(image.u64(fields + i * 24 + 8));
                    }
                }
                _ => {}
            }
        }
        let mut out = HashMap::new();
        for t in structs {
            // The uncommon type after a struct type holds its package path.
            if image.u8(t + 20) & 1 == 0 {
                continue;
            }
            let pkg_off = image.i32(t + 80);
            if pkg_off == 0 {
                continue;
            }
            let (pkg, _) = image.name(base.wrapping_add_signed(i64::from(pkg_off)));
            let (mut type_name, _) =
                image.name(base.wrapping_add_signed(i64::from(image.i32(t + 40))));
            if image.u8(t + 20) & 2 != 0 {
                type_name.remove(0);
            }
            let Some(short) = type_name.rsplit('.').next() else {
                continue;
            };
            let Some(rest) = pkg.strip_prefix("k8s.io/") else {
                continue;
            };
            let def = format!("io.k8s.{}.{short}", rest.replace('/', "."));
            let (fields_at, count) = (image.u64(t + 56), image.u64(t + 64));
            let mut fields = Vec::new();
            for i in 0..count.min(10_000) {
                let f = fields_at + i * 24;
                let (_, tag) = image.name(image.u64(f));
                let ft = image.u64(f + 8);
                let Some(proto) = struct_tag(&tag, "protobuf") else {
                    continue;
                };
                let Some(number) = proto.split(',').nth(1).and_then(|n| n.parse().ok()) else {
                    continue;
                };
                let json = struct_tag(&tag, "json");
                let json_name = json
                    .as_deref()
                    .and_then(|j| j.split(',').next())
                    .filter(|n| !n.is_empty() && *n != "-")
                    .map(str::to_owned);
                fields.push(Field {
                    index: i as usize,
                    tag: number,
                    json_name,
                    // `omitzero` (Go 1.24) drops zero scalars just as `omitempty` does.
                    omitempty: json.as_deref().is_some_and(|j| {
                        j.split(',')
                            .skip(1)
                            .any(|o| o == "omitempty" || o == "omitzero")
                    }),
                    pointer: image.u8(ft + 23) & 0x1f == KIND_POINTER,
                    inline: json
                        .as_deref()
                        .is_some_and(|j| j.split(',').skip(1).any(|o| o == "inline")),
                });
            }
            out.insert(def, fields);
        }
        out
    }

    /// `reflect.StructTag.Get`, enough for the tags Kubernetes writes.
    fn struct_tag(tag: &str, key: &str) -> Option<String> {
        let needle = format!("{key}:\"");
        let start = tag.find(&needle)? + needle.len();
        let end = tag[start..].find('"')?;
        Some(tag[start..start + end].to_owned())
    }
}
