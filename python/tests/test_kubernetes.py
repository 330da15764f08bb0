"""The Kubernetes half from Python, against the tests' real control plane (kube-apiserver
and friends; the emulator's DescribeCluster points at it): a plan with ``[sample]`` is
verified on both halves by default, ``Client.eks_token`` is what gets eks6 in, a missing
kubeconfig context and a refused identity raise the classes that say which."""

import time

import pytest

import eks6

from emu import ControlPlane, boto, client, fresh_account, plan_toml


def by_check(report):
    return {ch.name: ch for ch in report.checks}


def wait_for(read, done, seconds=60):
    """``read()`` again until ``done`` holds of it (the harness acts on its own interval)."""
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            assert done(value), value
            return value
        time.sleep(0.2)


def test_sample_verify_token_and_refusals(endpoint, python_server, tmp_path):
    account = fresh_account()
    plan = eks6.ClusterPlan.from_toml(plan_toml("py-kube") + "\n[sample]\n")
    bad = eks6.ClusterPlan.from_toml(plan_toml("py-kube") + "\n[sample]\nnamespace = \"Bad_NS\"\n")
    assert any(f.rule == "sample-namespace" and f.severity == "error" for f in bad.validate())

    c = client(endpoint, account)
    journal = tmp_path / "j.json"
    with ControlPlane(endpoint, account, "py-kube", python_server) as cp:
        up = c.up_sync(plan, journal)
        assert [s for s in up.steps if s.step == "sample"][0].outcome == "created"

        report = c.verify_sync(plan)
        by_name = {ch.name: ch for ch in report.checks}
        for name in ("k8s-nodes", "k8s-pods", "k8s-service", "k8s-addons", "k8s-probe"):
            assert by_name[name].status == "pass", report
        assert "k8s-nodes" not in {ch.name for ch in c.verify_sync(plan, kubernetes=False).checks}

        # An instance of the nodegroup that is no node: its IPv6 address taken away, the
        # harness's kubelet stops running it; k8s-nodes names the instance.
        ec2 = boto(endpoint, account, "ec2")
        found = ec2.describe_instances(Filters=[{"Name": "tag:eks:cluster-name", "Values": ["py-kube"]}])
        instance = found["Reservations"][0]["Instances"][0]
        eni = instance["NetworkInterfaces"][0]
        addresses = [a["Ipv6Address"] for a in eni["Ipv6Addresses"]]
        ec2.unassign_ipv6_addresses(NetworkInterfaceId=eni["NetworkInterfaceId"], Ipv6Addresses=addresses)
        # (Before the harness notices, the node is there and its InternalIP no longer its
        # instance's: a failure too, for that reason.)
        nodes = wait_for(lambda: by_check(c.verify_sync(plan))["k8s-nodes"],
                         lambda ch: "not registered" in ch.summary)
        assert nodes.status == "fail", nodes
        assert "1 of the nodegroup's 2 instance(s) not registered" in nodes.summary, nodes
        assert any(line.startswith(f"instance {instance['InstanceId']} of nodegroup ")
                   and line.endswith("has not registered as a node") for line in nodes.evidence), nodes
        ec2.assign_ipv6_addresses(NetworkInterfaceId=eni["NetworkInterfaceId"], Ipv6Addresses=addresses)
        wait_for(lambda: by_check(c.verify_sync(plan))["k8s-nodes"], lambda ch: ch.status == "pass")

        cred = c.eks_token("py-kube")
        assert cred["kind"] == "ExecCredential" and cred["status"]["token"].startswith("k8s-aws-v1.")

        with pytest.raises(eks6.ArgumentError, match='has no context "nope"'):
            c.verify_sync(plan, context="nope", kubeconfig=cp.admin_kubeconfig)

        # The identity loses its access entry: the API refuses the token, with its status.
        eks = boto(endpoint, account, "eks")
        for arn in eks.list_access_entries(clusterName="py-kube")["accessEntries"]:
            eks.delete_access_entry(clusterName="py-kube", principalArn=arn)
        with pytest.raises(eks6.KubeUnauthorizedError) as e:
            c.verify_sync(plan)
        assert e.value.kind == "kube_unauthorized" and e.value.status == 401 and isinstance(e.value, eks6.KubeError)

        # An access entry without an access policy: known, and forbidden (status and reason kept).
        eks.create_access_entry(clusterName="py-kube", principalArn=f"arn:aws:iam::{account}:role/eks6-test")
        with pytest.raises(eks6.KubeError) as e:
            c.verify_sync(plan)
        assert (e.value.kind, e.value.status, e.value.reason) == ("kube_api", 403, "Forbidden")
        assert not isinstance(e.value, eks6.KubeUnauthorizedError)
        with pytest.raises(eks6.ArgumentError, match="context"):
            c.verify_sync(plan, context="admin", kubernetes=False)
        down = c.down_sync(plan, journal)
        # The API refuses eks6 now, so the sample's namespace goes with the cluster (a warning).
        assert any(f.rule == "sample-namespace" for f in down.findings)
