//! Services and networking, configuration, namespaces, nodes and events.

use serde_json::Value;

use super::format::{
    age, int, labels, list, load_balancer, map, name, or_none, s, scalar, selector, since, text,
};
use super::{AGE, Def, NAME, col, wide};

pub const SERVICE: &[Def] = &[
    NAME,
    col(
        "Type",
        "string",
        "type determines how the Service is exposed.",
    ),
    col(
        "Cluster-IP",
        "string",
        "clusterIP is the IP address of the service and is usually assigned randomly.",
    ),
    col(
        "External-IP",
        "string",
        "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
    ),
    col(
        "Port(s)",
        "string",
        "The list of ports that are exposed by this service.",
    ),
    AGE,
    wide(
        "Selector",
        "string",
        "Route service traffic to pods with label keys and values matching this selector.",
    ),
];

/// `getServiceExternalIP`, wide.
fn external_ip(o: &Value, type_: &str) -> String {
    let external: Vec<String> = list(o, "/spec/externalIPs").iter().map(scalar).collect();
    match type_ {
        "ClusterIP" | "NodePort" => or_none(&external.join(",")),
        "LoadBalancer" => {
            let lb = load_balancer(o, "/status/loadBalancer/ingress");
            let mut all = external;
            if !lb.is_empty() {
                all.push(lb);
            }
            if all.is_empty() {
                "<pending>".into()
            } else {
                all.join(",")
            }
        }
        "ExternalName" => text(o, "/spec/externalName").into(),
        _ => "<unknown>".into(),
    }
}

/// `makePortString`: `port[:nodePort]/protocol`, comma-joined.
fn ports(o: &Value) -> String {
    let ports: Vec<String> = list(o, "/spec/ports")
        .iter()
        .map(|p| {
            let protocol = match text(p, "/protocol") {
                "" => "TCP",
                other => other,
            };
            match int(p, "/nodePort") {
                0 => format!("{}/{protocol}", int(p, "/port")),
                node => format!("{}:{node}/{protocol}", int(p, "/port")),
            }
        })
        .collect();
    or_none(&ports.join(","))
}

pub fn service(o: &Value) -> Vec<Value> {
    // The API defaults the type to ClusterIP.
    let type_ = match text(o, "/spec/type") {
        "" => "ClusterIP",
        t => t,
    };
    let cluster_ip = list(o, "/spec/clusterIPs")
        .first()
        .and_then(Value::as_str)
        .unwrap_or_else(|| text(o, "/spec/clusterIP"));
    vec![
        name(o),
        s(type_),
        s(or_none(cluster_ip)),
        s(external_ip(o, type_)),
        s(ports(o)),
        age(o),
        s(labels(map(o, "/spec/selector"))),
    ]
}

/// At most three entries, then `+ N more...`, as upstream abbreviates lists.
fn abbreviate(items: &[String], total: usize) -> String {
    let shown = items.iter().take(3).cloned().collect::<Vec<_>>().join(",");
    if total > 3 {
        format!("{shown} + {} more...", total - 3)
    } else {
        shown
    }
}

pub const ENDPOINTS: &[Def] = &[
    NAME,
    col(
        "Endpoints",
        "string",
        "The set of all endpoints is the union of all subsets.",
    ),
    AGE,
];

/// `formatEndpoints`: `ip:port` per address and port, abbreviated after three.
pub fn endpoints(o: &Value) -> Vec<Value> {
    let subsets = list(o, "/subsets");
    let cell = if subsets.is_empty() {
        "<none>".to_string()
    } else {
        let mut all = Vec::new();
        for ss in subsets {
            let addresses = list(ss, "/addresses");
            let ports = list(ss, "/ports");
            if ports.is_empty() {
                all.extend(addresses.iter().map(|a| text(a, "/ip").to_string()));
            }
            for p in ports {
                for a in addresses {
                    let ip = text(a, "/ip");
                    let port = int(p, "/port");
                    all.push(if ip.contains(':') {
                        format!("[{ip}]:{port}")
                    } else {
                        format!("{ip}:{port}")
                    });
                }
            }
        }
        abbreviate(&all, all.len())
    };
    vec![name(o), s(cell), age(o)]
}

pub const INGRESS: &[Def] = &[
    NAME,
    col(
        "Class",
        "string",
        "The name of the IngressClass resource that should be used for this Ingress.",
    ),
    col(
        "Hosts",
        "string",
        "Hosts that incoming requests are matched against before the ingress rule",
    ),
    col(
        "Address",
        "string",
        "Address is a list containing ingress points for the load-balancer",
    ),
    col("Ports", "string", "Ports of TLS configurations that open"),
    AGE,
];

pub fn ingress(o: &Value) -> Vec<Value> {
    let rules = list(o, "/spec/rules");
    // `formatHosts`: up to three hosts; rules past the third host count as "more".
    let mut hosts: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules {
        if hosts.len() == 3 {
            more = true;
        }
        let host = text(rule, "/host");
        if !more && !host.is_empty() {
            hosts.push(host);
        }
    }
    let hosts = if hosts.is_empty() {
        "*".to_string()
    } else if more {
        format!("{} + {} more...", hosts.join(","), rules.len() - 3)
    } else {
        hosts.join(",")
    };
    let ports = if list(o, "/spec/tls").is_empty() {
        "80"
    } else {
        "80, 443"
    };
    vec![
        name(o),
        s(or_none(text(o, "/spec/ingressClassName"))),
        s(hosts),
        s(load_balancer(o, "/status/loadBalancer/ingress")),
        s(ports),
        age(o),
    ]
}

pub const NETWORK_POLICY: &[Def] = &[
    NAME,
    col(
        "Pod-Selector",
        "string",
        "Selects the pods to which this NetworkPolicy object applies.",
    ),
    AGE,
];

pub fn network_policy(o: &Value) -> Vec<Value> {
    vec![name(o), s(selector(o.pointer("/spec/podSelector"))), age(o)]
}

pub const CONFIG_MAP: &[Def] = &[
    NAME,
    col("Data", "string", "Number of keys in the ConfigMap."),
    AGE,
];

fn count(o: &Value, pointer: &str) -> usize {
    map(o, pointer).map_or(0, |m| m.len())
}

pub fn config_map(o: &Value) -> Vec<Value> {
    let keys = count(o, "/data") + count(o, "/binaryData");
    vec![name(o), Value::from(keys), age(o)]
}

pub const SECRET: &[Def] = &[
    NAME,
    col("Type", "string", "The type of the secret"),
    col("Data", "string", "The number of entries in the secret"),
    AGE,
];

pub fn secret(o: &Value) -> Vec<Value> {
    // The API defaults the type to Opaque; stringData merges into data on write.
    let type_ = match text(o, "/type") {
        "" => "Opaque",
        t => t,
    };
    let mut keys: Vec<&String> = map(o, "/data")
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
        .collect();
    keys.extend(map(o, "/stringData").into_iter().flatten().map(|(k, _)| k));
    keys.sort();
    keys.dedup();
    vec![name(o), s(type_), Value::from(keys.len()), age(o)]
}

pub const SERVICE_ACCOUNT: &[Def] = &[
    NAME,
    col(
        "Secrets",
        "string",
        "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
    ),
    AGE,
];

/// 1.33 still counts `secrets` (the column goes in 1.34).
pub fn service_account(o: &Value) -> Vec<Value> {
    vec![name(o), Value::from(list(o, "/secrets").len()), age(o)]
}

pub const NAMESPACE: &[Def] = &[
    NAME,
    col("Status", "string", "The status of the namespace"),
    AGE,
];

pub fn namespace(o: &Value) -> Vec<Value> {
    vec![name(o), s(text(o, "/status/phase")), age(o)]
}

pub const NODE: &[Def] = &[
    NAME,
    col("Status", "string", "The status of the node"),
    col("Roles", "string", "The roles of the node"),
    AGE,
    col("Version", "string", "Kubelet Version reported by the node."),
    wide(
        "Internal-IP",
        "string",
        "List of addresses reachable to the node.",
    ),
    wide(
        "External-IP",
        "string",
        "List of addresses reachable to the node.",
    ),
    wide(
        "OS-Image",
        "string",
        "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
    ),
    wide(
        "Kernel-Version",
        "string",
        "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
    ),
    wide(
        "Container-Runtime",
        "string",
        "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
    ),
];

pub fn node(o: &Value) -> Vec<Value> {
    let conditions = list(o, "/status/conditions");
    let mut status = Vec::new();
    if let Some(c) = conditions
        .iter()
        .rev()
        .find(|c| text(c, "/type") == "Ready")
    {
        status.push(if text(c, "/status") == "True" {
            "Ready"
        } else {
            "NotReady"
        });
    } else {
        status.push("Unknown");
    }
    if o.pointer("/spec/unschedulable") == Some(&Value::Bool(true)) {
        status.push("SchedulingDisabled");
    }
    // `findNodeRoles`: `node-role.kubernetes.io/<role>` keys and the `kubernetes.io/role` value.
    let mut roles: Vec<String> = Vec::new();
    for (k, v) in map(o, "/metadata/labels").into_iter().flatten() {
        if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
            if !role.is_empty() {
                roles.push(role.into());
            }
        } else if k == "kubernetes.io/role" && !scalar(v).is_empty() {
            roles.push(scalar(v));
        }
    }
    roles.sort();
    roles.dedup();
    let address = |type_: &str| {
        list(o, "/status/addresses")
            .iter()
            .find(|a| text(a, "/type") == type_)
            .map_or_else(|| "<none>".to_string(), |a| text(a, "/address").into())
    };
    let info = |field: &str| match text(o, &format!("/status/nodeInfo/{field}")) {
        "" => "<unknown>".to_string(),
        v => v.into(),
    };
    vec![
        name(o),
        s(status.join(",")),
        s(or_none(&roles.join(","))),
        age(o),
        s(text(o, "/status/nodeInfo/kubeletVersion")),
        s(address("InternalIP")),
        s(address("ExternalIP")),
        s(info("osImage")),
        s(info("kernelVersion")),
        s(info("containerRuntimeVersion")),
    ]
}

pub const EVENT: &[Def] = &[
    col(
        "Last Seen",
        "string",
        "The time at which the most recent occurrence of this event was recorded.",
    ),
    col(
        "Type",
        "string",
        "Type of this event (Normal, Warning), new types could be added in the future",
    ),
    col(
        "Reason",
        "string",
        "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    col("Object", "string", "The object that this event is about."),
    wide(
        "Subobject",
        "string",
        "If the reference is to an object component, the path to it, such as spec.containers{name}.",
    ),
    wide(
        "Source",
        "string",
        "The component reporting this event. Should be a short machine understandable string.",
    ),
    col(
        "Message",
        "string",
        "A human-readable description of the status of this operation.",
    ),
    wide(
        "First Seen",
        "string",
        "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
    ),
    wide(
        "Count",
        "string",
        "The number of times this event has occurred.",
    ),
    Def {
        priority: 1,
        ..NAME
    },
];

/// The fields of an event, named as core/v1 names them.
struct EventFields<'a> {
    first: &'a str,
    last: &'a str,
    event_time: &'a str,
    series_last: &'a str,
    series_count: Option<i64>,
    count: i64,
    regarding: Option<&'a Value>,
    component: &'a str,
    host: &'a str,
    message: &'a str,
}

fn event_row(o: &Value, e: EventFields) -> Vec<Value> {
    let first = if e.first.is_empty() {
        since(e.event_time)
    } else {
        since(e.first)
    };
    let mut last = if e.last.is_empty() {
        first.clone()
    } else {
        since(e.last)
    };
    let count = match e.series_count {
        Some(c) => {
            last = since(e.series_last);
            c
        }
        // Singleton events carry no count in events.k8s.io.
        None if e.count == 0 => 1,
        None => e.count,
    };
    let regarding = e.regarding.unwrap_or(&Value::Null);
    let kind = text(regarding, "/kind").to_lowercase();
    let target = match text(regarding, "/name") {
        "" => kind,
        n => format!("{kind}/{n}"),
    };
    let component = if e.component.is_empty() {
        text(o, "/reportingController")
    } else {
        e.component
    };
    let host = if e.host.is_empty() {
        text(o, "/reportingInstance")
    } else {
        e.host
    };
    let source = if host.is_empty() {
        component.to_string()
    } else {
        format!("{component}, {host}")
    };
    vec![
        s(last),
        s(text(o, "/type")),
        s(text(o, "/reason")),
        s(target),
        s(text(regarding, "/fieldPath")),
        s(source),
        s(e.message.trim()),
        s(first),
        Value::from(count),
        name(o),
    ]
}

/// core/v1 events.
pub fn event(o: &Value) -> Vec<Value> {
    let fields = EventFields {
        first: text(o, "/firstTimestamp"),
        last: text(o, "/lastTimestamp"),
        event_time: text(o, "/eventTime"),
        series_last: text(o, "/series/lastObservedTime"),
        series_count: o.pointer("/series").map(|s| int(s, "/count")),
        count: int(o, "/count"),
        regarding: o.pointer("/involvedObject"),
        component: text(o, "/source/component"),
        host: text(o, "/source/host"),
        message: text(o, "/message"),
    };
    event_row(o, fields)
}

/// events.k8s.io/v1 events, which upstream prints through their core/v1 form.
pub fn event_v1(o: &Value) -> Vec<Value> {
    let fields = EventFields {
        first: text(o, "/deprecatedFirstTimestamp"),
        last: text(o, "/deprecatedLastTimestamp"),
        event_time: text(o, "/eventTime"),
        series_last: text(o, "/series/lastObservedTime"),
        series_count: o.pointer("/series").map(|s| int(s, "/count")),
        count: int(o, "/deprecatedCount"),
        regarding: o.pointer("/regarding"),
        component: text(o, "/deprecatedSource/component"),
        host: text(o, "/deprecatedSource/host"),
        message: text(o, "/note"),
    };
    event_row(o, fields)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn services_show_type_ips_and_ports() {
        let svc = json!({"metadata": {"name": "web"},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
                "selector": {"app": "web"},
                "ports": [{"port": 80, "protocol": "TCP"}, {"port": 443}]}});
        assert_eq!(
            service(&svc)[1..5],
            [
                json!("ClusterIP"),
                json!("10.96.0.10"),
                json!("<none>"),
                json!("80/TCP,443/TCP")
            ]
        );
        assert_eq!(service(&svc)[6], json!("app=web"));
        let lb = json!({"spec": {"type": "LoadBalancer", "clusterIP": "10.0.0.1",
            "ports": [{"port": 80, "nodePort": 30080, "protocol": "UDP"}]}});
        assert_eq!(
            service(&lb)[3..5],
            [json!("<pending>"), json!("80:30080/UDP")]
        );
        let mut lb_ready = lb.clone();
        lb_ready["status"] =
            json!({"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}, {"hostname": "lb.example"}]}});
        assert_eq!(service(&lb_ready)[3], json!("1.2.3.4,lb.example"));
        let ext = json!({"spec": {"type": "ExternalName", "externalName": "db.example"}});
        assert_eq!(
            service(&ext)[2..6][..3],
            [json!("<none>"), json!("db.example"), json!("<none>")]
        );
        assert_eq!(service(&ext)[6], json!("<none>"));
    }

    #[test]
    fn endpoints_and_ingresses() {
        let ep = json!({"subsets": [{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}],
            "ports": [{"port": 80}, {"port": 443}]}]});
        assert_eq!(
            endpoints(&ep)[1],
            json!("10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...")
        );
        assert_eq!(endpoints(&json!({}))[1], json!("<none>"));
        let ing = json!({"spec": {"ingressClassName": "nginx",
            "rules": [{"host": "a.example"}, {"host": "b.example"}, {}, {"host": "d.example"}],
            "tls": [{"hosts": ["a.example"]}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "5.6.7.8"}]}}});
        assert_eq!(
            ingress(&ing)[1..5],
            [
                json!("nginx"),
                json!("a.example,b.example,d.example"),
                json!("5.6.7.8"),
                json!("80, 443")
            ]
        );
        let many = json!({"spec": {"rules": [{"host": "a"}, {"host": "b"}, {"host": "c"}, {"host": "d"}, {}]}});
        assert_eq!(ingress(&many)[2], json!("a,b,c + 2 more..."));
        assert_eq!(
            ingress(&json!({}))[1..5],
            [json!("<none>"), json!("*"), json!(""), json!("80")]
        );
        let np = json!({"spec": {"podSelector": {"matchLabels": {"role": "db"}}}});
        assert_eq!(network_policy(&np)[1], json!("role=db"));
        assert_eq!(
            network_policy(&json!({"spec": {"podSelector": {}}}))[1],
            json!("<none>")
        );
    }

    #[test]
    fn config_maps_secrets_accounts_and_namespaces() {
        let cm = json!({"data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}});
        assert_eq!(config_map(&cm)[1], json!(3));
        let secret_ = json!({"type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}});
        assert_eq!(
            secret(&secret_)[1..3],
            [json!("kubernetes.io/tls"), json!(2)]
        );
        assert_eq!(secret(&json!({}))[1..3], [json!("Opaque"), json!(0)]);
        assert_eq!(
            service_account(&json!({"secrets": [{"name": "t"}]}))[1],
            json!(1)
        );
        assert_eq!(
            namespace(&json!({"status": {"phase": "Terminating"}}))[1],
            json!("Terminating")
        );
    }

    #[test]
    fn nodes_show_status_roles_and_addresses() {
        let n = json!({"metadata": {"name": "n1", "labels": {
                "node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "master"}},
            "spec": {"unschedulable": true},
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                "addresses": [{"type": "InternalIP", "address": "192.168.0.2"}],
                "nodeInfo": {"kubeletVersion": "v1.33.0", "osImage": "Debian"}}});
        assert_eq!(
            node(&n)[1..],
            [
                json!("Ready,SchedulingDisabled"),
                json!("control-plane,master"),
                json!("<unknown>"),
                json!("v1.33.0"),
                json!("192.168.0.2"),
                json!("<none>"),
                json!("Debian"),
                json!("<unknown>"),
                json!("<unknown>"),
            ]
        );
        assert_eq!(node(&json!({}))[1..3], [json!("Unknown"), json!("<none>")]);
    }

    #[test]
    fn events_show_object_and_source() {
        let ten_ago = (jiff::Timestamp::now() - jiff::SignedDuration::from_secs(600)).to_string();
        let e = json!({"metadata": {"name": "web.1"}, "type": "Warning", "reason": "BackOff",
            "involvedObject": {"kind": "Pod", "name": "web", "fieldPath": "spec.containers{app}"},
            "source": {"component": "kubelet", "host": "n1"}, "message": "Back-off\n",
            "firstTimestamp": ten_ago, "lastTimestamp": ten_ago, "count": 4});
        assert_eq!(
            event(&e),
            vec![
                json!("10m"),
                json!("Warning"),
                json!("BackOff"),
                json!("pod/web"),
                json!("spec.containers{app}"),
                json!("kubelet, n1"),
                json!("Back-off"),
                json!("10m"),
                json!(4),
                json!("web.1"),
            ]
        );
        let v1 = json!({"regarding": {"kind": "Deployment", "name": "d"}, "note": "scaled",
            "eventTime": ten_ago, "reportingController": "deployment-controller"});
        assert_eq!(
            event_v1(&v1)[..9],
            [
                json!("10m"),
                json!(""),
                json!(""),
                json!("deployment/d"),
                json!(""),
                json!("deployment-controller"),
                json!("scaled"),
                json!("10m"),
                json!(1)
            ]
        );
    }
}
