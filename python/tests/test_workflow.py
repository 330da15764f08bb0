"""The workflow API of the eks6 package against the local emulator (the same harness as
the Rust tests: moto with the eks6 test extension, one AWS account per test through STS
AssumeRole), and the GIL released by the blocking calls (a Python HTTP server answers
the probe from another thread while the call blocks)."""

import asyncio
import logging
import socket
import threading

import pytest

import eks6

from emu import client, fresh_account, ipv4_only_node_role, owned_vpcs, plan_toml


@pytest.fixture
def account():
    """A fresh emulator account for this test (its own VPCs, clusters...)."""
    return fresh_account()


def test_plan_from_toml_validate_and_address_plan():
    plan = eks6.ClusterPlan.from_toml(plan_toml("py-plan"))
    assert (plan.name, plan.region) == ("py-plan", "us-west-2")
    assert plan.plan_id and not [f for f in plan.validate() if f.severity == "error"]
    ap = plan.address_plan(vpc_ipv6="2600:1f13:812:a00::/56")
    assert [s.ipv6 for s in ap.subnets] == [f"2600:1f13:812:a0{i}::/64" for i in range(4)]
    assert ap.subnets[0].node_prefixes == 2**16
    assert "2600:1f13:812:a00::/64" in str(ap)
    assert eks6.ClusterPlan.from_toml(plan.to_toml()).to_dict() == plan.to_dict()

    bad = eks6.ClusterPlan.from_toml(plan_toml("bad name!"))
    findings = bad.validate()
    assert findings and findings[0].severity == "error" and isinstance(findings[0], eks6.Finding)
    assert "bad name!" in str(findings[0])


def test_plan_errors_say_where():
    with pytest.raises(eks6.PlanError) as e:
        eks6.ClusterPlan.from_toml('name = "x"\nregion = 7\n')
    assert "line 2" in str(e.value) and isinstance(e.value, ValueError)
    with pytest.raises(eks6.PlanError, match="bogus"):
        eks6.ClusterPlan.from_toml(plan_toml("x") + "bogus = 1\n")
    with pytest.raises(eks6.IoError):
        eks6.ClusterPlan.from_file("/nonexistent/plan.toml")


def test_rejected_plan_and_region_mismatch(endpoint, account, tmp_path):
    c = client(endpoint, account)
    bad = eks6.ClusterPlan.from_toml(plan_toml("bad name!"))
    with pytest.raises(eks6.PlanError) as e:
        c.up_sync(bad, tmp_path / "j.json")
    assert e.value.findings and all(isinstance(f, eks6.Finding) for f in e.value.findings)
    assert e.value.findings[0].severity == "error"
    other = eks6.Client("eu-west-1", endpoint_url=endpoint)
    with pytest.raises(eks6.PlanError, match="region"):
        other.up_sync(eks6.ClusterPlan.from_toml(plan_toml("py-region")), tmp_path / "j.json")
    assert other.api_calls() == {}


def test_up_verify_down_async(endpoint, account, tmp_path, caplog):
    plan = eks6.ClusterPlan.from_toml(plan_toml("py-async"))
    c = client(endpoint, account)
    journal = tmp_path / "journal.json"
    events = []
    checks = []
    threads = set()

    def on_event(e):
        events.append(e)
        threads.add(threading.get_ident())

    async def main():
        up = await c.up(plan, journal, on_event)
        await asyncio.sleep(0)  # let call_soon_threadsafe deliveries run
        report = await c.verify(plan, on_event=checks.append)
        down = await c.down(plan, journal, on_event)
        await asyncio.sleep(0)
        return up, report, down

    with caplog.at_level(logging.INFO, logger="eks6"):
        up, report, down = asyncio.run(main())

    assert isinstance(up, eks6.RunReport) and up.workflow == "up" and up.cluster == "py-async"
    assert up.resources["vpc"].startswith("vpc-")
    assert [s.outcome for s in up.steps].count("created") >= 5
    started = [e for e in events if e.kind == "step_started"]
    finished = [e for e in events if e.kind == "step_finished"]
    assert len(started) == len(finished) >= len(up.steps) + len(down.steps)
    assert all(isinstance(e, eks6.Event) and e.cluster == "py-async" for e in events)
    assert any(e.kind == "waiting" for e in events)
    assert threads == {threading.get_ident()}, "on_event runs on the event loop's thread"
    assert any("py-async" in r.getMessage() and r.name == "eks6" for r in caplog.records)

    assert isinstance(report, eks6.VerifyReport) and report.passed, str(report)
    assert report.check("nodes-ipv6").status == "pass"
    assert [e.check for e in checks] == list(report.checks), "one event per check, in order"
    assert all(e.kind == "check" and e.check.name in str(e) for e in checks)
    assert report.check("http-probe").status == "skipped"  # no probe asked for
    assert not report.passed_strict

    assert down.workflow == "down" and any(s.outcome == "deleted" for s in down.steps)
    assert owned_vpcs(endpoint, account, plan) == []
    again = c.down_sync(plan, journal)
    assert all(s.outcome != "deleted" for s in again.steps)
    assert c.api_calls()["EC2:CreateVpc"] == 1


def test_cancel_up_midway_then_down(endpoint, account, tmp_path):
    plan = eks6.ClusterPlan.from_toml(plan_toml("py-cancel"))
    c = client(endpoint, account)
    journal = tmp_path / "journal.json"

    async def main():
        first_step = asyncio.Event()
        steps = []

        def on_event(e):
            if e.kind == "step_finished":
                steps.append(e.step)
                if e.step == "vpc":  # the VPC (beside the roles: the graph runs them at once)
                    first_step.set()

        task = asyncio.ensure_future(c.up(plan, journal, on_event))
        await first_step.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert "vpc" in steps and len(steps) < 14 and "nodegroup" not in steps, steps
        assert owned_vpcs(endpoint, account, plan), "the cancelled up had created the VPC"
        # The run has stopped and released its lock: down can start at once.
        return await c.down(plan, journal)

    down = asyncio.run(main())
    assert any(s.outcome == "deleted" for s in down.steps)
    assert owned_vpcs(endpoint, account, plan) == []


def test_timeout_and_sync_cancel(endpoint, account, tmp_path):
    plan = eks6.ClusterPlan.from_toml(plan_toml("py-timeout"))
    slow = eks6.Client("us-west-2", endpoint_url=endpoint, role_arn=f"arn:aws:iam::{account}:role/t",
                       wait=eks6.WaitPolicy(poll_interval=3.0, deadline=60.0))
    with pytest.raises(eks6.TimeoutError) as e:
        slow.up_sync(plan, tmp_path / "j.json", timeout=0.5)
    assert isinstance(e.value, TimeoutError) and isinstance(e.value, eks6.AwsError)
    assert "time limit of 500ms" in str(e.value) and e.value.kind == "timeout"

    cancel = eks6.Cancel()
    c = client(endpoint, account)

    def on_event(ev):
        if ev.kind == "step_finished":
            threading.Thread(target=cancel.trigger).start()

    with pytest.raises(eks6.CancelledError):
        c.up_sync(plan, tmp_path / "j.json", on_event, cancel=cancel)
    assert cancel.triggered
    c.down_sync(plan, tmp_path / "j.json")
    assert owned_vpcs(endpoint, account, plan) == []


def test_blocking_call_releases_the_gil(python_server):
    answer = eks6.probe_sync("::1", python_server, timeout=5.0)
    assert answer.status == 200 and "Python thread" in answer.body
    assert answer.url == f"http://[::1]:{python_server}/"


def test_async_probe_and_probe_errors(python_server):
    answer = asyncio.run(eks6.probe("::1", python_server))
    assert isinstance(answer, eks6.ProbeAnswer) and answer.status == 200
    with socket.socket(socket.AF_INET6) as s:
        s.bind(("::1", 0))
        closed = s.getsockname()[1]
    with pytest.raises(eks6.ProbeError, match="refused"):
        eks6.probe_sync("::1", closed)
    with pytest.raises(eks6.ProbeTargetError) as e:
        eks6.probe_sync("192.0.2.1", 80)
    assert isinstance(e.value, ValueError)
    with pytest.raises(eks6.AddressError):
        eks6.probe_sync("2600::1::2", 80)


def test_every_exception_derives_from_eks6error():
    for name in eks6.errors.__all__:
        assert issubclass(getattr(eks6, name), eks6.Eks6Error), name
    assert issubclass(eks6.LockedError, eks6.ConflictError)
    assert issubclass(eks6.IoError, OSError)


def test_bad_profile_region_and_endpoint_are_argument_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    (tmp_path / "config").write_text("[profile real]\nregion = us-west-2\n")
    with pytest.raises(eks6.ArgumentError, match='"nosuch"') as e:
        eks6.Client("us-west-2", profile="nosuch")
    assert isinstance(e.value, ValueError) and e.value.kind == "invalid_argument"
    with pytest.raises(eks6.ArgumentError, match="not an AWS region name"):
        eks6.Client("not a region!")
    with pytest.raises(eks6.ArgumentError, match="http:// or https://"):
        eks6.Client("us-west-2", endpoint_url="not a url")
    with pytest.raises(eks6.ArgumentError, match="wait poll interval: 0 seconds: give a finite number"):
        eks6.Client("us-west-2", wait=eks6.WaitPolicy(poll_interval=0.0))
    with pytest.raises(eks6.ArgumentError, match="wait time scale: -1: give a factor above zero"):
        eks6.Client("us-west-2", wait=eks6.WaitPolicy(time_scale=-1.0))
    with pytest.raises(eks6.ArgumentError, match=r"wait: \(5, 30, 1800\): give an eks6.WaitPolicy"):
        eks6.Client("us-west-2", wait=(5, 30, 1800))


def test_preflight_asks_iam_about_the_node_role(endpoint, account):
    """``Client.preflight``: a node role with only the IPv4 CNI policy is an error finding
    naming the missing action, with the policy to attach as the fix; the plan's own roles
    ("create") pass; nothing is created."""
    c = client(endpoint, account)
    arn = ipv4_only_node_role(endpoint, account, "py-ipv4-node")
    text = plan_toml("py-live").replace("[vpc]", f'[iam]\nnode_role = "{arn}"\n[vpc]')
    report = c.preflight_sync(eks6.ClusterPlan.from_toml(text))
    assert isinstance(report, eks6.PlanReport) and report.has_errors
    (f,) = [f for f in report.findings if f.rule == "node-role-ipv6"]
    assert f.severity == "error" and f.field == "iam.node_role"
    assert "ec2:AssignIpv6Addresses (implicitDeny)" in f.message
    assert '"ec2:AssignIpv6Addresses"' in f.fix and "network-interface/*" in f.fix
    good = asyncio.run(c.preflight(eks6.ClusterPlan.from_toml(plan_toml("py-live-ok"))))
    assert not good.has_errors, good.findings
    assert not owned_vpcs(endpoint, account, eks6.ClusterPlan.from_toml(plan_toml("py-live-ok")))


def test_step_graph_is_data_with_the_usual_durations():
    """``eks6.step_graph``: the graph up and down run (every step after what it needs;
    the cluster does not wait for the NAT gateways; down deletes them beside the
    cluster), with every kind of wait's usual duration and its source."""
    up = eks6.step_graph("up")
    names = [s["step"] for s in up["steps"]]
    needs = {s["step"]: s["needs"] for s in up["steps"]}
    assert all(names.index(n) < names.index(s) for s, ns in needs.items() for n in ns)
    assert "nat-gateways" not in needs["cluster"] and "addons" in needs["nodegroup"]
    kinds = {e["kind"]: e for e in up["expected"]}
    assert kinds["cluster-create"]["seconds"] > kinds["nat-gateway-create"]["seconds"] > 0
    assert all(e["source"] for e in up["expected"])
    down = {s["step"]: s["needs"] for s in eks6.step_graph("down")["steps"]}
    assert "cluster" not in down["nat-gateways"] and "nat-gateways" in down["network"]
    with pytest.raises(eks6.ArgumentError, match='workflow: "sideways": give "up" or "down"'):
        eks6.step_graph("sideways")


def test_up_runs_steps_side_by_side_and_events_name_them(endpoint, account, tmp_path):
    """Events of a run: a step starts before another has finished (the graph), and every
    step event names its step; ``waited`` events carry the polls a wait made."""
    plan = eks6.ClusterPlan.from_toml(plan_toml("py-graph"))
    c = client(endpoint, account)
    events = []
    c.up_sync(plan, tmp_path / "j.json", on_event=events.append)
    running, most = set(), 0
    for e in events:
        if e.kind == "step_started":
            running.add(e.step)
            most = max(most, len(running))
        elif e.kind == "step_finished":
            running.discard(e.step)
    assert most >= 3, most
    waited = [e for e in events if e.kind == "waited"]
    assert waited and all(e.step and e.wait_kind and e.polls >= 1 for e in waited)
    assert {e.wait_kind for e in waited} >= {"cluster-create", "nodegroup-create"}
    c.down_sync(plan, tmp_path / "j.json")
