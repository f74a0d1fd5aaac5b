//! Storage, coordination, RBAC, autoscaling, policy and CRDs.

use serde_json::Value;

use super::format::{
    access_modes, age, deleting, int, int_opt, int_or_string, list, name, s, scalar, text,
};
use super::{AGE, Def, NAME, col, wide};

const STORAGE_CLASS_DOC: &str = "StorageClass of the persistent volume";
const ATTRIBUTES_CLASS_DOC: &str = "The name of the VolumeAttributesClass this volume uses.";
const VOLUME_MODE_DOC: &str = "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.";

pub const PV: &[Def] = &[
    NAME,
    col(
        "Capacity",
        "string",
        "capacity is the description of the persistent volume's resources and capacity.",
    ),
    col(
        "Access Modes",
        "string",
        "accessModes contains all ways the volume can be mounted.",
    ),
    col(
        "Reclaim Policy",
        "string",
        "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.",
    ),
    col(
        "Status",
        "string",
        "phase indicates if a volume is available, bound to a claim, or released by a claim.",
    ),
    col(
        "Claim",
        "string",
        "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.",
    ),
    col("StorageClass", "string", STORAGE_CLASS_DOC),
    col("VolumeAttributesClass", "string", ATTRIBUTES_CLASS_DOC),
    col(
        "Reason",
        "string",
        "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.",
    ),
    AGE,
    wide("VolumeMode", "string", VOLUME_MODE_DOC),
];

/// A storage quantity as written (upstream re-canonicalises it; written forms are usually
/// canonical already), `0` when unset.
fn quantity(o: &Value, pointer: &str) -> String {
    match o.pointer(pointer) {
        Some(v) if !v.is_null() => scalar(v),
        _ => "0".into(),
    }
}

fn or_unset(o: &Value, pointer: &str) -> Value {
    match text(o, pointer) {
        "" => s("<unset>"),
        v => s(v),
    }
}

/// The class of a volume or claim, from the field or the beta annotation.
fn class_of(o: &Value) -> String {
    match text(o, "/spec/storageClassName") {
        "" => text(
            o,
            "/metadata/annotations/volume.beta.kubernetes.io~1storage-class",
        )
        .into(),
        c => c.into(),
    }
}

pub fn pv(o: &Value) -> Vec<Value> {
    let claim = match o.pointer("/spec/claimRef") {
        Some(c) if !c.is_null() => format!("{}/{}", text(c, "/namespace"), text(c, "/name")),
        _ => String::new(),
    };
    let phase = if deleting(o) {
        "Terminating"
    } else {
        text(o, "/status/phase")
    };
    vec![
        name(o),
        s(quantity(o, "/spec/capacity/storage")),
        s(access_modes(list(o, "/spec/accessModes"))),
        s(text(o, "/spec/persistentVolumeReclaimPolicy")),
        s(phase),
        s(claim),
        s(class_of(o)),
        or_unset(o, "/spec/volumeAttributesClassName"),
        s(text(o, "/status/reason")),
        age(o),
        or_unset(o, "/spec/volumeMode"),
    ]
}

pub const PVC: &[Def] = &[
    NAME,
    col(
        "Status",
        "string",
        "phase represents the current phase of PersistentVolumeClaim.",
    ),
    col(
        "Volume",
        "string",
        "volumeName is the binding reference to the PersistentVolume backing this claim.",
    ),
    col(
        "Capacity",
        "string",
        "capacity represents the actual resources of the underlying volume.",
    ),
    col(
        "Access Modes",
        "string",
        "accessModes contains the actual access modes the volume backing the PVC has.",
    ),
    col("StorageClass", "string", STORAGE_CLASS_DOC),
    col("VolumeAttributesClass", "string", ATTRIBUTES_CLASS_DOC),
    AGE,
    wide("VolumeMode", "string", VOLUME_MODE_DOC),
];

pub fn pvc(o: &Value) -> Vec<Value> {
    let phase = if deleting(o) {
        "Terminating"
    } else {
        text(o, "/status/phase")
    };
    let volume = text(o, "/spec/volumeName");
    // Capacity and modes are the bound volume's, so shown only once bound.
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            quantity(o, "/status/capacity/storage"),
            access_modes(list(o, "/status/accessModes")),
        )
    };
    vec![
        name(o),
        s(phase),
        s(volume),
        s(capacity),
        s(modes),
        s(class_of(o)),
        or_unset(o, "/spec/volumeAttributesClassName"),
        age(o),
        or_unset(o, "/spec/volumeMode"),
    ]
}

pub const STORAGE_CLASS: &[Def] = &[
    NAME,
    col(
        "Provisioner",
        "string",
        "provisioner indicates the type of the provisioner.",
    ),
    col(
        "ReclaimPolicy",
        "string",
        "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.",
    ),
    col(
        "VolumeBindingMode",
        "string",
        "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.",
    ),
    col(
        "AllowVolumeExpansion",
        "string",
        "allowVolumeExpansion shows whether the storage class allow volume expand.",
    ),
    AGE,
];

pub fn storage_class(o: &Value) -> Vec<Value> {
    let annotation = |key: &str| {
        text(
            o,
            &format!("/metadata/annotations/{}", key.replace('/', "~1")),
        )
    };
    let default = annotation("storageclass.kubernetes.io/is-default-class") == "true"
        || annotation("storageclass.beta.kubernetes.io/is-default-class") == "true";
    let name_ = text(o, "/metadata/name");
    let or = |pointer: &str, fallback: &str| match text(o, pointer) {
        "" => fallback.to_string(),
        v => v.to_string(),
    };
    let expansion = o.pointer("/allowVolumeExpansion").and_then(Value::as_bool) == Some(true);
    vec![
        s(if default {
            format!("{name_} (default)")
        } else {
            name_.into()
        }),
        s(text(o, "/provisioner")),
        s(or("/reclaimPolicy", "Delete")),
        s(or("/volumeBindingMode", "Immediate")),
        s(expansion.to_string()),
        age(o),
    ]
}

pub const LEASE: &[Def] = &[
    NAME,
    col(
        "Holder",
        "string",
        "holderIdentity contains the identity of the holder of a current lease.",
    ),
    AGE,
];

pub fn lease(o: &Value) -> Vec<Value> {
    vec![name(o), s(text(o, "/spec/holderIdentity")), age(o)]
}

/// Roles, ClusterRoles and CRDs print their creation time, not an age.
pub const CREATED_AT: &[Def] = &[NAME, col("Created At", "date", super::AGE_DOC)];

pub fn created_at(o: &Value) -> Vec<Value> {
    let created = text(o, "/metadata/creationTimestamp")
        .parse::<jiff::Timestamp>()
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    vec![name(o), s(created)]
}

pub const BINDING: &[Def] = &[
    NAME,
    col(
        "Role",
        "string",
        "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.",
    ),
    AGE,
    wide("Users", "string", "Users in the roleBinding"),
    wide("Groups", "string", "Groups in the roleBinding"),
    wide(
        "ServiceAccounts",
        "string",
        "ServiceAccounts in the roleBinding",
    ),
];

pub fn binding(o: &Value) -> Vec<Value> {
    let subjects = list(o, "/subjects");
    let of = |kind: &str| {
        subjects
            .iter()
            .filter(|s| text(s, "/kind") == kind)
            .map(|s| {
                if kind == "ServiceAccount" {
                    format!("{}/{}", text(s, "/namespace"), text(s, "/name"))
                } else {
                    text(s, "/name").to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    vec![
        name(o),
        s(format!(
            "{}/{}",
            text(o, "/roleRef/kind"),
            text(o, "/roleRef/name")
        )),
        age(o),
        s(of("User")),
        s(of("Group")),
        s(of("ServiceAccount")),
    ]
}

pub const HPA: &[Def] = &[
    NAME,
    col(
        "Reference",
        "string",
        "reference to scaled resource; horizontal pod autoscaler will learn the current resource consumption and will set the desired number of pods by using its Scale subresource.",
    ),
    col(
        "Targets",
        "string",
        "the target metrics for the autoscaler.",
    ),
    col(
        "MinPods",
        "string",
        "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.",
    ),
    col(
        "MaxPods",
        "string",
        "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.",
    ),
    col(
        "Replicas",
        "string",
        "current number of replicas of pods managed by this autoscaler.",
    ),
    AGE,
];

/// `formatHPAMetrics` for resource metrics (the common case): `cpu: 40%/80%`, `<unknown>`
/// for values not observed yet; other metric kinds show `<unknown>/target`.
fn hpa_targets(o: &Value) -> String {
    let metrics = list(o, "/spec/metrics");
    if metrics.is_empty() {
        return "<none>".into();
    }
    let current = list(o, "/status/currentMetrics");
    let parts: Vec<String> = metrics
        .iter()
        .map(|m| {
            let kind = text(m, "/type");
            if kind == "Resource" || kind == "ContainerResource" {
                let field = if kind == "Resource" {
                    "/resource"
                } else {
                    "/containerResource"
                };
                let resource = text(m, &format!("{field}/name"));
                let observed = current.iter().find(|c| {
                    text(c, "/type") == kind && text(c, &format!("{field}/name")) == resource
                });
                if let Some(target) = int_opt(m, &format!("{field}/target/averageUtilization")) {
                    let now = observed
                        .and_then(|c| int_opt(c, &format!("{field}/current/averageUtilization")))
                        .map_or_else(|| "<unknown>".to_string(), |v| format!("{v}%"));
                    return format!("{resource}: {now}/{target}%");
                }
                let target = scalar(
                    m.pointer(&format!("{field}/target/averageValue"))
                        .unwrap_or(&Value::Null),
                );
                let now = observed
                    .and_then(|c| c.pointer(&format!("{field}/current/averageValue")))
                    .map_or_else(|| "<unknown>".to_string(), scalar);
                return format!("{resource}: {now}/{target}");
            }
            "<unknown>".to_string()
        })
        .collect();
    parts.join(", ")
}

pub fn hpa(o: &Value) -> Vec<Value> {
    let min = match int_opt(o, "/spec/minReplicas") {
        Some(m) => m.to_string(),
        None => "<unset>".into(),
    };
    vec![
        name(o),
        s(format!(
            "{}/{}",
            text(o, "/spec/scaleTargetRef/kind"),
            text(o, "/spec/scaleTargetRef/name")
        )),
        s(hpa_targets(o)),
        s(min),
        Value::from(int(o, "/spec/maxReplicas")),
        Value::from(int(o, "/status/currentReplicas")),
        age(o),
    ]
}

pub const PDB: &[Def] = &[
    NAME,
    col(
        "Min Available",
        "string",
        "The minimum number of pods that must be available simultaneously.  This can be either an integer or a string specifying a percentage, e.g. \"28%\".",
    ),
    col(
        "Max Unavailable",
        "string",
        "The maximum number of pods that may be unavailable simultaneously.  This can be either an integer or a string specifying a percentage, e.g. \"28%\".",
    ),
    col(
        "Allowed Disruptions",
        "integer",
        "Calculated number of pods that may be disrupted at this time.",
    ),
    AGE,
];

pub fn pdb(o: &Value) -> Vec<Value> {
    vec![
        name(o),
        s(int_or_string(o, "/spec/minAvailable")),
        s(int_or_string(o, "/spec/maxUnavailable")),
        Value::from(int(o, "/status/disruptionsAllowed")),
        age(o),
    ]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn volumes_and_claims() {
        let v = json!({"metadata": {"name": "pv1"},
            "spec": {"capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteMany", "ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "fast",
                "claimRef": {"namespace": "ns", "name": "data"}, "volumeMode": "Filesystem"},
            "status": {"phase": "Bound"}});
        assert_eq!(
            pv(&v)[1..9],
            [
                json!("10Gi"),
                json!("RWO,RWX"),
                json!("Retain"),
                json!("Bound"),
                json!("ns/data"),
                json!("fast"),
                json!("<unset>"),
                json!("")
            ]
        );
        assert_eq!(pv(&v)[10], json!("Filesystem"));
        let pending = json!({"spec": {"resources": {"requests": {"storage": "1Gi"}}},
            "status": {"phase": "Pending"}});
        assert_eq!(
            pvc(&pending)[1..5],
            [json!("Pending"), json!(""), json!(""), json!("")]
        );
        let bound = json!({"spec": {"volumeName": "pv1"},
            "status": {"phase": "Bound", "capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"]}});
        assert_eq!(
            pvc(&bound)[1..5],
            [json!("Bound"), json!("pv1"), json!("10Gi"), json!("RWO")]
        );
    }

    #[test]
    fn storage_classes_mark_the_default() {
        let sc = json!({"metadata": {"name": "standard", "annotations":
            {"storageclass.kubernetes.io/is-default-class": "true"}}, "provisioner": "x.io/p"});
        assert_eq!(
            storage_class(&sc)[..5],
            [
                json!("standard (default)"),
                json!("x.io/p"),
                json!("Delete"),
                json!("Immediate"),
                json!("false")
            ]
        );
    }

    #[test]
    fn rbac_leases_and_crds() {
        let b = json!({"roleRef": {"kind": "ClusterRole", "name": "view"}, "subjects": [
            {"kind": "User", "name": "alice"}, {"kind": "User", "name": "bob"},
            {"kind": "Group", "name": "devs"},
            {"kind": "ServiceAccount", "namespace": "ci", "name": "runner"}]});
        let row = binding(&b);
        assert_eq!(row[1], json!("ClusterRole/view"));
        assert_eq!(
            row[3..],
            [json!("alice, bob"), json!("devs"), json!("ci/runner")]
        );
        let r = json!({"metadata": {"name": "r", "creationTimestamp": "2024-05-01T10:00:00Z"}});
        assert_eq!(
            created_at(&r),
            vec![json!("r"), json!("2024-05-01T10:00:00Z")]
        );
        assert_eq!(
            lease(&json!({"spec": {"holderIdentity": "node-a"}}))[1],
            json!("node-a")
        );
    }

    #[test]
    fn autoscalers_and_disruption_budgets() {
        let h = json!({"spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"},
            "minReplicas": 2, "maxReplicas": 5,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 80}}}]},
            "status": {"currentReplicas": 2}});
        assert_eq!(
            hpa(&h)[1..6],
            [
                json!("Deployment/web"),
                json!("cpu: <unknown>/80%"),
                json!("2"),
                json!(5),
                json!(2)
            ]
        );
        let p = json!({"spec": {"minAvailable": "50%"}, "status": {"disruptionsAllowed": 1}});
        assert_eq!(pdb(&p)[1..4], [json!("50%"), json!("N/A"), json!(1)]);
    }
}
