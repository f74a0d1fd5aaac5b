//! Hand-built wire bytes through [`decode`]: each special type, the zero-value rules, the wire
//! format's corners, and each error.

use serde_json::{Value, json};

use super::{Problem, ProtobufError, decode};

/// A message under construction, written field by field.
#[derive(Default, Clone)]
struct M(Vec<u8>);

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

impl M {
    fn new() -> Self {
        M::default()
    }
    fn key(mut self, tag: u32, wire: u8) -> Self {
        varint(u64::from(tag) << 3 | u64::from(wire), &mut self.0);
        self
    }
    fn int(self, tag: u32, v: i64) -> Self {
        let mut m = self.key(tag, 0);
        varint(v as u64, &mut m.0);
        m
    }
    fn bytes(self, tag: u32, b: &[u8]) -> Self {
        let mut m = self.key(tag, 2);
        varint(b.len() as u64, &mut m.0);
        m.0.extend_from_slice(b);
        m
    }
    fn str(self, tag: u32, s: &str) -> Self {
        self.bytes(tag, s.as_bytes())
    }
    fn msg(self, tag: u32, inner: M) -> Self {
        self.bytes(tag, &inner.0)
    }
    fn double(self, tag: u32, v: f64) -> Self {
        let mut m = self.key(tag, 1);
        m.0.extend_from_slice(&v.to_bits().to_le_bytes());
        m
    }
    fn entry(self, tag: u32, key: &str, value: M) -> Self {
        self.msg(tag, M::new().str(1, key).msg(2, value))
    }
    fn str_entry(self, tag: u32, key: &str, value: &str) -> Self {
        self.msg(tag, M::new().str(1, key).str(2, value))
    }
    fn raw(mut self, b: &[u8]) -> Self {
        self.0.extend_from_slice(b);
        self
    }
}

fn envelope(api_version: &str, kind: &str, object: M) -> Vec<u8> {
    let unknown = M::new()
        .msg(1, M::new().str(1, api_version).str(2, kind))
        .msg(2, object);
    let mut body = b"k8s\0".to_vec();
    body.extend_from_slice(&unknown.0);
    body
}

fn ok(api_version: &str, kind: &str, object: M) -> Value {
    decode(&envelope(api_version, kind, object)).unwrap()
}

fn problem(body: &[u8]) -> (String, String, Problem) {
    match decode(body) {
        Err(ProtobufError::Malformed {
            message,
            path,
            problem,
        }) => (message, path, problem),
        other => panic!("expected a malformed-body error, got {other:?}"),
    }
}

fn meta(name: &str) -> M {
    // Go always sends creationTimestamp (a non-pointer struct); a zero one is empty.
    M::new().str(1, name).msg(8, M::new())
}

#[test]
fn namespace_in_go_order_with_sorted_maps() {
    let ns = M::new()
        .msg(
            1,
            meta("demo")
                .str_entry(11, "z", "1")
                .str_entry(11, "a", "2")
                .str(2, ""),
        )
        .msg(2, M::new())
        .msg(3, M::new());
    let v = ok("v1", "Namespace", ns);
    // Key order is Go's: apiVersion, kind, then declaration order; map keys sorted.
    assert_eq!(
        serde_json::to_string(&v).unwrap(),
        r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"demo","labels":{"a":"2","z":"1"}},"spec":{},"status":{}}"#
    );
}

#[test]
fn zero_scalars_follow_go_pointers_and_omitempty() {
    let container = M::new().str(1, "").str(2, "nginx").int(16, 0);
    let port = M::new().int(3, 0).str(4, "TCP");
    let pod = M::new()
        .msg(2, container.msg(6, port))
        .int(21, 0)
        .int(11, 0);
    let spec = M::new()
        .int(1, 0) // *int32 replicas: kept
        .msg(3, M::new().msg(1, meta("")).msg(2, pod))
        .msg(4, M::new())
        .int(5, 0) // int32 minReadySeconds,omitempty: dropped
        .int(7, 0); // bool paused,omitempty: dropped
    let v = ok(
        "apps/v1",
        "Deployment",
        M::new().msg(1, meta("web")).msg(2, spec),
    );
    assert_eq!(
        v["spec"],
        json!({
            "replicas": 0,
            "template": {
                "metadata": {},
                "spec": {
                    // `name` has no omitempty; `containerPort` neither.
                    "containers": [{"name": "", "image": "nginx", "ports": [{"containerPort": 0, "protocol": "TCP"}]}],
                    "automountServiceAccountToken": false
                }
            },
            "strategy": {}
        })
    );
}

#[test]
fn times_quantities_and_int_or_string() {
    let created = M::new().int(1, 1_700_000_000).int(2, 5);
    let limits = M::new()
        .entry(1, "memory", M::new().str(1, "128Mi"))
        .entry(1, "cpu", M::new().str(1, "500m"))
        .entry(2, "cpu", M::new());
    let container = M::new().str(1, "c").msg(8, limits);
    let pod = M::new()
        .msg(1, M::new().str(1, "p").msg(8, created))
        .msg(2, M::new().msg(2, container));
    let v = ok("v1", "Pod", pod);
    assert_eq!(
        v["metadata"]["creationTimestamp"],
        json!("2023-11-14T22:13:20Z")
    );
    assert_eq!(
        v["spec"]["containers"][0]["resources"],
        json!({"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "0"}})
    );

    let ports = |target: M| {
        let svc = M::new().msg(2, M::new().msg(1, M::new().int(3, 80).msg(4, target)));
        ok("v1", "Service", svc)["spec"]["ports"][0]["targetPort"].clone()
    };
    assert_eq!(ports(M::new().int(1, 0).int(2, 8080)), json!(8080));
    assert_eq!(ports(M::new().int(1, 1).str(3, "http")), json!("http"));
    // Go always sends the non-pointer IntOrString; empty is the int 0, as Go prints it.
    assert_eq!(ports(M::new()), json!(0));
    let bad = M::new().msg(
        2,
        M::new().msg(1, M::new().int(3, 80).msg(4, M::new().int(1, 7))),
    );
    let (message, path, p) = problem(&envelope("v1", "Service", bad));
    assert_eq!(message, "io.k8s.apimachinery.pkg.util.intstr.IntOrString");
    assert_eq!(path, ".spec.ports[0].targetPort");
    assert_eq!(p, Problem::IntOrStringType(7));
}

#[test]
fn micro_time_and_pointer_zero_values() {
    let spec = M::new()
        .str(1, "")
        .int(2, 0)
        .msg(4, M::new().int(1, 1_700_000_000).int(2, 123_456_789));
    let v = ok(
        "coordination.k8s.io/v1",
        "Lease",
        M::new().msg(1, meta("l")).msg(2, spec),
    );
    assert_eq!(
        v["spec"],
        json!({"holderIdentity": "", "leaseDurationSeconds": 0, "renewTime": "2023-11-14T22:13:20.123456Z"})
    );
}

#[test]
fn bytes_are_base64_and_maps_keep_empty_values() {
    let secret = M::new()
        .msg(1, meta("s"))
        .msg(2, M::new().str(1, "k").bytes(2, b"\x00\xffhi"))
        .msg(2, M::new().str(1, "empty"))
        .str(3, "Opaque");
    let v = ok("v1", "Secret", secret);
    assert_eq!(v["data"], json!({"empty": "", "k": "AP9oaQ=="}));
    assert_eq!(v["type"], json!("Opaque"));
}

#[test]
fn raw_extension_holds_json_or_a_nested_envelope() {
    let revision = |data: M| {
        ok(
            "apps/v1",
            "ControllerRevision",
            M::new().msg(1, meta("r")).msg(2, data).int(3, 0),
        )
    };
    let v = revision(M::new().bytes(1, br#"{"spec":{"x":[1,2]}}"#));
    assert_eq!(v["data"], json!({"spec": {"x": [1, 2]}}));
    assert_eq!(v["revision"], json!(0), "revision has no omitempty");
    let nested = envelope(
        "v1",
        "ConfigMap",
        M::new().msg(1, meta("inner")).str_entry(2, "a", "b"),
    );
    let v = revision(M::new().bytes(1, &nested));
    assert_eq!(
        v["data"],
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "inner"}, "data": {"a": "b"}})
    );
    // Go writes a nil Raw as null; the field is left out.
    assert!(revision(M::new()).get("data").is_none());
    let (message, path, p) = problem(&envelope(
        "apps/v1",
        "ControllerRevision",
        M::new().msg(2, M::new().bytes(1, b"{nope")),
    ));
    assert_eq!(message, "io.k8s.apimachinery.pkg.runtime.RawExtension");
    assert_eq!(path, ".data");
    assert!(matches!(p, Problem::NotJson(_)));
}

#[test]
fn managed_fields_carry_fields_v1_json() {
    let entry = M::new()
        .str(1, "kubectl")
        .str(2, "Update")
        .msg(4, M::new().int(1, 0))
        .str(6, "FieldsV1")
        .msg(7, M::new().bytes(1, br#"{"f:data":{".":{}}}"#));
    let v = ok("v1", "ConfigMap", M::new().msg(1, meta("c").msg(17, entry)));
    assert_eq!(
        v["metadata"]["managedFields"],
        json!([{
            "manager": "kubectl",
            "operation": "Update",
            "time": "1970-01-01T00:00:00Z",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {".": {}}}
        }])
    );
}

#[test]
fn delete_options_from_any_group_version() {
    let opts = M::new()
        .int(1, 0)
        .int(3, 0)
        .str(4, "Foreground")
        .str(5, "All");
    for api_version in ["v1", "apps/v1", "example.com/v1"] {
        let v = ok(api_version, "DeleteOptions", opts.clone());
        assert_eq!(
            v,
            json!({
                "apiVersion": api_version,
                "kind": "DeleteOptions",
                "gracePeriodSeconds": 0,
                "orphanDependents": false,
                "propagationPolicy": "Foreground",
                "dryRun": ["All"]
            })
        );
    }
}

#[test]
fn inline_structs_flatten_into_their_parent() {
    let volume = M::new().str(1, "cfg").msg(
        2,
        M::new().msg(
            19,
            M::new().msg(1, M::new().str(1, "app-config")).int(3, 420),
        ),
    );
    let pod = M::new().msg(2, M::new().msg(1, volume).msg(2, M::new().str(1, "c")));
    let v = ok("v1", "Pod", pod);
    assert_eq!(
        v["spec"]["volumes"],
        json!([{"name": "cfg", "configMap": {"name": "app-config", "defaultMode": 420}}])
    );
}

#[test]
fn crd_schemas_use_the_json_schema_unions() {
    let string = M::new().str(5, "string").double(9, 10.0).int(38, 1);
    let schema = M::new()
        .str(5, "object")
        .entry(29, "name", string.clone())
        .msg(24, M::new().msg(1, string.clone()))
        .msg(30, M::new().int(1, 0))
        .msg(8, M::new().bytes(1, br#"{"a":1}"#))
        .double(9, 0.5);
    let version = M::new()
        .str(1, "v1")
        .int(2, 1)
        .int(3, 1)
        .msg(4, M::new().msg(1, schema));
    let spec = M::new().str(1, "example.com").msg(7, version);
    let v = ok(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        M::new().msg(1, meta("things.example.com")).msg(2, spec),
    );
    assert_eq!(
        v["spec"]["versions"][0]["schema"]["openAPIV3Schema"],
        json!({
            "type": "object",
            "default": {"a": 1},
            "maximum": 0.5,
            "items": {"type": "string", "maximum": 10, "x-kubernetes-preserve-unknown-fields": true},
            "properties": {"name": {"type": "string", "maximum": 10, "x-kubernetes-preserve-unknown-fields": true}},
            "additionalProperties": false
        })
    );
}

#[test]
fn wire_corners_unknown_fields_packing_and_merging() {
    let pod_security = M::new()
        .int(4, 1) // unpacked supplementalGroups
        .bytes(4, &{
            let mut packed = Vec::new();
            varint(2, &mut packed);
            varint(-3i64 as u64, &mut packed);
            packed
        });
    let unknown = M::new()
        .int(900, 5)
        .double(901, 1.0)
        .key(902, 5)
        .raw(&[0, 0, 0, 0])
        .key(903, 3) // a group, nested, then closed
        .key(904, 3)
        .int(1, 1)
        .key(904, 4)
        .key(903, 4)
        .str(905, "x");
    let pod = M::new()
        .raw(&unknown.0)
        .msg(1, M::new().str(1, "first").str(3, "ns"))
        .msg(1, M::new().str(1, "second")) // merged: name replaced, namespace kept
        .msg(
            2,
            M::new().msg(14, pod_security).msg(2, M::new().str(1, "c")),
        );
    let v = ok("v1", "Pod", pod);
    assert_eq!(v["metadata"], json!({"name": "second", "namespace": "ns"}));
    assert_eq!(
        v["spec"]["securityContext"]["supplementalGroups"],
        json!([1, 2, -3])
    );
}

#[test]
fn int32_keeps_the_low_bits_like_go() {
    // -1 as a 10-byte varint, and 2^32 + 7 truncated to 7.
    let spec = M::new()
        .int(1, -1)
        .msg(3, M::new().msg(2, M::new().msg(2, M::new().str(1, "c"))));
    let v = ok(
        "apps/v1",
        "Deployment",
        M::new().msg(2, spec.int(6, (1 << 32) + 7)),
    );
    assert_eq!(v["spec"]["replicas"], json!(-1));
    assert_eq!(v["spec"]["revisionHistoryLimit"], json!(7));
}

#[test]
fn errors_name_the_message_and_path() {
    assert!(matches!(decode(b"{}"), Err(ProtobufError::MissingPrefix)));

    let (message, path, p) = problem(&envelope(
        "v1",
        "Namespace",
        M::new().msg(1, M::new().int(1, 3)),
    ));
    assert_eq!(message, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
    assert_eq!(path, ".metadata.name");
    assert!(
        matches!(
            p,
            Problem::WireType {
                tag: 1,
                expected: "length-delimited",
                ..
            }
        ),
        "{p:?}"
    );

    let (message, path, p) = problem(&envelope("example.com/v1", "Widget", M::new()));
    assert_eq!(
        (message.as_str(), path.as_str()),
        ("io.k8s.apimachinery.pkg.runtime.Unknown", ".")
    );
    assert!(matches!(p, Problem::UnknownKind { .. }));

    let bad_utf8 = M::new().msg(1, M::new().bytes(1, b"\xff\xfe"));
    let (_, path, p) = problem(&envelope("v1", "Namespace", bad_utf8));
    assert_eq!((path.as_str(), p), (".metadata.name", Problem::InvalidUtf8));

    let label = M::new().msg(1, M::new().msg(11, M::new().str(1, "k").bytes(2, b"\xc3")));
    let (_, path, p) = problem(&envelope("v1", "Namespace", label));
    assert_eq!(
        (path.as_str(), p),
        (".metadata.labels", Problem::InvalidUtf8)
    );

    let mut truncated = envelope("v1", "Namespace", M::new().msg(1, meta("demo")));
    truncated.pop();
    assert!(decode(&truncated).is_err());
    for cut in 0..truncated.len() {
        // Every prefix is an error or a value, never a panic.
        let _ = decode(&truncated[..cut]);
    }

    let overflow = M::new().key(50, 0).raw(&[0xff; 11]);
    let (_, _, p) = problem(&envelope("v1", "Namespace", overflow));
    assert_eq!(p, Problem::VarintOverflow);

    let stray_end = M::new().key(7, 4);
    let (_, _, p) = problem(&envelope("v1", "Namespace", stray_end));
    assert_eq!(p, Problem::UnexpectedEndGroup(7));

    let encoded = M::new()
        .msg(1, M::new().str(1, "v1").str(2, "Namespace"))
        .str(3, "gzip");
    let mut body = b"k8s\0".to_vec();
    body.extend_from_slice(&encoded.0);
    let (_, _, p) = problem(&body);
    assert_eq!(p, Problem::ContentEncoding("gzip".into()));
}

/// Runs on a thread with a 1 MiB stack, half of a tokio worker's: the depth limit must trip
/// long before the stack runs out, in debug builds too.
#[test]
fn nesting_is_bounded() {
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(nesting_is_bounded_body)
        .unwrap()
        .join()
        .unwrap();
}

fn nesting_is_bounded_body() {
    // JSONSchemaProps nests itself through `properties`; 200 levels is past the limit.
    let mut schema = M::new().str(5, "string");
    for _ in 0..200 {
        schema = M::new().entry(29, "p", schema);
    }
    let version = M::new().str(1, "v1").msg(4, M::new().msg(1, schema));
    let crd = M::new().msg(2, M::new().msg(7, version));
    let (message, path, p) = problem(&envelope(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        crd,
    ));
    assert_eq!(
        message,
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"
    );
    assert!(
        path.starts_with(".spec.versions[0].schema.openAPIV3Schema.properties[\"p\"]"),
        "{path}"
    );
    assert_eq!(p, Problem::TooDeep(super::MAX_DEPTH));

    // RawExtension envelopes inside RawExtension envelopes.
    let mut body = envelope("apps/v1", "ControllerRevision", M::new());
    for _ in 0..150 {
        body = envelope(
            "apps/v1",
            "ControllerRevision",
            M::new().msg(2, M::new().bytes(1, &body)),
        );
    }
    let (_, _, p) = problem(&body);
    assert_eq!(p, Problem::TooDeep(super::MAX_DEPTH));
}
