//! kube-apiserver's printers for the built-in kinds (`pkg/printers/internalversion`): each
//! resource's column definitions and the function computing a row's cells. The server always
//! prints wide tables; `kubectl` hides the priority-1 columns unless asked for `-o wide`.

mod admin;
mod cluster;
mod core;
mod format;
mod workloads;

use serde_json::Value;

/// One column definition, as upstream declares it.
pub struct Def {
    pub name: &'static str,
    pub type_: &'static str,
    pub format: &'static str,
    pub description: &'static str,
    pub priority: i64,
}

/// Computes an object's row: one cell per column, in order.
pub type Row = fn(&Value) -> Vec<Value>;

/// A resource's columns and row function.
pub struct Printer {
    pub columns: &'static [Def],
    pub row: Row,
}

pub const NAME_DOC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
pub const AGE_DOC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// A column; `wide` ones have priority 1.
const fn col(name: &'static str, type_: &'static str, description: &'static str) -> Def {
    Def {
        name,
        type_,
        format: "",
        description,
        priority: 0,
    }
}

const fn wide(name: &'static str, type_: &'static str, description: &'static str) -> Def {
    Def {
        name,
        type_,
        format: "",
        description,
        priority: 1,
    }
}

const NAME: Def = Def {
    name: "Name",
    type_: "string",
    format: "name",
    description: NAME_DOC,
    priority: 0,
};
const AGE: Def = col("Age", "string", AGE_DOC);
const CONTAINERS: Def = wide(
    "Containers",
    "string",
    "Names of each container in the template.",
);
const IMAGES: Def = wide(
    "Images",
    "string",
    "Images referenced by each container in the template.",
);
const SELECTOR: Def = wide("Selector", "string", "The label selector of the pods.");

/// The printer of a built-in resource, by API group and plural name.
pub fn for_resource(group: &str, resource: &str) -> Option<Printer> {
    fn p(columns: &'static [Def], row: Row) -> Option<Printer> {
        Some(Printer { columns, row })
    }
    match (group, resource) {
        ("", "pods") => p(workloads::POD, workloads::pod),
        ("apps", "deployments") => p(workloads::DEPLOYMENT, workloads::deployment),
        ("apps", "replicasets") => p(workloads::REPLICA_SET, workloads::replica_set),
        ("", "replicationcontrollers") => p(workloads::REPLICA_SET, workloads::replica_set),
        ("apps", "statefulsets") => p(workloads::STATEFUL_SET, workloads::stateful_set),
        ("apps", "daemonsets") => p(workloads::DAEMON_SET, workloads::daemon_set),
        ("batch", "jobs") => p(workloads::JOB, workloads::job),
        ("batch", "cronjobs") => p(workloads::CRON_JOB, workloads::cron_job),
        ("", "services") => p(core::SERVICE, core::service),
        ("", "endpoints") => p(core::ENDPOINTS, core::endpoints),
        ("networking.k8s.io", "ingresses") => p(core::INGRESS, core::ingress),
        ("networking.k8s.io", "networkpolicies") => p(core::NETWORK_POLICY, core::network_policy),
        ("", "configmaps") => p(core::CONFIG_MAP, core::config_map),
        ("", "secrets") => p(core::SECRET, core::secret),
        ("", "serviceaccounts") => p(core::SERVICE_ACCOUNT, core::service_account),
        ("", "namespaces") => p(core::NAMESPACE, core::namespace),
        ("", "nodes") => p(core::NODE, core::node),
        ("", "events") => p(core::EVENT, core::event),
        ("events.k8s.io", "events") => p(core::EVENT, core::event_v1),
        ("", "persistentvolumes") => p(cluster::PV, cluster::pv),
        ("", "persistentvolumeclaims") => p(cluster::PVC, cluster::pvc),
        ("storage.k8s.io", "storageclasses") => p(cluster::STORAGE_CLASS, cluster::storage_class),
        ("coordination.k8s.io", "leases") => p(cluster::LEASE, cluster::lease),
        ("rbac.authorization.k8s.io", "roles" | "clusterroles") => {
            p(cluster::CREATED_AT, cluster::created_at)
        }
        ("rbac.authorization.k8s.io", "rolebindings" | "clusterrolebindings") => {
            p(cluster::BINDING, cluster::binding)
        }
        ("apiextensions.k8s.io", "customresourcedefinitions") => {
            p(cluster::CREATED_AT, cluster::created_at)
        }
        ("autoscaling", "horizontalpodautoscalers") => p(cluster::HPA, cluster::hpa),
        ("policy", "poddisruptionbudgets") => p(cluster::PDB, cluster::pdb),
        ("networking.k8s.io", "ingressclasses") => p(admin::INGRESS_CLASS, admin::ingress_class),
        ("scheduling.k8s.io", "priorityclasses") => p(admin::PRIORITY_CLASS, admin::priority_class),
        ("node.k8s.io", "runtimeclasses") => p(admin::RUNTIME_CLASS, admin::runtime_class),
        ("apps", "controllerrevisions") => {
            p(admin::CONTROLLER_REVISION, admin::controller_revision)
        }
        (
            "admissionregistration.k8s.io",
            "validatingwebhookconfigurations" | "mutatingwebhookconfigurations",
        ) => p(admin::WEBHOOK_CONFIGURATION, admin::webhook_configuration),
        ("", "podtemplates") => p(admin::POD_TEMPLATE, admin::pod_template),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row has exactly one cell per column, whatever the object holds.
    #[test]
    fn rows_match_their_columns() {
        let resources = [
            ("", "pods"),
            ("apps", "deployments"),
            ("apps", "replicasets"),
            ("", "replicationcontrollers"),
            ("apps", "statefulsets"),
            ("apps", "daemonsets"),
            ("batch", "jobs"),
            ("batch", "cronjobs"),
            ("", "services"),
            ("", "endpoints"),
            ("networking.k8s.io", "ingresses"),
            ("networking.k8s.io", "networkpolicies"),
            ("", "configmaps"),
            ("", "secrets"),
            ("", "serviceaccounts"),
            ("", "namespaces"),
            ("", "nodes"),
            ("", "events"),
            ("events.k8s.io", "events"),
            ("", "persistentvolumes"),
            ("", "persistentvolumeclaims"),
            ("storage.k8s.io", "storageclasses"),
            ("coordination.k8s.io", "leases"),
            ("rbac.authorization.k8s.io", "roles"),
            ("rbac.authorization.k8s.io", "clusterrolebindings"),
            ("apiextensions.k8s.io", "customresourcedefinitions"),
            ("autoscaling", "horizontalpodautoscalers"),
            ("policy", "poddisruptionbudgets"),
            ("networking.k8s.io", "ingressclasses"),
            ("scheduling.k8s.io", "priorityclasses"),
            ("node.k8s.io", "runtimeclasses"),
            ("apps", "controllerrevisions"),
            (
                "admissionregistration.k8s.io",
                "mutatingwebhookconfigurations",
            ),
            ("", "podtemplates"),
        ];
        for (group, resource) in resources {
            let p = for_resource(group, resource)
                .unwrap_or_else(|| panic!("no printer for {group}/{resource}"));
            for o in [
                serde_json::json!({}),
                serde_json::json!({"metadata": {"name": "x"}}),
            ] {
                assert_eq!(
                    (p.row)(&o).len(),
                    p.columns.len(),
                    "{group}/{resource} with {o}"
                );
            }
        }
        assert!(for_resource("example.com", "widgets").is_none());
    }
}
