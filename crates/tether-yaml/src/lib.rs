//! Kubernetes-flavoured YAML, read and written exactly as `kustomize build` v5.6.0
//! (`kubectl.1.33 kustomize`) does.
//!
//! # Reading: [`parse_documents`]
//!
//! kustomize reads resources with kyaml and converts them to JSON before printing; the values
//! returned here are that JSON. The steps, in order:
//!
//! 1. `\r\n` becomes `\n`; the stream must hold only characters go-yaml's reader accepts
//!    (no C0 controls but tab/LF/CR, no DEL, no C1 controls but NEL, no U+FFFE/U+FFFF).
//! 2. kyaml's split: every `\n---…\n` line separates pieces; text after the dashes other than a
//!    comment is an error (`invalid document separator: ---foo`).
//! 3. Each piece is parsed with `granit-parser` (a raw NEL first becomes `\n`, as libyaml reads
//!    it) and only its **first** document is kept, as go-yaml's `Decoder.Decode` does: text after
//!    an explicit `...` in the same piece is ignored. Empty and null documents are skipped.
//! 4. Scalars resolve by yaml.v3's rules: only `true`/`false` (any of three casings) are bools,
//!    `~`/`null`/empty are null, integers follow Go's `ParseInt(s, 0, 64)` after removing `_`
//!    (`0755` is 493, `0x1F`, `0b101`, `0o17`), then uint64, then floats (`1e3`, `.5`, `08` is
//!    the float 8), `1e400` stays a string. Quoted and block scalars are strings. Timestamps
//!    (`2001-12-14`, `2001-12-14T21:59:43.10-05:00`, …) become RFC 3339 strings
//!    (`2001-12-14T00:00:00Z`), because yaml.v3 decodes them to `time.Time`. Explicit tags:
//!    `!!str`, `!!int`, `!!float`, `!!bool`, `!!null`, `!!timestamp` (with yaml.v3's errors on
//!    mismatch), `!!binary` (decoded; invalid UTF-8 becomes U+FFFD), and any other tag keeps the
//!    text as a string; a plain scalar with the non-specific tag `!` still resolves (`! 123` is 123).
//! 5. kyaml's `DeAnchor`: aliases are copied; `<<` merge keys (a mapping or a sequence of
//!    mappings) fill in the keys the mapping lacks, earlier sources first; the first key spelled
//!    `<<` in every mapping is removed, even a quoted one. More than 1,000,000 (and 10× the
//!    written) nodes from alias expansion is an error ("document contains excessive aliasing").
//! 6. The JSON conversion: duplicate keys are errors (`mapping key "a" already defined at line
//!    6`); at the document root any scalar key becomes its source text (`1: a` → `"1"`), deeper a
//!    non-string key (`1`, `true`, …) is an error, as is a null or collection key anywhere;
//!    `.inf`/`.nan` are errors (`json: unsupported value: +Inf`), so are timestamps with an offset
//!    of 24 hours or more, and strings that would print DEL, C1 controls or U+FFFE/U+FFFF.
//!
//! Errors carry the 1-based line (counted over the whole stream, not per piece as go-yaml does)
//! and column. Values keep ints as `i64`/`u64` and floats as `f64` in `serde_json::Number`.
//!
//! # Writing: [`to_yaml`]
//!
//! kustomize prints a resource with sigs.k8s.io/yaml's `JSONToYAML`: the object's JSON text is
//! read by yaml.v2 and written by yaml.v2's port of the libyaml emitter. [`to_yaml`] reproduces
//! that output byte for byte:
//!
//! - keys sorted by yaml.v2's `keyList.Less`: at the first differing character, non-letters
//!   (by code point) before digits runs (by numeric value, then length) before letters (by code
//!   point), with Go's Unicode 15 letter and digit classes (`_x`, `0`, `A`, `a`, `a9`, `a10`);
//! - block style, 2-space indent, sequences not indented under their key, `{}` and `[]` for
//!   empty collections, `null`;
//! - numbers as `encoding/json` writes them and yaml.v2 reads them back: integral floats below
//!   1e21 print as integers when they fit int64/uint64 (`1000`, `-0` → `0`), others with Go's
//!   `%g`-like shortest form (`1.5`, `1e+21`, `1e-07`, `1.2345675e+06`);
//! - strings plain when yaml.v2 (YAML 1.1) reads them back as strings, else double-quoted
//!   (`"y"`, `"on"`, `"0755"`, `"1e3"`, `"2001-12-14"`, `"1:20"`, `""`); with a newline a
//!   literal block (`|`, `|-`, `|+`, `|2` for a leading space); the emitter's own analysis then
//!   downgrades plain to single-quoted (`'a: b'`, `'- x'`, `'#x'`, `' x'`) and single-quoted or
//!   literal to double-quoted with escapes (tabs, trailing spaces on a line, control characters,
//!   characters outside the BMP such as emoji `"\U0001F600"`, a leading BOM escapes everything);
//! - plain and quoted scalars longer than 80 columns fold at spaces onto continuation lines;
//!   keys over 128 bytes or with line breaks use the `? key` form;
//! - a raw NEL in a string folds with its surrounding spaces, as yaml.v2 reads it from JSON.
//!
//! Documents are joined with `---\n` by the caller.
//!
//! # Guarantees
//!
//! - No panics on any input (fuzzed: `fuzz/`), no `unsafe`.
//! - Differential tests run every rule above through `kubectl.1.33 kustomize`
//!   (`tests/kustomize_diff.rs`, `tests/kustomize_prop.rs`).
//!
//! # Known gaps
//!
//! - Syntax acceptance is granit-parser's (YAML 1.2), not libyaml's: some malformed inputs
//!   are accepted by one and refused by the other, and error messages differ.
//! - Raw U+2028/U+2029 in the input are content here but line breaks to go-yaml (kustomize then
//!   trims the indentation after them or fails). Escaped forms behave the same.
//! - A key order that is not a total order under `keyList.Less` (e.g. `01:20`, `0true`,
//!   `1true` form a cycle; digit runs over 18 digits) makes kustomize's output depend on Go's
//!   random map order; we print one of the possible orders.
//! - A merge source that itself contains `<<`, `!!merge`-tagged keys not spelled `<<`, keys
//!   that fold to equal strings through NEL, and BOMs in the middle of a stream are handled by
//!   the simple rule, not kyaml's exact node surgery.
//! - A quoted `"<<"` key is printed plain (yaml.v2 reads it as a string) and then reads back as
//!   a merge key: kustomize cannot read its own output there either.

mod base64;
mod emit;
mod gonum;
mod read;
mod resolve;
mod sort;
mod timestamp;

use serde_json::Value;

/// A YAML syntax or structure error, with the 1-based line and column where it was found
/// (column 0 when unknown). Lines count from the start of the whole stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("yaml: line {line}: {message}")]
pub struct Error {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// One document of a stream and the 1-based line its root node starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub value: Value,
    pub line: usize,
}

/// Every non-empty document of a YAML stream, with scalars resolved as kustomize resolves them.
pub fn parse_documents(text: &str) -> Result<Vec<Document>, Error> {
    read::parse_documents(text, false)
}

/// Like [`parse_document`], but as go-yaml v2's non-strict decoding reads: a repeated mapping
/// key replaces the earlier value instead of failing, and plain scalars resolve by YAML 1.1's
/// rules (`y`, `yes`, `on` are `true`). kustomize reads kustomization files this way (through
/// sigs.k8s.io/yaml), so a kustomization may repeat a field, and `key: y` is a boolean there.
pub fn parse_document_last_key_wins(text: &str) -> Result<Value, Error> {
    let mut docs = read::parse_documents(text, true)?;
    match docs.len() {
        0 => Ok(Value::Null),
        1 => Ok(docs.remove(0).value),
        n => Err(Error {
            line: docs[1].line,
            column: 0,
            message: format!("expected one document, found {n}"),
        }),
    }
}

/// Exactly one document (`null` when the text holds none).
pub fn parse_document(text: &str) -> Result<Value, Error> {
    let mut docs = parse_documents(text)?;
    match docs.len() {
        0 => Ok(Value::Null),
        1 => Ok(docs.remove(0).value),
        n => Err(Error {
            line: docs[1].line,
            column: 0,
            message: format!("expected one document, found {n}"),
        }),
    }
}

/// yaml.v2's key order (`keyList.Less`), for tests that must tell when it is not a total order
/// (then Go's output depends on its random map iteration).
#[doc(hidden)]
pub fn key_less(a: &str, b: &str) -> bool {
    sort::key_less(a, b)
}

/// Whether `text`, written as a plain scalar, reads back as a string under yaml.v3's rules (not a
/// boolean, null, number or timestamp). kustomize's generators write data keys plain, so a key
/// such as `true` or `1` does not survive its output step.
pub fn plain_scalar_is_string(text: &str) -> bool {
    resolve::resolve(text, resolve::Dialect::V3, true) == resolve::Resolved::Str
}

/// One resource as `kustomize build` prints it: block style, keys in yaml.v2's natural order,
/// ending with a newline (documents are joined with `---\n`).
pub fn to_yaml(value: &Value) -> String {
    emit::to_yaml(value)
}
