//! The manifests `tether install` applies and `tether bootstrap` commits: tether's CRDs, its
//! namespace, a ServiceAccount bound to cluster-admin (the controller applies whatever the
//! repository holds, as Flux's kustomize-controller does), a Deployment running
//! `tether controller`, a Service for its artifact server, and Flux's `webhook-receiver`
//! Service for Receiver webhooks (expose it with an Ingress to let GitHub reach it).

use serde_json::{Value, json};

/// The label every component carries; `tether uninstall` finds them by it.
pub const PART_OF: (&str, &str) = ("app.kubernetes.io/part-of", "tether");
/// The controller's name: Deployment, ServiceAccount, Service and leader Lease prefix.
pub const CONTROLLER: &str = "tether-controller";
/// The Lease the controller holds while it works (`tether controller`'s default).
pub const LEADER_LEASE: &str = "tether-controller-leader-election";
/// The Service in front of the Receiver webhook server (Flux's name).
pub const WEBHOOK_RECEIVER: &str = "webhook-receiver";
/// The default image: tether's release of this version.
pub const DEFAULT_IMAGE: &str =
    concat!("ghcr.io/tether-gitops/tether:v", env!("CARGO_PKG_VERSION"));

/// What the install may vary.
#[derive(Debug, Clone, clap::Args)]
pub struct ComponentFlags {
    /// Container image running `tether controller`.
    #[arg(long, default_value = DEFAULT_IMAGE)]
    pub image: String,
    /// Secret with the registry credentials for the image.
    #[arg(long, value_name = "NAME")]
    pub image_pull_secret: Option<String>,
    /// Reconciles at once, per kind.
    #[arg(long, default_value_t = 4)]
    pub concurrent: u16,
    /// The controller's log filter.
    #[arg(long, default_value = "info")]
    pub log_level: String,
    /// The cluster's DNS domain (for the artifact URLs the Service answers).
    #[arg(long, default_value = "cluster.local")]
    pub cluster_domain: String,
}

/// The components for namespace `namespace`, in apply order.
pub fn components(flags: &ComponentFlags, namespace: &str) -> Vec<Value> {
    let labels = labels(namespace);
    let with_labels = |mut object: Value| {
        let meta = &mut object["metadata"];
        let mut all = labels.clone();
        if let Some(own) = meta["labels"].as_object() {
            all.extend(own.clone());
        }
        meta["labels"] = Value::Object(all);
        object
    };
    let mut objects = vec![with_labels(json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": namespace, "labels": {
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/warn-version": "latest",
        }},
    }))];
    for crd in tether_api::crds() {
        // CRDs are plain data; serialising them cannot fail.
        if let Ok(value) = serde_json::to_value(&crd) {
            objects.push(with_labels(value));
        }
    }
    objects.push(with_labels(json!({
        "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": CONTROLLER, "namespace": namespace},
    })));
    objects.push(with_labels(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": format!("cluster-reconciler-{namespace}")},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": CONTROLLER, "namespace": namespace}],
    })));
    objects.push(with_labels(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": CONTROLLER, "namespace": namespace},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": CONTROLLER},
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}],
        },
    })));
    objects.push(with_labels(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": WEBHOOK_RECEIVER, "namespace": namespace},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": CONTROLLER},
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http-webhook"}],
        },
    })));
    objects.push(with_labels(deployment(flags, namespace)));
    objects
}

fn labels(namespace: &str) -> serde_json::Map<String, Value> {
    let mut labels = serde_json::Map::new();
    labels.insert("app.kubernetes.io/instance".into(), namespace.into());
    labels.insert(PART_OF.0.into(), PART_OF.1.into());
    labels.insert(
        "app.kubernetes.io/version".into(),
        concat!("v", env!("CARGO_PKG_VERSION")).into(),
    );
    labels
}

fn deployment(flags: &ComponentFlags, namespace: &str) -> Value {
    let args = [
        "controller".to_owned(),
        format!("--log={}", flags.log_level),
        format!("--concurrent={}", flags.concurrent),
        "--storage-path=/data".to_owned(),
        "--storage-addr=0.0.0.0:9090".to_owned(),
        format!(
            "--storage-adv-addr={CONTROLLER}.$(RUNTIME_NAMESPACE).svc.{}.",
            flags.cluster_domain
        ),
        "--metrics-addr=0.0.0.0:8080".to_owned(),
        "--receiver-addr=0.0.0.0:9292".to_owned(),
        "--leader-election-namespace=$(RUNTIME_NAMESPACE)".to_owned(),
    ];
    let probe = |path: &str| json!({"httpGet": {"path": path, "port": "http-prom"}});
    let mut pod = json!({
        "serviceAccountName": CONTROLLER,
        "terminationGracePeriodSeconds": 60,
        "securityContext": {"fsGroup": 1337},
        "containers": [{
            "name": "manager",
            "image": flags.image,
            "imagePullPolicy": "IfNotPresent",
            "args": args,
            "env": [{"name": "RUNTIME_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}],
            "ports": [
                {"containerPort": 9090, "name": "http", "protocol": "TCP"},
                {"containerPort": 8080, "name": "http-prom", "protocol": "TCP"},
                {"containerPort": 9292, "name": "http-webhook", "protocol": "TCP"},
            ],
            "readinessProbe": probe("/readyz"),
            "livenessProbe": probe("/healthz"),
            "resources": {
                "requests": {"cpu": "100m", "memory": "64Mi"},
                "limits": {"cpu": "1000m", "memory": "1Gi"},
            },
            "securityContext": {
                "allowPrivilegeEscalation": false,
                "readOnlyRootFilesystem": true,
                "runAsNonRoot": true,
                "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "volumeMounts": [
                {"name": "data", "mountPath": "/data"},
                {"name": "tmp", "mountPath": "/tmp"},
            ],
        }],
        "volumes": [{"name": "data", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
    });
    if let Some(secret) = &flags.image_pull_secret {
        pod["imagePullSecrets"] = json!([{"name": secret}]);
    }
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": CONTROLLER, "namespace": namespace, "labels": {"control-plane": "controller"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": CONTROLLER}},
            "template": {
                "metadata": {
                    "labels": {"app": CONTROLLER},
                    "annotations": {"prometheus.io/port": "8080", "prometheus.io/scrape": "true"},
                },
                "spec": pod,
            },
        },
    })
}

/// `objects` as a multi-document YAML stream.
pub fn to_yaml_stream(header: &str, objects: &[Value]) -> String {
    let mut out = String::from(header);
    for object in objects {
        out.push_str("---\n");
        out.push_str(&tether_yaml::to_yaml(object));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags() -> ComponentFlags {
        ComponentFlags {
            image: "registry.local/tether:dev".into(),
            image_pull_secret: Some("regcred".into()),
            concurrent: 8,
            log_level: "debug".into(),
            cluster_domain: "cluster.local".into(),
        }
    }

    #[test]
    fn every_component_is_labelled_and_namespaced_where_it_should_be() {
        let objects = components(&flags(), "gitops");
        let kinds: Vec<&str> = objects.iter().filter_map(|o| o["kind"].as_str()).collect();
        assert_eq!(
            kinds,
            [
                "Namespace",
                "CustomResourceDefinition",
                "CustomResourceDefinition",
                "CustomResourceDefinition",
                "ServiceAccount",
                "ClusterRoleBinding",
                "Service",
                "Service",
                "Deployment"
            ]
        );
        for o in &objects {
            assert_eq!(o["metadata"]["labels"][PART_OF.0], PART_OF.1, "{o}");
            assert_eq!(
                o["metadata"]["labels"]["app.kubernetes.io/instance"],
                "gitops"
            );
            let namespaced = !matches!(
                o["kind"].as_str(),
                Some("Namespace" | "CustomResourceDefinition" | "ClusterRoleBinding")
            );
            assert_eq!(o["metadata"]["namespace"].is_string(), namespaced, "{o}");
        }
    }

    #[test]
    fn the_deployment_runs_the_controller_with_the_flags_given() {
        let objects = components(&flags(), "gitops");
        let deploy = objects.last().unwrap();
        let pod = &deploy["spec"]["template"]["spec"];
        assert_eq!(pod["containers"][0]["image"], "registry.local/tether:dev");
        assert_eq!(pod["imagePullSecrets"][0]["name"], "regcred");
        let args: Vec<&str> = pod["containers"][0]["args"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(args.contains(&"--concurrent=8"), "{args:?}");
        assert!(args.contains(&"--log=debug"), "{args:?}");
        assert!(args.contains(&"--receiver-addr=0.0.0.0:9292"), "{args:?}");
        let webhook = objects
            .iter()
            .find(|o| o["metadata"]["name"] == WEBHOOK_RECEIVER)
            .unwrap();
        assert_eq!(webhook["spec"]["ports"][0]["targetPort"], "http-webhook");
        assert!(
            pod["containers"][0]["ports"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "http-webhook" && p["containerPort"] == 9292)
        );
        assert!(
            args.contains(
                &"--storage-adv-addr=tether-controller.$(RUNTIME_NAMESPACE).svc.cluster.local."
            ),
            "{args:?}"
        );
        assert_eq!(
            deploy["spec"]["selector"]["matchLabels"],
            deploy["spec"]["template"]["metadata"]["labels"]
        );
    }
}
