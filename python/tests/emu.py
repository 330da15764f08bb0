"""Helpers of the workflow tests: clients of an emulator account, and what an account
holds, seen from outside eks6 (boto3)."""

import boto3

import eks6

FAST = (0.01, 0.05, 60.0)  # poll after 10 ms, doubling to 50 ms, give up after 60 s


def client(endpoint, account, **kw):
    """An eks6 client of ``account`` on the emulator, polling fast."""
    return eks6.Client("us-west-2", endpoint_url=endpoint, role_arn=f"arn:aws:iam::{account}:role/eks6-test",
                       wait=FAST, **kw)


def owned_vpcs(endpoint, account, plan):
    """VPCs carrying the plan's ownership tag, seen with boto3 as that account."""
    sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-west-2")
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/check", RoleSessionName="check")["Credentials"]
    ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name="us-west-2", aws_access_key_id=c["AccessKeyId"],
                       aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:eks6:plan-id", "Values": [plan.plan_id]}])["Vpcs"]
    return [v["VpcId"] for v in vpcs]
