//! Errors of the apply engine. Every message names the object (`Kind/namespace/name`) and carries
//! the API server's own message.

use std::fmt;

use crate::changeset::ChangeSet;
use crate::object::ObjectRef;
use crate::wait::HealthError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("manifest #{index} is not a Kubernetes object: {reason}")]
    InvalidManifest { index: usize, reason: String },
    #[error("{object} appears more than once in the set to apply")]
    Duplicate { object: ObjectRef },
    #[error("{object}: no resource serves kind {kind} in {api_version} (is its CRD installed?)")]
    UnknownKind {
        object: ObjectRef,
        api_version: String,
        kind: String,
    },
    #[error("{object}: the resource is namespaced but the object has no namespace")]
    NamespaceRequired { object: ObjectRef },
    #[error("cannot discover the resources of {group_version}: {message}")]
    Discovery {
        group_version: String,
        message: String,
    },
    #[error("{object} query failed: {message}")]
    Get { object: ObjectRef, message: String },
    #[error("{object} dry-run failed: {message}")]
    DryRun { object: ObjectRef, message: String },
    #[error(
        "{object} dry-run failed, immutable field(s) changed: {message} (recreate it with the \
         force option or the kustomize.toolkit.fluxcd.io/force: Enabled annotation)"
    )]
    Immutable { object: ObjectRef, message: String },
    #[error("{object} immutable field detected, failed to recreate: {message}")]
    Recreate { object: ObjectRef, message: String },
    #[error("{object} metadata.managedFields cleanup failed: {message}")]
    Cleanup { object: ObjectRef, message: String },
    #[error("{object} apply failed: {message}")]
    Apply { object: ObjectRef, message: String },
    #[error("{object} delete failed: {message}")]
    Delete { object: ObjectRef, message: String },
    #[error("{object} termination timeout: still present after {seconds:.1}s")]
    TerminationTimeout { object: ObjectRef, seconds: f64 },
    #[error("waiting for the {stage} stage: {source}")]
    StageNotReady {
        stage: &'static str,
        source: HealthError,
    },
}

/// A staged apply that stopped: the error and what had been done before it (nothing is applied
/// after the first failure; objects listed here are on the cluster).
#[derive(Debug)]
pub struct ApplyError {
    pub applied: ChangeSet,
    pub error: Error,
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.error)?;
        let changes = self.applied.changes_summary();
        if !changes.is_empty() {
            write!(f, "\napplied before the failure:\n{changes}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApplyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// The API server's answer to a failed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    pub code: u16,
    pub reason: String,
    pub message: String,
}

impl ApiFailure {
    pub fn from_kube(err: &kube::Error) -> ApiFailure {
        match err {
            kube::Error::Api(status) => ApiFailure {
                code: status.code,
                reason: status.reason.clone(),
                message: status.message.clone(),
            },
            other => ApiFailure {
                code: 0,
                reason: String::new(),
                message: other.to_string(),
            },
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.code == 404
    }
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Messages kube-apiserver, CEL rules (`self == oldSelf`) and admission webhooks give for a change
/// to a field that cannot change.
const IMMUTABLE_PATTERNS: &[&str] = &[
    "is immutable",
    "immutable field",
    // Service spec.clusterIP(s).
    "may not change once set",
    // StatefulSet spec outside the updatable fields.
    "updates to statefulset spec for fields other than",
    // Pod spec outside the updatable fields.
    "pod updates may not change fields other than",
    "pod updates may not add or remove containers",
    // A Service whose manifest drops a cluster IP that was set (patterns are lowercase).
    "primary clusterip can not be unset",
];

/// Whether a failed apply is a change to an immutable field: a 422 Invalid whose message says so.
///
/// Narrower than Flux's `IsImmutableError`, which treats every 409 and every 422 as immutable
/// (kubectl's heuristic) and so deletes objects under `force` for plain validation errors too.
pub fn is_immutable_error(failure: &ApiFailure) -> bool {
    let message = failure.message.to_ascii_lowercase();
    (failure.code == 422 || failure.reason == "Invalid")
        && IMMUTABLE_PATTERNS.iter().any(|p| message.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: u16, message: &str) -> ApiFailure {
        ApiFailure {
            code,
            reason: if code == 422 { "Invalid" } else { "" }.to_owned(),
            message: message.to_owned(),
        }
    }

    #[test]
    fn immutable_messages_of_kube_apiserver() {
        for message in [
            r#"Job.batch "j" is invalid: spec.template: Invalid value: core.PodTemplateSpec{...}: field is immutable"#,
            r#"Deployment.apps "web" is invalid: spec.selector: Invalid value: v1.LabelSelector{...}: field is immutable"#,
            r#"Service "s" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.0.0.2"}: may not change once set"#,
            r#"StatefulSet.apps "db" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template' are forbidden"#,
            r#"ConfigMap "c" is invalid: data: Forbidden: field is immutable when `immutable` is set"#,
            r#"Pod "p" is invalid: spec.containers: Forbidden: pod updates may not add or remove containers"#,
            r#"Service "s" is invalid: spec.clusterIPs[0]: Invalid value: []string(nil): primary clusterIP can not be unset"#,
            r#"Widget.example.com "w" is invalid: spec.size: Invalid value: "string": Value is immutable"#,
        ] {
            assert!(is_immutable_error(&failure(422, message)), "{message}");
        }
    }

    #[test]
    fn other_failures_are_not_immutable() {
        assert!(!is_immutable_error(&failure(
            422,
            r#"ConfigMap "c" is invalid: metadata.labels: Invalid value: "-": name part must consist of alphanumeric characters"#
        )));
        assert!(!is_immutable_error(&failure(
            409,
            "Operation cannot be fulfilled: field is immutable"
        )));
        assert!(!is_immutable_error(&failure(
            500,
            "etcdserver: request timed out"
        )));
    }

    #[test]
    fn apply_error_lists_what_was_applied() {
        let mut applied = ChangeSet::new();
        applied.add(
            ObjectRef::new("v1", "Namespace", "", "a"),
            crate::Action::Created,
        );
        applied.add(
            ObjectRef::new("v1", "ConfigMap", "a", "c"),
            crate::Action::Unchanged,
        );
        let err = ApplyError {
            applied,
            error: Error::Apply {
                object: ObjectRef::new("apps/v1", "Deployment", "a", "web"),
                message: "boom".into(),
            },
        };
        assert_eq!(
            err.to_string(),
            "Deployment/a/web apply failed: boom\napplied before the failure:\nNamespace/a created"
        );
    }
}
