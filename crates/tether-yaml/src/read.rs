//! Reading a stream the way kustomize does: kyaml's document split, go-yaml v3 parsing of the
//! first document of each piece, kyaml's `DeAnchor` (aliases and `<<` merges expanded), and
//! the final yaml.v3 → JSON conversion kustomize performs before printing.

use std::borrow::Cow;
use std::collections::HashMap;

use granit_parser::{Event, Parser, ScalarStyle, Span, StrInput, Tag};
use serde_json::{Map, Number, Value};

use crate::resolve::{Dialect, Resolved, resolve};
use crate::{Document, Error};

/// More nodes than this (and more than `ALIAS_FACTOR` times the nodes written out) made by
/// alias expansion is a "billion laughs" document.
const ALIAS_MIN_BUDGET: usize = 1_000_000;
const ALIAS_FACTOR: usize = 10;

/// A resolved scalar: its JSON value and what its tag says about it as a mapping key.
#[derive(Clone)]
struct Scalar<'a> {
    text: Cow<'a, str>,
    kind: Kind,
    /// `!!str` or `!!merge`: allowed as a key of a nested mapping.
    string_tag: bool,
    /// A merge key (`<<` plain, or any scalar tagged `!!merge`).
    merge: bool,
    tag: &'static str,
}

#[derive(Clone)]
enum Kind {
    /// The value is the text.
    Text,
    /// The value differs from the source text: a decoded `!!binary`, a formatted timestamp.
    Derived(String),
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
}

#[derive(Clone)]
enum Anchored {
    Scalar(Scalar<'static>),
    Node { value: Value, nodes: usize },
}

/// A node read from the event stream.
enum Node<'a> {
    Scalar(Scalar<'a>),
    Value(Value),
}

struct Reader<'a> {
    parser: Parser<'a, StrInput<'a>>,
    line_offset: usize,
    anchors: HashMap<usize, Anchored>,
    /// Lines of the keys of the mappings being read, innermost last, for duplicate messages.
    key_lines: Vec<usize>,
    nodes: usize,
    alias_nodes: usize,
    /// yaml.v2's non-strict decoding, as sigs.k8s.io/yaml reads kustomization files: a repeated
    /// key replaces the earlier value, and plain scalars resolve by YAML 1.1's rules.
    last_key_wins: bool,
}

fn err(line: usize, column: usize, message: impl Into<String>) -> Error {
    Error {
        line,
        column,
        message: message.into(),
    }
}

impl<'a> Reader<'a> {
    fn at(&self, span: &Span) -> (usize, usize) {
        (self.line_offset + span.start.line(), span.start.col() + 1)
    }

    fn error_at(&self, span: &Span, message: impl Into<String>) -> Error {
        let (line, column) = self.at(span);
        err(line, column, message)
    }

    /// The next event that carries content: comments (which the parser reports wherever they
    /// appear, e.g. between two entries of a mapping) are skipped, as kustomize's output drops
    /// them.
    fn next(&mut self) -> Result<Option<(Event<'a>, Span)>, Error> {
        loop {
            match self.parser.next() {
                None => return Ok(None),
                Some(Ok((Event::Comment(..), _))) => continue,
                Some(Ok(ev)) => return Ok(Some(ev)),
                Some(Err(e)) => {
                    let m = e.marker();
                    return Err(err(self.line_offset + m.line(), m.col() + 1, e.info()));
                }
            }
        }
    }

    fn expect_next(&mut self) -> Result<(Event<'a>, Span), Error> {
        self.next()?
            .ok_or_else(|| err(self.line_offset, 0, "unexpected end of the event stream"))
    }

    /// The first document of the piece, or `None` when it has none or only a null.
    fn document(&mut self) -> Result<Option<Document>, Error> {
        loop {
            match self.next()? {
                None | Some((Event::StreamEnd, _)) => return Ok(None),
                Some((Event::DocumentStart(..), _)) => break,
                Some(_) => {}
            }
        }
        let (ev, span) = self.expect_next()?;
        if matches!(ev, Event::DocumentEnd) {
            return Ok(None);
        }
        let line = self.at(&span).0;
        let node = self.node(ev, span, true)?;
        // go-yaml reads up to the end of the document; errors before it count.
        loop {
            match self.next()? {
                None | Some((Event::DocumentEnd | Event::StreamEnd, _)) => break,
                Some(_) => {}
            }
        }
        let value = match node {
            Node::Scalar(s) => scalar_value(s),
            Node::Value(value) => value,
        };
        Ok((!value.is_null()).then_some(Document { value, line }))
    }

    fn node(&mut self, ev: Event<'a>, span: Span, root: bool) -> Result<Node<'a>, Error> {
        self.nodes += 1;
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let scalar = self.scalar(text, style, tag.as_deref(), &span)?;
                if anchor != 0 {
                    let owned = Scalar {
                        text: Cow::Owned(scalar.text.clone().into_owned()),
                        ..scalar.clone()
                    };
                    self.anchors.insert(anchor, Anchored::Scalar(owned));
                }
                Ok(Node::Scalar(scalar))
            }
            Event::SequenceStart(_, anchor, _) => {
                let start = self.nodes;
                let mut items = Vec::new();
                loop {
                    let (ev, span) = self.expect_next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    let item = self.node(ev, span, false)?;
                    items.push(into_value(item));
                }
                Ok(self.collection(Value::Array(items), anchor, start))
            }
            Event::MappingStart(_, anchor, _) => {
                let start = self.nodes;
                let map = self.mapping(root)?;
                Ok(self.collection(Value::Object(map), anchor, start))
            }
            Event::Alias(id) => match self.anchors.get(&id) {
                Some(Anchored::Scalar(s)) => Ok(Node::Scalar(s.clone())),
                Some(Anchored::Node { value, nodes }) => {
                    // Count the copy as nodes of its own, so nested aliases add up.
                    let nodes = *nodes;
                    self.nodes += nodes;
                    self.alias_nodes += nodes;
                    let direct = self.nodes - self.alias_nodes;
                    if self.alias_nodes > ALIAS_MIN_BUDGET.max(direct * ALIAS_FACTOR) {
                        return Err(self.error_at(&span, "document contains excessive aliasing"));
                    }
                    Ok(Node::Value(value.clone()))
                }
                None => Err(self.error_at(&span, "unknown anchor referenced")),
            },
            other => Err(self.error_at(&span, format!("did not expect {other:?} here"))),
        }
    }

    fn collection(&mut self, value: Value, anchor: usize, start: usize) -> Node<'a> {
        let nodes = self.nodes - start + 1;
        if anchor != 0 {
            self.anchors.insert(
                anchor,
                Anchored::Node {
                    value: value.clone(),
                    nodes,
                },
            );
        }
        Node::Value(value)
    }

    /// A mapping after kyaml's `DeAnchor`: merge keys applied (own keys win, then the earlier
    /// merge sources), the first key spelled `<<` dropped, duplicates rejected as yaml.v3 does.
    fn mapping(&mut self, root: bool) -> Result<Map<String, Value>, Error> {
        let mut map = Map::new();
        let lines_base = self.key_lines.len();
        let mut merge: Option<(Value, Span)> = None;
        let mut dropped_first_merge_spelling = false;
        loop {
            let (ev, key_span) = self.expect_next()?;
            if matches!(ev, Event::MappingEnd) {
                break;
            }
            let key = self.node(ev, key_span, false)?;
            let (ev, value_span) = self.expect_next()?;
            let value = into_value(self.node(ev, value_span, false)?);
            let key = match key {
                Node::Scalar(s) => s,
                Node::Value(k) => {
                    let what = if k.is_array() { "!!seq" } else { "!!map" };
                    let message = if root {
                        format!("cannot unmarshal {what} into string")
                    } else {
                        format!("invalid map key: a {what} cannot be a mapping key")
                    };
                    return Err(self.error_at(&key_span, message));
                }
            };
            if key.merge {
                if merge.is_some() {
                    return Err(self.error_at(&key_span, "duplicate merge key"));
                }
                merge = Some((value.clone(), key_span));
            }
            // kyaml clears the first field named `<<` after collecting the merge sources; a
            // merge key spelled `<<` that survives is consumed by yaml.v3 when converting.
            if key.text == "<<" {
                if !dropped_first_merge_spelling {
                    dropped_first_merge_spelling = true;
                    continue;
                }
                if key.merge {
                    continue;
                }
            }
            let name = self.key_string(key, root, &key_span)?;
            // go-yaml cannot write a key longer than 1024 characters back as a simple key, and
            // kustomize writes every resource back before printing it: such a key (readable
            // only in the explicit `? key` form) fails the build there.
            if name.chars().nth(1024).is_some() {
                return Err(self.error_at(
                    &key_span,
                    format!(
                        "a mapping key longer than 1024 characters ({}…) cannot be written back",
                        name.chars().take(20).collect::<String>()
                    ),
                ));
            }
            let line = self.at(&key_span).0;
            if map.contains_key(&name) && !self.last_key_wins {
                let index = map.keys().position(|k| *k == name).unwrap_or(0);
                let first = self.key_lines.get(lines_base + index).copied().unwrap_or(0);
                return Err(err(
                    line,
                    key_span.start.col() + 1,
                    format!("mapping key {name:?} already defined at line {first}"),
                ));
            }
            map.insert(name, value);
            self.key_lines.push(line);
        }
        self.key_lines.truncate(lines_base);
        if let Some((value, span)) = merge {
            self.apply_merge(&mut map, value, &span)?;
        }
        Ok(map)
    }

    /// kyaml's `findMergeValues` and `mergeAll`: a mapping, or a sequence of mappings where
    /// earlier ones win; keys already present stay.
    fn apply_merge(
        &self,
        map: &mut Map<String, Value>,
        value: Value,
        span: &Span,
    ) -> Result<(), Error> {
        let sources = match value {
            Value::Object(m) => vec![m],
            Value::Array(items) => {
                let mut sources = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::Object(m) => sources.push(m),
                        Value::Array(_) => {
                            return Err(self
                                .error_at(span, "invalid map merge: received a nested sequence"));
                        }
                        _ => {
                            return Err(self.error_at(
                                span,
                                "map merge requires map or sequence of maps as the value",
                            ));
                        }
                    }
                }
                sources
            }
            _ => {
                return Err(self.error_at(
                    span,
                    "map merge requires map or sequence of maps as the value",
                ));
            }
        };
        for source in sources {
            for (k, v) in source {
                if !map.contains_key(&k) {
                    map.insert(k, v);
                }
            }
        }
        Ok(())
    }

    /// The JSON object key for a scalar key: at the document root kustomize decodes into
    /// `map[string]interface{}`, which takes any scalar's text; deeper, `encoding/json` only
    /// accepts mappings whose keys are all strings.
    fn key_string(&self, key: Scalar<'a>, root: bool, span: &Span) -> Result<String, Error> {
        if matches!(key.kind, Kind::Null) {
            return Err(self.error_at(span, format!("mapping key {:?} is null", key.text)));
        }
        if !root && !key.string_tag {
            return Err(self.error_at(
                span,
                format!(
                    "mapping key {:?} is a {}, not a string (json: unsupported type: map[interface {{}}]interface {{}})",
                    key.text, key.tag
                ),
            ));
        }
        Ok(match key.kind {
            Kind::Derived(decoded) if key.tag == "!!binary" => decoded,
            _ => key.text.into_owned(),
        })
    }

    /// yaml.v3's tag assignment (`parser.node`) and `decoder.scalar` into `interface{}`.
    fn scalar(
        &self,
        text: Cow<'a, str>,
        style: ScalarStyle,
        tag: Option<&Tag>,
        span: &Span,
    ) -> Result<Scalar<'a>, Error> {
        let plain = style == ScalarStyle::Plain;
        if style == ScalarStyle::DoubleQuoted {
            check_json_printable(&text).map_err(|m| self.error_at(span, m))?;
        }
        let explicit = tag.filter(|t| t.parts() != ("", "!"));
        let Some(tag) = explicit else {
            if !plain {
                return Ok(text_scalar(text, "!!str", true));
            }
            if text == "<<" {
                let mut s = text_scalar(text, "!!merge", true);
                s.merge = true;
                return Ok(s);
            }
            return self.resolved(text, "", span);
        };
        let name = tag.suffix_in_namespace("tag:yaml.org,2002:");
        let short: &'static str = match name.as_deref() {
            Some("str") => return Ok(text_scalar(text, "!!str", true)),
            Some("merge") => {
                let mut s = text_scalar(text, "!!merge", true);
                s.merge = true;
                return Ok(s);
            }
            Some("binary") => {
                let decoded = crate::base64::decode(&text).ok_or_else(|| {
                    self.error_at(span, "!!binary value contains invalid base64 data")
                })?;
                // encoding/json replaces invalid UTF-8 with U+FFFD.
                let decoded = String::from_utf8_lossy(&decoded).into_owned();
                return Ok(Scalar {
                    text,
                    kind: Kind::Derived(decoded),
                    string_tag: false,
                    merge: false,
                    tag: "!!binary",
                });
            }
            Some("bool") => "!!bool",
            Some("int") => "!!int",
            Some("float") => "!!float",
            Some("null") => "!!null",
            Some("timestamp") => "!!timestamp",
            // Unresolvable tags (`!foo`, `!!map` on a scalar, …) keep the text as a string.
            _ => return Ok(text_scalar(text, "!custom", false)),
        };
        self.resolved(text, short, span)
    }

    /// `resolve(tag, text)` for a plain scalar or an explicit resolvable tag.
    fn resolved(
        &self,
        text: Cow<'a, str>,
        tag: &'static str,
        span: &Span,
    ) -> Result<Scalar<'a>, Error> {
        let timestamps = tag.is_empty() || tag == "!!timestamp";
        // kustomization files are read by yaml.v2 (YAML 1.1: `y`, `yes`, `on` are booleans).
        let dialect = if self.last_key_wins {
            Dialect::V2
        } else {
            Dialect::V3
        };
        let r = resolve(&text, dialect, timestamps);
        let r = match (tag, r) {
            ("", r) => r,
            ("!!float", Resolved::Int(i)) => Resolved::Float(i as f64),
            (tag, r) if r.tag() == tag => r,
            (tag, r) => {
                return Err(self.error_at(
                    span,
                    format!("cannot decode {} `{}` as a {}", r.tag(), text, tag),
                ));
            }
        };
        let tag = if tag.is_empty() { r.tag() } else { tag };
        let kind = match r {
            Resolved::Str => return Ok(text_scalar(text, tag, true)),
            Resolved::Null => Kind::Null,
            Resolved::Bool(b) => Kind::Bool(b),
            Resolved::Int(i) => Kind::Int(i),
            Resolved::Uint(u) => Kind::Uint(u),
            Resolved::Float(f) if f.is_finite() => Kind::Float(f),
            Resolved::Float(f) => {
                let shown = if f.is_nan() {
                    "NaN"
                } else if f > 0.0 {
                    "+Inf"
                } else {
                    "-Inf"
                };
                return Err(self.error_at(
                    span,
                    format!("json: unsupported value: {shown} (kustomize cannot print {text})"),
                ));
            }
            // yaml.v3 decodes a timestamp into time.Time, which encoding/json prints as
            // RFC 3339; as a root key it keeps its source text.
            Resolved::Timestamp => match crate::timestamp::to_rfc3339(&text) {
                Some(Ok(formatted)) => Kind::Derived(formatted),
                Some(Err(why)) => {
                    return Err(self.error_at(span, format!("timestamp {text}: {why}")));
                }
                None => Kind::Text,
            },
        };
        Ok(Scalar {
            text,
            kind,
            string_tag: false,
            merge: false,
            tag,
        })
    }
}

fn text_scalar<'a>(text: Cow<'a, str>, tag: &'static str, string_tag: bool) -> Scalar<'a> {
    Scalar {
        text,
        kind: Kind::Text,
        string_tag,
        merge: false,
        tag,
    }
}

fn scalar_value(s: Scalar<'_>) -> Value {
    match s.kind {
        Kind::Text => Value::String(s.text.into_owned()),
        Kind::Derived(value) => Value::String(value),
        Kind::Null => Value::Null,
        Kind::Bool(b) => Value::Bool(b),
        Kind::Int(i) => Value::Number(i.into()),
        Kind::Uint(u) => Value::Number(u.into()),
        Kind::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
    }
}

fn into_value(node: Node<'_>) -> Value {
    match node {
        Node::Scalar(s) => scalar_value(s),
        Node::Value(value) => value,
    }
}

/// Characters `encoding/json` writes raw that yaml.v2 then refuses to read back, so
/// kustomize fails on them: DEL, C1 controls other than NEL, U+FFFE and U+FFFF.
pub(crate) fn check_json_printable(s: &str) -> Result<(), String> {
    if s.is_ascii() && !s.contains('\u{7f}') {
        return Ok(());
    }
    match s.chars().find(|&c| {
        c == '\u{7f}'
            || ('\u{80}'..='\u{9f}').contains(&c) && c != '\u{85}'
            || c == '\u{fffe}'
            || c == '\u{ffff}'
    }) {
        Some(c) => Err(format!(
            "control characters are not allowed (U+{:04X})",
            c as u32
        )),
        None => Ok(()),
    }
}

/// The characters go-yaml's reader accepts in a stream (`yaml_parser_update_buffer`).
fn check_input(text: &str) -> Result<(), Error> {
    let b = text.as_bytes();
    let mut line = 1;
    let mut line_start = 0;
    for (i, &c) in b.iter().enumerate() {
        let bad = match c {
            b'\n' => {
                line += 1;
                line_start = i + 1;
                false
            }
            b'\t' | b'\r' => false,
            0..=0x1f | 0x7f => true,
            0xc2 => matches!(b.get(i + 1), Some(0x80..=0x9f)) && b.get(i + 1) != Some(&0x85),
            0xef => b.get(i + 1) == Some(&0xbf) && matches!(b.get(i + 2), Some(0xbe | 0xbf)),
            _ => false,
        };
        if bad {
            let column = text[line_start..i].chars().count() + 1;
            return Err(err(line, column, "control characters are not allowed"));
        }
    }
    Ok(())
}

/// kyaml's `splitDocuments`: `\r\n` becomes `\n`, then every `\n---…\n` line separates
/// documents; anything but a comment after the dashes is an error. Returns each piece with
/// the 1-based line it starts on.
fn split(text: &str) -> Result<Vec<(&str, usize)>, Error> {
    let mut pieces = Vec::new();
    let mut prev = 0;
    let mut line = 1;
    let mut search = 0;
    while let Some(found) = text[search..].find("\n---") {
        let pos = search + found;
        let Some(end) = text[pos + 1..].find('\n').map(|e| pos + 1 + e) else {
            break;
        };
        let after = text[pos + 4..end].trim();
        let separator_line = line + text[prev..pos].matches('\n').count() + 1;
        if !after.is_empty() && !after.starts_with('#') {
            return Err(err(
                separator_line,
                1,
                format!("invalid document separator: {}", text[pos..end].trim()),
            ));
        }
        // The piece keeps the separator's leading newline, as kyaml adds one back.
        pieces.push((&text[prev..=pos], line));
        line = separator_line + 1;
        prev = end + 1;
        search = prev;
    }
    pieces.push((&text[prev..], line));
    Ok(pieces)
}

pub(crate) fn parse_documents(text: &str, last_key_wins: bool) -> Result<Vec<Document>, Error> {
    let normalized: Cow<'_, str> = if text.contains("\r\n") {
        Cow::Owned(text.replace("\r\n", "\n"))
    } else {
        Cow::Borrowed(text)
    };
    check_input(&normalized)?;
    let mut docs = Vec::new();
    for (piece, line) in split(&normalized)? {
        // libyaml reads a raw NEL as a line break in every context (`read_line` turns it into
        // `\n`); YAML 1.2 parsers treat it as content. Only kyaml's split ignores it.
        let piece: Cow<'_, str> = if piece.contains('\u{85}') {
            Cow::Owned(piece.replace('\u{85}', "\n"))
        } else {
            Cow::Borrowed(piece)
        };
        // libyaml ends a block scalar at the end of input without adding a line feed.
        let options = granit_parser::options! { block_scalar_eof_without_line_feed: true };
        let mut reader = Reader {
            parser: Parser::new_from_str_with_options(&piece, options),
            line_offset: line - 1,
            anchors: HashMap::new(),
            key_lines: Vec::new(),
            nodes: 0,
            alias_nodes: 0,
            last_key_wins,
        };
        if let Some(doc) = reader.document()? {
            docs.push(doc);
        }
    }
    Ok(docs)
}
