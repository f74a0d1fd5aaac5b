//! Walking messages by the field table and building the JSON Go's encoding/json would write.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value};

use super::error::{Failure, Problem, Step};
use super::special;
use super::table::{Field, Kind, Message, Special, Table};
use super::wire::{self, Reader};

/// Nested messages (RawExtension envelopes included) deeper than this are refused: bodies are
/// untrusted and the walk recurses.
pub const MAX_DEPTH: usize = 100;

pub const MAGIC: &[u8] = b"k8s\0";

const UNKNOWN: &str = "io.k8s.apimachinery.pkg.runtime.Unknown";
const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

#[derive(Debug, Clone, Copy)]
enum Scalar<'a> {
    Str(&'a str),
    Bytes(&'a [u8]),
    Bool(bool),
    Int(i64),
    Float(f64),
}

impl Scalar<'_> {
    fn is_zero(&self) -> bool {
        match self {
            Scalar::Str(s) => s.is_empty(),
            Scalar::Bytes(b) => b.is_empty(),
            Scalar::Bool(b) => !b,
            Scalar::Int(i) => *i == 0,
            Scalar::Float(f) => *f == 0.0,
        }
    }

    fn to_json(self) -> Result<Value, Problem> {
        Ok(match self {
            Scalar::Str(s) => Value::String(s.to_owned()),
            Scalar::Bytes(b) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
            Scalar::Bool(b) => Value::Bool(b),
            Scalar::Int(i) => Value::from(i),
            Scalar::Float(f) => special::float(f)?,
        })
    }
}

/// What arrived for one field.
enum Slot<'a> {
    Scalar(Scalar<'a>),
    /// A singular message: every occurrence, merged when decoded (proto merge semantics).
    Message(Vec<&'a [u8]>),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
}

pub struct Decoder<'t> {
    table: &'t Table,
}

impl<'t> Decoder<'t> {
    pub fn new(table: &'t Table) -> Self {
        Decoder { table }
    }

    /// A `runtime.Unknown` envelope (without the magic prefix) and the object in it.
    pub fn envelope(&self, bytes: &[u8], depth: usize) -> Result<Value, Box<Failure>> {
        let fail = |p| Failure::new(UNKNOWN, p);
        if depth >= MAX_DEPTH {
            return Err(fail(Problem::TooDeep(MAX_DEPTH)));
        }
        let (mut api_version, mut kind, mut raw) = ("", "", &[][..]);
        let (mut encoding, mut content_type) = ("", "");
        let mut r = Reader::new(bytes);
        while !r.is_empty() {
            let (tag, wt) = r.key().map_err(fail)?;
            match (tag, wt) {
                (1, wire::LEN) => {
                    let type_meta = r.bytes().map_err(fail)?;
                    let mut t = Reader::new(type_meta);
                    let at = |p| fail(p).at(Step::Field("typeMeta".into()));
                    while !t.is_empty() {
                        let (tag, wt) = t.key().map_err(at)?;
                        match (tag, wt) {
                            (1, wire::LEN) => {
                                api_version = utf8(t.bytes().map_err(at)?).map_err(at)?
                            }
                            (2, wire::LEN) => kind = utf8(t.bytes().map_err(at)?).map_err(at)?,
                            (1 | 2, _) => {
                                let name = if tag == 1 { "apiVersion" } else { "kind" };
                                return Err(at(wrong_wire(tag, name, "length-delimited", wt)));
                            }
                            _ => t.skip(tag, wt).map_err(at)?,
                        }
                    }
                }
                (2, wire::LEN) => raw = r.bytes().map_err(fail)?,
                (3, wire::LEN) => encoding = utf8(r.bytes().map_err(fail)?).map_err(fail)?,
                (4, wire::LEN) => content_type = utf8(r.bytes().map_err(fail)?).map_err(fail)?,
                (1..=4, _) => {
                    let names = ["typeMeta", "raw", "contentEncoding", "contentType"];
                    let name = names[tag as usize - 1];
                    return Err(fail(wrong_wire(tag, name, "length-delimited", wt)));
                }
                _ => r.skip(tag, wt).map_err(fail)?,
            }
        }
        if !encoding.is_empty() {
            return Err(fail(Problem::ContentEncoding(encoding.to_owned())));
        }
        if !content_type.is_empty() && content_type != PROTOBUF {
            return Err(fail(Problem::ContentType(content_type.to_owned())));
        }
        // DeleteOptions is registered in every group version; the table lists those the
        // OpenAPI document names, this accepts any.
        let index = self.table.by_gvk(api_version, kind).or_else(|| {
            (kind == "DeleteOptions")
                .then(|| self.table.by_name(DELETE_OPTIONS))
                .flatten()
        });
        let Some(index) = index else {
            return Err(fail(Problem::UnknownKind {
                api_version: api_version.to_owned(),
                kind: kind.to_owned(),
            }));
        };
        let mut object = Map::new();
        object.insert("apiVersion".into(), Value::String(api_version.to_owned()));
        object.insert("kind".into(), Value::String(kind.to_owned()));
        self.object_into(index, &[raw], depth + 1, &mut object)?;
        Ok(Value::Object(object))
    }

    /// The JSON of a message, `None` where Go writes `null` (zero times, empty raw JSON).
    fn value(
        &self,
        index: usize,
        chunks: &[&[u8]],
        depth: usize,
    ) -> Result<Option<Value>, Box<Failure>> {
        let msg = &self.table.messages[index];
        if depth >= MAX_DEPTH {
            return Err(Failure::new(&msg.name, Problem::TooDeep(MAX_DEPTH)));
        }
        let Some(special) = msg.special else {
            let mut object = Map::new();
            self.object_into(index, chunks, depth, &mut object)?;
            return Ok(Some(Value::Object(object)));
        };
        self.special_value(msg, special, chunks, depth)
    }

    // Kept out of line so that the recursion through plain messages has small stack frames.
    #[inline(never)]
    fn special_value(
        &self,
        msg: &Message,
        special: Special,
        chunks: &[&[u8]],
        depth: usize,
    ) -> Result<Option<Value>, Box<Failure>> {
        let fail = |p| Failure::new(&msg.name, p);
        let mut slots = self.read(msg, chunks, depth)?;
        let mut take = |tag: u32| msg.field(tag).and_then(|i| slots[i].take());
        let int = |s: Option<Slot>| match s {
            Some(Slot::Scalar(Scalar::Int(i))) => i,
            _ => 0,
        };
        let bytes = |s: Option<Slot<'_>>| match s {
            Some(Slot::Scalar(Scalar::Bytes(b))) => b.to_vec(),
            _ => Vec::new(),
        };
        Ok(match special {
            Special::Time | Special::MicroTime => {
                // Go decodes an empty Timestamp as the zero time, and writes that as null.
                if chunks.iter().all(|c| c.is_empty()) {
                    return Ok(None);
                }
                let (seconds, nanos) = (int(take(1)), int(take(2)));
                special::time(seconds, nanos, special == Special::MicroTime)
                    .map_err(fail)?
                    .map(Value::String)
            }
            Special::Duration => Some(Value::String(special::duration(int(take(1))))),
            Special::Quantity => Some(match take(1) {
                Some(Slot::Scalar(Scalar::Str(s))) if !s.is_empty() => Value::String(s.to_owned()),
                _ => Value::String("0".into()),
            }),
            Special::IntOrString => {
                let (kind, int_val, str_val) = (int(take(1)), int(take(2)), take(3));
                match kind {
                    0 => Some(Value::from(int_val)),
                    1 => Some(match str_val {
                        Some(Slot::Scalar(Scalar::Str(s))) => Value::String(s.to_owned()),
                        _ => Value::String(String::new()),
                    }),
                    other => return Err(fail(Problem::IntOrStringType(other))),
                }
            }
            Special::RawExtension => {
                let raw = bytes(take(1));
                if raw.is_empty() {
                    None
                } else if let Some(nested) = raw.strip_prefix(MAGIC) {
                    // Nested objects travel in the encoding of the outer one.
                    Some(
                        self.envelope(nested, depth + 1)
                            .map_err(|f| f.at(Step::Field("raw".into())))?,
                    )
                } else {
                    Some(json(&raw).map_err(fail)?)
                }
            }
            Special::RawJson => {
                let raw = bytes(take(1));
                if raw.is_empty() {
                    None
                } else {
                    Some(json(&raw).map_err(fail)?)
                }
            }
            Special::SchemaOrArray => match (take(2), take(1)) {
                (Some(Slot::List(items)), _) if !items.is_empty() => Some(Value::Array(items)),
                (_, Some(Slot::Message(schema))) => self.value_at(msg, 1, &schema, depth)?,
                _ => None,
            },
            Special::SchemaOrBool => match take(2) {
                Some(Slot::Message(schema)) => self.value_at(msg, 2, &schema, depth)?,
                _ => Some(Value::Bool(matches!(
                    take(1),
                    Some(Slot::Scalar(Scalar::Bool(true)))
                ))),
            },
            Special::SchemaOrStringArray => match (take(2), take(1)) {
                (Some(Slot::List(items)), _) if !items.is_empty() => Some(Value::Array(items)),
                (_, Some(Slot::Message(schema))) => self.value_at(msg, 1, &schema, depth)?,
                _ => None,
            },
            Special::List => match take(1) {
                Some(Slot::List(items)) => Some(Value::Array(items)),
                _ => None,
            },
        })
    }

    /// The value of the singular message field `tag` of `msg`.
    fn value_at(
        &self,
        msg: &Message,
        tag: u32,
        chunks: &[&[u8]],
        depth: usize,
    ) -> Result<Option<Value>, Box<Failure>> {
        let Some(Kind::Message(target)) = msg.field(tag).map(|i| &msg.fields[i].kind) else {
            return Ok(None);
        };
        self.value(*target, chunks, depth + 1)
    }

    /// The fields of a plain message, added to `object` in Go's declaration order.
    fn object_into(
        &self,
        index: usize,
        chunks: &[&[u8]],
        depth: usize,
        object: &mut Map<String, Value>,
    ) -> Result<(), Box<Failure>> {
        let msg = &self.table.messages[index];
        if depth >= MAX_DEPTH {
            return Err(Failure::new(&msg.name, Problem::TooDeep(MAX_DEPTH)));
        }
        let slots = self.read(msg, chunks, depth)?;
        for (field, slot) in msg.fields.iter().zip(slots) {
            let Some(slot) = slot else { continue };
            let at = |f: Box<Failure>| {
                if field.inline {
                    f
                } else {
                    f.at(Step::Field(field.json.clone()))
                }
            };
            let value = match (slot, &field.kind) {
                (Slot::Message(parts), Kind::Message(target)) if field.inline => {
                    self.object_into(*target, &parts, depth + 1, object)?;
                    continue;
                }
                (Slot::Message(parts), Kind::Message(target)) => {
                    match self.value(*target, &parts, depth + 1).map_err(at)? {
                        Some(v) => v,
                        None => continue,
                    }
                }
                (Slot::Scalar(s), _) => {
                    if s.is_zero() && !field.emit_zero {
                        continue;
                    }
                    s.to_json().map_err(|p| at(Failure::new(&msg.name, p)))?
                }
                (Slot::List(items), _) => Value::Array(items),
                (Slot::Map(entries), _) => Value::Object(entries.into_iter().collect()),
                (Slot::Message(_), _) => continue,
            };
            object.insert(field.json.clone(), value);
        }
        Ok(())
    }

    /// Reads every occurrence of every known field of `msg` from `chunks`, skipping unknown ones.
    fn read<'a>(
        &self,
        msg: &Message,
        chunks: &[&'a [u8]],
        depth: usize,
    ) -> Result<Vec<Option<Slot<'a>>>, Box<Failure>> {
        let mut slots: Vec<Option<Slot<'a>>> = msg.fields.iter().map(|_| None).collect();
        for chunk in chunks {
            let mut r = Reader::new(chunk);
            while !r.is_empty() {
                let fail = |p| Failure::new(&msg.name, p);
                let (tag, wt) = r.key().map_err(fail)?;
                let Some(i) = msg.field(tag) else {
                    r.skip(tag, wt).map_err(fail)?;
                    continue;
                };
                let field = &msg.fields[i];
                let step = || {
                    if field.inline {
                        Step::Field(format!("<inline {tag}>"))
                    } else {
                        Step::Field(field.json.clone())
                    }
                };
                let slot = &mut slots[i];
                match &field.kind {
                    Kind::Message(target) => {
                        if wt != wire::LEN {
                            return Err(fail(wrong_wire(tag, &field.json, "length-delimited", wt))
                                .at(step()));
                        }
                        let part = r.bytes().map_err(|p| fail(p).at(step()))?;
                        if field.repeated {
                            let items = list(slot);
                            let n = items.len();
                            let v = self
                                .value(*target, &[part], depth + 1)
                                .map_err(|f| f.at(Step::Index(n)).at(step()))?;
                            list(slot).push(v.unwrap_or(Value::Null));
                        } else if let Some(Slot::Message(parts)) = slot {
                            parts.push(part);
                        } else {
                            *slot = Some(Slot::Message(vec![part]));
                        }
                    }
                    Kind::Map(value_kind) => {
                        if wt != wire::LEN {
                            return Err(fail(wrong_wire(tag, &field.json, "length-delimited", wt))
                                .at(step()));
                        }
                        let entry = r.bytes().map_err(|p| fail(p).at(step()))?;
                        let (key, value) = self
                            .map_entry(msg, value_kind, entry, depth)
                            .map_err(|f| f.at(step()))?;
                        if !matches!(slot, Some(Slot::Map(_))) {
                            *slot = Some(Slot::Map(BTreeMap::new()));
                        }
                        if let Some(Slot::Map(m)) = slot {
                            m.insert(key, value);
                        }
                    }
                    kind => read_scalar(kind, field, tag, wt, &mut r, slot)
                        .map_err(|e| fail(e).at(step()))?,
                }
            }
        }
        Ok(slots)
    }

    /// One `map<string, V>` entry: key = 1, value = 2; absent parts are zero values.
    fn map_entry(
        &self,
        msg: &Message,
        value_kind: &Kind,
        entry: &[u8],
        depth: usize,
    ) -> Result<(String, Value), Box<Failure>> {
        let fail = |p| Failure::new(&msg.name, p);
        let mut key = "";
        let mut scalar_value: Option<Scalar> = None;
        let mut parts: Vec<&[u8]> = Vec::new();
        let mut r = Reader::new(entry);
        while !r.is_empty() {
            let (tag, wt) = r.key().map_err(fail)?;
            match tag {
                1 => {
                    if wt != wire::LEN {
                        return Err(fail(wrong_wire(tag, "key", "length-delimited", wt)));
                    }
                    key = utf8(r.bytes().map_err(fail)?).map_err(fail)?;
                }
                2 => match value_kind {
                    Kind::Message(_) => {
                        if wt != wire::LEN {
                            return Err(fail(wrong_wire(tag, "value", "length-delimited", wt)));
                        }
                        parts.push(r.bytes().map_err(fail)?);
                    }
                    kind => {
                        scalar_value = Some(scalar(kind, wt, &mut r, tag, "value").map_err(fail)?)
                    }
                },
                _ => r.skip(tag, wt).map_err(fail)?,
            }
        }
        let at = |f: Box<Failure>| f.at(Step::Key(key.to_owned()));
        let value = match value_kind {
            Kind::Message(target) => self
                .value(*target, &parts, depth + 1)
                .map_err(at)?
                .unwrap_or(Value::Null),
            kind => {
                let s = scalar_value.unwrap_or(match kind {
                    Kind::Bytes => Scalar::Bytes(&[]),
                    Kind::Bool => Scalar::Bool(false),
                    Kind::Int32 | Kind::Int64 => Scalar::Int(0),
                    Kind::Double => Scalar::Float(0.0),
                    _ => Scalar::Str(""),
                });
                s.to_json().map_err(|p| at(fail(p)))?
            }
        };
        Ok((key.to_owned(), value))
    }
}

/// A scalar field (repeated ones packed or not) whose key was just read.
#[inline(never)]
fn read_scalar<'a>(
    kind: &Kind,
    field: &Field,
    tag: u32,
    wt: u8,
    r: &mut Reader<'a>,
    slot: &mut Option<Slot<'a>>,
) -> Result<(), Problem> {
    if !field.repeated {
        *slot = Some(Slot::Scalar(scalar(kind, wt, r, tag, &field.json)?));
        return Ok(());
    }
    let packable = !matches!(kind, Kind::String | Kind::Bytes);
    if packable && wt == wire::LEN {
        let mut packed = Reader::new(r.bytes()?);
        let wire = if *kind == Kind::Double {
            wire::I64
        } else {
            wire::VARINT
        };
        while !packed.is_empty() {
            let v = scalar(kind, wire, &mut packed, tag, &field.json)?.to_json()?;
            list(slot).push(v);
        }
    } else {
        let v = scalar(kind, wt, r, tag, &field.json)?.to_json()?;
        list(slot).push(v);
    }
    Ok(())
}

fn list<'s, 'a>(slot: &'s mut Option<Slot<'a>>) -> &'s mut Vec<Value> {
    if !matches!(slot, Some(Slot::List(_))) {
        *slot = Some(Slot::List(Vec::new()));
    }
    match slot {
        Some(Slot::List(items)) => items,
        // Just set above.
        _ => unreachable!("slot holds a list"),
    }
}

/// One scalar of `kind` whose key (wire type `wt`) was just read.
fn scalar<'a>(
    kind: &Kind,
    wt: u8,
    r: &mut Reader<'a>,
    tag: u32,
    name: &str,
) -> Result<Scalar<'a>, Problem> {
    let expect = |expected: &'static str| Problem::WireType {
        tag,
        field: name.to_owned(),
        found: wire::wire_name(wt),
        expected,
    };
    match kind {
        Kind::String | Kind::Bytes => {
            if wt != wire::LEN {
                return Err(expect("length-delimited"));
            }
            let b = r.bytes()?;
            Ok(if *kind == Kind::String {
                Scalar::Str(utf8(b)?)
            } else {
                Scalar::Bytes(b)
            })
        }
        Kind::Bool | Kind::Int32 | Kind::Int64 => {
            if wt != wire::VARINT {
                return Err(expect("varint"));
            }
            let v = r.varint()?;
            Ok(match kind {
                Kind::Bool => Scalar::Bool(v != 0),
                // Go keeps the low 32 bits, as a two's-complement int32.
                Kind::Int32 => Scalar::Int(i64::from(v as u32 as i32)),
                _ => Scalar::Int(v as i64),
            })
        }
        Kind::Double => {
            if wt != wire::I64 {
                return Err(expect("64-bit"));
            }
            Ok(Scalar::Float(f64::from_bits(r.fixed64()?)))
        }
        Kind::Message(_) | Kind::Map(_) => Err(expect("length-delimited")),
    }
}

fn wrong_wire(tag: u32, field: &str, expected: &'static str, wt: u8) -> Problem {
    Problem::WireType {
        tag,
        field: field.to_owned(),
        found: wire::wire_name(wt),
        expected,
    }
}

fn utf8(b: &[u8]) -> Result<&str, Problem> {
    std::str::from_utf8(b).map_err(|_| Problem::InvalidUtf8)
}

fn json(raw: &[u8]) -> Result<Value, Problem> {
    serde_json::from_slice(raw).map_err(|e| Problem::NotJson(e.to_string()))
}
