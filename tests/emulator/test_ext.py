"""Tests of eks6_moto_ext and launch.py, with boto3 against a launched server.

Run: .venv/bin/python -m pytest -W error tests/emulator -q
Each test uses its own account (header x-moto-account-id), as the eks6 tests do.
"""

from __future__ import annotations

import ipaddress
import itertools
import os
import signal
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = Path(__file__).resolve().parent
REGION = "us-west-2"
ROLE = "arn:aws:iam::123456789012:role/eks"
N = 2  # EKS6_MOTO_CREATING_DESCRIBES given to the server
_accounts = itertools.count(int.from_bytes(os.urandom(3), "big") * 1000)


def _launch(*flags: str, tmp: Path) -> tuple[subprocess.Popen, int]:
    env = dict(os.environ, EKS6_MOTO_CREATING_DESCRIBES=str(N))
    log = open(tmp / "emulator.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "launch.py"), *flags],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env,
    )
    log.close()
    line = proc.stdout.readline().decode()
    assert line.startswith("EKS6_EMULATOR_PORT="), (line, (tmp / "emulator.log").read_text())
    return proc, int(line.split("=", 1)[1])


def _finish(proc: subprocess.Popen) -> int:
    try:
        rc = proc.wait(timeout=20)
    finally:
        proc.stdout.close()
        if proc.stdin:
            proc.stdin.close()
    return rc


@pytest.fixture(scope="session")
def port(tmp_path_factory):
    proc, port = _launch(tmp=tmp_path_factory.mktemp("ext"))
    yield port
    proc.stdin.close()  # EOF on stdin stops the launcher
    assert proc.stdout.read() == b"", "launch.py printed more than the port line"
    assert _finish(proc) == 0


def _clients(port: int, account: str | None = None):
    def add_account(request, **_):
        request.headers["x-moto-account-id"] = account

    account = account or f"{next(_accounts) % 10**12:012d}"
    made = []
    for service in ("ec2", "eks"):
        client = boto3.client(
            service, region_name=REGION, endpoint_url=f"http://127.0.0.1:{port}",
            aws_access_key_id="testing", aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1}),
        )
        client.meta.events.register("before-sign.*.*", add_account)
        made.append(client)
    return made


def _error_code(call, *args, **kwargs) -> str:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    return info.value.response["Error"]["Code"]


def _network(ec2, auto_assign_ipv6=True):
    """An IPv6 VPC (/56 from Amazon) and two subnets with a /64 each, in two AZs."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    v6 = ipaddress.IPv6Network(vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"])
    assert v6.prefixlen == 56
    subnets = []
    for i, (az, v6_64) in enumerate(zip(("a", "b"), v6.subnets(new_prefix=64))):
        subnet = ec2.create_subnet(
            VpcId=vpc["VpcId"], CidrBlock=f"10.0.{i}.0/24", Ipv6CidrBlock=str(v6_64),
            AvailabilityZone=REGION + az,
        )["Subnet"]
        if auto_assign_ipv6:
            ec2.modify_subnet_attribute(
                SubnetId=subnet["SubnetId"], AssignIpv6AddressOnCreation={"Value": True}
            )
        subnets.append((subnet["SubnetId"], v6_64))
    return vpc["VpcId"], subnets


def _create_cluster(eks, name, subnet_ids, ip_family="ipv6"):
    return eks.create_cluster(
        name=name, roleArn=ROLE, resourcesVpcConfig={"subnetIds": subnet_ids},
        kubernetesNetworkConfig={"ipFamily": ip_family},
    )["cluster"]


def _cluster_statuses(eks, name, count):
    return [eks.describe_cluster(name=name)["cluster"]["status"] for _ in range(count)]


def _nodegroup_statuses(eks, cluster, name, count):
    return [
        eks.describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"]["status"]
        for _ in range(count)
    ]


def _active_cluster(eks, ec2, name, **network):
    vpc_id, subnets = _network(ec2, **network)
    cluster = _create_cluster(eks, name, [s for s, _ in subnets])
    assert _cluster_statuses(eks, name, N + 1)[-1] == "ACTIVE"
    return cluster, vpc_id, subnets


def _instances(ec2, **filters):
    reservations = ec2.describe_instances(
        Filters=[{"Name": k, "Values": [v]} for k, v in filters.items()]
    )["Reservations"]
    return [i for r in reservations for i in r["Instances"]]


def test_cluster_lifecycle_and_network_config(port):
    ec2, eks = _clients(port)
    vpc_id, subnets = _network(ec2)
    created = _create_cluster(eks, "c1", [s for s, _ in subnets])
    assert created["status"] == "CREATING"
    assert created["resourcesVpcConfig"]["vpcId"] == vpc_id
    assert created["resourcesVpcConfig"]["clusterSecurityGroupId"].startswith("sg-")
    knc = created["kubernetesNetworkConfig"]
    assert knc["ipFamily"] == "ipv6" and "serviceIpv4Cidr" not in knc
    service = ipaddress.IPv6Network(knc["serviceIpv6Cidr"])
    assert service.prefixlen == 108 and service.subnet_of(ipaddress.IPv6Network("fd00::/8"))

    # moto's own rule, kept: no nodegroup before the cluster is ACTIVE.
    code = _error_code(
        eks.create_nodegroup, clusterName="c1", nodegroupName="early", nodeRole=ROLE,
        subnets=[subnets[0][0]],
    )
    assert code == "InvalidRequestException"

    assert _cluster_statuses(eks, "c1", N + 2) == ["CREATING"] * N + ["ACTIVE", "ACTIVE"]
    described = eks.describe_cluster(name="c1")["cluster"]
    assert described["resourcesVpcConfig"] == created["resourcesVpcConfig"]
    assert described["kubernetesNetworkConfig"]["serviceIpv6Cidr"] == knc["serviceIpv6Cidr"]

    # An ipv4 cluster keeps moto's serviceIpv4Cidr and reports no IPv6 range.
    v4 = _create_cluster(eks, "c4", [s for s, _ in subnets], ip_family="ipv4")
    assert v4["kubernetesNetworkConfig"]["serviceIpv4Cidr"] == "172.20.0.0/16"
    assert "serviceIpv6Cidr" not in v4["kubernetesNetworkConfig"]

    code = _error_code(
        eks.create_cluster, name="bad", roleArn=ROLE,
        resourcesVpcConfig={"subnetIds": ["subnet-0123456789abcdef0"]},
    )
    assert code == "InvalidParameterException"
    assert "bad" not in eks.list_clusters()["clusters"]


def test_cluster_security_group(port):
    ec2, eks = _clients(port)
    cluster, vpc_id, _ = _active_cluster(eks, ec2, "sgc")
    sg_id = cluster["resourcesVpcConfig"]["clusterSecurityGroupId"]
    sg = ec2.describe_security_groups(GroupIds=[sg_id])["SecurityGroups"][0]
    assert sg["VpcId"] == vpc_id
    assert sg["GroupName"].startswith("eks-cluster-sg-sgc-")
    tags = {t["Key"]: t["Value"] for t in sg["Tags"]}
    assert tags["aws:eks:cluster-name"] == "sgc"
    assert tags["kubernetes.io/cluster/sgc"] == "owned"
    [ingress] = sg["IpPermissions"]
    assert ingress["IpProtocol"] == "-1"
    assert [p["GroupId"] for p in ingress["UserIdGroupPairs"]] == [sg_id]
    egress = [p for p in sg["IpPermissionsEgress"] if p["IpProtocol"] == "-1"]
    assert {r["CidrIp"] for p in egress for r in p.get("IpRanges", [])} == {"0.0.0.0/0"}
    assert {r["CidrIpv6"] for p in egress for r in p.get("Ipv6Ranges", [])} == {"::/0"}
    # UpdateClusterConfig must not lose what the extension reports.
    eks.update_cluster_config(name="sgc", resourcesVpcConfig={"endpointPrivateAccess": True})
    after = eks.describe_cluster(name="sgc")["cluster"]["resourcesVpcConfig"]
    assert after["clusterSecurityGroupId"] == sg_id and after["vpcId"] == vpc_id


def test_repeated_creates_with_the_same_token(port):
    ec2, eks = _clients(port)
    _, subnets = _network(ec2)
    ids = [s for s, _ in subnets]
    cfg = {"subnetIds": ids}
    first = eks.create_cluster(name="tok", roleArn=ROLE, resourcesVpcConfig=cfg, clientRequestToken="t-1")["cluster"]
    again = eks.create_cluster(name="tok", roleArn=ROLE, resourcesVpcConfig=cfg, clientRequestToken="t-1")["cluster"]
    assert again["arn"] == first["arn"] and again["createdAt"] == first["createdAt"]
    assert _error_code(eks.create_cluster, name="tok", roleArn=ROLE, resourcesVpcConfig=cfg,
                       clientRequestToken="t-2") == "ResourceInUseException"
    assert _error_code(eks.create_cluster, name="tok", roleArn=ROLE, resourcesVpcConfig=cfg) == "ResourceInUseException"
    assert len(ec2.describe_security_groups(Filters=[{"Name": "tag:aws:eks:cluster-name", "Values": ["tok"]}])[
        "SecurityGroups"]) == 1, "a repeat makes no second cluster security group"
    assert _cluster_statuses(eks, "tok", N + 1)[-1] == "ACTIVE"
    ng = dict(clusterName="tok", nodegroupName="tok-ng", nodeRole=ROLE, subnets=ids,
              scalingConfig={"minSize": 1, "maxSize": 2, "desiredSize": 2})
    a = eks.create_nodegroup(**ng, clientRequestToken="n-1")["nodegroup"]
    b = eks.create_nodegroup(**ng, clientRequestToken="n-1")["nodegroup"]
    assert a["nodegroupArn"] == b["nodegroupArn"]
    assert _error_code(eks.create_nodegroup, **ng, clientRequestToken="n-2") == "ResourceInUseException"
    assert len(_instances(ec2, **{"tag:eks:nodegroup-name": "tok-ng"})) == 2, "a repeat launches no more nodes"


def test_nodegroup_instances_and_deletes(port):
    ec2, eks = _clients(port)
    cluster, _, subnets = _active_cluster(eks, ec2, "ngc")
    sg_id = cluster["resourcesVpcConfig"]["clusterSecurityGroupId"]
    created = eks.create_nodegroup(
        clusterName="ngc", nodegroupName="ng", nodeRole=ROLE,
        subnets=[s for s, _ in subnets], instanceTypes=["t3.large"],
        scalingConfig={"minSize": 1, "maxSize": 4, "desiredSize": 3},
    )["nodegroup"]
    assert created["status"] == "CREATING"

    # The instances exist while the nodegroup is still CREATING.
    nodes = _instances(ec2, **{"tag:eks:nodegroup-name": "ng", "instance-state-name": "running"})
    assert len(nodes) == 3
    per_subnet = {s: v6 for s, v6 in subnets}
    assert sorted(n["SubnetId"] for n in nodes) == sorted(
        [subnets[0][0], subnets[1][0], subnets[0][0]]
    )
    for node in nodes:
        assert node["InstanceType"] == "t3.large"
        tags = {t["Key"]: t["Value"] for t in node["Tags"]}
        assert tags["eks:cluster-name"] == "ngc" and tags["eks:nodegroup-name"] == "ng"
        [eni] = node["NetworkInterfaces"]
        [v6] = eni["Ipv6Addresses"]
        assert ipaddress.IPv6Address(v6["Ipv6Address"]) in per_subnet[node["SubnetId"]]
        assert [g["GroupId"] for g in eni["Groups"]] == [sg_id]

    assert _nodegroup_statuses(eks, "ngc", "ng", N + 1) == ["CREATING"] * N + ["ACTIVE"]

    # EKS refuses to delete a cluster that still has nodegroups.
    assert _error_code(eks.delete_cluster, name="ngc") == "ResourceInUseException"

    deleted = eks.delete_nodegroup(clusterName="ngc", nodegroupName="ng")["nodegroup"]
    assert deleted["status"] == "DELETING"
    states = {n["State"]["Name"] for n in _instances(ec2, **{"tag:eks:nodegroup-name": "ng"})}
    assert states == {"terminated"}
    assert _error_code(eks.delete_cluster, name="ngc") == "ResourceInUseException"
    assert _nodegroup_statuses(eks, "ngc", "ng", N) == ["DELETING"] * N
    code = _error_code(eks.describe_nodegroup, clusterName="ngc", nodegroupName="ng")
    assert code == "ResourceNotFoundException"
    assert eks.list_nodegroups(clusterName="ngc")["nodegroups"] == []

    assert eks.delete_cluster(name="ngc")["cluster"]["status"] == "DELETING"
    assert eks.list_clusters()["clusters"] == ["ngc"]
    assert _cluster_statuses(eks, "ngc", N) == ["DELETING"] * N
    # The group is kept until the cluster is gone.
    assert ec2.describe_security_groups(GroupIds=[sg_id])["SecurityGroups"]
    assert _error_code(eks.describe_cluster, name="ngc") == "ResourceNotFoundException"
    assert eks.list_clusters()["clusters"] == []
    code = _error_code(ec2.describe_security_groups, GroupIds=[sg_id])
    assert code == "InvalidGroup.NotFound"


def test_ipv6_nodegroup_needs_subnet_auto_assign(port):
    ec2, eks = _clients(port)
    _, _, subnets = _active_cluster(eks, ec2, "noauto", auto_assign_ipv6=False)
    eks.create_nodegroup(
        clusterName="noauto", nodegroupName="ng", nodeRole=ROLE, subnets=[s for s, _ in subnets]
    )
    assert _nodegroup_statuses(eks, "noauto", "ng", N + 1) == ["CREATING"] * N + ["CREATE_FAILED"]
    described = eks.describe_nodegroup(clusterName="noauto", nodegroupName="ng")["nodegroup"]
    [issue] = described["health"]["issues"]
    assert issue["code"] == "Ec2SubnetMissingIpv6Assignment"
    assert sorted(issue["resourceIds"]) == sorted(s for s, _ in subnets)
    assert _instances(ec2, **{"tag:eks:nodegroup-name": "ng"}) == []


def test_accounts_are_isolated(port):
    ec2_a, eks_a = _clients(port)
    ec2_b, eks_b = _clients(port)
    _, eks_c = _clients(port)
    _, subnets_a = _network(ec2_a)
    _, subnets_b = _network(ec2_b)
    sg_a = _create_cluster(eks_a, "same", [s for s, _ in subnets_a])["resourcesVpcConfig"]["clusterSecurityGroupId"]
    sg_b = _create_cluster(eks_b, "same", [s for s, _ in subnets_b])["resourcesVpcConfig"]["clusterSecurityGroupId"]
    assert sg_a != sg_b
    # Describes in one account do not advance the other's lifecycle.
    assert _cluster_statuses(eks_a, "same", N + 1) == ["CREATING"] * N + ["ACTIVE"]
    assert _cluster_statuses(eks_b, "same", 1) == ["CREATING"]
    assert eks_c.list_clusters()["clusters"] == []
    assert _error_code(ec2_a.describe_security_groups, GroupIds=[sg_b]) == "InvalidGroup.NotFound"
    # Another account cannot use this account's subnets.
    code = _error_code(
        eks_c.create_cluster, name="x", roleArn=ROLE,
        resourcesVpcConfig={"subnetIds": [subnets_a[0][0]]},
    )
    assert code == "InvalidParameterException"


def test_plain_mode_with_pidfile_and_sigterm(tmp_path):
    pidfile = tmp_path / "moto.pid"
    proc, port = _launch("--plain", "--no-stdin", "--pidfile", str(pidfile), tmp=tmp_path)
    try:
        proc.stdin.close()  # ignored with --no-stdin
        assert int(pidfile.read_text()) == proc.pid
        ec2, eks = _clients(port)
        _, subnets = _network(ec2)
        cluster = _create_cluster(eks, "plain", [s for s, _ in subnets])
        assert cluster["status"] == "ACTIVE"  # plain moto: no lifecycle
        assert "clusterSecurityGroupId" not in cluster["resourcesVpcConfig"]
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
    assert _finish(proc) == 0
    assert not pidfile.exists()
