//! Patch metadata from Go struct descriptions (type name → JSON field → Go type and
//! `patchStrategy`/`patchMergeKey` tags), looked up like apimachinery's `PatchMetaFromStruct`:
//! a pointer is followed once, a map's entries have no metadata, and an unknown JSON field is
//! an error. This is the `struct` schema of the conformance suite
//! (`shared/conformance/smp/schemas/struct-schemas.yaml`).

use std::collections::HashMap;

use serde_json::Value;

use super::meta::{LookupError, LookupPatchMeta, PatchMeta};

/// Why a struct description could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GoStructError {
    #[error("struct descriptions must be a map of type names, got {0}")]
    NotAMap(String),
    #[error("struct {0}: `fields` must be a map of JSON field names")]
    BadFields(String),
    #[error("struct {strukt}, field {field}: {reason}")]
    BadField {
        strukt: String,
        field: String,
        reason: String,
    },
}

/// A Go type, as far as patch metadata needs it.
#[derive(Debug, Clone, PartialEq)]
enum GoType {
    /// A struct described in the document (or an external one, like `runtime.RawExtension`,
    /// whose fields are all hidden from JSON).
    Named(String),
    Anonymous(Vec<GoField>),
    Slice(Box<GoType>),
    Pointer(Box<GoType>),
    Map(Box<GoType>),
    Basic(String),
}

#[derive(Debug, Clone, PartialEq)]
struct GoField {
    json: String,
    ty: GoType,
    strategy: String,
    merge_key: String,
}

const BASIC: &[&str] = &[
    "bool",
    "string",
    "int",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "uintptr",
    "float32",
    "float64",
    "complex64",
    "complex128",
    "byte",
    "rune",
];

fn parse_type(s: &str) -> Result<GoType, String> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix("[]") {
        return Ok(GoType::Slice(Box::new(parse_type(rest)?)));
    }
    if let Some(rest) = s.strip_prefix('*') {
        return Ok(GoType::Pointer(Box::new(parse_type(rest)?)));
    }
    if let Some(rest) = s.strip_prefix("map[") {
        let mut depth = 1;
        for (i, c) in rest.char_indices() {
            match c {
                '[' => depth += 1,
                ']' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(GoType::Map(Box::new(parse_type(&rest[i + 1..])?)));
                    }
                }
                _ => {}
            }
        }
        return Err(format!("unbalanced brackets in {s:?}"));
    }
    if let Some(body) = s
        .strip_prefix("struct")
        .map(str::trim_start)
        .and_then(|b| b.strip_prefix('{'))
        .and_then(|b| b.strip_suffix('}'))
    {
        let mut fields = Vec::new();
        for decl in body
            .split([';', '\n'])
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            let (name, ty) = decl
                .split_once(char::is_whitespace)
                .ok_or_else(|| format!("cannot read field {decl:?} of {s:?}"))?;
            fields.push(GoField {
                json: name.to_owned(),
                ty: parse_type(ty)?,
                strategy: String::new(),
                merge_key: String::new(),
            });
        }
        return Ok(GoType::Anonymous(fields));
    }
    if s.is_empty() {
        return Err("empty type".to_owned());
    }
    if BASIC.contains(&s) {
        return Ok(GoType::Basic(s.to_owned()));
    }
    Ok(GoType::Named(s.to_owned()))
}

impl GoType {
    /// `reflect.Kind` name.
    fn kind(&self) -> &str {
        match self {
            GoType::Named(_) | GoType::Anonymous(_) => "struct",
            GoType::Slice(_) => "slice",
            GoType::Pointer(_) => "ptr",
            GoType::Map(_) => "map",
            GoType::Basic(b) if b == "byte" => "uint8",
            GoType::Basic(b) if b == "rune" => "int32",
            GoType::Basic(b) => b,
        }
    }
}

/// Go struct descriptions: `TypeName: {fields: {jsonName: {goType, patchStrategy?,
/// patchMergeKey?}}}`.
#[derive(Debug, Clone, Default)]
pub struct GoStructSchemas {
    structs: HashMap<String, Vec<GoField>>,
    roots: HashMap<String, GoType>,
}

impl GoStructSchemas {
    /// Reads the descriptions (already parsed from YAML or JSON).
    pub fn from_value(doc: &Value) -> Result<Self, GoStructError> {
        let Some(types) = doc.as_object() else {
            return Err(GoStructError::NotAMap(
                super::gofmt::go_type(doc).to_owned(),
            ));
        };
        let mut out = GoStructSchemas::default();
        for (name, def) in types {
            let Some(fields) = def.get("fields").and_then(Value::as_object) else {
                return Err(GoStructError::BadFields(name.clone()));
            };
            let mut parsed = Vec::with_capacity(fields.len());
            for (json, field) in fields {
                let bad = |reason: String| GoStructError::BadField {
                    strukt: name.clone(),
                    field: json.clone(),
                    reason,
                };
                let text = |k: &str| field.get(k).and_then(Value::as_str).unwrap_or("");
                let ty = parse_type(text("goType")).map_err(bad)?;
                parsed.push(GoField {
                    json: json.clone(),
                    ty,
                    strategy: text("patchStrategy").to_owned(),
                    merge_key: text("patchMergeKey").to_owned(),
                });
            }
            out.structs.insert(name.clone(), parsed);
            out.roots.insert(name.clone(), GoType::Named(name.clone()));
        }
        Ok(out)
    }

    /// Patch metadata rooted at struct `name`.
    pub fn root(&self, name: &str) -> Option<GoStructPatchMeta<'_>> {
        Some(GoStructPatchMeta {
            schemas: self,
            ty: self.roots.get(name)?,
        })
    }

    /// The JSON-visible fields of a struct type and its Go name.
    fn fields<'a>(&'a self, ty: &'a GoType) -> Option<(&'a str, &'a [GoField])> {
        match ty {
            GoType::Named(name) => {
                let short = name.rsplit('.').next().unwrap_or(name);
                let fields = self
                    .structs
                    .get(name)
                    .or_else(|| self.structs.get(short))
                    .map_or(&[][..], Vec::as_slice);
                Some((short, fields))
            }
            GoType::Anonymous(fields) => Some(("", fields)),
            _ => None,
        }
    }
}

/// A position in [`GoStructSchemas`].
#[derive(Debug, Clone, Copy)]
pub struct GoStructPatchMeta<'a> {
    schemas: &'a GoStructSchemas,
    ty: &'a GoType,
}

impl LookupPatchMeta for GoStructPatchMeta<'_> {
    fn lookup_struct(&self, key: &str) -> Result<(Self, PatchMeta<'_>), LookupError> {
        let ty = match self.ty {
            GoType::Pointer(inner) => inner,
            other => other,
        };
        if let GoType::Map(element) = ty {
            let sub = GoStructPatchMeta {
                schemas: self.schemas,
                ty: element,
            };
            return Ok((sub, PatchMeta::default()));
        }
        let Some((name, fields)) = self.schemas.fields(ty) else {
            return Err(LookupError::NotMapOrStruct(ty.kind().to_owned()));
        };
        let Some(field) = fields.iter().find(|f| f.json == key) else {
            return Err(LookupError::StructFieldNotFound {
                field: key.to_owned(),
                schema: name.to_owned(),
            });
        };
        let sub = GoStructPatchMeta {
            schemas: self.schemas,
            ty: &field.ty,
        };
        Ok((sub, PatchMeta::new(&field.strategy, &field.merge_key)))
    }

    fn lookup_slice(&self, key: &str) -> Result<(Self, PatchMeta<'_>), LookupError> {
        let (field, meta) = self.lookup_struct(key)?;
        let element = match field.ty {
            GoType::Slice(element) => {
                if matches!(**element, GoType::Slice(_)) {
                    return Err(LookupError::SliceOfSlice);
                }
                &**element
            }
            // A pointer to a struct may hold a list of that struct (patch_test.go's
            // MergeItemPtr).
            GoType::Pointer(inner) => match &**inner {
                GoType::Slice(element) => &**element,
                other => other,
            },
            _ => return Err(LookupError::NotSliceOrArray(self.ty.kind().to_owned())),
        };
        let sub = GoStructPatchMeta {
            schemas: self.schemas,
            ty: element,
        };
        Ok((sub, meta))
    }

    fn name(&self) -> String {
        self.ty.kind().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn go_types_parse() {
        assert_eq!(
            parse_type("[]*Item").unwrap(),
            GoType::Slice(Box::new(GoType::Pointer(Box::new(GoType::Named(
                "Item".into()
            )))))
        );
        assert_eq!(
            parse_type("map[string]string").unwrap(),
            GoType::Map(Box::new(GoType::Basic("string".into())))
        );
        let GoType::Anonymous(fields) = parse_type("struct{ Raw []byte }").unwrap() else {
            panic!("not a struct");
        };
        assert_eq!(fields[0].json, "Raw");
        assert!(parse_type("map[string").is_err());
    }

    #[test]
    fn lookups_follow_go_rules() {
        let doc = GoStructSchemas::from_value(&json!({
            "Item": {"fields": {
                "list": {"goType": "[]Item", "patchStrategy": "merge", "patchMergeKey": "name"},
                "ptr": {"goType": "*Item", "patchStrategy": "merge", "patchMergeKey": "name"},
                "raw": {"goType": "runtime.RawExtension"},
                "labels": {"goType": "map[string]string"},
                "name": {"goType": "string"}
            }}
        }))
        .unwrap();
        let root = doc.root("Item").unwrap();
        let (item, meta) = root.lookup_slice("list").unwrap();
        assert_eq!(meta.merge_key(), "name");
        assert!(item.lookup_slice("ptr").is_ok());
        assert_eq!(
            root.lookup_struct("raw")
                .unwrap()
                .0
                .lookup_struct("x")
                .unwrap_err()
                .to_string(),
            "unable to find api field in struct RawExtension for the json field \"x\""
        );
        assert!(
            root.lookup_struct("labels")
                .unwrap()
                .0
                .lookup_struct("a")
                .is_ok()
        );
        assert_eq!(
            root.lookup_slice("name").unwrap_err().to_string(),
            "expected slice or array type, but got: struct"
        );
        assert_eq!(
            root.lookup_struct("name")
                .unwrap()
                .0
                .lookup_struct("x")
                .unwrap_err()
                .to_string(),
            "merging an object in json but data type is not map or struct, instead is: string"
        );
    }
}
