//! The Kubernetes JSONPath subset that CRD printer columns and the scale subresource use, with
//! client-go's semantics (`k8s.io/client-go/util/jsonpath` with `AllowMissingKeys(true)`, as
//! kube-apiserver's CRD table convertor runs it).
//!
//! Supported: `.field` (with `\.` escapes), `['field']`, `.*` and `[*]`, `[n]` (negative from the
//! end), `[start:end:step]`, and filters `[?(@.a.b OP operand)]` with `==`, `!=`, `<`, `>`, `<=`,
//! `>=` against a string, number or boolean literal or another `@` path, plus the existence
//! filter `[?(@.a)]`. The path may be wrapped in `{}` and may start with `$`.
//!
//! Like client-go, a missing key yields no result, while indexing a non-array, an index out of
//! bounds, or a comparison between unlike types is an evaluation error (upstream then shows an
//! empty cell). Recursive descent (`..`), unions (`[a,b]`) and template text are not supported
//! and fail to parse.

use std::cmp::Ordering;

use serde_json::Value;

/// Why a path could not be parsed; the message names the path and the offending position.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ParseError {
    #[error("JSONPath {path:?}: unexpected {found:?} at offset {at}, expected {expected}")]
    Unexpected {
        path: String,
        at: usize,
        found: String,
        expected: &'static str,
    },
    #[error("JSONPath {path:?}: {what} is not supported")]
    Unsupported { path: String, what: &'static str },
}

/// Why evaluating a parsed path against an object failed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EvalError {
    #[error("{0} is not an array")]
    NotArray(&'static str),
    #[error("array index {index} out of bounds for length {len}")]
    OutOfBounds { index: i64, len: usize },
    #[error("slice step must not be 0")]
    ZeroStep,
    #[error("a filter can only compare one value at a time")]
    Ambiguous,
    #[error("incompatible types for comparison")]
    BadComparison,
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Wildcard,
    Index(i64),
    Slice(Option<i64>, Option<i64>, Option<i64>),
    Filter(Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
struct Filter {
    left: Operand,
    /// `None` for the existence filter `[?(@.a)]`.
    compare: Option<(Op, Operand)>,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    /// Steps relative to the element being filtered (`@`).
    Path(Vec<Step>),
    Literal(Value),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

/// A parsed JSONPath.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    steps: Vec<Step>,
}

impl JsonPath {
    /// Parses `text`, e.g. `.status.conditions[?(@.type=="Ready")].status`.
    pub fn parse(text: &str) -> Result<JsonPath, ParseError> {
        let trimmed = text.trim();
        let inner = match trimmed.strip_prefix('{') {
            Some(rest) => rest
                .strip_suffix('}')
                .ok_or_else(|| ParseError::Unexpected {
                    path: text.to_owned(),
                    at: text.len(),
                    found: "end".into(),
                    expected: "`}`",
                })?,
            None => trimmed,
        };
        let inner = inner.trim();
        let inner = inner.strip_prefix('$').unwrap_or(inner);
        let mut p = Parser {
            path: text,
            chars: inner.chars().collect(),
            at: 0,
        };
        let steps = p.steps()?;
        if let Some(c) = p.peek() {
            return Err(p.unexpected(c.to_string(), "`.` or `[`"));
        }
        Ok(JsonPath { steps })
    }

    /// Every value the path selects in `object`, in document order.
    pub fn find<'a>(&self, object: &'a Value) -> Result<Vec<&'a Value>, EvalError> {
        eval(&self.steps, vec![object])
    }

    /// The first value the path selects, as kube-apiserver's table convertor uses it; `None`
    /// when nothing matches or evaluation fails.
    pub fn first<'a>(&self, object: &'a Value) -> Option<&'a Value> {
        self.find(object).ok()?.into_iter().next()
    }
}

/// The first value `path` selects in `object`, or `None` if the path does not parse, does not
/// match, or fails to evaluate.
pub fn first<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    JsonPath::parse(path).ok()?.first(object)
}

/// A value as client-go's `PrintResults` writes it: strings bare, numbers and booleans as Go's
/// `%v`, arrays and objects as compact JSON with sorted keys, null as `<no value>`.
pub fn print(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "<no value>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (None, Some(u), _) => u.to_string(),
            (None, None, Some(f)) => go_float(f),
            _ => n.to_string(),
        },
        Value::Array(_) | Value::Object(_) => sorted(value).to_string(),
    }
}

/// Go's `%v` of a float64 (`%g` with the shortest digits): exponent form below 1e-4 or from
/// 1e6 up.
fn go_float(f: f64) -> String {
    if !f.is_finite() {
        return if f.is_nan() {
            "NaN".into()
        } else if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        f.to_string()
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&map[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

fn eval<'a>(steps: &[Step], mut current: Vec<&'a Value>) -> Result<Vec<&'a Value>, EvalError> {
    for step in steps {
        let mut next = Vec::new();
        for value in current {
            apply(step, value, &mut next)?;
        }
        current = next;
    }
    Ok(current)
}

fn apply<'a>(step: &Step, value: &'a Value, out: &mut Vec<&'a Value>) -> Result<(), EvalError> {
    match step {
        // Missing keys and fields of non-objects select nothing (AllowMissingKeys).
        Step::Field(name) => out.extend(value.get(name.as_str())),
        Step::Wildcard => match value {
            Value::Object(map) => out.extend(map.values()),
            Value::Array(items) => out.extend(items.iter()),
            _ => {}
        },
        Step::Index(i) => {
            let items = value
                .as_array()
                .ok_or(EvalError::NotArray("indexed value"))?;
            let len = items.len();
            let at = if *i < 0 { *i + len as i64 } else { *i };
            let item = usize::try_from(at)
                .ok()
                .and_then(|at| items.get(at))
                .ok_or(EvalError::OutOfBounds { index: *i, len })?;
            out.push(item);
        }
        Step::Slice(start, end, step) => {
            let items = value
                .as_array()
                .ok_or(EvalError::NotArray("sliced value"))?;
            let len = items.len() as i64;
            let clamp = |v: i64| if v < 0 { (v + len).max(0) } else { v.min(len) };
            let start = clamp(start.unwrap_or(0));
            let end = clamp(end.unwrap_or(len));
            let step = step.unwrap_or(1);
            if step <= 0 {
                return Err(EvalError::ZeroStep);
            }
            let mut i = start;
            while i < end {
                if let Some(item) = usize::try_from(i).ok().and_then(|i| items.get(i)) {
                    out.push(item);
                }
                i += step;
            }
        }
        Step::Filter(filter) => {
            let items = value
                .as_array()
                .ok_or(EvalError::NotArray("filtered value"))?;
            for item in items {
                if filter.matches(item)? {
                    out.push(item);
                }
            }
        }
    }
    Ok(())
}

impl Filter {
    fn matches(&self, item: &Value) -> Result<bool, EvalError> {
        let Some(left) = operand(&self.left, item)? else {
            return Ok(false);
        };
        let Some((op, right)) = &self.compare else {
            return Ok(true);
        };
        let Some(right) = operand(right, item)? else {
            return Ok(false);
        };
        let ordering = compare(left, right, matches!(op, Op::Eq | Op::Ne))?;
        Ok(match op {
            Op::Eq => ordering == Some(Ordering::Equal),
            Op::Ne => ordering != Some(Ordering::Equal),
            Op::Lt => ordering == Some(Ordering::Less),
            Op::Gt => ordering == Some(Ordering::Greater),
            Op::Le => matches!(ordering, Some(Ordering::Less | Ordering::Equal)),
            Op::Ge => matches!(ordering, Some(Ordering::Greater | Ordering::Equal)),
        })
    }
}

/// The single value an operand denotes for `item`; `None` when a path selects nothing, which
/// skips the item as client-go does.
fn operand<'a>(operand: &'a Operand, item: &'a Value) -> Result<Option<&'a Value>, EvalError> {
    match operand {
        Operand::Literal(v) => Ok(Some(v)),
        Operand::Path(steps) => {
            let found = eval(steps, vec![item])?;
            if found.len() > 1 {
                return Err(EvalError::Ambiguous);
            }
            Ok(found.into_iter().next())
        }
    }
}

/// Go template's `eq`/`lt` rules: strings with strings, integers with integers, floats with
/// floats, booleans only for equality; anything else is an error. `None` means unordered (NaN).
fn compare(a: &Value, b: &Value, equality: bool) -> Result<Option<Ordering>, EvalError> {
    match (a, b) {
        (Value::String(a), Value::String(b)) => Ok(Some(a.cmp(b))),
        (Value::Bool(a), Value::Bool(b)) if equality => Ok(Some(a.cmp(b))),
        (Value::Number(a), Value::Number(b)) => {
            let int = |n: &serde_json::Number| n.is_i64() || n.is_u64();
            match (int(a), int(b)) {
                (true, true) => match (a.as_i64(), b.as_i64()) {
                    (Some(a), Some(b)) => Ok(Some(a.cmp(&b))),
                    _ => Ok(a.as_u64().zip(b.as_u64()).map(|(a, b)| a.cmp(&b))),
                },
                (false, false) => Ok(a
                    .as_f64()
                    .zip(b.as_f64())
                    .and_then(|(a, b)| a.partial_cmp(&b))),
                _ => Err(EvalError::BadComparison),
            }
        }
        _ => Err(EvalError::BadComparison),
    }
}

struct Parser<'p> {
    path: &'p str,
    chars: Vec<char>,
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.at + offset).copied()
    }

    fn unexpected(&self, found: String, expected: &'static str) -> ParseError {
        ParseError::Unexpected {
            path: self.path.to_owned(),
            at: self.at,
            found,
            expected,
        }
    }

    fn found(&self) -> String {
        self.peek().map_or_else(|| "end".into(), |c| c.to_string())
    }

    fn expect(&mut self, c: char, expected: &'static str) -> Result<(), ParseError> {
        if self.peek() == Some(c) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.unexpected(self.found(), expected))
        }
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    /// Steps until something that cannot continue a path.
    fn steps(&mut self) -> Result<Vec<Step>, ParseError> {
        let mut steps = Vec::new();
        loop {
            match self.peek() {
                Some('.') => {
                    self.at += 1;
                    match self.peek() {
                        Some('.') => {
                            return Err(ParseError::Unsupported {
                                path: self.path.to_owned(),
                                what: "recursive descent (`..`)",
                            });
                        }
                        Some('*') => {
                            self.at += 1;
                            steps.push(Step::Wildcard);
                        }
                        // A lone trailing `.` (the path `.`) selects the object itself.
                        None | Some('[') => {}
                        Some(_) => steps.push(Step::Field(self.field()?)),
                    }
                }
                Some('[') => {
                    self.at += 1;
                    steps.push(self.bracket()?);
                }
                _ => return Ok(steps),
            }
        }
    }

    fn field(&mut self) -> Result<String, ParseError> {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            match c {
                '\\' => {
                    self.at += 1;
                    let escaped = self
                        .peek()
                        .ok_or_else(|| self.unexpected("end".into(), "an escaped character"))?;
                    name.push(escaped);
                    self.at += 1;
                }
                '.' | '[' | ']' | '(' | ')' | '{' | '}' | '$' | '@' | ',' | '=' | '!' | '<'
                | '>' => break,
                c if c.is_whitespace() => break,
                c => {
                    name.push(c);
                    self.at += 1;
                }
            }
        }
        if name.is_empty() {
            return Err(self.unexpected(self.found(), "a field name"));
        }
        Ok(name)
    }

    fn bracket(&mut self) -> Result<Step, ParseError> {
        self.skip_spaces();
        let step = match self.peek() {
            Some('*') => {
                self.at += 1;
                Step::Wildcard
            }
            Some('?') => {
                self.at += 1;
                self.expect('(', "`(` after `?`")?;
                let filter = self.filter()?;
                self.skip_spaces();
                self.expect(')', "`)` closing the filter")?;
                Step::Filter(Box::new(filter))
            }
            Some('\'' | '"') => Step::Field(self.quoted()?),
            _ => self.index_or_slice()?,
        };
        self.skip_spaces();
        if self.peek() == Some(',') {
            return Err(ParseError::Unsupported {
                path: self.path.to_owned(),
                what: "a union (`[a,b]`)",
            });
        }
        self.expect(']', "`]`")?;
        Ok(step)
    }

    fn index_or_slice(&mut self) -> Result<Step, ParseError> {
        let mut parts = [None, None, None];
        let mut colons = 0;
        loop {
            self.skip_spaces();
            if let Some(n) = self.integer()? {
                parts[colons] = Some(n);
            }
            self.skip_spaces();
            if self.peek() == Some(':') && colons < 2 {
                self.at += 1;
                colons += 1;
            } else {
                break;
            }
        }
        match (colons, parts) {
            (0, [Some(i), _, _]) => Ok(Step::Index(i)),
            (0, _) => Err(self.unexpected(self.found(), "`*`, `?(`, a quoted key or an index")),
            (_, [a, b, c]) => Ok(Step::Slice(a, b, c)),
        }
    }

    fn integer(&mut self) -> Result<Option<i64>, ParseError> {
        let start = self.at;
        if self.peek() == Some('-') {
            self.at += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        if self.at == start {
            return Ok(None);
        }
        let text: String = self.chars[start..self.at].iter().collect();
        text.parse()
            .map(Some)
            .map_err(|_| self.unexpected(text, "an integer"))
    }

    fn quoted(&mut self) -> Result<String, ParseError> {
        let quote = self.peek().unwrap_or('"');
        self.at += 1;
        let mut text = String::new();
        loop {
            match self.peek() {
                None => return Err(self.unexpected("end".into(), "a closing quote")),
                Some('\\') => {
                    self.at += 1;
                    let c = self
                        .peek()
                        .ok_or_else(|| self.unexpected("end".into(), "an escaped character"))?;
                    text.push(match c {
                        'n' => '\n',
                        't' => '\t',
                        other => other,
                    });
                    self.at += 1;
                }
                Some(c) if c == quote => {
                    self.at += 1;
                    return Ok(text);
                }
                Some(c) => {
                    text.push(c);
                    self.at += 1;
                }
            }
        }
    }

    fn filter(&mut self) -> Result<Filter, ParseError> {
        self.skip_spaces();
        let left = self.operand()?;
        self.skip_spaces();
        let op = match (self.peek(), self.peek_at(1)) {
            (Some('='), Some('=')) => Some((Op::Eq, 2)),
            (Some('!'), Some('=')) => Some((Op::Ne, 2)),
            (Some('<'), Some('=')) => Some((Op::Le, 2)),
            (Some('>'), Some('=')) => Some((Op::Ge, 2)),
            (Some('<'), _) => Some((Op::Lt, 1)),
            (Some('>'), _) => Some((Op::Gt, 1)),
            _ => None,
        };
        let Some((op, len)) = op else {
            return Ok(Filter {
                left,
                compare: None,
            });
        };
        self.at += len;
        self.skip_spaces();
        let right = self.operand()?;
        Ok(Filter {
            left,
            compare: Some((op, right)),
        })
    }

    fn operand(&mut self) -> Result<Operand, ParseError> {
        match self.peek() {
            Some('@') => {
                self.at += 1;
                Ok(Operand::Path(self.steps()?))
            }
            Some('\'' | '"') => Ok(Operand::Literal(Value::String(self.quoted()?))),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(),
            Some(c) if c.is_alphabetic() => {
                let start = self.at;
                while self.peek().is_some_and(char::is_alphanumeric) {
                    self.at += 1;
                }
                let word: String = self.chars[start..self.at].iter().collect();
                match word.as_str() {
                    "true" => Ok(Operand::Literal(Value::Bool(true))),
                    "false" => Ok(Operand::Literal(Value::Bool(false))),
                    _ => {
                        self.at = start;
                        Err(self.unexpected(word, "`@`, a quoted string, a number or a boolean"))
                    }
                }
            }
            _ => Err(self.unexpected(self.found(), "`@`, a quoted string, a number or a boolean")),
        }
    }

    fn number(&mut self) -> Result<Operand, ParseError> {
        let start = self.at;
        if self.peek() == Some('-') {
            self.at += 1;
        }
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+'))
        {
            self.at += 1;
        }
        let text: String = self.chars[start..self.at].iter().collect();
        // An integer literal compares with integers, a float literal with floats, as in Go.
        let value = match text.parse::<i64>() {
            Ok(i) => Some(Value::from(i)),
            Err(_) => text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number),
        };
        value
            .map(Operand::Literal)
            .ok_or_else(|| self.unexpected(text, "a number"))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn find(object: &Value, path: &str) -> Vec<Value> {
        JsonPath::parse(path)
            .unwrap()
            .find(object)
            .unwrap()
            .into_iter()
            .cloned()
            .collect()
    }

    fn flux() -> Value {
        json!({
            "metadata": {"name": "podinfo", "annotations": {"example.com/a.b": "dotted"}},
            "spec": {"replicas": 3, "ratio": 0.5, "suspend": false},
            "status": {"conditions": [
                {"type": "Reconciling", "status": "True", "message": "working", "observedGeneration": 1},
                {"type": "Ready", "status": "False", "message": "kustomize build failed", "observedGeneration": 2},
                {"type": "Healthy", "status": "Unknown", "reason": "Progressing", "observedGeneration": 3},
            ]},
        })
    }

    #[test]
    fn fields_and_indexes() {
        let o = flux();
        assert_eq!(find(&o, ".spec.replicas"), [json!(3)]);
        assert_eq!(find(&o, "{.spec.replicas}"), [json!(3)]);
        assert_eq!(find(&o, "$.spec.replicas"), [json!(3)]);
        assert_eq!(
            find(&o, ".status.conditions[0].type"),
            [json!("Reconciling")]
        );
        assert_eq!(find(&o, ".status.conditions[-1].type"), [json!("Healthy")]);
        assert_eq!(find(&o, ".status.conditions[ 1 ].type"), [json!("Ready")]);
        assert_eq!(find(&o, ".metadata['name']"), [json!("podinfo")]);
        assert_eq!(
            find(&o, r".metadata.annotations.example\.com/a\.b"),
            [json!("dotted")]
        );
        assert_eq!(
            find(&o, r#".metadata.annotations["example.com/a.b"]"#),
            [json!("dotted")]
        );
        assert!(find(&o, ".spec.missing").is_empty());
        assert!(find(&o, ".spec.replicas.deeper").is_empty());
    }

    #[test]
    fn wildcards_and_slices() {
        let o = flux();
        assert_eq!(
            find(&o, ".status.conditions[*].type"),
            [json!("Reconciling"), json!("Ready"), json!("Healthy")]
        );
        assert_eq!(
            find(&o, ".status.conditions.*.status"),
            [json!("True"), json!("False"), json!("Unknown")]
        );
        assert_eq!(
            find(&o, ".status.conditions[1:].type"),
            [json!("Ready"), json!("Healthy")]
        );
        assert_eq!(
            find(&o, ".status.conditions[::2].type"),
            [json!("Reconciling"), json!("Healthy")]
        );
        assert_eq!(
            find(&o, ".status.conditions[:-2].type"),
            [json!("Reconciling")]
        );
        assert_eq!(find(&o, ".spec.*"), [json!(3), json!(0.5), json!(false)]);
    }

    #[test]
    fn filters_select_conditions() {
        let o = flux();
        assert_eq!(
            find(&o, r#".status.conditions[?(@.type=="Ready")].status"#),
            [json!("False")]
        );
        assert_eq!(
            find(&o, r#".status.conditions[?(@.type=="Ready")].message"#),
            [json!("kustomize build failed")]
        );
        assert_eq!(
            find(&o, ".status.conditions[?(@.type == 'Ready')].status"),
            [json!("False")]
        );
        assert_eq!(
            find(&o, r#".status.conditions[?(@.type!="Ready")].type"#),
            [json!("Reconciling"), json!("Healthy")]
        );
        assert_eq!(
            find(&o, ".status.conditions[?(@.observedGeneration>=2)].type"),
            [json!("Ready"), json!("Healthy")]
        );
        assert_eq!(
            find(&o, ".status.conditions[?(@.observedGeneration<2)].type"),
            [json!("Reconciling")]
        );
        // Existence filter: only Healthy has a reason.
        assert_eq!(
            find(&o, ".status.conditions[?(@.reason)].type"),
            [json!("Healthy")]
        );
        assert!(find(&o, r#".status.conditions[?(@.type=="Stalled")].status"#).is_empty());
        let nested = json!({"items": [{"a": {"b": "x"}, "v": 1}, {"a": {"b": "y"}, "v": 2}]});
        assert_eq!(find(&nested, r#".items[?(@.a.b=="y")].v"#), [json!(2)]);
        // Both sides may be paths of the element.
        let pairs = json!({"items": [{"a": 1, "b": 1}, {"a": 1, "b": 2}]});
        assert_eq!(find(&pairs, ".items[?(@.a==@.b)].b"), [json!(1)]);
    }

    #[test]
    fn evaluation_errors_like_client_go() {
        let o = flux();
        let eval = |p: &str| JsonPath::parse(p).unwrap().find(&o);
        assert_eq!(
            eval(".status.conditions[5].type"),
            Err(EvalError::OutOfBounds { index: 5, len: 3 })
        );
        assert_eq!(eval(".spec[0]"), Err(EvalError::NotArray("indexed value")));
        assert_eq!(
            eval(".spec[?(@.a=='b')]"),
            Err(EvalError::NotArray("filtered value"))
        );
        // Go's template comparison refuses a string against a number.
        assert_eq!(
            eval(".status.conditions[?(@.type==1)].type"),
            Err(EvalError::BadComparison)
        );
        assert_eq!(
            eval(".status.conditions[?(@.observedGeneration==1.0)].type"),
            Err(EvalError::BadComparison)
        );
        assert_eq!(
            JsonPath::parse(".status.conditions[9]").unwrap().first(&o),
            None
        );
    }

    #[test]
    fn parse_errors_name_the_path() {
        for (path, want) in [
            (".a..b", "recursive descent"),
            (".a[0,1]", "union"),
            (".a[?(@.b==Ready)]", "unexpected \"Ready\""),
            (".a[", "expected"),
            (".a[?(@.b=='x)]", "closing quote"),
            ("{.a", "`}`"),
        ] {
            let err = JsonPath::parse(path).unwrap_err().to_string();
            assert!(err.contains(path), "{err}");
            assert!(err.contains(want), "{path}: {err}");
        }
    }

    #[test]
    fn prints_like_client_go() {
        assert_eq!(print(&json!("True")), "True");
        assert_eq!(print(&json!(3)), "3");
        assert_eq!(print(&json!(0.5)), "0.5");
        assert_eq!(print(&json!(1e6)), "1e+06");
        assert_eq!(print(&json!(123456.0)), "123456");
        assert_eq!(print(&json!(0.00001)), "1e-05");
        assert_eq!(print(&json!(21000000.5)), "2.10000005e+07");
        assert_eq!(print(&json!(false)), "false");
        assert_eq!(print(&Value::Null), "<no value>");
        assert_eq!(
            print(&json!({"b": 1, "a": [true]})),
            r#"{"a":[true],"b":1}"#
        );
    }
}
