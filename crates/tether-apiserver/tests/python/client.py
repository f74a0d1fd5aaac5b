"""The official Kubernetes Python client against tether's control plane.

Run by tests/python_client.rs as `python3 client.py KUBECONFIG NAMESPACE`; every check is an
assert, and a failure exits non-zero with the traceback. Covers typed CoreV1/AppsV1 calls, the
DynamicClient (discovery, get/create/patch/server-side apply/delete), and watch.
"""

import sys
import threading
import time

from kubernetes import client, config, dynamic, watch
from kubernetes.client.rest import ApiException


def main(kubeconfig: str, ns: str) -> None:
    api_client = config.new_client_from_config(config_file=kubeconfig)
    core = client.CoreV1Api(api_client)
    apps = client.AppsV1Api(api_client)

    version = client.VersionApi(api_client).get_code()
    assert version.major == "1", version

    # Typed CoreV1: namespaces, ConfigMaps, Secrets, label selectors, patches, errors.
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    assert core.read_namespace(ns).status.phase == "Active"
    cm = client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="settings", labels={"app": "web"}),
        data={"greeting": "hello"},
    )
    created = core.create_namespaced_config_map(ns, cm)
    assert created.metadata.uid and created.metadata.resource_version, created.metadata
    try:
        core.create_namespaced_config_map(ns, cm)
        raise AssertionError("a duplicate create succeeded")
    except ApiException as e:
        assert e.status == 409 and e.reason == "Conflict", (e.status, e.reason)
    patched = core.patch_namespaced_config_map("settings", ns, {"data": {"colour": "blue"}})
    assert patched.data == {"greeting": "hello", "colour": "blue"}, patched.data
    listed = core.list_namespaced_config_map(ns, label_selector="app=web")
    assert [i.metadata.name for i in listed.items] == ["settings"], listed.items
    assert core.list_namespaced_config_map(ns, label_selector="app=db").items == []
    secret = core.create_namespaced_secret(
        ns,
        client.V1Secret(metadata=client.V1ObjectMeta(name="creds"), string_data={"user": "admin"}),
    )
    assert secret.data == {"user": "YWRtaW4="}, secret.data
    try:
        core.read_namespaced_config_map("missing", ns)
        raise AssertionError("reading a missing object succeeded")
    except ApiException as e:
        assert e.status == 404, e.status

    # Typed AppsV1: a Deployment, its status (the control plane simulates ready pods), scale.
    deployment = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1DeploymentSpec(
            replicas=2,
            selector=client.V1LabelSelector(match_labels={"app": "web"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "web"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="web", image="nginx:1.27")]),
            ),
        ),
    )
    apps.create_namespaced_deployment(ns, deployment)
    deadline = time.time() + 20
    while True:
        status = apps.read_namespaced_deployment_status("web", ns).status
        if status is not None and status.ready_replicas == 2:
            break
        assert time.time() < deadline, f"deployment never became ready: {status}"
        time.sleep(0.2)
    apps.patch_namespaced_deployment_scale("web", ns, {"spec": {"replicas": 3}})
    assert apps.read_namespaced_deployment_scale("web", ns).spec.replicas == 3

    # Watch: the events of objects created while the watch runs.
    def create_later() -> None:
        time.sleep(0.5)
        for name in ("w1", "w2"):
            core.create_namespaced_config_map(
                ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels={"watch": "yes"}))
            )

    threading.Thread(target=create_later).start()
    seen = []
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_config_map, ns, label_selector="watch=yes", timeout_seconds=10):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 2:
            w.stop()
    assert seen == [("ADDED", "w1"), ("ADDED", "w2")], seen

    # DynamicClient: discovery, get, create, server-side apply, delete.
    dyn = dynamic.DynamicClient(api_client)
    cms = dyn.resources.get(api_version="v1", kind="ConfigMap")
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    assert deployments.namespaced and deployments.name == "deployments"
    got = cms.get(name="settings", namespace=ns)
    assert got.data.colour == "blue", got
    cms.create(
        body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dyn"}, "data": {"a": "1"}},
        namespace=ns,
    )
    applied = cms.server_side_apply(
        body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dyn", "namespace": ns}, "data": {"a": "2"}},
        name="dyn",
        namespace=ns,
        field_manager="python",
        force_conflicts=True,
    )
    assert applied.data.a == "2", applied
    managers = [m.manager for m in applied.metadata.managedFields]
    assert "python" in managers, managers
    names = sorted(i.metadata.name for i in cms.get(namespace=ns).items)
    assert names == ["dyn", "settings", "w1", "w2"], names
    cms.delete(name="dyn", namespace=ns)
    try:
        cms.get(name="dyn", namespace=ns)
        raise AssertionError("a deleted object is still there")
    except dynamic.exceptions.NotFoundError:
        pass

    core.delete_namespace(ns)
    print("python client: all checks passed")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
