"""Helpers of the workflow tests: fresh emulator accounts, plans, clients of an account,
and what an account holds, seen from outside eks6 (boto3)."""

import itertools
import os

import boto3

import eks6

FAST = eks6.WaitPolicy(poll_interval=0.01, deadline=60.0)  # the emulator counts describes: poll every 10 ms

_accounts = itertools.count(1)

PLAN = """
name = "{name}"
region = "us-west-2"
kubernetes_version = "1.35"
[vpc]
availability_zones = {zones}
public_subnets = true
private_subnets = {private}
[nodegroup]
name = "{name}-nodes"
instance_types = ["m5.large"]
desired_size = 2
[probe]
port = 80
"""


def fresh_account():
    """A new emulator account id (this process, then a counter): a test's own VPCs, clusters..."""
    return f"{os.getpid() % 10000:04d}{next(_accounts):08d}"


def plan_toml(name, zones=2, private=True):
    """The TOML of a plan named ``name`` over ``zones`` zones, with or without private subnets."""
    return PLAN.format(name=name, zones=zones, private=str(private).lower())


def client(endpoint, account, **kw):
    """An eks6 client of ``account`` on the emulator, polling fast."""
    return eks6.Client("us-west-2", endpoint_url=endpoint, role_arn=f"arn:aws:iam::{account}:role/eks6-test",
                       wait=FAST, **kw)


def boto(endpoint, account, service):
    """A boto3 client of ``service`` acting in ``account`` (through STS AssumeRole)."""
    sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-west-2")
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/check", RoleSessionName="check")["Credentials"]
    return boto3.client(service, endpoint_url=endpoint, region_name="us-west-2", aws_access_key_id=c["AccessKeyId"],
                        aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])


def owned_vpcs(endpoint, account, plan):
    """VPCs carrying the plan's ownership tag, seen with boto3 as that account."""
    ec2 = boto(endpoint, account, "ec2")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:eks6:plan-id", "Values": [plan.plan_id]}])["Vpcs"]
    return [v["VpcId"] for v in vpcs]


def ipv4_only_node_role(endpoint, account, name):
    """A node role as many accounts have one: trusted by EC2, with the AWS-managed
    AmazonEKS_CNI_Policy (IPv4 only: no ec2:AssignIpv6Addresses). Returns its ARN."""
    iam = boto(endpoint, account, "iam")
    trust = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
             '"Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}')
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    for p in ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy"):
        iam.attach_role_policy(RoleName=name, PolicyArn=f"arn:aws:iam::aws:policy/{p}")
    return arn


class ControlPlane:
    """The tests' real Kubernetes control plane (tests/controlplane: kube-apiserver,
    controller manager and scheduler, and the documented kubelet harness) for one
    emulated cluster, registered with the emulator so that DescribeCluster points at it.
    Built by ``make controlplane``; its path is ``$EKS6_CONTROLPLANE``."""

    def __init__(self, endpoint, account, cluster, probe_port, region="us-west-2"):
        import json
        import subprocess
        import tempfile

        binary = os.environ.get("EKS6_CONTROLPLANE", "")
        if not os.path.exists(binary):
            raise RuntimeError(f"the control plane {binary!r} is not built: run `make controlplane`")
        self._dir = tempfile.mkdtemp(prefix="eks6-py-cp-")
        self._log = open(os.path.join(self._dir, "controlplane.log"), "wb")
        self._proc = subprocess.Popen(
            [binary, "--dir", self._dir, "--cluster", cluster, "--account", account, "--region", region,
             "--aws-endpoint", endpoint, "--nginx-port", str(probe_port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
        )
        for line in self._proc.stdout:
            if line.startswith(b"EKS6_CONTROL_PLANE="):
                doc = json.loads(line.split(b"=", 1)[1])
                break
        else:
            raise RuntimeError(f"the control plane stopped; its log: {self._log.name}")
        self.endpoint, self.ca = doc["endpoint"], doc["ca"]
        self.admin_kubeconfig = doc["admin_kubeconfig"]
        self._key = {"account": account, "region": region, "cluster": cluster}
        self._emulator = endpoint
        self._moto_api("POST", {**self._key, "endpoint": self.endpoint, "certificateAuthority": self.ca,
                                "serviceIpv6Cidr": doc["service_cidr"]})

    def _moto_api(self, method, body):
        import json
        import urllib.request

        req = urllib.request.Request(f"{self._emulator}/moto-api/eks6/control-planes", method=method,
                                     data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as answer:
            assert answer.status == 200

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        import shutil

        self._moto_api("DELETE", self._key)
        self._proc.stdin.close()
        self._proc.wait(timeout=30)
        self._proc.stdout.close()
        self._log.close()
        shutil.rmtree(self._dir, ignore_errors=True)
