//! Decoding Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) into the
//! JSON objects the rest of the server works on. client-go ≥ 1.31 sends built-in types this way
//! (kubernetes#125314); responses stay JSON, which those clients also accept.
//!
//! Steps:
//! 1. the `k8s\0` prefix, then the `runtime.Unknown` envelope: `typeMeta` {apiVersion = 1,
//!    kind = 2} = 1, `raw` = 2, `contentEncoding` = 3, `contentType` = 4;
//! 2. the object in `raw`, by its group/version/kind, walked with the generated field table
//!    (`generated.json`, made by `tests/protobuf_table.rs` from k8s-pb's field numbers, the
//!    OpenAPI document's JSON names and kubectl's Go type facts);
//! 3. the JSON that Go's encoding/json writes for the same Go object: `apiVersion` and `kind`
//!    first, fields in Go declaration order, messages that arrived always written (Go writes
//!    non-pointer structs even when empty), zero scalars written only for Go pointers and fields
//!    without `omitempty` (where kubectl 1.33 does not know the Go type — apiextensions,
//!    kube-aggregator, fields newer than 1.33 — only for the OpenAPI `required` ones), map keys
//!    sorted, and the types with their own JSON form (`Time`,
//!    `MicroTime`, `Duration`, `Quantity`, `IntOrString`, `RawExtension`, `FieldsV1`, the
//!    apiextensions `JSON*` unions, `bytes` as base64).
//!
//! Guarantees: bodies are untrusted. Truncated input, wrong wire types, unknown kinds, invalid
//! UTF-8 and nesting deeper than [`MAX_DEPTH`] are [`ProtobufError`]s naming the message type
//! and the JSON path, never panics. Unknown fields are skipped, as Go skips them. Zero times and
//! empty raw JSON, which Go writes as `null`, are left out.
//!
//! Regenerating the table (after moving to a newer k8s-pb, OpenAPI document or kubectl):
//! `TETHER_BLESS=1 cargo test -p tether-apiserver --test protobuf_table -- --ignored`; that
//! file says which inputs it reads. The decoder's fuzz target is
//! `fuzz/fuzz_targets/protobuf_decode.rs`.

mod decode;
mod error;
mod special;
mod table;
#[cfg(test)]
mod tests;
mod wire;

use serde_json::Value;

pub use decode::MAX_DEPTH;
pub use error::{Problem, ProtobufError};

/// Decodes a `k8s\0`-prefixed `runtime.Unknown` envelope and the object inside it.
pub fn decode(body: &[u8]) -> Result<Value, ProtobufError> {
    let rest = body
        .strip_prefix(decode::MAGIC)
        .ok_or(ProtobufError::MissingPrefix)?;
    let table = table::table().map_err(ProtobufError::Table)?;
    decode::Decoder::new(table)
        .envelope(rest, 0)
        .map_err(|f| f.into_error())
}
