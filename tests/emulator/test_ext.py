"""Tests of eks6_moto_ext and launch.py, with boto3 against a launched server.

Run: .venv/bin/python -m pytest -W error tests/emulator -q
Each test uses its own account (header x-moto-account-id), as the eks6 tests do,
and creates its IAM roles there (EKS refuses roles that do not exist).
"""

from __future__ import annotations

import base64
import datetime
import http.client
import ipaddress
import itertools
import json
import os
import signal
import subprocess
import sys
import time
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import botocore.auth
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from harness import TEST_KEY_ID, TEST_SECRET

HERE = Path(__file__).resolve().parent
REGION = "us-west-2"
N = 2  # EKS6_MOTO_CREATING_DESCRIBES given to the server
POLICY = "arn:aws:eks::aws:cluster-access-policy/"
ROLE_MSG = (
    "Role with arn: {}, could not be assumed because it does not exist or the trusted entity is not correct"
)
_accounts = itertools.count(int.from_bytes(os.urandom(3), "big") * 1000)
STATIC_KEYS = f"AKIAEKS6OTHERKEY0002:other-secret,{TEST_KEY_ID}:{TEST_SECRET}"  # EKS6_MOTO_STATIC_KEYS
CONTROL_PLANES = "/moto-api/eks6/control-planes"


def _launch(*flags: str, tmp: Path, **env: str) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "EKS6_MOTO_CREATING_DESCRIBES": str(N), "EKS6_MOTO_IAM_PROPAGATION": "0", **env}
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
    proc, port = _launch(tmp=tmp_path_factory.mktemp("ext"), EKS6_MOTO_STATIC_KEYS=STATIC_KEYS)
    yield port
    proc.stdin.close()  # EOF on stdin stops the launcher
    assert proc.stdout.read() == b"", "launch.py printed more than the port line"
    assert _finish(proc) == 0


def _account() -> str:
    return f"{next(_accounts) % 10**12:012d}"


def _clients(port: int, account: str | None = None, region: str = REGION, services=("ec2", "eks", "iam"), **creds):
    """boto3 clients of one account (a fresh one unless given)."""
    def add_account(request, **_):
        request.headers["x-moto-account-id"] = account

    account = account or _account()
    creds = creds or {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    made = []
    for service in services:
        client = boto3.client(
            service, region_name=region, endpoint_url=f"http://127.0.0.1:{port}",
            config=Config(retries={"max_attempts": 1}), **creds,
        )
        client.meta.events.register("before-sign.*.*", add_account)
        client.eks6_account = account
        made.append(client)
    return made


def _error_code(call, *args, **kwargs) -> str:
    return _error(call, *args, **kwargs)["Code"]


def _error(call, *args, **kwargs) -> dict:
    """The error of a failing call: its Error dict plus HTTP status and modeled fields."""
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    response = info.value.response
    return dict(response, **response["Error"], Status=response["ResponseMetadata"]["HTTPStatusCode"])


def _trust(*services: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": list(services)}, "Action": "sts:AssumeRole"}],
    })


def _role(iam, name: str, service: str, *managed: str, path: str = "/") -> str:
    """A role trusting ``service`` with AWS-managed policies attached (created once per account)."""
    try:
        return iam.get_role(RoleName=name)["Role"]["Arn"]
    except ClientError:
        pass
    arn = iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=_trust(service))["Role"]["Arn"]
    for policy in managed:
        iam.attach_role_policy(RoleName=name, PolicyArn=f"arn:aws:iam::aws:policy/{policy}")
    return arn


def _cluster_role(iam) -> str:
    return _role(iam, "eks-cluster", "eks.amazonaws.com", "AmazonEKSClusterPolicy")


def _node_role(iam) -> str:
    return _role(
        iam, "eks-node", "ec2.amazonaws.com",
        "AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly", "AmazonEKS_CNI_Policy",
    )


def _wait_for(condition, timeout=10.0):
    """The first truthy value of condition(), polled every 20 ms for at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"not met within {timeout} s"
        time.sleep(0.02)
    return value


def _vpc_ipv6(ec2, vpc_id):
    """The VPC's associated IPv6 block, or None while it associates."""
    [vpc] = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
    return next((a["Ipv6CidrBlock"] for a in vpc.get("Ipv6CidrBlockAssociationSet", [])
                 if a["Ipv6CidrBlockState"]["State"] == "associated"), None)


def _network(ec2, auto_assign_ipv6=True, dns_hostnames=True):
    """An IPv6 VPC (/56 from Amazon) and two subnets with a /64 each, in two AZs.

    DNS hostnames are on unless asked otherwise (EKS nodes need them; a new VPC has them off).
    """
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    if dns_hostnames:
        ec2.modify_vpc_attribute(VpcId=vpc["VpcId"], EnableDnsHostnames={"Value": True})
    v6 = ipaddress.IPv6Network(_wait_for(lambda: _vpc_ipv6(ec2, vpc["VpcId"])))  # associating in the time mode
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


def _create_cluster(eks, iam, name, subnet_ids, ip_family="ipv6", **extra):
    return eks.create_cluster(
        name=name, roleArn=_cluster_role(iam), resourcesVpcConfig={"subnetIds": subnet_ids},
        kubernetesNetworkConfig={"ipFamily": ip_family}, **extra,
    )["cluster"]


def _cluster_statuses(eks, name, count):
    return [eks.describe_cluster(name=name)["cluster"]["status"] for _ in range(count)]


def _nodegroup_statuses(eks, cluster, name, count):
    return [
        eks.describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"]["status"]
        for _ in range(count)
    ]


def _addon_statuses(eks, cluster, name, count):
    return [eks.describe_addon(clusterName=cluster, addonName=name)["addon"]["status"] for _ in range(count)]


def _active_cluster(eks, ec2, iam, name, network=None, **extra):
    vpc_id, subnets = _network(ec2, **(network or {}))
    cluster = _create_cluster(eks, iam, name, [s for s, _ in subnets], **extra)
    assert _cluster_statuses(eks, name, N + 1)[-1] == "ACTIVE"
    return cluster, vpc_id, subnets


def _nodegroup(eks, iam, cluster, name, subnets, **extra):
    return eks.create_nodegroup(
        clusterName=cluster, nodegroupName=name, nodeRole=_node_role(iam), subnets=[s for s, _ in subnets], **extra
    )["nodegroup"]


def _instances(ec2, **filters):
    reservations = ec2.describe_instances(
        Filters=[{"Name": k, "Values": [v]} for k, v in filters.items()]
    )["Reservations"]
    return [i for r in reservations for i in r["Instances"]]


def test_cluster_lifecycle_and_network_config(port):
    ec2, eks, iam = _clients(port)
    vpc_id, subnets = _network(ec2)
    created = _create_cluster(eks, iam, "c1", [s for s, _ in subnets])
    assert created["status"] == "CREATING"
    assert created["resourcesVpcConfig"]["vpcId"] == vpc_id
    assert created["resourcesVpcConfig"]["clusterSecurityGroupId"].startswith("sg-")
    knc = created["kubernetesNetworkConfig"]
    assert knc["ipFamily"] == "ipv6" and "serviceIpv4Cidr" not in knc
    service = ipaddress.IPv6Network(knc["serviceIpv6Cidr"])
    assert service.prefixlen == 108 and service.subnet_of(ipaddress.IPv6Network("fd00::/8"))

    # moto's own rule, kept: no nodegroup before the cluster is ACTIVE.
    code = _error_code(
        eks.create_nodegroup, clusterName="c1", nodegroupName="early", nodeRole=_node_role(iam),
        subnets=[subnets[0][0]],
    )
    assert code == "InvalidRequestException"

    assert _cluster_statuses(eks, "c1", N + 2) == ["CREATING"] * N + ["ACTIVE", "ACTIVE"]
    described = eks.describe_cluster(name="c1")["cluster"]
    assert described["resourcesVpcConfig"] == created["resourcesVpcConfig"]
    assert described["kubernetesNetworkConfig"]["serviceIpv6Cidr"] == knc["serviceIpv6Cidr"]

    # An ipv4 cluster keeps moto's serviceIpv4Cidr and reports no IPv6 range.
    v4 = _create_cluster(eks, iam, "c4", [s for s, _ in subnets], ip_family="ipv4")
    assert v4["kubernetesNetworkConfig"]["serviceIpv4Cidr"] == "172.20.0.0/16"
    assert "serviceIpv6Cidr" not in v4["kubernetesNetworkConfig"]

    error = _error(
        eks.create_cluster, name="bad", roleArn=_cluster_role(iam),
        resourcesVpcConfig={"subnetIds": ["subnet-0123456789abcdef0"]},
    )
    assert error["Code"] == "InvalidParameterException" and "subnet" in error["Message"]
    assert "bad" not in eks.list_clusters()["clusters"]


def test_cluster_security_group(port):
    ec2, eks, iam = _clients(port)
    cluster, vpc_id, _ = _active_cluster(eks, ec2, iam, "sgc")
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
    ec2, eks, iam = _clients(port)
    _, subnets = _network(ec2)
    ids = [s for s, _ in subnets]
    cfg = {"subnetIds": ids}
    role = _cluster_role(iam)
    first = eks.create_cluster(name="tok", roleArn=role, resourcesVpcConfig=cfg, clientRequestToken="t-1")["cluster"]
    again = eks.create_cluster(name="tok", roleArn=role, resourcesVpcConfig=cfg, clientRequestToken="t-1")["cluster"]
    assert again["arn"] == first["arn"] and again["createdAt"] == first["createdAt"]
    assert _error_code(eks.create_cluster, name="tok", roleArn=role, resourcesVpcConfig=cfg,
                       clientRequestToken="t-2") == "ResourceInUseException"
    assert _error_code(eks.create_cluster, name="tok", roleArn=role, resourcesVpcConfig=cfg) == "ResourceInUseException"
    assert len(ec2.describe_security_groups(Filters=[{"Name": "tag:aws:eks:cluster-name", "Values": ["tok"]}])[
        "SecurityGroups"]) == 1, "a repeat makes no second cluster security group"
    assert _cluster_statuses(eks, "tok", N + 1)[-1] == "ACTIVE"
    ng = dict(clusterName="tok", nodegroupName="tok-ng", nodeRole=_node_role(iam), subnets=ids,
              scalingConfig={"minSize": 1, "maxSize": 2, "desiredSize": 2})
    a = eks.create_nodegroup(**ng, clientRequestToken="n-1")["nodegroup"]
    b = eks.create_nodegroup(**ng, clientRequestToken="n-1")["nodegroup"]
    assert a["nodegroupArn"] == b["nodegroupArn"]
    assert _error_code(eks.create_nodegroup, **ng, clientRequestToken="n-2") == "ResourceInUseException"
    assert len(_instances(ec2, **{"tag:eks:nodegroup-name": "tok-ng"})) == 2, "a repeat launches no more nodes"


def test_nodegroup_instances_and_deletes(port):
    ec2, eks, iam = _clients(port)
    cluster, _, subnets = _active_cluster(eks, ec2, iam, "ngc")
    sg_id = cluster["resourcesVpcConfig"]["clusterSecurityGroupId"]
    created = eks.create_nodegroup(
        clusterName="ngc", nodegroupName="ng", nodeRole=_node_role(iam),
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
    ec2, eks, iam = _clients(port)
    _, _, subnets = _active_cluster(eks, ec2, iam, "noauto", network={"auto_assign_ipv6": False})
    _nodegroup(eks, iam, "noauto", "ng", subnets)
    assert _nodegroup_statuses(eks, "noauto", "ng", N + 1) == ["CREATING"] * N + ["CREATE_FAILED"]
    described = eks.describe_nodegroup(clusterName="noauto", nodegroupName="ng")["nodegroup"]
    [issue] = described["health"]["issues"]
    assert issue["code"] == "Ec2SubnetMissingIpv6Assignment"
    assert sorted(issue["resourceIds"]) == sorted(s for s, _ in subnets)
    assert _instances(ec2, **{"tag:eks:nodegroup-name": "ng"}) == []


def test_accounts_are_isolated(port):
    ec2_a, eks_a, iam_a = _clients(port)
    ec2_b, eks_b, iam_b = _clients(port)
    _, eks_c, iam_c = _clients(port)
    _, subnets_a = _network(ec2_a)
    _, subnets_b = _network(ec2_b)
    sg_a, sg_b = (
        _create_cluster(eks, iam, "same", [s for s, _ in subnets])["resourcesVpcConfig"]["clusterSecurityGroupId"]
        for eks, iam, subnets in ((eks_a, iam_a, subnets_a), (eks_b, iam_b, subnets_b))
    )
    assert sg_a != sg_b
    # Describes in one account do not advance the other's lifecycle.
    assert _cluster_statuses(eks_a, "same", N + 1) == ["CREATING"] * N + ["ACTIVE"]
    assert _cluster_statuses(eks_b, "same", 1) == ["CREATING"]
    assert eks_c.list_clusters()["clusters"] == []
    assert _error_code(ec2_a.describe_security_groups, GroupIds=[sg_b]) == "InvalidGroup.NotFound"
    # Another account cannot use this account's subnets.
    error = _error(
        eks_c.create_cluster, name="x", roleArn=_cluster_role(iam_c),
        resourcesVpcConfig={"subnetIds": [subnets_a[0][0]]},
    )
    assert error["Code"] == "InvalidParameterException" and "subnet" in error["Message"]
    # ... nor its roles (EKS assumes the role in the caller's account).
    role_a = _cluster_role(iam_a)
    error = _error(
        eks_c.create_cluster, name="x", roleArn=role_a, resourcesVpcConfig={"subnetIds": [subnets_a[0][0]]},
    )
    assert (error["Code"], error["Message"]) == ("InvalidParameterException", ROLE_MSG.format(role_a))


def test_plain_mode_with_pidfile_and_sigterm(tmp_path):
    pidfile = tmp_path / "moto.pid"
    proc, port = _launch("--plain", "--no-stdin", "--pidfile", str(pidfile), tmp=tmp_path)
    try:
        proc.stdin.close()  # ignored with --no-stdin
        assert int(pidfile.read_text()) == proc.pid
        ec2, eks, iam = _clients(port)
        _, subnets = _network(ec2)
        cluster = _create_cluster(eks, iam, "plain", [s for s, _ in subnets])
        assert cluster["status"] == "ACTIVE"  # plain moto: no lifecycle
        assert "clusterSecurityGroupId" not in cluster["resourcesVpcConfig"]
        # launch.py loads AWS-managed policies in plain mode too (configuration).
        attached = iam.list_attached_role_policies(RoleName="eks-cluster")["AttachedPolicies"]
        assert [p["PolicyName"] for p in attached] == ["AmazonEKSClusterPolicy"]
        # Plain moto accepts a role that does not exist.
        eks.create_cluster(name="plain2", roleArn="arn:aws:iam::123456789012:role/none",
                           resourcesVpcConfig={"subnetIds": [subnets[0][0]]})
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
    assert _finish(proc) == 0
    assert not pidfile.exists()


# --- (5) access config, upgrade policy, cluster creator -----------------------------


def test_cluster_access_config_and_upgrade_policy(port):
    ec2, eks, iam = _clients(port)
    account = eks.eks6_account
    _, subnets = _network(ec2)
    ids = [s for s, _ in subnets]

    default = _create_cluster(eks, iam, "dflt", ids)
    assert default["accessConfig"] == {
        "authenticationMode": "CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": True,
    }
    assert default["upgradePolicy"] == {"supportType": "EXTENDED"}
    assert default["version"] == "1.33"  # not moto's 1.19
    assert eks.describe_cluster(name="dflt")["cluster"]["accessConfig"] == default["accessConfig"]

    api = _create_cluster(
        eks, iam, "api", ids, accessConfig={"authenticationMode": "API"},
        upgradePolicy={"supportType": "STANDARD"}, bootstrapSelfManagedAddons=False,
    )
    described = eks.describe_cluster(name="api")["cluster"]
    assert described["accessConfig"] == api["accessConfig"] == {
        "authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": True,
    }
    assert described["upgradePolicy"] == {"supportType": "STANDARD"}
    assert "bootstrapSelfManagedAddons" not in described  # not in EKS's Cluster shape

    # The creator (moto's STS identity for unknown keys) gets an admin access entry.
    creator = f"arn:aws:sts::{account}:user/moto"
    assert eks.list_access_entries(clusterName="api")["accessEntries"] == [creator]
    entry = eks.describe_access_entry(clusterName="api", principalArn=creator)["accessEntry"]
    assert entry["username"] == creator and entry["type"] == "STANDARD" and entry["kubernetesGroups"] == []
    [policy] = eks.list_associated_access_policies(clusterName="api", principalArn=creator)["associatedAccessPolicies"]
    assert policy["policyArn"] == POLICY + "AmazonEKSClusterAdminPolicy"
    assert policy["accessScope"] == {"type": "cluster", "namespaces": []}

    _create_cluster(eks, iam, "nobootstrap", ids, accessConfig={
        "authenticationMode": "API_AND_CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": False,
    })
    assert eks.list_access_entries(clusterName="nobootstrap")["accessEntries"] == []

    for bad in ({"accessConfig": {"authenticationMode": "IAM"}}, {"upgradePolicy": {"supportType": "LTS"}}):
        assert _error_code(_create_cluster, eks, iam, "bad", ids, **bad) == "InvalidParameterException"
    assert "bad" not in eks.list_clusters()["clusters"]


def test_cluster_creator_from_an_assumed_role(port):
    ec2, eks, iam = _clients(port)
    account = eks.eks6_account
    _, subnets = _network(ec2)
    admin = _role(iam, "admin", "eks.amazonaws.com", path="/team/")
    assert admin == f"arn:aws:iam::{account}:role/team/admin"
    [sts] = _clients(port, account, services=("sts",))
    session = sts.assume_role(RoleArn=admin, RoleSessionName="ci")["Credentials"]
    assert session["AccessKeyId"]
    [eks_as_admin] = _clients(
        port, account, services=("eks",), aws_access_key_id=session["AccessKeyId"],
        aws_secret_access_key=session["SecretAccessKey"], aws_session_token=session["SessionToken"],
    )
    _create_cluster(eks_as_admin, iam, "byrole", [s for s, _ in subnets], accessConfig={"authenticationMode": "API"})
    # The session ARN arn:aws:sts::A:assumed-role/admin/ci becomes the role's ARN, path included.
    assert eks.list_access_entries(clusterName="byrole")["accessEntries"] == [admin]
    entry = eks.describe_access_entry(clusterName="byrole", principalArn=admin)["accessEntry"]
    assert entry["username"] == f"arn:aws:sts::{account}:assumed-role/admin/{{{{SessionName}}}}"


# --- (6) IAM roles ----------------------------------------------------------------------


def test_roles_must_exist_and_trust_the_service(port):
    ec2, eks, iam = _clients(port)
    account = eks.eks6_account
    _, subnets = _network(ec2)
    ids = [s for s, _ in subnets]

    def refused(role, call=eks.create_cluster, **kwargs):
        kwargs = kwargs or {"name": "c", "roleArn": role, "resourcesVpcConfig": {"subnetIds": ids}}
        error = _error(call, **kwargs)
        assert (error["Code"], error["Message"], error["Status"]) == (
            "InvalidParameterException", ROLE_MSG.format(role), 400
        )

    refused(f"arn:aws:iam::{account}:role/missing")
    node_role = _node_role(iam)
    refused(node_role)  # trusts ec2.amazonaws.com, not eks.amazonaws.com
    path_less = f"arn:aws:iam::{account}:role/admin"
    _role(iam, "admin", "eks.amazonaws.com", path="/team/")
    refused(path_less)  # the exact ARN, path included
    assert eks.list_clusters()["clusters"] == []
    assert ec2.describe_security_groups(Filters=[{"Name": "tag:aws:eks:cluster-name", "Values": ["c"]}])[
        "SecurityGroups"] == [], "a refused create leaves nothing behind"

    _create_cluster(eks, iam, "c", ids)
    assert _cluster_statuses(eks, "c", N + 1)[-1] == "ACTIVE"
    cluster_role = _cluster_role(iam)
    refused(cluster_role, eks.create_nodegroup, clusterName="c", nodegroupName="ng", nodeRole=cluster_role, subnets=ids)
    # A role trusting both services (as some templates do) serves both.
    both = iam.create_role(RoleName="both", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": {"Effect": "Allow", "Principal": {"Service": ["eks.amazonaws.com", "ec2.amazonaws.com"]},
                      "Action": ["sts:*"]},
    }))["Role"]["Arn"]
    assert eks.create_nodegroup(clusterName="c", nodegroupName="ng", nodeRole=both, subnets=ids)["nodegroup"]


@pytest.fixture(scope="module")
def propagating_port(tmp_path_factory):
    """A second server where a fresh role needs 2 calls to propagate."""
    proc, port = _launch(tmp=tmp_path_factory.mktemp("iam"), EKS6_MOTO_IAM_PROPAGATION="2")
    yield port
    proc.stdin.close()
    assert _finish(proc) == 0


def test_iam_propagation(propagating_port):
    ec2, eks, iam = _clients(propagating_port)
    account = eks.eks6_account
    _, subnets = _network(ec2)
    ids = [s for s, _ in subnets]
    arn = f"arn:aws:iam::{account}:role/eks-cluster"
    create = dict(name="p", roleArn=arn, resourcesVpcConfig={"subnetIds": ids})
    # Calls before the role exists do not count.
    assert _error(eks.create_cluster, **create)["Message"] == ROLE_MSG.format(arn)
    assert _cluster_role(iam) == arn
    for _ in range(2):
        assert _error(eks.create_cluster, **create)["Message"] == ROLE_MSG.format(arn)
    assert eks.create_cluster(**create)["cluster"]["status"] == "CREATING"
    assert _cluster_statuses(eks, "p", N + 1)[-1] == "ACTIVE"

    node = dict(clusterName="p", nodegroupName="ng", nodeRole=_node_role(iam), subnets=ids)
    for _ in range(2):
        assert _error_code(eks.create_nodegroup, **node) == "InvalidParameterException"
    assert eks.create_nodegroup(**node)["nodegroup"]["status"] == "CREATING"
    # A role deleted and created again under the same ARN propagates afresh.
    fresh = _role(iam, "fresh", "eks.amazonaws.com")
    refused = dict(create, name="q", roleArn=fresh)
    for _ in range(2):
        assert _error(eks.create_cluster, **refused)["Message"] == ROLE_MSG.format(fresh)
    iam.delete_role(RoleName="fresh")
    assert _role(iam, "fresh", "eks.amazonaws.com") == fresh
    for _ in range(2):
        assert _error(eks.create_cluster, **refused)["Message"] == ROLE_MSG.format(fresh)
    assert eks.create_cluster(**refused)["cluster"]["roleArn"] == fresh
    # Another account's role of the same name propagates on its own.
    ec2_b, eks_b, iam_b = _clients(propagating_port)
    _, subnets_b = _network(ec2_b)
    create_b = dict(create, roleArn=_cluster_role(iam_b), resourcesVpcConfig={"subnetIds": [s for s, _ in subnets_b]})
    assert _error(eks_b.create_cluster, **create_b)["Message"] == ROLE_MSG.format(create_b["roleArn"])


# --- (7) versions and zones ---------------------------------------------------------------


def test_kubernetes_versions(port):
    ec2, eks, iam = _clients(port)
    _, subnets = _network(ec2)
    ids = [s for s, _ in subnets]
    for version in ("1.22", "1.9", "one.30", "1"):
        error = _error(_create_cluster, eks, iam, "old", ids, version=version)
        assert (error["Code"], error["Message"]) == (
            "InvalidParameterException", f"unsupported Kubernetes version {version}"
        )
    assert eks.list_clusters()["clusters"] == []
    assert _create_cluster(eks, iam, "min", ids, version="1.23")["version"] == "1.23"


def test_unsupported_availability_zone(port):
    ec2, eks, iam = _clients(port, region="us-east-1")
    zones = {z["ZoneId"]: z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]}
    assert zones["use1-az3"] == "us-east-1e"
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    bad = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.0.0/24", AvailabilityZoneId="use1-az3")["Subnet"]
    good = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]
    assert bad["AvailabilityZone"] == "us-east-1e"
    error = _error(_create_cluster, eks, iam, "z", [good["SubnetId"], bad["SubnetId"]], ip_family="ipv4")
    valid = sorted(name for zone_id, name in zones.items() if zone_id != "use1-az3")
    assert (error["Code"], error["Status"]) == ("UnsupportedAvailabilityZoneException", 400)
    assert error["clusterName"] == "z" and error["validZones"] == valid
    assert error["Message"] == (
        "Cannot create cluster 'z' because us-east-1e, the targeted availability zone, does not currently "
        "have sufficient capacity to support the cluster. Retry and choose from these availability zones: "
        + ", ".join(valid)
    )
    assert eks.list_clusters()["clusters"] == []
    _create_cluster(eks, iam, "z", [good["SubnetId"]], ip_family="ipv4")

    # moto's zone tables have neither usw1-az2 nor cac1-az3 (README): only use1-az3 can be produced.
    for region, absent in (("us-west-1", "usw1-az2"), ("ca-central-1", "cac1-az3")):
        [ec2_r] = _clients(port, ec2.eks6_account, region=region, services=("ec2",))
        assert absent not in {z["ZoneId"] for z in ec2_r.describe_availability_zones()["AvailabilityZones"]}


# --- (8) access entries ---------------------------------------------------------------------


def test_access_entries(port):
    ec2, eks, iam = _clients(port)
    account = eks.eks6_account
    _, subnets = _network(ec2)
    ids = [s for s, _ in subnets]
    _create_cluster(eks, iam, "ae", ids, accessConfig={
        "authenticationMode": "API_AND_CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": False,
    })
    admin = f"arn:aws:iam::{account}:role/team/admin"  # a path: slashes in the URL label
    created = eks.create_access_entry(
        clusterName="ae", principalArn=admin, kubernetesGroups=["ops"], tags={"k": "v"}, clientRequestToken="e-1",
    )["accessEntry"]
    assert created["principalArn"] == admin and created["clusterName"] == "ae"
    assert created["kubernetesGroups"] == ["ops"] and created["tags"] == {"k": "v"}
    assert created["type"] == "STANDARD"
    assert created["username"] == f"arn:aws:sts::{account}:assumed-role/admin/{{{{SessionName}}}}"
    prefix = f"arn:aws:eks:{REGION}:{account}:access-entry/ae/role/{account}/admin/"
    assert created["accessEntryArn"].startswith(prefix) and len(created["accessEntryArn"]) == len(prefix) + 36
    assert created["createdAt"] == created["modifiedAt"]
    assert eks.describe_access_entry(clusterName="ae", principalArn=admin)["accessEntry"] == created
    again = eks.create_access_entry(clusterName="ae", principalArn=admin, clientRequestToken="e-1")["accessEntry"]
    assert again["accessEntryArn"] == created["accessEntryArn"]
    error = _error(eks.create_access_entry, clusterName="ae", principalArn=admin)
    assert (error["Code"], error["Status"], error["Message"]) == (
        "ResourceInUseException", 409, "The specified access entry resource is already in use on this cluster."
    )

    user = f"arn:aws:iam::{account}:user/dev"
    entry = eks.create_access_entry(clusterName="ae", principalArn=user, username="dev")["accessEntry"]
    assert entry["username"] == "dev" and f":access-entry/ae/user/{account}/dev/" in entry["accessEntryArn"]
    for bad in ("arn:aws:iam::123456789012:policy/p", f"arn:aws:sts::{account}:assumed-role/admin/s", "admin"):
        assert _error_code(eks.create_access_entry, clusterName="ae", principalArn=bad) == "InvalidParameterException"
    assert _error_code(eks.create_access_entry, clusterName="ae", principalArn=f"arn:aws:iam::{account}:role/x",
                       type="EC2_LINUX") == "InvalidParameterException"
    assert eks.list_access_entries(clusterName="ae")["accessEntries"] == [admin, user]
    page = eks.list_access_entries(clusterName="ae", maxResults=1)
    assert page["accessEntries"] == [admin] and page["nextToken"] == user
    rest = eks.list_access_entries(clusterName="ae", maxResults=1, nextToken=page["nextToken"])
    assert rest["accessEntries"] == [user] and "nextToken" not in rest

    # Policies.
    view, edit = POLICY + "AmazonEKSViewPolicy", POLICY + "AmazonEKSEditPolicy"
    first = eks.associate_access_policy(
        clusterName="ae", principalArn=admin, policyArn=view, accessScope={"type": "namespace", "namespaces": ["a"]},
    )
    assert first["clusterName"] == "ae" and first["principalArn"] == admin
    assert first["associatedAccessPolicy"]["accessScope"] == {"type": "namespace", "namespaces": ["a"]}
    second = eks.associate_access_policy(
        clusterName="ae", principalArn=admin, policyArn=view, accessScope={"type": "cluster"},
    )["associatedAccessPolicy"]
    assert second["associatedAt"] == first["associatedAccessPolicy"]["associatedAt"]
    assert second["modifiedAt"] >= first["associatedAccessPolicy"]["modifiedAt"]
    assert second["accessScope"] == {"type": "cluster", "namespaces": []}
    eks.associate_access_policy(clusterName="ae", principalArn=admin, policyArn=edit, accessScope={"type": "cluster"})
    listed = eks.list_associated_access_policies(clusterName="ae", principalArn=admin)
    assert [p["policyArn"] for p in listed["associatedAccessPolicies"]] == [edit, view]
    assert listed["clusterName"] == "ae" and listed["principalArn"] == admin
    assert eks.list_access_entries(clusterName="ae", associatedPolicyArn=view)["accessEntries"] == [admin]
    for scope in ({"type": "namespace"}, {"type": "namespace", "namespaces": []},
                  {"type": "cluster", "namespaces": ["a"]}, {"type": "account"}):
        assert _error_code(eks.associate_access_policy, clusterName="ae", principalArn=admin, policyArn=view,
                           accessScope=scope) == "InvalidParameterException"
    for policy in (POLICY + "AmazonEKSNodePolicy", "arn:aws:iam::aws:policy/AdministratorAccess"):
        assert _error_code(eks.associate_access_policy, clusterName="ae", principalArn=admin, policyArn=policy,
                           accessScope={"type": "cluster"}) == "InvalidParameterException"
    missing = f"arn:aws:iam::{account}:role/missing"
    assert _error_code(eks.associate_access_policy, clusterName="ae", principalArn=missing, policyArn=view,
                       accessScope={"type": "cluster"}) == "ResourceNotFoundException"
    eks.disassociate_access_policy(clusterName="ae", principalArn=admin, policyArn=view)  # slashes in both labels
    assert [p["policyArn"] for p in eks.list_associated_access_policies(
        clusterName="ae", principalArn=admin)["associatedAccessPolicies"]] == [edit]
    assert _error_code(eks.disassociate_access_policy, clusterName="ae", principalArn=admin,
                       policyArn=view) == "ResourceNotFoundException"

    # Missing entries and clusters.
    for call in (eks.describe_access_entry, eks.delete_access_entry, eks.list_associated_access_policies):
        assert _error_code(call, clusterName="ae", principalArn=missing) == "ResourceNotFoundException"
        assert _error_code(call, clusterName="nope", principalArn=admin) == "ResourceNotFoundException"
    assert _error_code(eks.list_access_entries, clusterName="nope") == "ResourceNotFoundException"
    eks.delete_access_entry(clusterName="ae", principalArn=user)
    assert _error_code(eks.describe_access_entry, clusterName="ae", principalArn=user) == "ResourceNotFoundException"
    assert eks.list_access_entries(clusterName="ae")["accessEntries"] == [admin]

    # A CONFIG_MAP cluster has no access entries.
    _create_cluster(eks, iam, "cm", ids)
    msg = "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation."
    for call, kwargs in (
        (eks.create_access_entry, {"principalArn": admin}),
        (eks.describe_access_entry, {"principalArn": admin}),
        (eks.list_access_entries, {}),
    ):
        error = _error(call, clusterName="cm", **kwargs)
        assert (error["Code"], error["Message"]) == ("InvalidRequestException", msg)

    # Deleting the cluster deletes its entries.
    eks.delete_cluster(name="ae")
    _cluster_statuses(eks, "ae", N)
    assert _error_code(eks.describe_cluster, name="ae") == "ResourceNotFoundException"
    _create_cluster(eks, iam, "ae", ids, accessConfig={
        "authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False,
    })
    assert eks.list_access_entries(clusterName="ae")["accessEntries"] == []


# --- (9) managed add-ons ----------------------------------------------------------------------


def test_describe_addon_versions(port):
    _, eks, _ = _clients(port)
    everything = eks.describe_addon_versions()["addons"]
    assert [a["addonName"] for a in everything] == ["coredns", "kube-proxy", "vpc-cni"]
    by_name = {a["addonName"]: a for a in everything}
    assert {(a["type"], a["publisher"], a["owner"]) for a in everything} >= {("dns", "eks", "aws")}
    assert by_name["vpc-cni"]["type"] == by_name["kube-proxy"]["type"] == "networking"
    cni = by_name["vpc-cni"]["addonVersions"]
    assert [v["addonVersion"] for v in cni] == ["v1.20.4-eksbuild.1", "v1.19.6-eksbuild.1", "v1.18.6-eksbuild.1"]
    assert [c["clusterVersion"] for c in cni[0]["compatibilities"]] == [f"1.{m}" for m in range(23, 37)]
    assert all(c["defaultVersion"] and c["platformVersions"] == ["*"] for c in cni[0]["compatibilities"])
    assert not any(c["defaultVersion"] for c in cni[1]["compatibilities"])
    assert cni[0]["architecture"] == ["amd64", "arm64"]
    assert len(by_name["kube-proxy"]["addonVersions"]) == 2 * 14

    for_133 = eks.describe_addon_versions(kubernetesVersion="1.33")["addons"]
    versions = {a["addonName"]: [(v["addonVersion"], [(c["clusterVersion"], c["defaultVersion"])
                                                     for c in v["compatibilities"]]) for v in a["addonVersions"]]
                for a in for_133}
    assert versions["kube-proxy"] == [
        ("v1.33.3-eksbuild.2", [("1.33", True)]), ("v1.33.0-eksbuild.1", [("1.33", False)]),
    ]
    assert versions["coredns"] == [("v1.11.4-eksbuild.2", [("1.33", True)]), ("v1.11.1-eksbuild.8", [("1.33", False)])]
    only = eks.describe_addon_versions(addonName="coredns", kubernetesVersion="1.23")["addons"]
    assert [a["addonName"] for a in only] == ["coredns"]
    assert eks.describe_addon_versions(kubernetesVersion="1.22")["addons"] == []
    assert [a["addonName"] for a in eks.describe_addon_versions(types=["dns"])["addons"]] == ["coredns"]
    assert eks.describe_addon_versions(owners=["aws-marketplace"])["addons"] == []
    page = eks.describe_addon_versions(maxResults=2)
    assert [a["addonName"] for a in page["addons"]] == ["coredns", "kube-proxy"] and page["nextToken"] == "vpc-cni"


def test_addon_lifecycle(port):
    ec2, eks, iam = _clients(port)
    account = eks.eks6_account
    _, subnets = _network(ec2)
    ids = [s for s, _ in subnets]
    error = _error(eks.create_addon, clusterName="ad", addonName="vpc-cni")
    assert (error["Code"], error["Message"]) == ("ResourceNotFoundException", "No cluster found for name: ad.")
    _create_cluster(eks, iam, "ad", ids, version="1.31")
    assert _error_code(eks.create_addon, clusterName="ad", addonName="vpc-cni") == "InvalidRequestException"
    assert _cluster_statuses(eks, "ad", N + 1)[-1] == "ACTIVE"

    error = _error(eks.create_addon, clusterName="ad", addonName="aws-ebs-csi-driver")
    assert (error["Code"], error["Message"]) == (
        "InvalidParameterException", "Addon aws-ebs-csi-driver specified is not supported in 1.31 kubernetes version"
    )
    assert _error_code(eks.create_addon, clusterName="ad", addonName="kube-proxy",
                       addonVersion="v1.33.3-eksbuild.2") == "InvalidParameterException"
    assert _error_code(eks.create_addon, clusterName="ad", addonName="vpc-cni",
                       addonVersion="v9.9.9-eksbuild.1") == "InvalidParameterException"

    proxy = eks.create_addon(clusterName="ad", addonName="kube-proxy", clientRequestToken="a-1")["addon"]
    assert proxy["status"] == "CREATING" and proxy["addonVersion"] == "v1.31.3-eksbuild.2"
    assert proxy["publisher"] == "eks" and proxy["owner"] == "aws" and proxy["health"] == {"issues": []}
    prefix = f"arn:aws:eks:{REGION}:{account}:addon/ad/kube-proxy/"
    assert proxy["addonArn"].startswith(prefix) and len(proxy["addonArn"]) == len(prefix) + 36
    again = eks.create_addon(clusterName="ad", addonName="kube-proxy", clientRequestToken="a-1")["addon"]
    assert again["addonArn"] == proxy["addonArn"]
    error = _error(eks.create_addon, clusterName="ad", addonName="kube-proxy", clientRequestToken="a-2")
    assert (error["Code"], error["Message"]) == ("ResourceInUseException", "Addon already exists.")
    cni = eks.create_addon(clusterName="ad", addonName="vpc-cni", addonVersion="v1.19.6-eksbuild.1")["addon"]
    assert cni["addonVersion"] == "v1.19.6-eksbuild.1"
    assert _addon_statuses(eks, "ad", "kube-proxy", N + 2) == ["CREATING"] * N + ["ACTIVE"] * 2
    assert eks.list_addons(clusterName="ad")["addons"] == ["kube-proxy", "vpc-cni"]

    # coredns needs nodes: DEGRADED without an ACTIVE nodegroup, ACTIVE with one.
    eks.create_addon(clusterName="ad", addonName="coredns")
    assert _addon_statuses(eks, "ad", "coredns", N + 1) == ["CREATING"] * N + ["DEGRADED"]
    degraded = eks.describe_addon(clusterName="ad", addonName="coredns")["addon"]
    assert degraded["health"]["issues"] == [{
        "code": "InsufficientNumberOfReplicas",
        "message": "The add-on is unhealthy because it doesn't have the desired number of replicas.",
        "resourceIds": [],
    }]
    _nodegroup(eks, iam, "ad", "ng", subnets)
    assert _addon_statuses(eks, "ad", "coredns", 1) == ["DEGRADED"]  # the nodegroup is still CREATING
    assert _nodegroup_statuses(eks, "ad", "ng", N + 1)[-1] == "ACTIVE"
    healthy = eks.describe_addon(clusterName="ad", addonName="coredns")["addon"]
    assert healthy["status"] == "ACTIVE" and healthy["health"]["issues"] == []

    # Deletes.
    error = _error(eks.delete_addon, clusterName="ad", addonName="aws-ebs-csi-driver")
    assert (error["Code"], error["Message"]) == (
        "ResourceNotFoundException", "No addon: aws-ebs-csi-driver found in cluster: ad"
    )
    assert eks.delete_addon(clusterName="ad", addonName="kube-proxy")["addon"]["status"] == "DELETING"
    assert eks.delete_addon(clusterName="ad", addonName="kube-proxy")["addon"]["status"] == "DELETING"
    assert _addon_statuses(eks, "ad", "kube-proxy", N) == ["DELETING"] * N
    error = _error(eks.describe_addon, clusterName="ad", addonName="kube-proxy")
    assert (error["Code"], error["Message"]) == (
        "ResourceNotFoundException", "No addon: kube-proxy found in cluster: ad"
    )
    assert eks.list_addons(clusterName="ad")["addons"] == ["coredns", "vpc-cni"]

    # Add-ons go with their cluster.
    eks.delete_nodegroup(clusterName="ad", nodegroupName="ng")
    _nodegroup_statuses(eks, "ad", "ng", N)
    assert _error_code(eks.describe_nodegroup, clusterName="ad", nodegroupName="ng") == "ResourceNotFoundException"
    eks.delete_cluster(name="ad")  # with add-ons: allowed
    assert _cluster_statuses(eks, "ad", N) == ["DELETING"] * N
    assert _error_code(eks.describe_cluster, name="ad") == "ResourceNotFoundException"
    assert _error_code(eks.list_addons, clusterName="ad") == "ResourceNotFoundException"
    _create_cluster(eks, iam, "ad", ids)
    assert eks.list_addons(clusterName="ad")["addons"] == []


# --- (10) nodegroups need networking -------------------------------------------------------------


def test_nodegroup_needs_vpc_dns(port):
    ec2, eks, iam = _clients(port)
    # moto's CreateVpc defaults, as EC2's for a non-default VPC.
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    support = ec2.describe_vpc_attribute(VpcId=vpc, Attribute="enableDnsSupport")["EnableDnsSupport"]
    hostnames = ec2.describe_vpc_attribute(VpcId=vpc, Attribute="enableDnsHostnames")["EnableDnsHostnames"]
    assert (support, hostnames) == ({"Value": True}, {"Value": False})

    _, vpc_id, subnets = _active_cluster(eks, ec2, iam, "dns", network={"dns_hostnames": False})
    _nodegroup(eks, iam, "dns", "ng", subnets, scalingConfig={"minSize": 1, "maxSize": 2, "desiredSize": 2})
    assert _nodegroup_statuses(eks, "dns", "ng", N + 1) == ["CREATING"] * N + ["CREATE_FAILED"]
    [issue] = eks.describe_nodegroup(clusterName="dns", nodegroupName="ng")["nodegroup"]["health"]["issues"]
    nodes = _instances(ec2, **{"tag:eks:nodegroup-name": "ng", "instance-state-name": "running"})
    assert issue["code"] == "NodeCreationFailure"
    assert issue["message"] == "Instances failed to join the kubernetes cluster"
    assert sorted(issue["resourceIds"]) == sorted(n["InstanceId"] for n in nodes) and len(nodes) == 2

    # With both attributes on, the next nodegroup joins; without DNS support, it does not.
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"]
    _nodegroup(eks, iam, "dns", "ok", subnets)
    assert _nodegroup_statuses(eks, "dns", "ok", N + 1)[-1] == "ACTIVE"
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": False})
    _nodegroup(eks, iam, "dns", "nosupport", subnets)
    assert _nodegroup_statuses(eks, "dns", "nosupport", N + 1)[-1] == "CREATE_FAILED"


def test_nodegroup_needs_a_pod_network(port):
    ec2, eks, iam = _clients(port)
    _, _, subnets = _active_cluster(eks, ec2, iam, "bare", bootstrapSelfManagedAddons=False)
    _nodegroup(eks, iam, "bare", "ng", subnets)
    assert _nodegroup_statuses(eks, "bare", "ng", N + 1)[-1] == "CREATE_FAILED"
    [issue] = eks.describe_nodegroup(clusterName="bare", nodegroupName="ng")["nodegroup"]["health"]["issues"]
    assert issue["code"] == "NodeCreationFailure"

    eks.create_addon(clusterName="bare", addonName="vpc-cni")  # counts while still CREATING
    _nodegroup(eks, iam, "bare", "ng2", subnets)
    assert _nodegroup_statuses(eks, "bare", "ng2", N + 1)[-1] == "ACTIVE"
    eks.delete_addon(clusterName="bare", addonName="vpc-cni")
    _nodegroup(eks, iam, "bare", "ng3", subnets)
    assert _nodegroup_statuses(eks, "bare", "ng3", N + 1)[-1] == "CREATE_FAILED"

    # The IPv6 subnet issue wins.
    _, _, subnets6 = _active_cluster(eks, ec2, iam, "bare6", bootstrapSelfManagedAddons=False,
                                     network={"auto_assign_ipv6": False, "dns_hostnames": False})
    _nodegroup(eks, iam, "bare6", "ng", subnets6)
    assert _nodegroup_statuses(eks, "bare6", "ng", N + 1)[-1] == "CREATE_FAILED"
    [issue] = eks.describe_nodegroup(clusterName="bare6", nodegroupName="ng")["nodegroup"]["health"]["issues"]
    assert issue["code"] == "Ec2SubnetMissingIpv6Assignment"


# --- (11) IAM SimulatePrincipalPolicy -----------------------------------------------------------


def test_simulate_principal_policy(port):
    _, _, iam = _clients(port)
    account = iam.eks6_account
    node = _node_role(iam)  # carries the AWS-managed AmazonEKS_CNI_Policy
    eni = f"arn:aws:ec2:{REGION}:{account}:network-interface/eni-0123456789abcdef0"
    instance = f"arn:aws:ec2:{REGION}:{account}:instance/i-0123456789abcdef0"

    def decisions(arn, actions, resources=None, inputs=None):
        kwargs = {"ResourceArns": resources} if resources else {}
        if inputs:
            kwargs["PolicyInputList"] = [json.dumps(p) for p in inputs]
        response = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=actions, **kwargs)
        assert response["IsTruncated"] is False
        return [(r["EvalActionName"], r["EvalResourceName"], r["EvalDecision"], r["MatchedStatements"],
                 r["MissingContextValues"]) for r in response["EvaluationResults"]]

    cni = [{"SourcePolicyId": "AmazonEKS_CNI_Policy", "SourcePolicyType": "aws-managed"}]
    assert decisions(node, ["ec2:AssignIpv6Addresses", "EC2:assignprivateipaddresses"]) == [
        ("ec2:AssignIpv6Addresses", "*", "implicitDeny", [], []),
        ("EC2:assignprivateipaddresses", "*", "allowed", cni, []),
    ]
    assert decisions(node, ["ec2:CreateTags"], [eni, instance, "*"]) == [
        ("ec2:CreateTags", eni, "allowed", cni, []),
        ("ec2:CreateTags", instance, "implicitDeny", [], []),
        ("ec2:CreateTags", "*", "implicitDeny", [], []),  # "*" is literal; the statement is scoped
    ]

    ipv6 = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ec2:AssignIpv6Addresses", "ec2:UnassignIpv6Addresses"], "Resource": "*"},
    ]}
    iam.create_policy(PolicyName="eks6-ipv6", PolicyDocument=json.dumps(ipv6))
    iam.attach_role_policy(RoleName="eks-node", PolicyArn=f"arn:aws:iam::{account}:policy/eks6-ipv6")
    custom = [{"SourcePolicyId": "eks6-ipv6", "SourcePolicyType": "user-managed"}]
    assert decisions(node, ["ec2:AssignIpv6Addresses"]) == [("ec2:AssignIpv6Addresses", "*", "allowed", custom, [])]

    deny = {"Version": "2012-10-17", "Statement": {
        "Effect": "Deny", "Action": "ec2:*Ipv6*", "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": REGION}},
    }}
    iam.put_role_policy(RoleName="eks-node", PolicyName="no-v6", PolicyDocument=json.dumps(deny))
    assert decisions(node, ["ec2:AssignIpv6Addresses", "ec2:Assign?rivateIpAddresses"]) == [
        ("ec2:AssignIpv6Addresses", "*", "explicitDeny", [{"SourcePolicyId": "no-v6", "SourcePolicyType": "role"}],
         ["aws:RequestedRegion"]),
        ("ec2:Assign?rivateIpAddresses", "*", "implicitDeny", [], []),  # wildcards are in policies, not actions
    ]

    # PolicyInputList, NotAction/NotResource, resource case-sensitivity, and users with groups.
    extra = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::secret*"},
    ]}
    assert [d[2] for d in decisions(node, ["s3:GetObject", "iam:PassRole"],
                                    ["arn:aws:s3:::public", "arn:aws:s3:::secret", "arn:aws:s3:::SECRET"],
                                    inputs=[extra])] == [
        "allowed", "implicitDeny", "allowed", "implicitDeny", "implicitDeny", "implicitDeny",
    ]
    user = iam.create_user(UserName="dev")["User"]["Arn"]
    iam.create_group(GroupName="devs")
    iam.add_user_to_group(GroupName="devs", UserName="dev")
    iam.attach_group_policy(GroupName="devs", PolicyArn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy")
    iam.put_user_policy(UserName="dev", PolicyName="mine", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "eks:Describe*", "Resource": "*"}]}
    ))
    assert decisions(user, ["eks:DescribeCluster", "ec2:CreateTags"]) == [
        ("eks:DescribeCluster", "*", "allowed", [{"SourcePolicyId": "mine", "SourcePolicyType": "user"}], []),
        ("ec2:CreateTags", "*", "allowed", [{"SourcePolicyId": "AmazonEKSClusterPolicy",
                                             "SourcePolicyType": "aws-managed"}], []),
    ]

    for arn in (f"arn:aws:iam::{account}:role/missing", "arn:aws:iam::000000000000:role/eks-node"):
        error = _error(iam.simulate_principal_policy, PolicySourceArn=arn, ActionNames=["ec2:CreateTags"])
        assert (error["Code"], error["Status"]) == ("NoSuchEntity", 404)
    assert _error_code(iam.simulate_principal_policy, PolicySourceArn=node, ActionNames=["s3:GetObject"],
                       PolicyInputList=["{not json"]) == "InvalidInput"


# --- (12) EC2 pre-flight ----------------------------------------------------------------------


def test_ec2_preflight(port):
    ec2, _, _ = _clients(port)
    attributes = ec2.describe_account_attributes(AttributeNames=["vpc-max-elastic-ips"])["AccountAttributes"]
    assert attributes == [{"AttributeName": "vpc-max-elastic-ips", "AttributeValues": [{"AttributeValue": "5"}]}]
    assert len(ec2.describe_account_attributes()["AccountAttributes"]) == 6

    types = {t["InstanceType"]: t for t in ec2.describe_instance_types(
        InstanceTypes=["m5.large", "a1.large", "i3.metal", "i3.large", "t2.micro", "c5.metal"])["InstanceTypes"]}
    assert [(name, types[name].get("Hypervisor"), types[name]["BareMetal"]) for name in sorted(types)] == [
        ("a1.large", "nitro", False),
        ("c5.metal", None, True),
        ("i3.large", "xen", False),
        ("i3.metal", None, True),
        ("m5.large", "nitro", False),
        ("t2.micro", "xen", False),
    ]
    assert types["i3.metal"]["VCpuInfo"]["DefaultVCpus"] == 72
    assert types["i3.metal"]["MemoryInfo"]["SizeInMiB"] == 524288
    assert types["a1.large"]["ProcessorInfo"]["SupportedArchitectures"] == ["arm64"]
    metal = ec2.describe_instance_types(Filters=[{"Name": "bare-metal", "Values": ["true"]}])["InstanceTypes"]
    assert "i3.metal" in {t["InstanceType"] for t in metal}

    zones = {z["ZoneName"]: z["ZoneId"] for z in ec2.describe_availability_zones()["AvailabilityZones"]}
    assert zones["us-west-2a"].startswith("usw2-az")
    for name in ("m5.large", "i3.metal"):
        offerings = ec2.describe_instance_type_offerings(
            LocationType="availability-zone", Filters=[{"Name": "instance-type", "Values": [name]}],
        )["InstanceTypeOfferings"]
        assert {o["Location"] for o in offerings} == set(zones), name
        assert {o["LocationType"] for o in offerings} == {"availability-zone"}


# --- (13) IPv6 prefixes on nodes ----------------------------------------------------------------


def _free_prefixes(subnet_64, addresses, count):
    """The first ``count`` /80s of the subnet the extension may delegate (README: lowest free first)."""
    holding = {ipaddress.IPv6Network((a, 80), strict=False) for a in addresses}
    free = []
    for candidate in itertools.islice(subnet_64.subnets(new_prefix=80), 1, None):  # the first /80 is reserved
        if candidate not in holding:
            free.append(candidate)
        if len(free) == count:
            return free


def test_ipv6_prefixes_on_nodes(port):
    ec2, eks, iam = _clients(port)
    _, _, subnets = _active_cluster(eks, ec2, iam, "pfx")
    per_subnet = dict(subnets)
    _nodegroup(eks, iam, "pfx", "ng", subnets, scalingConfig={"minSize": 1, "maxSize": 4, "desiredSize": 3})
    nodes = _instances(ec2, **{"tag:eks:nodegroup-name": "ng"})
    assert len(nodes) == 3
    seen = {}
    for node in nodes:
        [eni] = node["NetworkInterfaces"]
        [prefix] = eni["Ipv6Prefixes"]  # networkInterfaceSet/item/ipv6PrefixSet/item/ipv6Prefix
        delegated = ipaddress.IPv6Network(prefix["Ipv6Prefix"])
        assert delegated.prefixlen == 80 and delegated.subnet_of(per_subnet[node["SubnetId"]])
        [address] = eni["Ipv6Addresses"]
        assert ipaddress.IPv6Address(address["Ipv6Address"]) not in delegated
        [described] = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni["NetworkInterfaceId"]])[
            "NetworkInterfaces"]
        assert described["Ipv6Prefixes"] == [prefix]  # ipv6PrefixSet/item/ipv6Prefix
        seen[node["InstanceId"]] = (node["SubnetId"], delegated)
    assert len({d for _, d in seen.values()}) == 3
    # Deterministic: a subnet's nodes hold its lowest free /80s.
    for subnet_id, subnet_64 in subnets:
        enis = ec2.describe_network_interfaces(Filters=[{"Name": "subnet-id", "Values": [subnet_id]}])[
            "NetworkInterfaces"]
        addresses = [a["Ipv6Address"] for e in enis for a in e.get("Ipv6Addresses", [])]
        mine = sorted(d for s, d in seen.values() if s == subnet_id)
        assert mine == _free_prefixes(subnet_64, addresses, len(mine))

    # An ipv4 cluster's nodes (IPv6 addresses and all) get no prefix, nor do other interfaces.
    _, _, subnets4 = _active_cluster(eks, ec2, iam, "pfx4", ip_family="ipv4")
    _nodegroup(eks, iam, "pfx4", "ng4", subnets4, scalingConfig={"minSize": 1, "maxSize": 1, "desiredSize": 1})
    [node] = _instances(ec2, **{"tag:eks:nodegroup-name": "ng4"})
    [eni] = node["NetworkInterfaces"]
    assert eni["Ipv6Addresses"] and not eni.get("Ipv6Prefixes")
    other = ec2.create_network_interface(SubnetId=subnets[0][0], Ipv6AddressCount=1)["NetworkInterface"]
    assert not other.get("Ipv6Prefixes")
    # Terminating the nodes frees their prefixes with their interfaces.
    eks.delete_nodegroup(clusterName="pfx", nodegroupName="ng")
    left = ec2.describe_network_interfaces(Filters=[{"Name": "subnet-id", "Values": [s for s, _ in subnets]}])
    assert [e["NetworkInterfaceId"] for e in left["NetworkInterfaces"]] == [other["NetworkInterfaceId"]]


def test_prefix_delegation_rules():
    """The allocation rule on stand-ins (moto's random addresses rarely hit these cases)."""
    from types import SimpleNamespace as NS

    import eks6_moto_ext  # in this process; nothing is patched

    cidr = ipaddress.IPv6Network("2600:1f14:aaa:bb00::/64")
    nets = list(itertools.islice(cidr.subnets(new_prefix=80), 5))
    subnet = NS(id="subnet-1", ipv6_cidr_block_associations={"a": {"ipv6CidrBlock": str(cidr)}})
    elsewhere = NS(id="subnet-2", ipv6_cidr_block_associations=subnet.ipv6_cidr_block_associations)
    holder = NS(subnet=subnet, ipv6_addresses=[str(nets[1][5])], ipv6_prefixes=[{"Ipv6Prefix": str(nets[2])}])
    new = NS(subnet=subnet, ipv6_addresses=[str(nets[2][7])])  # inside a delegated /80: drawn again
    ec2 = NS(enis={"a": holder, "b": NS(subnet=elsewhere, ipv6_addresses=[str(nets[3][9])]), "c": new})
    delegated = eks6_moto_ext.delegate_ipv6_prefix(ec2, new)
    [address] = new.ipv6_addresses
    assert ipaddress.IPv6Address(address) in cidr and ipaddress.IPv6Address(address) not in nets[2]
    # nets[0] is reserved, nets[1] holds an address, nets[2] is delegated; the other subnet does not count.
    expected = nets[3] if ipaddress.IPv6Address(address) not in nets[3] else nets[4]
    assert delegated == str(expected) and new.ipv6_prefixes == [{"Ipv6Prefix": str(expected)}]
    v4_only = NS(subnet=NS(id="subnet-3", ipv6_cidr_block_associations={}), ipv6_addresses=[])
    assert eks6_moto_ext.delegate_ipv6_prefix(NS(enis={"d": v4_only}), v4_only) is None
    assert not hasattr(v4_only, "ipv6_prefixes")


# --- (14) registered control planes -------------------------------------------------------------


def _http(port, method, path, body=None, headers=None):
    """(status, headers, body) of one raw HTTP request to the emulator."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        if isinstance(body, dict):
            body, headers = json.dumps(body), {"Content-Type": "application/json", **(headers or {})}
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def _json(port, method, path, body=None):
    status, _, data = _http(port, method, path, body)
    return status, json.loads(data)


def _pem_b64(tag):
    pem = f"-----BEGIN CERTIFICATE-----\nMIIB{tag}\n-----END CERTIFICATE-----\n"
    return base64.b64encode(pem.encode()).decode()


def test_control_plane_registry(tmp_path):
    proc, port = _launch(tmp=tmp_path)  # its own server: the test ends with /moto-api/reset
    try:
        ec2, eks, iam = _clients(port)
        account = eks.eks6_account
        _, subnets = _network(ec2)
        ids = [s for s, _ in subnets]
        before = _create_cluster(eks, iam, "cp", ids)
        placeholder, own_ca = before["endpoint"], before["certificateAuthority"]["data"]
        own_service = before["kubernetesNetworkConfig"]["serviceIpv6Cidr"]
        assert placeholder.endswith(f".{REGION}.eks.amazonaws.com/")

        plane = {"account": account, "region": REGION, "cluster": "cp", "endpoint": "https://[::1]:6443",
                 "certificateAuthority": _pem_b64("one"), "serviceIpv6Cidr": "fd00:e6::/108"}
        assert _json(port, "POST", CONTROL_PLANES, plane) == (200, {"controlPlane": plane})
        described = eks.describe_cluster(name="cp")["cluster"]
        assert described["endpoint"] == "https://[::1]:6443"
        assert described["certificateAuthority"] == {"data": plane["certificateAuthority"]}
        assert described["kubernetesNetworkConfig"] == {"ipFamily": "ipv6", "serviceIpv6Cidr": "fd00:e6::/108"}
        assert described["status"] == "CREATING"  # the lifecycle goes on

        # Registered before the cluster exists: CreateCluster answers with it already.
        later = dict(plane, cluster="later", endpoint="https://127.0.0.1:7443", serviceIpv6Cidr=None)
        del later["serviceIpv6Cidr"]
        assert _json(port, "POST", CONTROL_PLANES, later)[0] == 200
        created = _create_cluster(eks, iam, "later", ids)
        assert created["endpoint"] == "https://127.0.0.1:7443"
        assert created["certificateAuthority"]["data"] == later["certificateAuthority"]
        assert created["kubernetesNetworkConfig"]["serviceIpv6Cidr"] != "fd00:e6::/108"  # (3)'s, none given
        assert _json(port, "GET", CONTROL_PLANES) == (200, {"controlPlanes": [plane, later]})

        # A new POST replaces; other accounts and regions are not affected; an ipv4 cluster gets no IPv6 range.
        replaced = dict(plane, endpoint="https://[::1]:7000", certificateAuthority=_pem_b64("two"))
        assert _json(port, "POST", CONTROL_PLANES, replaced)[0] == 200
        assert eks.describe_cluster(name="cp")["cluster"]["endpoint"] == "https://[::1]:7000"
        ec2_b, eks_b, iam_b = _clients(port)
        _, subnets_b = _network(ec2_b)
        assert _create_cluster(eks_b, iam_b, "cp", [s for s, _ in subnets_b])["endpoint"] != "https://[::1]:7000"
        _create_cluster(eks, iam, "v4", ids, ip_family="ipv4")
        assert _json(port, "POST", CONTROL_PLANES, dict(plane, cluster="v4"))[0] == 200
        v4 = eks.describe_cluster(name="v4")["cluster"]
        assert v4["endpoint"] == "https://[::1]:6443" and "serviceIpv6Cidr" not in v4["kubernetesNetworkConfig"]

        # DELETE brings moto's placeholders back.
        key = {"account": account, "region": REGION, "cluster": "cp"}
        assert _json(port, "DELETE", CONTROL_PLANES, key) == (200, {"removed": True})
        assert _json(port, "DELETE", CONTROL_PLANES, key) == (200, {"removed": False})
        back = eks.describe_cluster(name="cp")["cluster"]
        assert (back["endpoint"], back["certificateAuthority"]["data"]) == (placeholder, own_ca)
        assert back["kubernetesNetworkConfig"]["serviceIpv6Cidr"] == own_service
        query = f"?account={account}&region={REGION}&cluster=v4"
        assert _json(port, "DELETE", CONTROL_PLANES + query) == (200, {"removed": True})

        # DeleteCluster's answer carries it too.
        assert _json(port, "POST", CONTROL_PLANES, plane)[0] == 200
        assert eks.delete_cluster(name="cp")["cluster"]["endpoint"] == "https://[::1]:6443"

        for bad in (dict(plane, account="1234"), dict(plane, endpoint="http://[::1]:6443"),
                    dict(plane, certificateAuthority="not base64!"),
                    dict(plane, certificateAuthority=base64.b64encode(b"no pem").decode()),
                    dict(plane, serviceIpv6Cidr="10.0.0.0/16"), {k: v for k, v in plane.items() if k != "region"}):
            status, answer = _json(port, "POST", CONTROL_PLANES, bad)
            assert status == 400 and answer["error"], bad
        assert _http(port, "POST", CONTROL_PLANES, "[1]")[0] == 400
        assert _http(port, "PUT", CONTROL_PLANES, "{}")[0] == 405

        # POST /moto-api/reset clears the registry with the rest.
        assert _json(port, "GET", CONTROL_PLANES)[1]["controlPlanes"]
        assert _http(port, "POST", "/moto-api/reset")[0] == 200
        assert _json(port, "GET", CONTROL_PLANES) == (200, {"controlPlanes": []})
    finally:
        proc.stdin.close()  # EOF on stdin stops the launcher
        rc = _finish(proc)
    assert rc == 0


# --- (15) STS GetCallerIdentity presigned -------------------------------------------------------


def _presign(cluster, region=REGION, **creds):
    """A token's URL, as `aws eks get-token` makes it (awscli/customizations/eks/get_token.py)."""
    sts = boto3.client("sts", region_name=region, **creds)  # no endpoint: signed for STS's own host

    def add_cluster(request, **_):
        request.headers["x-k8s-aws-id"] = cluster

    sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_cluster)
    url = urlsplit(sts.generate_presigned_url("get_caller_identity", Params={}, ExpiresIn=60, HttpMethod="GET"))
    assert url.netloc == f"sts.{region}.amazonaws.com" and url.path == "/"
    return url


def _verify(port, url, cluster, accept="application/json", query=None, **headers):
    """What aws-iam-authenticator sends, through the emulator (plus x-eks6-signed-host)."""
    sent = {"x-k8s-aws-id": cluster, "x-eks6-signed-host": url.netloc, **headers}
    if accept:
        sent["accept"] = accept
    sent = {k: v for k, v in sent.items() if v is not None}
    status, answer_headers, body = _http(port, "GET", f"{url.path}?{query or url.query}", headers=sent)
    if answer_headers.get("content-type") == "application/json":
        return status, json.loads(body)
    return status, ET.fromstring(body)


def _identity(answer):
    return answer["GetCallerIdentityResponse"]["GetCallerIdentityResult"]


def _sts_error(answer):
    assert answer["Error"]["Type"] == "Sender" and answer["RequestId"]
    return answer["Error"]["Code"], answer["Error"]["Message"]


def test_presigned_caller_identity_of_an_assumed_role(port):
    ec2, eks, iam, sts = _clients(port, services=("ec2", "eks", "iam", "sts"))
    account = eks.eks6_account
    admin = _role(iam, "admin", "eks.amazonaws.com", path="/team/")
    session = sts.assume_role(RoleArn=admin, RoleSessionName="ci")["Credentials"]
    creds = {"aws_access_key_id": session["AccessKeyId"], "aws_secret_access_key": session["SecretAccessKey"],
             "aws_session_token": session["SessionToken"]}
    url = _presign("my-cluster", **creds)
    assert "X-Amz-Security-Token=" in url.query and "X-Amz-SignedHeaders=host%3Bx-k8s-aws-id" in url.query

    # The role's account, whatever account the request names.
    status, answer = _verify(port, url, "my-cluster", **{"x-moto-account-id": _account()})
    assert status == 200, answer
    role_id = iam.get_role(RoleName="admin")["Role"]["RoleId"]
    assert _identity(answer) == {
        "Account": account, "Arn": f"arn:aws:sts::{account}:assumed-role/admin/ci", "UserId": f"{role_id}:ci",
    }
    assert answer["GetCallerIdentityResponse"]["ResponseMetadata"]["RequestId"]
    # Without x-eks6-signed-host the host is sts.<region>.amazonaws.com; XML without Accept: application/json.
    status, xml = _verify(port, url, "my-cluster", accept=None, **{"x-eks6-signed-host": None})
    ns = {"s": "https://sts.amazonaws.com/doc/2011-06-15/"}
    assert status == 200 and xml.findtext("s:GetCallerIdentityResult/s:Arn", namespaces=ns) == (
        f"arn:aws:sts::{account}:assumed-role/admin/ci"
    )

    mismatch = ("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you "
                "provided. Check your AWS Secret Access Key and signing method. Consult the service documentation "
                "for details.")
    signature = url.query.rsplit("X-Amz-Signature=", 1)[1]
    changed = url.query.replace(signature, signature[:-1] + ("0" if signature[-1] != "0" else "1"))
    for kwargs in (
        {"query": changed},
        {"cluster": "other-cluster"},  # x-k8s-aws-id is signed
        {"x-eks6-signed-host": "sts.amazonaws.com"},
        {"x-eks6-signed-host": None, "query": url.query.replace("us-west-2", "us-east-2")},
    ):
        status, answer = _verify(port, url, **{"cluster": "my-cluster", **kwargs})
        assert (status, _sts_error(answer)) == (403, mismatch), kwargs
    status, xml = _verify(port, url, "my-cluster", accept=None, query=changed)
    assert status == 403 and xml.findtext("s:Error/s:Code", namespaces=ns) == "SignatureDoesNotMatch"

    # The session token belongs to the key.
    token = url.query.split("X-Amz-Security-Token=", 1)[1].split("&", 1)[0]
    wrong_token = url.query.replace(token, token[:-4] + "AAAA")
    for query in (wrong_token, url.query.replace(f"X-Amz-Security-Token={token}&", "")):
        status, answer = _verify(port, url, "my-cluster", query=query)
        assert (status, _sts_error(answer)[0]) == (403, "InvalidClientTokenId")

    # moto's own STS calls are unchanged.
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:sts::{account}:user/moto"


def test_presigned_caller_identity_keys_and_clock(port, monkeypatch):
    _, iam, sts = _clients(port, services=("ec2", "iam", "sts"))
    account = iam.eks6_account
    static = {"aws_access_key_id": TEST_KEY_ID, "aws_secret_access_key": TEST_SECRET}
    status, answer = _verify(port, _presign("c", **static), "c", **{"x-moto-account-id": account})
    assert status == 200 and _identity(answer)["Arn"] == f"arn:aws:sts::{account}:user/moto"
    assert _identity(answer)["Account"] == account

    iam.create_user(UserName="dev")
    key = iam.create_access_key(UserName="dev")["AccessKey"]
    user = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
    status, answer = _verify(port, _presign("c", region="eu-west-1", **user), "c")
    assert status == 200 and _identity(answer)["Arn"] == f"arn:aws:iam::{account}:user/dev"

    for unknown in ({"aws_access_key_id": "AKIAEKS6UNKNOWN00000", "aws_secret_access_key": TEST_SECRET},
                    {"aws_access_key_id": key["AccessKeyId"] + "X", "aws_secret_access_key": "x"}):
        status, answer = _verify(port, _presign("c", **unknown), "c")
        assert (status, _sts_error(answer)) == (
            403, ("InvalidClientTokenId", "The security token included in the request is invalid.")
        )
    wrong_secret = dict(static, aws_secret_access_key="other-secret")
    assert _sts_error(_verify(port, _presign("c", **wrong_secret), "c")[1])[0] == "SignatureDoesNotMatch"
    iam.update_access_key(UserName="dev", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert _sts_error(_verify(port, _presign("c", **user), "c")[1])[0] == "InvalidClientTokenId"

    # STS honours the signature for 15 minutes from X-Amz-Date, whatever X-Amz-Expires says (60).
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)

    def signed_at(offset):
        monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda remove_tzinfo=True: now + offset)
        url = _presign("c", **static)
        monkeypatch.undo()
        return url, (now + offset).strftime("%Y%m%dT%H%M%SZ")

    url, _ = signed_at(datetime.timedelta(minutes=-14))
    assert _verify(port, url, "c")[0] == 200
    url, stamp = signed_at(datetime.timedelta(minutes=-16))
    status, answer = _verify(port, url, "c")
    code, message = _sts_error(answer)
    assert (status, code) == (403, "SignatureDoesNotMatch")
    assert message.startswith(f"Signature expired: {stamp} is now earlier than ") and message.endswith(" - 15 min.)")
    url, stamp = signed_at(datetime.timedelta(minutes=17))
    code, message = _sts_error(_verify(port, url, "c")[1])
    assert code == "SignatureDoesNotMatch" and message.startswith(f"Signature not yet current: {stamp} is still later")

    # Malformed query signatures.
    url = _presign("c", **static)
    for query in (url.query.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1"),
                  url.query.replace("X-Amz-Date=", "X-Amz-Date=x")):
        status, answer = _verify(port, url, "c", query=query)
        assert (status, _sts_error(answer)[0]) == (400, "IncompleteSignature")


# --- (16) time-based mode -------------------------------------------------------------------------

FAST = 0.0015  # EKS6_MOTO_TIME_SCALE of the time-based server: a 600 s cluster in 0.9 s
SLOW = 0.05  # in this process, for the shortest kinds: a 10 s IAM propagation in 0.5 s
DURATIONS = HERE.parent.parent / "core" / "src" / "workflow" / "expected_durations.toml"


def _seconds(kind, scale):
    """How long a ``kind`` transition lasts at ``scale``, from the table the extension reads."""
    with DURATIONS.open("rb") as table:
        return tomllib.load(table)[kind]["seconds"] * scale


@pytest.fixture(scope="module")
def timed_port(tmp_path_factory):
    """A server in the time-based mode at scale FAST."""
    proc, port = _launch(tmp=tmp_path_factory.mktemp("timed"), EKS6_MOTO_TIME_SCALE=str(FAST))
    yield port
    proc.stdin.close()
    assert _finish(proc) == 0


def _timeline(observe, final, timeout=10.0):
    """observe() every 20 ms until it returns ``final``: [(sent, received, state)], time.monotonic()."""
    seen, deadline = [], time.monotonic() + timeout
    while not seen or seen[-1][2] != final:
        assert time.monotonic() < deadline, f"still {seen[-1][2]!r} after {timeout} s"
        if seen:
            time.sleep(0.02)
        sent = time.monotonic()
        state = observe()
        seen.append((sent, time.monotonic(), state))
    return seen


def _lasted(seen, started, answered, seconds, transitional):
    """The transition begun by a request sent at ``started`` and answered at ``answered`` lasted
    ``seconds`` by the clock: the final state was not observed before ``started + seconds``, and
    nothing observed from ``answered + seconds`` on was still ``transitional``."""
    *before, (_, received, _) = seen
    assert all(state == transitional for _, _, state in before), seen
    assert received - started >= seconds, (received - started, seconds)
    assert all(sent < answered + seconds for sent, _, _ in before), (seen, answered + seconds)
    return before


def _eks_state(call, key, **kwargs):
    try:
        return call(**kwargs)[key]["status"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        return "gone"


def test_time_based_eks_lifecycles(timed_port):
    ec2, eks, iam = _clients(timed_port)
    _, subnets = _network(ec2)
    _cluster_role(iam)  # before the clock starts

    def cluster_state():
        return _eks_state(eks.describe_cluster, "cluster", name="tc")

    started = time.monotonic()
    assert _create_cluster(eks, iam, "tc", [s for s, _ in subnets])["status"] == "CREATING"
    answered = time.monotonic()
    creating = _lasted(_timeline(cluster_state, "ACTIVE"), started, answered, _seconds("cluster-create", FAST),
                       "CREATING")
    assert len(creating) > N, "describes do not end CREATING in the time-based mode"

    # An add-on and a nodegroup at once, each on its own clock.
    addon, nodegroup = dict(clusterName="tc", addonName="vpc-cni"), dict(clusterName="tc", nodegroupName="ng")

    def addon_state():
        return _eks_state(eks.describe_addon, "addon", **addon)

    def nodegroup_state():
        return _eks_state(eks.describe_nodegroup, "nodegroup", **nodegroup)

    started = time.monotonic()
    assert eks.create_addon(**addon)["addon"]["status"] == "CREATING"
    answered = time.monotonic()
    assert _nodegroup(eks, iam, "tc", "ng", subnets)["status"] == "CREATING"
    answered_ng = time.monotonic()
    _lasted(_timeline(addon_state, "ACTIVE"), started, answered, _seconds("addon-create", FAST), "CREATING")
    seen = _timeline(nodegroup_state, "ACTIVE")
    _lasted(seen, answered, answered_ng, _seconds("nodegroup-create", FAST), "CREATING")

    started = time.monotonic()
    assert eks.delete_addon(**addon)["addon"]["status"] == "DELETING"
    answered = time.monotonic()
    assert eks.delete_nodegroup(**nodegroup)["nodegroup"]["status"] == "DELETING"
    answered_ng = time.monotonic()
    assert _error_code(eks.delete_cluster, name="tc") == "ResourceInUseException"
    _lasted(_timeline(addon_state, "gone"), started, answered, _seconds("addon-delete", FAST), "DELETING")
    seen = _timeline(nodegroup_state, "gone")
    _lasted(seen, answered, answered_ng, _seconds("nodegroup-delete", FAST), "DELETING")

    started = time.monotonic()
    assert eks.delete_cluster(name="tc")["cluster"]["status"] == "DELETING"
    answered = time.monotonic()
    # Time, not describes, ends it: ListClusters shows the cluster until then and not after.
    seen = _timeline(lambda: "DELETING" if eks.list_clusters()["clusters"] == ["tc"] else "gone", "gone")
    _lasted(seen, started, answered, _seconds("cluster-delete", FAST), "DELETING")
    assert cluster_state() == "gone"


def test_time_based_nat_gateways(timed_port):
    ec2, = _clients(timed_port, services=("ec2",))
    vpc_id, subnets = _network(ec2)
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]

    def state():
        return ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]["State"]

    started = time.monotonic()
    nat = ec2.create_nat_gateway(SubnetId=subnets[0][0], AllocationId=allocation)["NatGateway"]
    answered = time.monotonic()
    nat_id = nat["NatGatewayId"]
    assert nat["State"] == "pending"
    _lasted(_timeline(state, "available"), started, answered, _seconds("nat-gateway-create", FAST), "pending")

    started = time.monotonic()
    ec2.delete_nat_gateway(NatGatewayId=nat_id)
    answered = time.monotonic()
    _lasted(_timeline(state, "deleted"), started, answered, _seconds("nat-gateway-delete", FAST), "deleting")
    by_vpc = ec2.describe_nat_gateways(Filter=[{"Name": "vpc-id", "Values": [vpc_id]}])["NatGateways"]
    assert [n["State"] for n in by_vpc] == ["deleted"]  # listed as deleted, as EC2 does for a while


def test_time_based_vpc_block_and_iam_propagation(monkeypatch):
    """In this process (moto's in-process mock, the extension applied), at scale SLOW."""
    from types import SimpleNamespace as NS

    import eks6_moto_ext
    from moto import mock_aws
    from moto.eks.exceptions import InvalidParameterException

    monkeypatch.setenv("EKS6_MOTO_TIME_SCALE", str(SLOW))
    monkeypatch.setenv("EKS6_MOTO_IAM_PROPAGATION", "1")
    creds = {"region_name": REGION, "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    with mock_aws():
        eks6_moto_ext.apply()
        try:
            ec2, iam = boto3.client("ec2", **creds), boto3.client("iam", **creds)
            started = time.monotonic()
            vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
            answered = time.monotonic()
            [block] = vpc["Ipv6CidrBlockAssociationSet"]
            assert (block["Ipv6CidrBlock"], block["Ipv6CidrBlockState"]["State"]) == ("", "associating")  # as EC2
            seen = _timeline(lambda: "associated" if _vpc_ipv6(ec2, vpc["VpcId"]) else "associating", "associated")
            _lasted(seen, started, answered, _seconds("vpc-ipv6-block", SLOW), "associating")
            assert ipaddress.IPv6Network(_vpc_ipv6(ec2, vpc["VpcId"])).prefixlen == 56

            started = time.monotonic()
            role = _role(iam, "fresh", "eks.amazonaws.com")
            answered = time.monotonic()
            backend = NS(account_id=role.split(":")[4], partition="aws")

            def attempt():
                try:
                    eks6_moto_ext._check_role(backend, role, "eks.amazonaws.com")
                except InvalidParameterException as error:
                    assert json.loads(error.description)["message"] == ROLE_MSG.format(role)
                    return "refused"
                return "assumed"

            refused = _lasted(_timeline(attempt, "assumed"), started, answered,
                              _seconds("iam-propagation", SLOW), "refused")
            assert refused, "a role created just now is refused first"
        finally:
            eks6_moto_ext.remove()


def test_time_scale_must_be_a_positive_number(monkeypatch):
    import eks6_moto_ext  # in this process: apply() refuses before patching anything

    for good, scale in (("", None), (" ", None), ("0.01", 0.01), ("2", 2.0)):
        monkeypatch.setenv("EKS6_MOTO_TIME_SCALE", good)
        assert eks6_moto_ext.time_scale() == scale
    monkeypatch.delenv("EKS6_MOTO_TIME_SCALE")
    assert eks6_moto_ext.time_scale() is None
    try:
        for bad in ("0", "-1", "nan", "inf", "fast", "1/100"):
            monkeypatch.setenv("EKS6_MOTO_TIME_SCALE", bad)
            with pytest.raises(ValueError, match="EKS6_MOTO_TIME_SCALE must be a number > 0"):
                eks6_moto_ext.apply()  # what launch.py calls at start-up
    finally:
        eks6_moto_ext.remove()
    assert eks6_moto_ext.expected_seconds() == {
        kind: _seconds(kind, 1) for kind in eks6_moto_ext.TIMED_KINDS
    }
