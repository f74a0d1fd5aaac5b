//! The swagger document in gnostic's protobuf encoding (`openapi.v2.Document` of
//! github.com/google/gnostic `openapiv2/OpenAPIv2.proto`), which kubectl 1.27–1.33 request from
//! `/openapi/v2` as `application/com.github.proto-openapi.spec.v2@v1.0+protobuf`.
//!
//! Only what a Kubernetes document uses is encoded: the document's info, paths (operations with
//! their parameters, responses and extensions) and definitions (schemas with types, formats,
//! descriptions, references, properties, items, additionalProperties, allOf, required, enums,
//! defaults and extensions). Schema keywords swagger lacks (`anyOf`, `nullable`, ...) are left
//! out, as kube-apiserver leaves them out of its v2 document. Vendor extensions and other free
//! values travel as YAML text (`Any.yaml`); JSON is YAML.

use serde_json::{Map, Value};

#[derive(Default)]
struct Msg(Vec<u8>);

impl Msg {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn key(&mut self, field: u32, wire: u8) {
        self.varint((u64::from(field) << 3) | u64::from(wire));
    }

    fn bytes(&mut self, field: u32, bytes: &[u8]) {
        self.key(field, 2);
        self.varint(bytes.len() as u64);
        self.0.extend_from_slice(bytes);
    }

    fn string(&mut self, field: u32, s: &str) {
        if !s.is_empty() {
            self.bytes(field, s.as_bytes());
        }
    }

    fn message(&mut self, field: u32, m: Msg) {
        self.bytes(field, &m.0);
    }

    fn bool(&mut self, field: u32, b: bool) {
        if b {
            self.key(field, 0);
            self.varint(1);
        }
    }

    fn int(&mut self, field: u32, v: i64) {
        if v != 0 {
            self.key(field, 0);
            self.varint(v as u64);
        }
    }

    fn double(&mut self, field: u32, v: f64) {
        if v != 0.0 {
            self.key(field, 1);
            self.0.extend_from_slice(&v.to_le_bytes());
        }
    }

    /// `field` as a string, if `value` has it.
    fn str_of(&mut self, field: u32, value: &Value, key: &str) {
        if let Some(s) = value.get(key).and_then(Value::as_str) {
            self.string(field, s);
        }
    }

    fn strings_of(&mut self, field: u32, value: &Value, key: &str) {
        for s in value
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            self.bytes(field, s.as_bytes());
        }
    }

    fn bool_of(&mut self, field: u32, value: &Value, key: &str) {
        self.bool(field, value.get(key).and_then(Value::as_bool) == Some(true));
    }

    fn int_of(&mut self, field: u32, value: &Value, key: &str) {
        if let Some(v) = value.get(key).and_then(Value::as_i64) {
            self.int(field, v);
        }
    }

    fn double_of(&mut self, field: u32, value: &Value, key: &str) {
        if let Some(v) = value.get(key).and_then(Value::as_f64) {
            self.double(field, v);
        }
    }

    /// Every `x-` key of `value` as a `NamedAny`.
    fn extensions(&mut self, field: u32, value: &Value) {
        for (name, v) in value.as_object().into_iter().flatten() {
            if name.starts_with("x-") {
                let mut named = Msg::default();
                named.string(1, name);
                named.message(2, any(v));
                self.message(field, named);
            }
        }
    }
}

/// `openapi.v2.Any` holding `value` as YAML.
fn any(value: &Value) -> Msg {
    let mut m = Msg::default();
    m.string(2, &value.to_string());
    m
}

/// Encodes a swagger document (`definitions` references as in swagger) as `openapi.v2.Document`.
pub fn encode(doc: &Value) -> Vec<u8> {
    let mut m = Msg::default();
    m.str_of(1, doc, "swagger");
    if let Some(info) = doc.get("info") {
        let mut i = Msg::default();
        i.str_of(1, info, "title");
        i.str_of(2, info, "version");
        i.str_of(3, info, "description");
        m.message(2, i);
    }
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        let mut p = Msg::default();
        for (name, item) in paths {
            let mut named = Msg::default();
            named.string(1, name);
            named.message(2, path_item(item));
            p.message(2, named);
        }
        m.message(8, p);
    }
    if let Some(defs) = doc.get("definitions").and_then(Value::as_object) {
        m.message(9, named_schemas(defs));
    }
    m.extensions(16, doc);
    m.0
}

fn named_schemas(map: &Map<String, Value>) -> Msg {
    let mut out = Msg::default();
    for (name, schema) in map {
        let mut named = Msg::default();
        named.string(1, name);
        named.message(2, self::schema(schema));
        out.message(1, named);
    }
    out
}

fn path_item(item: &Value) -> Msg {
    let mut m = Msg::default();
    for (field, verb) in [
        (2, "get"),
        (3, "put"),
        (4, "post"),
        (5, "delete"),
        (6, "options"),
        (7, "head"),
        (8, "patch"),
    ] {
        if let Some(op) = item.get(verb) {
            m.message(field, operation(op));
        }
    }
    for p in item
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        m.message(9, parameters_item(p));
    }
    m.extensions(10, item);
    m
}

fn operation(op: &Value) -> Msg {
    let mut m = Msg::default();
    m.strings_of(1, op, "tags");
    m.str_of(2, op, "summary");
    m.str_of(3, op, "description");
    m.str_of(5, op, "operationId");
    m.strings_of(6, op, "produces");
    m.strings_of(7, op, "consumes");
    for p in op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        m.message(8, parameters_item(p));
    }
    if let Some(responses) = op.get("responses").and_then(Value::as_object) {
        let mut rs = Msg::default();
        for (code, response) in responses {
            let mut r = Msg::default();
            r.str_of(1, response, "description");
            if let Some(s) = response.get("schema") {
                let mut item = Msg::default();
                item.message(1, schema(s));
                r.message(2, item);
            }
            let mut value = Msg::default();
            value.message(1, r);
            let mut named = Msg::default();
            named.string(1, code);
            named.message(2, value);
            rs.message(1, named);
        }
        m.message(9, rs);
    }
    m.strings_of(10, op, "schemes");
    m.bool_of(11, op, "deprecated");
    m.extensions(13, op);
    m
}

/// `ParametersItem`: a body parameter, or a query/path/header one (`NonBodyParameter`).
fn parameters_item(p: &Value) -> Msg {
    let mut param = Msg::default();
    if let Some(r) = p.get("$ref").and_then(Value::as_str) {
        let mut reference = Msg::default();
        reference.string(1, r);
        let mut item = Msg::default();
        item.message(2, reference);
        return item;
    }
    let location = p.get("in").and_then(Value::as_str).unwrap_or("");
    if location == "body" {
        let mut b = Msg::default();
        b.str_of(1, p, "description");
        b.str_of(2, p, "name");
        b.string(3, location);
        b.bool_of(4, p, "required");
        if let Some(s) = p.get("schema") {
            b.message(5, schema(s));
        }
        b.extensions(6, p);
        param.message(1, b);
    } else {
        // Query (and form) sub-schemas have allowEmptyValue at 5, moving the rest up by one.
        let (oneof, shift) = match location {
            "header" => (1, 0),
            "formData" => (2, 1),
            "path" => (4, 0),
            _ => (3, 1),
        };
        let mut s = Msg::default();
        s.bool_of(1, p, "required");
        s.string(2, location);
        s.str_of(3, p, "description");
        s.str_of(4, p, "name");
        if shift == 1 {
            s.bool_of(5, p, "allowEmptyValue");
        }
        s.str_of(5 + shift, p, "type");
        s.str_of(6 + shift, p, "format");
        s.bool_of(19 + shift, p, "uniqueItems");
        let mut non_body = Msg::default();
        non_body.message(oneof, s);
        param.message(2, non_body);
    }
    let mut item = Msg::default();
    item.message(1, param);
    item
}

/// `openapi.v2.Schema`.
fn schema(s: &Value) -> Msg {
    let mut m = Msg::default();
    m.str_of(1, s, "$ref");
    m.str_of(2, s, "format");
    m.str_of(3, s, "title");
    m.str_of(4, s, "description");
    if let Some(d) = s.get("default") {
        m.message(5, any(d));
    }
    m.double_of(6, s, "multipleOf");
    m.double_of(7, s, "maximum");
    m.bool_of(8, s, "exclusiveMaximum");
    m.double_of(9, s, "minimum");
    m.bool_of(10, s, "exclusiveMinimum");
    m.int_of(11, s, "maxLength");
    m.int_of(12, s, "minLength");
    m.str_of(13, s, "pattern");
    m.int_of(14, s, "maxItems");
    m.int_of(15, s, "minItems");
    m.bool_of(16, s, "uniqueItems");
    m.int_of(17, s, "maxProperties");
    m.int_of(18, s, "minProperties");
    m.strings_of(19, s, "required");
    for e in s
        .get("enum")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        m.message(20, any(e));
    }
    match s.get("additionalProperties") {
        Some(Value::Bool(b)) => {
            let mut a = Msg::default();
            a.key(2, 0);
            a.varint(u64::from(*b));
            m.message(21, a);
        }
        Some(v @ Value::Object(_)) => {
            let mut a = Msg::default();
            a.message(1, schema(v));
            m.message(21, a);
        }
        _ => {}
    }
    match s.get("type") {
        Some(Value::String(t)) => {
            let mut t_item = Msg::default();
            t_item.string(1, t);
            m.message(22, t_item);
        }
        Some(Value::Array(types)) => {
            let mut t_item = Msg::default();
            for t in types.iter().filter_map(Value::as_str) {
                t_item.bytes(1, t.as_bytes());
            }
            m.message(22, t_item);
        }
        _ => {}
    }
    match s.get("items") {
        Some(v @ Value::Object(_)) => {
            let mut items = Msg::default();
            items.message(1, schema(v));
            m.message(23, items);
        }
        Some(Value::Array(list)) => {
            let mut items = Msg::default();
            for v in list {
                items.message(1, schema(v));
            }
            m.message(23, items);
        }
        _ => {}
    }
    for v in s
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        m.message(24, schema(v));
    }
    if let Some(props) = s.get("properties").and_then(Value::as_object) {
        m.message(25, named_schemas(props));
    }
    m.bool_of(27, s, "readOnly");
    if let Some(e) = s.get("example") {
        m.message(30, any(e));
    }
    m.extensions(31, s);
    m
}
