"""Test-only extension of moto 5.2.5 that makes its EKS emulation closer to real EKS.

Apply it with ``apply()`` in the process that runs the moto server (see
``launch.py``); it monkeypatches ``moto.eks.models.EKSBackend``. Everything it
keeps lives on moto's own per-account, per-region backend objects, so accounts
selected with the ``x-moto-account-id`` header stay isolated, and
``POST /moto-api/reset`` wipes it like the rest of moto. It is pinned to
moto 5.2.5 because it reaches into moto's internals.

What it changes, and why (what real EKS does that moto lacks):

1. Lifecycles. moto makes clusters and nodegroups ACTIVE at once and deletes
   them at once. Here a new cluster or nodegroup answers CREATING to its first N
   Describe calls and ACTIVE from the (N+1)th; a delete answers DELETING and the
   resource keeps answering DELETING to N describes, after which Describe
   raises ResourceNotFoundException (moto's usual answer for a missing one).
   N comes from the environment variable EKS6_MOTO_CREATING_DESCRIBES (default
   2, read at each call; 0 gives moto's immediate behaviour except that the
   delete answer says DELETING, as EKS's does). Only DescribeCluster and
   DescribeNodegroup advance a lifecycle; List* shows the resource meanwhile.
   Kept from moto: CreateNodegroup on a cluster that is not ACTIVE fails with
   InvalidRequestException, and DeleteCluster with nodegroups (in any state,
   DELETING included) fails with ResourceInUseException. Deleting something
   already DELETING answers it again without restarting the count; deleting a
   CREATING one starts its deletion.

2. Nodegroup instances. moto launches none. Here CreateNodegroup launches
   scalingConfig.desiredSize EC2 instances at once (while the nodegroup is
   still CREATING, as EKS's Auto Scaling group does), round-robin over the
   nodegroup's subnets, of the nodegroup's first instance type, with the
   cluster security group on the primary network interface (deleted on
   termination) and tags eks:cluster-name, eks:nodegroup-name,
   kubernetes.io/cluster/<cluster>=owned and aws:autoscaling:groupName.
   An instance gets one IPv6 address from its subnet's /64 only when the subnet
   has AssignIpv6AddressOnCreation, like EC2. In an ipv6 cluster a nodegroup
   with a subnet lacking that attribute (or an IPv6 CIDR) launches nothing and
   ends CREATE_FAILED with the health issue Ec2SubnetMissingIpv6Assignment, as
   EKS does (eksctl #4701). DeleteNodegroup terminates the instances at once.
   UpdateNodegroupConfig does not resize; the AMI is a fixed placeholder.

3. Cluster security group and network config. moto creates none and reports
   neither vpcId, clusterSecurityGroupId nor serviceIpv6Cidr. Here
   CreateCluster creates, in the VPC of the first subnet of resourcesVpcConfig,
   the group eks-cluster-sg-<name>-<10 digits> tagged Name,
   aws:eks:cluster-name=<name> and kubernetes.io/cluster/<name>=owned, with
   EKS's rules: all traffic in from itself, all traffic out to 0.0.0.0/0 and
   ::/0 (moto adds both egress rules itself when the VPC has an IPv6 block; the
   missing ones are added). resourcesVpcConfig reports vpcId and
   clusterSecurityGroupId (kept across UpdateClusterConfig, which moto would
   otherwise replace wholesale). The group is deleted when the cluster finally
   disappears. Unknown subnet ids fail CreateCluster/CreateNodegroup with
   InvalidParameterException, as EKS does (the two-AZ rule is not checked).
   kubernetesNetworkConfig: with ipFamily ipv6 it reports serviceIpv6Cidr, a
   /108 inside fd00::/8 derived from a hash of account, region and cluster
   name, and never serviceIpv4Cidr; otherwise ipFamily ipv4 and moto's default
   serviceIpv4Cidr 172.20.0.0/16 unless one was given.

4. Idempotency tokens. moto ignores clientRequestToken, so a CreateCluster or
   CreateNodegroup sent again after its answer was lost (an SDK retry) fails
   with ResourceInUseException. EKS answers a repeat that carries the token of
   the existing resource of that name with that resource. Here too; a repeat
   with another token (or none) still fails with ResourceInUseException.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import threading
from typing import Any

from moto.ec2.models import ec2_backends
from moto.eks import models as eks_models
from moto.eks.exceptions import InvalidParameterException
from moto.moto_api._internal import mock_random as random

ENV_DESCRIBES = "EKS6_MOTO_CREATING_DESCRIBES"
DEFAULT_DESCRIBES = 2
NODE_IMAGE_ID = "ami-00000000000e6e6e6"  # placeholder for the EKS-optimized AMI
CLUSTER_SG_DESCRIPTION = (
    "EKS created security group applied to ENI that is attached to EKS Control "
    "Plane master nodes, as well as any managed workloads."
)
MISSING_IPV6_MSG = (
    "One or more of the subnets associated with your nodegroup does not have "
    "'AssignIpv6AddressOnCreation' set to true."
)

# Serialises the patched calls: the server is threaded and the lifecycle
# counters are read-modify-write.
_LOCK = threading.RLock()
_ORIGINAL: dict[str, Any] = {}


def transition_describes() -> int:
    """N: how many describes a CREATING/DELETING state lasts (env, default 2)."""
    raw = os.environ.get(ENV_DESCRIBES, str(DEFAULT_DESCRIBES))
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ValueError(f"{ENV_DESCRIBES} must be an integer >= 0, got {raw!r}")
    return value


def service_ipv6_cidr(account_id: str, region: str, name: str) -> str:
    """A stable /108 inside fd00::/8 for a cluster (48 bits of prefix from a hash)."""
    digest = hashlib.sha256(f"{account_id}/{region}/{name}".encode()).digest()
    prefix = bytes([0xFD]) + digest[:5] + bytes(10)
    return str(ipaddress.IPv6Network((prefix, 108)))


def _ec2(backend: Any) -> Any:
    return ec2_backends[backend.account_id][backend.region_name]


def _subnets(backend: Any, subnet_ids: list[str]) -> list[Any]:
    ec2 = _ec2(backend)
    if not subnet_ids:
        raise InvalidParameterException(message="At least one subnet is required.")
    found = []
    for subnet_id in subnet_ids:
        subnet = next(
            (zone[subnet_id] for zone in ec2.subnets.values() if subnet_id in zone),
            None,
        )
        if subnet is None:
            raise InvalidParameterException(
                message=f"The subnet ID '{subnet_id}' does not exist"
            )
        found.append(subnet)
    return found


def _auto_assigns_ipv6(subnet: Any) -> bool:
    flag = subnet.assign_ipv6_address_on_creation
    return bool(subnet.ipv6_cidr_block_associations) and flag in (True, "true", "True")


def _start(resource: Any, transitional: str, final: str) -> None:
    """Enter `transitional` for N describes, or `final` at once when N is 0."""
    n = transition_describes()
    resource.eks6_pending = n if n else None
    resource.status = transitional if n else final


def _advance(resource: Any) -> bool:
    """Count one describe; True when the pending transition completes now."""
    pending = getattr(resource, "eks6_pending", None)
    if pending is None:
        return False
    if pending > 0:
        resource.eks6_pending = pending - 1
        return False
    resource.eks6_pending = None
    return True


# --- (3) cluster security group, vpcId, serviceIpv6Cidr -----------------------


def _create_cluster_sg(backend: Any, name: str, vpc_id: str) -> str:
    ec2 = _ec2(backend)
    sg_name = f"eks-cluster-sg-{name}-{random.randint(10**9, 10**10 - 1)}"
    tags = {
        "Name": sg_name,
        "aws:eks:cluster-name": name,
        f"kubernetes.io/cluster/{name}": "owned",
    }
    sg = ec2.create_security_group(sg_name, CLUSTER_SG_DESCRIPTION, vpc_id=vpc_id, tags=tags)
    ec2.authorize_security_group_ingress(
        sg.id, "-1", None, None, [], source_groups=[{"GroupId": sg.id}], vpc_id=vpc_id
    )
    have = {r.cidr_ipv4 or r.cidr_ipv6 for r in sg.egress_rules if r.ip_protocol == "-1"}
    for cidr, key in (("0.0.0.0/0", "CidrIp"), ("::/0", "CidrIpv6")):
        if cidr not in have:
            ec2.authorize_security_group_egress(sg.id, "-1", None, None, [{key: cidr}], vpc_id=vpc_id)
    return sg.id


def _network_config(backend: Any, name: str, requested: dict[str, Any] | None) -> dict[str, Any]:
    config = dict(requested or {})
    if config.get("ipFamily") == "ipv6":
        config.pop("serviceIpv4Cidr", None)
        config["serviceIpv6Cidr"] = service_ipv6_cidr(backend.account_id, backend.region_name, name)
    else:
        config.setdefault("ipFamily", "ipv4")
        config.setdefault("serviceIpv4Cidr", eks_models.DEFAULT_KUBERNETES_NETWORK_CONFIG["serviceIpv4Cidr"])
    return config


def _repeat(existing: Any, token: str | None) -> bool:
    """Whether a create is a repeat of the one that made ``existing`` (same token)."""
    return existing is not None and token is not None and getattr(existing, "eks6_token", None) == token


def create_cluster(self: Any, name: str, role_arn: str, resources_vpc_config: dict[str, Any], **kwargs: Any) -> Any:
    with _LOCK:
        token = kwargs.get("client_request_token")
        if _repeat(self.clusters.get(name), token):
            return self.clusters[name]
        vpc_config = dict(resources_vpc_config or {})
        subnets = _subnets(self, list(vpc_config.get("subnetIds") or []))
        kwargs["kubernetes_network_config"] = _network_config(self, name, kwargs.get("kubernetes_network_config"))
        cluster = _ORIGINAL["create_cluster"](self, name=name, role_arn=role_arn, resources_vpc_config=vpc_config, **kwargs)
        vpc_id = subnets[0].vpc_id
        vpc_config["vpcId"] = vpc_id
        vpc_config["clusterSecurityGroupId"] = _create_cluster_sg(self, name, vpc_id)
        cluster.resources_vpc_config = vpc_config
        cluster.eks6_token = token
        _start(cluster, "CREATING", "ACTIVE")
        return cluster


def update_cluster_config(self: Any, name: str, resources_vpc_config: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    with _LOCK:
        cluster = self.clusters.get(name)
        if cluster is not None and resources_vpc_config:
            resources_vpc_config = {**cluster.resources_vpc_config, **resources_vpc_config}
        return _ORIGINAL["update_cluster_config"](self, name=name, resources_vpc_config=resources_vpc_config, **kwargs)


def _remove_cluster(self: Any, name: str) -> None:
    cluster = self.clusters.pop(name)
    self.cluster_count -= 1
    sg_id = cluster.resources_vpc_config.get("clusterSecurityGroupId")
    ec2 = _ec2(self)
    if sg_id and ec2.get_security_group_from_id(sg_id) is not None:
        ec2.delete_security_group(group_id=sg_id)


def describe_cluster(self: Any, name: str) -> Any:
    with _LOCK:
        cluster = _ORIGINAL["describe_cluster"](self, name=name)
        if _advance(cluster):
            if cluster.status == "DELETING":
                _remove_cluster(self, name)
                return _ORIGINAL["describe_cluster"](self, name=name)  # raises not found
            cluster.status = "ACTIVE"
        return cluster


def delete_cluster(self: Any, name: str) -> Any:
    with _LOCK:
        cluster = self.clusters.get(name)
        if cluster is None:
            return _ORIGINAL["delete_cluster"](self, name=name)  # raises not found
        eks_models.validate_safe_to_delete(cluster)  # ResourceInUseException
        if cluster.status == "DELETING":
            return cluster
        _start(cluster, "DELETING", "DELETING")
        if cluster.eks6_pending is None:
            _remove_cluster(self, name)
        return cluster


# --- (1)+(2) nodegroup lifecycle and instances ---------------------------------


def _launch_nodes(self: Any, cluster: Any, nodegroup: Any, subnets: list[Any]) -> list[str]:
    ec2 = _ec2(self)
    count = int((nodegroup.scaling_config or {}).get("desiredSize") or 0)
    tags = {
        "eks:cluster-name": cluster.name,
        "eks:nodegroup-name": nodegroup.nodegroup_name,
        f"kubernetes.io/cluster/{cluster.name}": "owned",
        "aws:autoscaling:groupName": nodegroup.resources["autoScalingGroups"][0]["name"],
    }
    ids = []
    for index in range(count):
        subnet = subnets[index % len(subnets)]
        reservation = ec2.run_instances(
            NODE_IMAGE_ID,
            1,
            None,
            [],
            instance_type=nodegroup.instance_types[0],
            is_instance_type_default=False,
            region_name=self.region_name,
            subnet_id=subnet.id,
            security_group_ids=[cluster.resources_vpc_config["clusterSecurityGroupId"]],
            nics=[{"DeviceIndex": 0, "SubnetId": subnet.id, "DeleteOnTermination": True}],
            ipv6_address_count=1 if _auto_assigns_ipv6(subnet) else None,
            tags={"instance": dict(tags)},
        )
        ids.extend(instance.id for instance in reservation.instances)
    return ids


def create_nodegroup(self: Any, cluster_name: str, node_role: str, nodegroup_name: str, subnets: list[str], **kwargs: Any) -> Any:
    with _LOCK:
        token = kwargs.get("client_request_token")
        owner = self.clusters.get(cluster_name)
        if owner is not None and _repeat(owner.nodegroups.get(nodegroup_name), token):
            return owner.nodegroups[nodegroup_name]
        subnet_objs = _subnets(self, list(subnets or []))
        nodegroup = _ORIGINAL["create_nodegroup"](
            self, cluster_name=cluster_name, node_role=node_role, nodegroup_name=nodegroup_name, subnets=subnets, **kwargs
        )
        cluster = self.clusters[cluster_name]
        nodegroup.eks6_token = token
        nodegroup.eks6_issue = None
        nodegroup.eks6_instance_ids = []
        missing = [s.id for s in subnet_objs if not _auto_assigns_ipv6(s)]
        if cluster.kubernetes_network_config.get("ipFamily") == "ipv6" and missing:
            nodegroup.eks6_issue = {
                "code": "Ec2SubnetMissingIpv6Assignment",
                "message": MISSING_IPV6_MSG,
                "resourceIds": missing,
            }
        elif "clusterSecurityGroupId" in cluster.resources_vpc_config:
            nodegroup.eks6_instance_ids = _launch_nodes(self, cluster, nodegroup, subnet_objs)
        _start(nodegroup, "CREATING", "ACTIVE")
        if nodegroup.eks6_pending is None:
            _finish_nodegroup_create(nodegroup)
        return nodegroup


def _finish_nodegroup_create(nodegroup: Any) -> None:
    if nodegroup.eks6_issue:
        nodegroup.status = "CREATE_FAILED"
        nodegroup.health = {"issues": [nodegroup.eks6_issue]}
    else:
        nodegroup.status = "ACTIVE"


def _remove_nodegroup(self: Any, cluster_name: str, nodegroup_name: str) -> None:
    cluster = self.clusters[cluster_name]
    cluster.nodegroups.pop(nodegroup_name)
    cluster.nodegroup_count -= 1


def describe_nodegroup(self: Any, cluster_name: str, nodegroup_name: str) -> Any:
    with _LOCK:
        nodegroup = _ORIGINAL["describe_nodegroup"](self, cluster_name=cluster_name, nodegroup_name=nodegroup_name)
        if _advance(nodegroup):
            if nodegroup.status == "DELETING":
                _remove_nodegroup(self, cluster_name, nodegroup_name)
                # raises not found
                return _ORIGINAL["describe_nodegroup"](self, cluster_name=cluster_name, nodegroup_name=nodegroup_name)
            _finish_nodegroup_create(nodegroup)
        return nodegroup


def delete_nodegroup(self: Any, cluster_name: str, nodegroup_name: str) -> Any:
    with _LOCK:
        cluster = self.clusters.get(cluster_name)
        nodegroup = cluster.nodegroups.get(nodegroup_name) if cluster else None
        if nodegroup is None:  # moto raises the right ResourceNotFoundException
            return _ORIGINAL["delete_nodegroup"](self, cluster_name=cluster_name, nodegroup_name=nodegroup_name)
        if nodegroup.status == "DELETING":
            return nodegroup
        instance_ids = getattr(nodegroup, "eks6_instance_ids", [])
        if instance_ids:
            _ec2(self).terminate_instances(instance_ids)
            nodegroup.eks6_instance_ids = []
        _start(nodegroup, "DELETING", "DELETING")
        if nodegroup.eks6_pending is None:
            _remove_nodegroup(self, cluster_name, nodegroup_name)
        return nodegroup


_PATCHES = {
    "create_cluster": create_cluster,
    "describe_cluster": describe_cluster,
    "delete_cluster": delete_cluster,
    "update_cluster_config": update_cluster_config,
    "create_nodegroup": create_nodegroup,
    "describe_nodegroup": describe_nodegroup,
    "delete_nodegroup": delete_nodegroup,
}


def apply() -> None:
    """Patch moto.eks.models.EKSBackend in this process (idempotent)."""
    transition_describes()  # fail early on a bad environment value
    with _LOCK:
        if _ORIGINAL:
            return
        for method, replacement in _PATCHES.items():
            _ORIGINAL[method] = getattr(eks_models.EKSBackend, method)
            setattr(eks_models.EKSBackend, method, replacement)


def remove() -> None:
    """Undo apply()."""
    with _LOCK:
        for method, original in _ORIGINAL.items():
            setattr(eks_models.EKSBackend, method, original)
        _ORIGINAL.clear()
