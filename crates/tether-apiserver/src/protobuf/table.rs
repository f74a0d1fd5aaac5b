//! The generated field table (`generated.json`, see `tests/protobuf_table.rs`), loaded once.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde_json::Value;

/// Types whose JSON is not their proto struct (Go types with their own `MarshalJSON`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    Time,
    MicroTime,
    Duration,
    Quantity,
    IntOrString,
    RawExtension,
    /// `FieldsV1`, apiextensions `JSON`: `raw` holds JSON.
    RawJson,
    SchemaOrArray,
    SchemaOrBool,
    SchemaOrStringArray,
    /// A Go named slice (`ExtraValue []string`) sent as a message with repeated `items`.
    List,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    String,
    Bytes,
    Bool,
    Int32,
    Int64,
    Double,
    Message(usize),
    /// `map<string, V>`: repeated entries {key = 1, value = 2}.
    Map(Box<Kind>),
}

#[derive(Debug)]
pub struct Field {
    pub tag: u32,
    /// Empty for a Go struct embedded with `json:",inline"`.
    pub json: String,
    pub kind: Kind,
    pub repeated: bool,
    /// Whether a zero scalar that arrived on the wire is still a JSON field: Go pointers and
    /// fields without `omitempty` (or, where the Go type was not known, `required` ones).
    pub emit_zero: bool,
    pub inline: bool,
}

#[derive(Debug)]
pub struct Message {
    pub name: String,
    pub special: Option<Special>,
    /// In Go declaration order, the order encoding/json writes them.
    pub fields: Vec<Field>,
    /// (tag, index into `fields`), sorted by tag.
    by_tag: Vec<(u32, usize)>,
}

impl Message {
    pub fn field(&self, tag: u32) -> Option<usize> {
        self.by_tag
            .binary_search_by_key(&tag, |(t, _)| *t)
            .ok()
            .map(|i| self.by_tag[i].1)
    }
}

#[derive(Debug)]
pub struct Table {
    pub messages: Vec<Message>,
    by_name: HashMap<String, usize>,
    /// `"apps/v1 Deployment"` -> message.
    gvks: HashMap<String, usize>,
}

impl Table {
    pub fn by_gvk(&self, api_version: &str, kind: &str) -> Option<usize> {
        self.gvks.get(&format!("{api_version} {kind}")).copied()
    }

    pub fn by_name(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }
}

static TABLE: LazyLock<Result<Table, String>> =
    LazyLock::new(|| parse(include_str!("generated.json")));

pub fn table() -> Result<&'static Table, String> {
    TABLE.as_ref().map_err(Clone::clone)
}

fn parse(text: &str) -> Result<Table, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let raw = doc["messages"].as_object().ok_or("no messages")?;
    let by_name: HashMap<String, usize> = raw
        .keys()
        .enumerate()
        .map(|(i, k)| (k.clone(), i))
        .collect();
    let mut messages = Vec::with_capacity(raw.len());
    for (name, m) in raw {
        let special = match m.get("special").and_then(Value::as_str) {
            None => None,
            Some(s) => Some(special(s).ok_or_else(|| format!("{name}: special {s}"))?),
        };
        let mut fields = Vec::new();
        for f in m["fields"]
            .as_array()
            .ok_or_else(|| format!("{name}: fields"))?
        {
            let bad = || format!("{name}: field {f}");
            let tag = f[0]
                .as_u64()
                .and_then(|t| u32::try_from(t).ok())
                .ok_or_else(bad)?;
            let json = f[1].as_str().ok_or_else(bad)?.to_owned();
            let kind = kind(f[2].as_str().ok_or_else(bad)?, &by_name).ok_or_else(bad)?;
            let flags = f[3].as_str().ok_or_else(bad)?;
            let go = flags.contains("go");
            let emit_zero = if go {
                flags.contains('p') || flags.contains('e')
            } else {
                flags.contains('q')
            };
            fields.push(Field {
                tag,
                json,
                kind,
                repeated: flags.contains('r'),
                emit_zero,
                inline: flags.contains('i'),
            });
        }
        let mut by_tag: Vec<(u32, usize)> =
            fields.iter().enumerate().map(|(i, f)| (f.tag, i)).collect();
        by_tag.sort_unstable();
        messages.push(Message {
            name: name.clone(),
            special,
            fields,
            by_tag,
        });
    }
    let mut gvks = HashMap::new();
    for (gvk, def) in doc["gvks"].as_object().ok_or("no gvks")? {
        let def = def.as_str().ok_or_else(|| format!("gvk {gvk}"))?;
        let index = by_name
            .get(def)
            .ok_or_else(|| format!("gvk {gvk}: {def}"))?;
        gvks.insert(gvk.clone(), *index);
    }
    Ok(Table {
        messages,
        by_name,
        gvks,
    })
}

fn special(s: &str) -> Option<Special> {
    Some(match s {
        "time" => Special::Time,
        "microtime" => Special::MicroTime,
        "duration" => Special::Duration,
        "quantity" => Special::Quantity,
        "intorstring" => Special::IntOrString,
        "rawextension" => Special::RawExtension,
        "rawjson" => Special::RawJson,
        "schemaorarray" => Special::SchemaOrArray,
        "schemaorbool" => Special::SchemaOrBool,
        "schemaorstringarray" => Special::SchemaOrStringArray,
        "list" => Special::List,
        _ => return None,
    })
}

fn kind(s: &str, by_name: &HashMap<String, usize>) -> Option<Kind> {
    // Kubernetes maps are all keyed by strings; the table spells the key kind out anyway.
    if let Some(value) = s.strip_prefix("map:string,") {
        return Some(Kind::Map(Box::new(kind(value, by_name)?)));
    }
    if let Some(name) = s.strip_prefix("msg:") {
        return by_name.get(name).map(|i| Kind::Message(*i));
    }
    Some(match s {
        "string" => Kind::String,
        "bytes" => Kind::Bytes,
        "bool" => Kind::Bool,
        "int32" => Kind::Int32,
        "int64" => Kind::Int64,
        "double" => Kind::Double,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_table_loads() {
        let t = table().unwrap();
        let d = t.by_gvk("apps/v1", "Deployment").unwrap();
        assert_eq!(t.messages[d].name, "io.k8s.api.apps.v1.Deployment");
        let spec = &t.messages[t.by_name("io.k8s.api.apps.v1.DeploymentSpec").unwrap()];
        let replicas = &spec.fields[spec.field(1).unwrap()];
        assert_eq!(
            (replicas.json.as_str(), replicas.emit_zero),
            ("replicas", true)
        );
        let paused = &spec.fields[spec.field(7).unwrap()];
        assert_eq!((paused.json.as_str(), paused.emit_zero), ("paused", false));
        assert!(spec.field(8).is_none(), "tag 8 is retired");
    }
}
