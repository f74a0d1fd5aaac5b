//! Condition types and reasons with Flux's exact strings (`fluxcd/pkg/apis/meta`,
//! source-controller's and kustomize-controller's `condition_types.go`), and the helpers that
//! set them on a status.
//!
//! Polarity, as in Flux: `Ready` and `Healthy` are True when all is well; `Reconciling`,
//! `Stalled` and the source failure types (`FetchFailed`, `BuildFailed`, `ArtifactOutdated`,
//! `StorageOperationFailed`, `IncludeUnavailable`) are "abnormal-true": present only while
//! True, so reconcilers [`remove`] them rather than set them False.
//!
//! [`set`] follows Kubernetes' rule for `lastTransitionTime` (it changes only when the status
//! changes; Flux also moves it when only the reason or message changes), stamps
//! `observedGeneration`, and keeps `Ready` first and the rest sorted by type, as Flux orders
//! them for kubectl.

use std::fmt;
use std::str::FromStr;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

/// Kubernetes refuses condition messages longer than this (bytes).
pub const MAX_MESSAGE_BYTES: usize = 32768;

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// Flux's string.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<$name, UnknownName> {
                match s {
                    $($text => Ok($name::$variant),)*
                    other => Err(UnknownName { what: stringify!($name), name: other.to_owned() }),
                }
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }
    };
}

/// A string that is not one of the known condition types or reasons.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {name:?}")]
pub struct UnknownName {
    pub what: &'static str,
    pub name: String,
}

string_enum! {
    /// Condition types.
    ConditionType {
        /// The object is fully reconciled (True) or why not (False / Unknown while working).
        Ready = "Ready",
        /// The reconciler is working on the latest generation (abnormal-true).
        Reconciling = "Reconciling",
        /// Reconciliation cannot progress without a change by a human (abnormal-true).
        Stalled = "Stalled",
        /// Kustomization: the last health assessment.
        Healthy = "Healthy",
        /// Source: the artifact is in the store.
        ArtifactInStorage = "ArtifactInStorage",
        /// Source: the stored artifact is older than the source (abnormal-true).
        ArtifactOutdated = "ArtifactOutdated",
        /// Source: the commit signature verification result.
        SourceVerified = "SourceVerified",
        /// Source: fetching failed (abnormal-true).
        FetchFailed = "FetchFailed",
        /// Source: packing the artifact failed (abnormal-true).
        BuildFailed = "BuildFailed",
        /// Source: a storage operation failed (abnormal-true).
        StorageOperationFailed = "StorageOperationFailed",
        /// GitRepository: an include is missing or has no artifact (abnormal-true).
        IncludeUnavailable = "IncludeUnavailable",
    }
}

string_enum! {
    /// Condition reasons.
    Reason {
        Succeeded = "Succeeded",
        Failed = "Failed",
        /// Work is under way.
        Progressing = "Progressing",
        /// Work is under way again after a failure.
        ProgressingWithRetry = "ProgressingWithRetry",
        Suspended = "Suspended",
        DependencyNotReady = "DependencyNotReady",
        ReconciliationSucceeded = "ReconciliationSucceeded",
        ReconciliationFailed = "ReconciliationFailed",
        HealthCheckFailed = "HealthCheckFailed",
        PruneFailed = "PruneFailed",
        /// The source or its artifact could not be had.
        ArtifactFailed = "ArtifactFailed",
        /// kustomize build (or post-build) failed.
        BuildFailed = "BuildFailed",
        InvalidCelExpression = "InvalidCELExpression",
        FeatureGateDisabled = "FeatureGateDisabled",
        AccessDenied = "AccessDenied",
        /// Source: the URL is invalid.
        UrlInvalid = "URLInvalid",
        AuthenticationFailed = "AuthenticationFailed",
        VerificationError = "VerificationError",
        DirCreationFailed = "DirectoryCreationFailed",
        StatOperationFailed = "StatOperationFailed",
        ReadOperationFailed = "ReadOperationFailed",
        AcquireLockFailed = "AcquireLockFailed",
        InvalidPath = "InvalidPath",
        ArchiveOperationFailed = "ArchiveOperationFailed",
        SymlinkUpdateFailed = "SymlinkUpdateFailed",
        ArtifactUpToDate = "ArtifactUpToDate",
        CacheOperationFailed = "CacheOperationFailed",
        PatchOperationFailed = "PatchOperationFailed",
        GitOperationSucceeded = "GitOperationSucceeded",
        GitOperationFailed = "GitOperationFailed",
        /// Source: a new revision is being fetched (with `ArtifactOutdated`).
        NewRevision = "NewRevision",
        /// Source include: the included GitRepository does not exist.
        NotFound = "NotFound",
        /// Source include: the included GitRepository has no artifact yet.
        NoArtifact = "NoArtifact",
        /// Source include: its files could not be copied into the artifact.
        CopyFailure = "CopyFailure",
    }
}

/// A condition's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    True,
    False,
    Unknown,
}

impl Status {
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::True => "True",
            Status::False => "False",
            Status::Unknown => "Unknown",
        }
    }
}

/// Now, to the second (as Flux stamps conditions).
pub fn now() -> Time {
    let now = jiff::Timestamp::now();
    Time(jiff::Timestamp::from_second(now.as_second()).unwrap_or(now))
}

/// The condition of type `type_`.
pub fn find(conditions: &[Condition], type_: impl AsRef<str>) -> Option<&Condition> {
    let type_ = type_.as_ref();
    conditions.iter().find(|c| c.type_ == type_)
}

/// Whether the condition `type_` is present and True.
pub fn is_true(conditions: &[Condition], type_: impl AsRef<str>) -> bool {
    find(conditions, type_).is_some_and(|c| c.status == "True")
}

/// Whether the condition `type_` is present and False.
pub fn is_false(conditions: &[Condition], type_: impl AsRef<str>) -> bool {
    find(conditions, type_).is_some_and(|c| c.status == "False")
}

/// Whether `Ready` is True.
pub fn is_ready(conditions: &[Condition]) -> bool {
    is_true(conditions, ConditionType::Ready)
}

/// Removes the condition `type_`, returning it.
pub fn remove(conditions: &mut Vec<Condition>, type_: impl AsRef<str>) -> Option<Condition> {
    let type_ = type_.as_ref();
    let i = conditions.iter().position(|c| c.type_ == type_)?;
    Some(conditions.remove(i))
}

/// Sets a condition stamped with `generation` at the current time; see [`set_at`].
pub fn set(
    conditions: &mut Vec<Condition>,
    type_: ConditionType,
    status: Status,
    reason: Reason,
    message: impl Into<String>,
    generation: Option<i64>,
) {
    set_at(
        conditions,
        Condition {
            type_: type_.as_str().to_owned(),
            status: status.as_str().to_owned(),
            reason: reason.as_str().to_owned(),
            message: message.into(),
            observed_generation: generation,
            last_transition_time: now(),
        },
    );
}

/// Adds or replaces `new` (by type). An existing condition with the same status keeps its
/// `lastTransitionTime`; the message is cut to [`MAX_MESSAGE_BYTES`]; `Ready` stays first and
/// the others sorted by type.
pub fn set_at(conditions: &mut Vec<Condition>, mut new: Condition) {
    truncate_message(&mut new.message);
    match conditions.iter_mut().find(|c| c.type_ == new.type_) {
        Some(existing) => {
            if existing.status == new.status {
                new.last_transition_time = existing.last_transition_time.clone();
            }
            *existing = new;
        }
        None => conditions.push(new),
    }
    let ready = ConditionType::Ready.as_str();
    conditions.sort_by(|a, b| {
        (a.type_ != ready)
            .cmp(&(b.type_ != ready))
            .then_with(|| a.type_.cmp(&b.type_))
    });
}

fn truncate_message(message: &mut String) {
    if message.len() > MAX_MESSAGE_BYTES {
        let mut end = MAX_MESSAGE_BYTES;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
    }
}

/// Sets `type_` True.
pub fn mark_true(
    conditions: &mut Vec<Condition>,
    type_: ConditionType,
    reason: Reason,
    message: impl Into<String>,
    generation: Option<i64>,
) {
    set(conditions, type_, Status::True, reason, message, generation);
}

/// Sets `type_` False.
pub fn mark_false(
    conditions: &mut Vec<Condition>,
    type_: ConditionType,
    reason: Reason,
    message: impl Into<String>,
    generation: Option<i64>,
) {
    set(
        conditions,
        type_,
        Status::False,
        reason,
        message,
        generation,
    );
}

/// Sets `type_` Unknown.
pub fn mark_unknown(
    conditions: &mut Vec<Condition>,
    type_: ConditionType,
    reason: Reason,
    message: impl Into<String>,
    generation: Option<i64>,
) {
    set(
        conditions,
        type_,
        Status::Unknown,
        reason,
        message,
        generation,
    );
}

/// Marks the object as being worked on: `Reconciling` True, `Stalled` removed.
pub fn mark_reconciling(
    conditions: &mut Vec<Condition>,
    reason: Reason,
    message: impl Into<String>,
    generation: Option<i64>,
) {
    remove(conditions, ConditionType::Stalled);
    mark_true(
        conditions,
        ConditionType::Reconciling,
        reason,
        message,
        generation,
    );
}

/// Marks the object as stuck: `Stalled` True, `Reconciling` removed.
pub fn mark_stalled(
    conditions: &mut Vec<Condition>,
    reason: Reason,
    message: impl Into<String>,
    generation: Option<i64>,
) {
    remove(conditions, ConditionType::Reconciling);
    mark_true(
        conditions,
        ConditionType::Stalled,
        reason,
        message,
        generation,
    );
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(second: i64) -> Time {
        Time(jiff::Timestamp::from_second(second).unwrap())
    }

    fn cond(type_: &str, status: &str, reason: &str, second: i64) -> Condition {
        Condition {
            type_: type_.into(),
            status: status.into(),
            reason: reason.into(),
            message: format!("{reason} message"),
            observed_generation: Some(3),
            last_transition_time: at(second),
        }
    }

    #[test]
    fn strings_are_fluxs() {
        assert_eq!(
            Reason::InvalidCelExpression.as_str(),
            "InvalidCELExpression"
        );
        assert_eq!(Reason::UrlInvalid.as_str(), "URLInvalid");
        assert_eq!(
            Reason::DirCreationFailed.as_str(),
            "DirectoryCreationFailed"
        );
        assert_eq!(
            ConditionType::ArtifactInStorage.to_string(),
            "ArtifactInStorage"
        );
        for r in Reason::ALL {
            assert_eq!(r.as_str().parse::<Reason>().unwrap(), *r);
        }
        for t in ConditionType::ALL {
            assert_eq!(t.as_str().parse::<ConditionType>().unwrap(), *t);
        }
        assert_eq!(
            "Nope".parse::<Reason>().unwrap_err().to_string(),
            r#"unknown Reason "Nope""#
        );
    }

    #[test]
    fn transition_time_moves_only_with_the_status() {
        let mut cs = vec![];
        set_at(&mut cs, cond("Ready", "False", "BuildFailed", 100));
        set_at(&mut cs, cond("Ready", "False", "HealthCheckFailed", 200));
        assert_eq!(cs.len(), 1);
        assert_eq!(cs[0].reason, "HealthCheckFailed");
        assert_eq!(cs[0].last_transition_time, at(100));
        set_at(
            &mut cs,
            cond("Ready", "True", "ReconciliationSucceeded", 300),
        );
        assert_eq!(cs[0].last_transition_time, at(300));
        assert!(is_ready(&cs));
    }

    #[test]
    fn ready_first_then_by_type() {
        let mut cs = vec![];
        set_at(&mut cs, cond("Reconciling", "True", "Progressing", 1));
        set_at(&mut cs, cond("Healthy", "True", "Succeeded", 1));
        set_at(&mut cs, cond("Ready", "Unknown", "Progressing", 1));
        let types: Vec<&str> = cs.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(types, ["Ready", "Healthy", "Reconciling"]);
    }

    #[test]
    fn helpers_stamp_generation_and_swap_reconciling_and_stalled() {
        let mut cs = vec![];
        mark_reconciling(&mut cs, Reason::Progressing, "working", Some(7));
        assert!(is_true(&cs, ConditionType::Reconciling));
        assert_eq!(cs[0].observed_generation, Some(7));
        mark_stalled(&mut cs, Reason::InvalidPath, "stuck", Some(7));
        assert!(find(&cs, ConditionType::Reconciling).is_none());
        assert!(is_true(&cs, ConditionType::Stalled));
        mark_false(
            &mut cs,
            ConditionType::Ready,
            Reason::BuildFailed,
            "x",
            Some(7),
        );
        assert!(is_false(&cs, "Ready"));
        mark_unknown(
            &mut cs,
            ConditionType::Ready,
            Reason::Progressing,
            "y",
            Some(8),
        );
        assert_eq!(find(&cs, "Ready").unwrap().status, "Unknown");
        assert_eq!(find(&cs, "Ready").unwrap().observed_generation, Some(8));
        assert_eq!(remove(&mut cs, "Stalled").unwrap().reason, "InvalidPath");
        assert!(remove(&mut cs, "Stalled").is_none());
    }

    #[test]
    fn long_messages_are_cut_on_a_char_boundary() {
        let mut cs = vec![];
        let long = "é".repeat(MAX_MESSAGE_BYTES);
        mark_true(&mut cs, ConditionType::Ready, Reason::Succeeded, long, None);
        assert!(cs[0].message.len() <= MAX_MESSAGE_BYTES);
        assert!(cs[0].message.len() > MAX_MESSAGE_BYTES - 2);
    }
}
