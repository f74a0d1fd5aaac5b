//! What can be wrong with a protobuf body, and where.

/// A protobuf body that cannot become a JSON object. Messages name the message type and the JSON
/// path of the field at fault.
#[derive(Debug, thiserror::Error)]
pub enum ProtobufError {
    #[error("the body does not start with the Kubernetes protobuf prefix \"k8s\\x00\"")]
    MissingPrefix,
    #[error("{message} at {path}: {problem}")]
    Malformed {
        /// The message type being decoded, by OpenAPI definition name.
        message: String,
        /// The JSON path of the field, like `.spec.template.spec.containers[0].ports[1]`.
        path: String,
        problem: Problem,
    },
    #[error("the generated protobuf field table is unusable: {0}")]
    Table(String),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    #[error("the input ends inside a field")]
    Truncated,
    #[error("a varint is longer than 64 bits")]
    VarintOverflow,
    #[error("field number {0} is out of range")]
    InvalidTag(u64),
    #[error("wire type {0} does not exist")]
    UnknownWireType(u8),
    #[error("an end-group key for field {0} closes no group")]
    UnexpectedEndGroup(u32),
    #[error("field {tag} ({field}) arrived as {found}, expected {expected}")]
    WireType {
        tag: u32,
        field: String,
        found: &'static str,
        expected: &'static str,
    },
    #[error("messages nest deeper than {0} levels")]
    TooDeep(usize),
    #[error("a string is not valid UTF-8")]
    InvalidUtf8,
    #[error("timestamp {seconds}s {nanos}ns is outside years 1 to 9999")]
    TimeOutOfRange { seconds: i64, nanos: i64 },
    #[error("IntOrString has type {0}; 0 (int) and 1 (string) exist")]
    IntOrStringType(i64),
    #[error("the embedded raw bytes are not JSON: {0}")]
    NotJson(String),
    #[error("the number {0} has no JSON form")]
    NotFinite(f64),
    #[error(
        "the envelope names apiVersion {api_version:?} kind {kind:?}, which is not a built-in \
         type this server decodes from protobuf"
    )]
    UnknownKind { api_version: String, kind: String },
    #[error("the envelope has contentEncoding {0:?}; only none is supported")]
    ContentEncoding(String),
    #[error("the envelope has contentType {0:?}; only protobuf is supported")]
    ContentType(String),
}

/// One step of a JSON path.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    Field(String),
    Index(usize),
    Key(String),
}

/// A problem on its way out of the recursion: the innermost message type, and the path so far,
/// innermost step first.
#[derive(Debug)]
pub(crate) struct Failure {
    pub message: String,
    pub steps: Vec<Step>,
    pub problem: Problem,
}

impl Failure {
    /// Boxed: results travel up every level of the recursion, and a small error keeps its
    /// stack frames small.
    pub fn new(message: &str, problem: Problem) -> Box<Self> {
        Box::new(Failure {
            message: message.to_owned(),
            steps: Vec::new(),
            problem,
        })
    }

    pub fn at(mut self: Box<Self>, step: Step) -> Box<Self> {
        self.steps.push(step);
        self
    }

    pub fn into_error(self) -> ProtobufError {
        let mut path = String::new();
        for step in self.steps.iter().rev() {
            match step {
                Step::Field(name) => {
                    path.push('.');
                    path.push_str(name);
                }
                Step::Index(i) => path.push_str(&format!("[{i}]")),
                Step::Key(k) => path.push_str(&format!("[{k:?}]")),
            }
        }
        if path.is_empty() {
            path.push('.');
        }
        ProtobufError::Malformed {
            message: self.message,
            path,
            problem: self.problem,
        }
    }
}
