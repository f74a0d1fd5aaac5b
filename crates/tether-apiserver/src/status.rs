//! API errors and the `Status` bodies kube-apiserver answers them with.
//!
//! Messages, reasons and codes follow `k8s.io/apimachinery/pkg/api/errors`, because clients
//! (kubectl, kube-rs, client-go) branch on `reason` and users read `message`.

use serde::Serialize;
use serde_json::{Value, json};

/// A qualified resource as error messages show it: `deployments.apps`, or `configmaps` for core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qualified {
    pub group: String,
    pub resource: String,
}

impl std::fmt::Display for Qualified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.resource)
        } else {
            write!(f, "{}.{}", self.resource, self.group)
        }
    }
}

/// One entry of `details.causes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cause {
    pub reason: String,
    pub message: String,
    pub field: String,
}

impl Cause {
    pub fn new(reason: &str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Cause {
            reason: reason.to_owned(),
            message: message.into(),
            field: field.into(),
        }
    }
}

/// An error the API answers with a `Status` body.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    /// `details`: name, group, kind and causes, when the error is about one object.
    pub details: Option<Box<Details>>,
    /// Extra headers (e.g. `Retry-After`).
    pub retry_after_seconds: Option<u32>,
}

#[derive(Debug, Clone, Default)]
pub struct Details {
    pub name: String,
    pub group: String,
    pub kind: String,
    pub causes: Vec<Cause>,
}

impl ApiError {
    fn plain(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
            retry_after_seconds: None,
        }
    }

    fn about(
        code: u16,
        reason: &'static str,
        qualified: &Qualified,
        name: &str,
        message: String,
    ) -> Self {
        ApiError {
            code,
            reason,
            message,
            details: Some(Box::new(Details {
                name: name.to_owned(),
                group: qualified.group.clone(),
                kind: qualified.resource.clone(),
                causes: vec![],
            })),
            retry_after_seconds: None,
        }
    }

    pub fn not_found(qualified: &Qualified, name: &str) -> Self {
        Self::about(
            404,
            "NotFound",
            qualified,
            name,
            format!("{qualified} \"{name}\" not found"),
        )
    }

    /// 404 for a path that names no resource the server serves.
    pub fn no_such_resource() -> Self {
        Self::plain(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    }

    pub fn already_exists(qualified: &Qualified, name: &str) -> Self {
        Self::about(
            409,
            "AlreadyExists",
            qualified,
            name,
            format!("{qualified} \"{name}\" already exists"),
        )
    }

    /// 409 for a stale `resourceVersion` (optimistic concurrency).
    pub fn conflict(qualified: &Qualified, name: &str) -> Self {
        Self::conflict_because(
            qualified,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    pub fn conflict_because(qualified: &Qualified, name: &str, why: &str) -> Self {
        Self::about(
            409,
            "Conflict",
            qualified,
            name,
            format!("Operation cannot be fulfilled on {qualified} \"{name}\": {why}"),
        )
    }

    /// 422 with field causes. `kind` is the object's kind (`ConfigMap`), as upstream's
    /// `NewInvalid` takes a GroupKind.
    pub fn invalid(group: &str, kind: &str, name: &str, causes: Vec<Cause>) -> Self {
        let gk = if group.is_empty() {
            kind.to_owned()
        } else {
            format!("{kind}.{group}")
        };
        let summary = match causes.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many => format!(
                "[{}]",
                many.iter()
                    .map(|c| format!("{}: {}", c.field, c.message))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        ApiError {
            code: 422,
            reason: "Invalid",
            message: format!("{gk} \"{name}\" is invalid: {summary}"),
            details: Some(Box::new(Details {
                name: name.to_owned(),
                group: group.to_owned(),
                kind: kind.to_owned(),
                causes,
            })),
            retry_after_seconds: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::plain(400, "BadRequest", message)
    }

    pub fn forbidden(qualified: &Qualified, name: &str, why: &str, causes: Vec<Cause>) -> Self {
        let mut err = Self::about(
            403,
            "Forbidden",
            qualified,
            name,
            format!("{qualified} \"{name}\" is forbidden: {why}"),
        );
        if let Some(details) = err.details.as_mut() {
            details.causes = causes;
        }
        err
    }

    /// 403 for a request the authorizer refused, worded as upstream's `NewForbidden`:
    /// `deployments.apps "web" is forbidden: <why>`, without the name for collections, and
    /// `forbidden: <why>` for non-resource paths (`qualified` is `None`).
    pub fn forbidden_request(qualified: Option<&Qualified>, name: &str, why: &str) -> Self {
        let message = match qualified {
            None => format!("forbidden: {why}"),
            Some(q) if name.is_empty() => format!("{q} is forbidden: {why}"),
            Some(q) => format!("{q} \"{name}\" is forbidden: {why}"),
        };
        let empty = Qualified {
            group: String::new(),
            resource: String::new(),
        };
        Self::about(403, "Forbidden", qualified.unwrap_or(&empty), name, message)
    }

    pub fn unauthorized() -> Self {
        Self::plain(401, "Unauthorized", "Unauthorized")
    }

    pub fn method_not_allowed() -> Self {
        Self::plain(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
    }

    pub fn not_acceptable(accepted: &str) -> Self {
        Self::plain(
            406,
            "NotAcceptable",
            format!("only the following media types are accepted: {accepted}"),
        )
    }

    /// 415, worded as upstream's `negotiation.NewUnsupportedMediaTypeError`: the accepted types,
    /// not the one sent.
    pub fn unsupported_media_type(accepted: &[&str]) -> Self {
        Self::plain(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
        )
    }

    pub fn too_large(limit: usize) -> Self {
        Self::plain(
            413,
            "RequestEntityTooLarge",
            format!("Request entity too large: limit is {limit}"),
        )
    }

    /// 410 for a resourceVersion or continue token older than the kept history.
    pub fn expired(message: impl Into<String>) -> Self {
        Self::plain(410, "Expired", message)
    }

    pub fn gone(message: impl Into<String>) -> Self {
        Self::plain(410, "Gone", message)
    }

    pub fn too_large_resource_version(requested: u64, current: u64) -> Self {
        let mut err = Self::plain(
            504,
            "Timeout",
            format!("Too large resource version: {requested}, current: {current}"),
        );
        err.details = Some(Box::new(Details {
            causes: vec![Cause::new(
                "ResourceVersionTooLarge",
                "",
                format!("Too large resource version: {requested}, current: {current}"),
            )],
            ..Default::default()
        }));
        err.retry_after_seconds = Some(1);
        err
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::plain(500, "InternalError", message)
    }

    pub fn service_unavailable(message: impl Into<String>) -> Self {
        Self::plain(503, "ServiceUnavailable", message)
    }

    /// The `Status` object for this error.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        });
        if let Some(d) = &self.details {
            let mut details = serde_json::Map::new();
            if !d.name.is_empty() {
                details.insert("name".into(), d.name.clone().into());
            }
            if !d.group.is_empty() {
                details.insert("group".into(), d.group.clone().into());
            }
            if !d.kind.is_empty() {
                details.insert("kind".into(), d.kind.clone().into());
            }
            if !d.causes.is_empty() {
                details.insert("causes".into(), json!(d.causes));
            }
            if let Some(after) = self.retry_after_seconds {
                details.insert("retryAfterSeconds".into(), after.into());
            }
            status["details"] = Value::Object(details);
        }
        status["code"] = self.code.into();
        status
    }
}

/// The `Status` a successful delete of a whole collection or a subresource answers with.
pub fn success_status(details: Option<Value>) -> Value {
    let mut status =
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"});
    if let Some(details) = details {
        status["details"] = details;
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm() -> Qualified {
        Qualified {
            group: String::new(),
            resource: "configmaps".into(),
        }
    }

    #[test]
    fn not_found_matches_upstream() {
        let status = ApiError::not_found(&cm(), "foo").to_status();
        assert_eq!(
            status,
            json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                   "message":"configmaps \"foo\" not found","reason":"NotFound",
                   "details":{"name":"foo","kind":"configmaps"},"code":404})
        );
    }

    #[test]
    fn group_qualifies_the_resource() {
        let q = Qualified {
            group: "apps".into(),
            resource: "deployments".into(),
        };
        let err = ApiError::conflict(&q, "web");
        assert_eq!(
            err.message,
            "Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified; please apply your changes to the latest version and try again"
        );
        assert_eq!(err.to_status()["details"]["group"], "apps");
    }

    #[test]
    fn unsupported_media_type_lists_what_is_accepted() {
        let err = ApiError::unsupported_media_type(&["application/json", "application/yaml"]);
        assert_eq!((err.code, err.reason), (415, "UnsupportedMediaType"));
        assert_eq!(
            err.message,
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml"
        );
    }

    #[test]
    fn invalid_lists_causes() {
        let err = ApiError::invalid(
            "",
            "ConfigMap",
            "Foo",
            vec![Cause::new(
                "FieldValueInvalid",
                "metadata.name",
                "Invalid value: \"Foo\": bad",
            )],
        );
        assert_eq!(err.code, 422);
        assert_eq!(
            err.message,
            "ConfigMap \"Foo\" is invalid: metadata.name: Invalid value: \"Foo\": bad"
        );
        assert_eq!(
            err.to_status()["details"]["causes"][0]["field"],
            "metadata.name"
        );
    }
}
