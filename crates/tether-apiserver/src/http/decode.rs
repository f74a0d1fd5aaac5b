//! Request bodies (JSON or YAML) to values, noting every field given twice in one object.
//!
//! A generic JSON value cannot say that `{"replicas": 1, "replicas": 3}` named a field twice, yet
//! `?fieldValidation=Strict` must refuse it and `Warn` must say so, as kube-apiserver does. So the
//! value is built by a visitor that sees each key as the parser meets it: later duplicates win (as
//! Go's decoder lets them) and their paths (`spec.template.spec.containers[0].name`) are kept.
//! The path is a chain of borrowed steps on the stack, so a body without duplicates allocates
//! nothing for it.

use std::cell::RefCell;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::status::ApiError;

/// A decoded body and the fields it gave more than once.
#[derive(Debug)]
pub struct Decoded {
    pub value: Value,
    /// Dotted paths of repeated fields, in the order they were met.
    pub duplicate_fields: Vec<String>,
}

/// Parses JSON or YAML bytes into a value, with the position of a syntax error.
pub fn decode(bytes: &[u8], yaml: bool) -> Result<Decoded, ApiError> {
    let duplicates = RefCell::new(Vec::new());
    let seed = ValueSeed {
        at: None,
        duplicates: &duplicates,
    };
    // Clients (kubectl, kube-rs, client-go) send apply configurations as JSON, which is YAML
    // too: parse it as JSON first, it is several times faster.
    let looks_like_json = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let value = if yaml && looks_like_json {
        match json(bytes, seed) {
            Ok(value) => value,
            Err(_) => {
                duplicates.borrow_mut().clear();
                yaml_value(bytes, seed)?
            }
        }
    } else if yaml {
        yaml_value(bytes, seed)?
    } else {
        json(bytes, seed).map_err(|e| {
            ApiError::bad_request(format!(
                "the request body is not valid JSON: {e} (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?
    };
    Ok(Decoded {
        value,
        duplicate_fields: duplicates.into_inner(),
    })
}

fn json(bytes: &[u8], seed: ValueSeed<'_>) -> Result<Value, serde_json::Error> {
    let mut parser = serde_json::Deserializer::from_slice(bytes);
    let value = seed.deserialize(&mut parser)?;
    parser.end()?;
    Ok(value)
}

fn yaml_value(bytes: &[u8], seed: ValueSeed<'_>) -> Result<Value, ApiError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ApiError::bad_request(format!("the request body is not UTF-8: {e}")))?;
    // Duplicates are passed to the visitor, which records them, instead of failing the parse:
    // whether they are an error is fieldValidation's call.
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::PassThrough,
    };
    serde_saphyr::with_deserializer_from_str_with_options(text, options, |parser| {
        seed.deserialize(parser)
    })
    .map_err(|e| ApiError::bad_request(format!("error converting YAML to JSON: {e}")))
}

/// One step from the root: a field name or a list index.
#[derive(Clone, Copy)]
enum Step<'a> {
    Field(&'a str),
    Item(usize),
}

/// The path to the value being read, as a chain of steps borrowed from the visitors' frames.
#[derive(Clone, Copy)]
struct At<'a> {
    step: Step<'a>,
    parent: Option<&'a At<'a>>,
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(parent) = self.parent {
            write!(f, "{parent}")?;
        }
        match self.step {
            Step::Field(name) if self.parent.is_some() => write!(f, ".{name}"),
            Step::Field(name) => f.write_str(name),
            Step::Item(index) => write!(f, "[{index}]"),
        }
    }
}

#[derive(Clone, Copy)]
struct ValueSeed<'a> {
    at: Option<&'a At<'a>>,
    duplicates: &'a RefCell<Vec<String>>,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // JSON has no NaN or infinity: such YAML floats become null, as serde_json does.
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        loop {
            let at = At {
                step: Step::Item(items.len()),
                parent: self.at,
            };
            let seed = ValueSeed {
                at: Some(&at),
                duplicates: self.duplicates,
            };
            match seq.next_element_seed(seed)? {
                Some(item) => items.push(item),
                None => break,
            }
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let at = At {
                step: Step::Field(&key),
                parent: self.at,
            };
            let value = map.next_value_seed(ValueSeed {
                at: Some(&at),
                duplicates: self.duplicates,
            })?;
            if fields.contains_key(&key) {
                self.duplicates.borrow_mut().push(at.to_string());
            }
            fields.insert(key, value);
        }
        Ok(Value::Object(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_duplicates_are_named_by_path_and_the_last_wins() {
        let body = br#"{"kind": "Deployment", "spec": {"replicas": 1, "replicas": 3,
            "template": {"spec": {"containers": [{"name": "a", "image": "x", "name": "b"}]}}},
            "kind": "Deployment"}"#;
        let decoded = decode(body, false).unwrap();
        assert_eq!(
            decoded.duplicate_fields,
            [
                "spec.replicas",
                "spec.template.spec.containers[0].name",
                "kind"
            ]
        );
        assert_eq!(decoded.value["spec"]["replicas"], 3);
        assert_eq!(
            decoded.value["spec"]["template"]["spec"]["containers"][0],
            json!({"name": "b", "image": "x"})
        );
    }

    #[test]
    fn yaml_duplicates_are_noted_not_fatal() {
        let body = b"metadata:\n  name: a\n  name: b\ndata:\n  k: v\n";
        let decoded = decode(body, true).unwrap();
        assert_eq!(decoded.duplicate_fields, ["metadata.name"]);
        assert_eq!(
            decoded.value,
            json!({"metadata": {"name": "b"}, "data": {"k": "v"}})
        );
    }

    #[test]
    fn clean_bodies_report_nothing_and_decode_as_serde_json_does() {
        let body = br#"{"a": [1, -2, 2.5, true, null, "s", {"b": {}}], "c": 18446744073709551615}"#;
        let decoded = decode(body, false).unwrap();
        assert!(decoded.duplicate_fields.is_empty());
        let plain: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(decoded.value, plain);
        let as_yaml = decode(body, true).unwrap();
        assert_eq!(as_yaml.value, plain);
    }

    #[test]
    fn syntax_errors_keep_their_position() {
        let err = decode(b"{\"a\": 1,\n \"b\" 2}", false).unwrap_err();
        assert!(err.message.contains("line 2"), "{}", err.message);
        let err = decode(b"{\"a\": 1} trailing", false).unwrap_err();
        assert!(err.message.contains("trailing"), "{}", err.message);
    }
}
