//! The parts of a document one served resource contributes: its definitions (the built-in ones,
//! or a CRD version's schema) and its paths, with the operations, parameters and extensions
//! kubectl reads — above all `x-kubernetes-group-version-kind` and `fieldValidation` on `patch`,
//! which tell kubectl to leave validation to the server.
//!
//! Everything is built in swagger form (`#/definitions/` references); [`super::definitions::to_v3`]
//! and [`operation_v3`] turn it into OpenAPI v3.

use serde_json::{Map, Value, json};

use super::definitions::{self, DELETE_OPTIONS, LIST_META, OBJECT_META, PATCH, STATUS, V2_REF};
use crate::registry::{Origin, Resource};

/// The definitions a resource's paths reference: its kind's and its list's.
pub struct Names {
    pub kind: String,
    pub list: Option<String>,
}

/// The definition names of `r`, and the schemas it adds beyond the built-ins (a CRD version's
/// kind and list). A built-in kind without a definition has no document.
pub fn resource_definitions(r: &Resource, extra: &mut Map<String, Value>) -> Option<Names> {
    match &r.origin {
        Origin::Builtin => {
            let defs = definitions::builtin();
            let kind = defs.for_kind(&r.group, &r.version, &r.kind)?.to_owned();
            let list = defs
                .for_kind(&r.group, &r.version, &r.list_kind)
                .map(str::to_owned);
            Some(Names { kind, list })
        }
        Origin::Custom { openapi, .. } => {
            let prefix = custom_prefix(&r.group, &r.version);
            let kind = format!("{prefix}.{}", r.kind);
            let list = format!("{prefix}.{}", r.list_kind);
            extra.insert(kind.clone(), custom_schema(r, openapi));
            extra.insert(list.clone(), custom_list_schema(r, &kind));
            Some(Names {
                kind,
                list: Some(list),
            })
        }
    }
}

/// kube-apiserver names CRD definitions by the reversed group: `com.example.v1.Widget`.
fn custom_prefix(group: &str, version: &str) -> String {
    let mut parts: Vec<&str> = group.split('.').collect();
    parts.reverse();
    format!("{}.{version}", parts.join("."))
}

fn gvk_list(r: &Resource, kind: &str) -> Value {
    json!([{"group": r.group, "kind": kind, "version": r.version}])
}

fn api_version_property() -> Value {
    json!({"description": "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources", "type": "string"})
}

fn kind_property() -> Value {
    json!({"description": "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds", "type": "string"})
}

/// A CRD version's `openAPIV3Schema` with the standard `apiVersion`, `kind` and `metadata`
/// (the built-in ObjectMeta) and the group/version/kind extension.
fn custom_schema(r: &Resource, openapi: &Value) -> Value {
    let mut schema = match openapi {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    schema
        .entry("type")
        .or_insert_with(|| Value::String("object".into()));
    let properties = schema
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(properties) = properties {
        properties.insert("apiVersion".into(), api_version_property());
        properties.insert("kind".into(), kind_property());
        properties.insert(
            "metadata".into(),
            json!({"$ref": format!("{V2_REF}{OBJECT_META}")}),
        );
    }
    schema.insert(
        "x-kubernetes-group-version-kind".into(),
        gvk_list(r, &r.kind),
    );
    Value::Object(schema)
}

fn custom_list_schema(r: &Resource, kind: &str) -> Value {
    json!({
        "description": format!("{} is a list of {}", r.list_kind, r.kind),
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": api_version_property(),
            "items": {
                "description": format!("List of {}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md", r.resource),
                "type": "array",
                "items": {"$ref": format!("{V2_REF}{kind}")},
            },
            "kind": kind_property(),
            "metadata": {"$ref": format!("{V2_REF}{LIST_META}")},
        },
        "x-kubernetes-group-version-kind": gvk_list(r, &r.list_kind),
    })
}

/// `/api/v1` or `/apis/<group>/<version>`.
pub fn gv_prefix(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    }
}

/// The tag and operation id stem kube-apiserver uses: `apps_v1` and `AppsV1`.
fn stems(group: &str, version: &str) -> (String, String) {
    let short = group.split('.').next().unwrap_or("");
    let tag = if group.is_empty() {
        format!("core_{version}")
    } else {
        format!("{}_{version}", short.replace('-', "_"))
    };
    let camel: String = tag
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect();
    (tag, camel)
}

fn query(name: &str, kind: &str, description: &str) -> Value {
    json!({"description": description, "in": "query", "name": name, "type": kind, "uniqueItems": true})
}

fn write_parameters() -> Vec<Value> {
    vec![
        query(
            "dryRun",
            "string",
            "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed",
        ),
        query(
            "fieldManager",
            "string",
            "fieldManager is a name associated with the actor or entity that is making these changes.",
        ),
        query(
            "fieldValidation",
            "string",
            "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object. - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present.",
        ),
    ]
}

fn body(schema: &str) -> Value {
    json!({"in": "body", "name": "body", "required": true, "schema": {"$ref": format!("{V2_REF}{schema}")}})
}

fn response(code: &str, description: &str, schema: Option<&str>) -> (String, Value) {
    let mut value = json!({"description": description});
    if let Some(schema) = schema {
        value["schema"] = json!({"$ref": format!("{V2_REF}{schema}")});
    }
    (code.to_owned(), value)
}

/// One swagger operation.
struct Op<'a> {
    r: &'a Resource,
    action: &'a str,
    id: String,
    description: String,
    parameters: Vec<Value>,
    consumes: Vec<&'a str>,
    responses: Vec<(String, Value)>,
}

impl Op<'_> {
    fn build(self, tag: &str) -> Value {
        let mut responses: Map<String, Value> = self.responses.into_iter().collect();
        responses.insert("401".into(), json!({"description": "Unauthorized"}));
        let mut op = json!({
            "description": self.description,
            "operationId": self.id,
            "parameters": self.parameters,
            "produces": ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"],
            "responses": responses,
            "schemes": ["https"],
            "tags": [tag],
            "x-kubernetes-action": self.action,
            "x-kubernetes-group-version-kind": {"group": self.r.group, "kind": self.r.kind, "version": self.r.version},
        });
        if !self.consumes.is_empty() {
            op["consumes"] = json!(self.consumes);
        }
        op
    }
}

fn path_parameter(name: &str, description: &str) -> Value {
    json!({"description": description, "in": "path", "name": name, "required": true, "type": "string", "uniqueItems": true})
}

/// The swagger paths of `r` (collection, object and `status`), with path-level parameters.
pub fn paths(r: &Resource, names: &Names) -> Vec<(String, Value)> {
    let (tag, camel) = stems(&r.group, &r.version);
    let scope = if r.namespaced { "Namespaced" } else { "" };
    let kind = names.kind.as_str();
    let mut collection_path = gv_prefix(&r.group, &r.version);
    let mut common = vec![];
    if r.namespaced {
        collection_path.push_str("/namespaces/{namespace}");
        common.push(path_parameter(
            "namespace",
            "object name and auth scope, such as for teams and projects",
        ));
    }
    collection_path.push('/');
    collection_path.push_str(&r.resource);
    let item_path = format!("{collection_path}/{{name}}");
    let mut item_common = vec![path_parameter("name", &format!("name of the {}", r.kind))];
    item_common.extend(common.iter().cloned());
    let mut out = vec![];

    let mut collection = Map::new();
    if r.has_verb("list")
        && let Some(list) = &names.list
    {
        let op = Op {
            r,
            action: "list",
            id: format!("list{camel}{scope}{}", r.kind),
            description: format!("list or watch objects of kind {}", r.kind),
            parameters: vec![
                query(
                    "labelSelector",
                    "string",
                    "A selector to restrict the list of returned objects by their labels. Defaults to everything.",
                ),
                query(
                    "fieldSelector",
                    "string",
                    "A selector to restrict the list of returned objects by their fields. Defaults to everything.",
                ),
                json!({"description": "limit is a maximum number of responses to return for a list call.", "in": "query", "name": "limit", "type": "integer", "uniqueItems": true}),
                query(
                    "continue",
                    "string",
                    "The continue option should be set when retrieving more results from the server.",
                ),
                query(
                    "resourceVersion",
                    "string",
                    "resourceVersion sets a constraint on what resource versions a request may be served from.",
                ),
                json!({"description": "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.", "in": "query", "name": "watch", "type": "boolean", "uniqueItems": true}),
            ],
            consumes: vec![],
            responses: vec![response("200", "OK", Some(list))],
        };
        collection.insert("get".into(), op.build(&tag));
    }
    if r.has_verb("create") {
        let mut parameters = vec![body(kind)];
        parameters.extend(write_parameters());
        let op = Op {
            r,
            action: "post",
            id: format!("create{camel}{scope}{}", r.kind),
            description: format!("create a {}", r.kind),
            parameters,
            consumes: vec![],
            responses: vec![
                response("200", "OK", Some(kind)),
                response("201", "Created", Some(kind)),
                response("202", "Accepted", Some(kind)),
            ],
        };
        collection.insert("post".into(), op.build(&tag));
    }
    if r.has_verb("deletecollection") {
        let op = Op {
            r,
            action: "deletecollection",
            id: format!("deleteCollection{camel}{scope}{}", r.kind),
            description: format!("delete collection of {}", r.kind),
            parameters: vec![body(DELETE_OPTIONS)],
            consumes: vec![],
            responses: vec![response("200", "OK", Some(STATUS))],
        };
        collection.insert("delete".into(), op.build(&tag));
    }
    if !collection.is_empty() {
        collection.insert("parameters".into(), Value::Array(common.clone()));
        out.push((collection_path, Value::Object(collection)));
    }

    let item = object_operations(r, kind, &tag, &camel, scope, "");
    if !item.is_empty() {
        let mut item = item;
        item.insert("parameters".into(), Value::Array(item_common.clone()));
        out.push((item_path.clone(), Value::Object(item)));
    }
    if r.status_subresource {
        let mut status = object_operations(r, kind, &tag, &camel, scope, "Status");
        status.remove("delete");
        status.insert("parameters".into(), Value::Array(item_common));
        out.push((format!("{item_path}/status"), Value::Object(status)));
    }
    out
}

/// get, put, patch and delete of one object (or of its `status` when `suffix` is `Status`).
fn object_operations(
    r: &Resource,
    kind: &str,
    tag: &str,
    camel: &str,
    scope: &str,
    suffix: &str,
) -> Map<String, Value> {
    let mut ops = Map::new();
    let what = if suffix.is_empty() {
        format!("the specified {}", r.kind)
    } else {
        format!("status of the specified {}", r.kind)
    };
    let allowed = |verb: &str| !suffix.is_empty() || r.has_verb(verb);
    if allowed("get") {
        let op = Op {
            r,
            action: "get",
            id: format!("read{camel}{scope}{}{suffix}", r.kind),
            description: format!("read {what}"),
            parameters: vec![],
            consumes: vec![],
            responses: vec![response("200", "OK", Some(kind))],
        };
        ops.insert("get".into(), op.build(tag));
    }
    if allowed("update") {
        let mut parameters = vec![body(kind)];
        parameters.extend(write_parameters());
        let op = Op {
            r,
            action: "put",
            id: format!("replace{camel}{scope}{}{suffix}", r.kind),
            description: format!("replace {what}"),
            parameters,
            consumes: vec![],
            responses: vec![
                response("200", "OK", Some(kind)),
                response("201", "Created", Some(kind)),
            ],
        };
        ops.insert("put".into(), op.build(tag));
    }
    if allowed("patch") {
        let mut parameters = vec![body(PATCH)];
        parameters.extend(write_parameters());
        parameters.push(json!({"description": "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.", "in": "query", "name": "force", "type": "boolean", "uniqueItems": true}));
        let mut consumes = vec![
            "application/json-patch+json",
            "application/merge-patch+json",
        ];
        // Custom resources take no strategic merge patch.
        if r.origin.is_builtin() {
            consumes.push("application/strategic-merge-patch+json");
        }
        consumes.push("application/apply-patch+yaml");
        let op = Op {
            r,
            action: "patch",
            id: format!("patch{camel}{scope}{}{suffix}", r.kind),
            description: format!("partially update {what}"),
            parameters,
            consumes,
            responses: vec![
                response("200", "OK", Some(kind)),
                response("201", "Created", Some(kind)),
            ],
        };
        ops.insert("patch".into(), op.build(tag));
    }
    if suffix.is_empty() && r.has_verb("delete") {
        let op = Op {
            r,
            action: "delete",
            id: format!("delete{camel}{scope}{}", r.kind),
            description: format!("delete {what}"),
            parameters: vec![body(DELETE_OPTIONS)],
            consumes: vec![],
            responses: vec![
                response("200", "OK", Some(STATUS)),
                response("202", "Accepted", Some(STATUS)),
            ],
        };
        ops.insert("delete".into(), op.build(tag));
    }
    ops
}

/// A swagger path item as OpenAPI v3: parameters with schemas, bodies as `requestBody`,
/// response schemas under `content`.
pub fn path_item_v3(item: &Value) -> Value {
    let Value::Object(item) = item else {
        return item.clone();
    };
    item.iter()
        .map(|(key, value)| {
            let value = if key == "parameters" {
                Value::Array(parameters_v3(value))
            } else {
                operation_v3(value)
            };
            (key.clone(), value)
        })
        .collect::<Map<String, Value>>()
        .into()
}

fn parameters_v3(parameters: &Value) -> Vec<Value> {
    parameters
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p.get("in").and_then(Value::as_str) != Some("body"))
        .map(|p| {
            let mut out = Map::new();
            let mut schema = Map::new();
            for (key, value) in p.as_object().into_iter().flatten() {
                match key.as_str() {
                    "type" | "uniqueItems" | "format" => {
                        schema.insert(key.clone(), value.clone());
                    }
                    _ => {
                        out.insert(key.clone(), value.clone());
                    }
                }
            }
            out.insert("schema".into(), Value::Object(schema));
            Value::Object(out)
        })
        .collect()
}

fn operation_v3(op: &Value) -> Value {
    let Value::Object(op) = op else {
        return op.clone();
    };
    let produces: Vec<Value> = op
        .get("produces")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let consumes: Vec<Value> = op
        .get("consumes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_else(|| produces.clone());
    let mut out = Map::new();
    for (key, value) in op {
        match key.as_str() {
            "produces" | "consumes" | "schemes" => {}
            "parameters" => {
                out.insert(key.clone(), Value::Array(parameters_v3(value)));
                let body = value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|p| p.get("in").and_then(Value::as_str) == Some("body"));
                if let Some(schema) = body.and_then(|b| b.get("schema")) {
                    let schema = definitions::to_v3(schema);
                    let content: Map<String, Value> = consumes
                        .iter()
                        .filter_map(Value::as_str)
                        .map(|ct| (ct.to_owned(), json!({"schema": schema})))
                        .collect();
                    out.insert(
                        "requestBody".into(),
                        json!({"content": content, "required": true}),
                    );
                }
            }
            "responses" => {
                let responses: Map<String, Value> = value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(code, response)| {
                        let mut r = json!({"description": response.get("description").cloned().unwrap_or(Value::Null)});
                        if let Some(schema) = response.get("schema") {
                            let schema = definitions::to_v3(schema);
                            let content: Map<String, Value> = produces
                                .iter()
                                .filter_map(Value::as_str)
                                .map(|ct| (ct.to_owned(), json!({"schema": schema})))
                                .collect();
                            r["content"] = Value::Object(content);
                        }
                        (code.clone(), r)
                    })
                    .collect();
                out.insert(key.clone(), Value::Object(responses));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(out)
}
