"""Twenty plans in twenty accounts at once through the asyncio API, against the local
emulator (the harness of test_workflow.py: one AWS account per plan through STS
AssumeRole): every run succeeds and reports on its own cluster, and nothing is left
behind. The wall times of the concurrent batch and of the same twenty one after another
go to ``$TMPDIR/eks6-scale-figures-python.txt`` (for benches/README.md); nothing asserts
on them."""

import asyncio
import tempfile
import time
from pathlib import Path


import eks6

from emu import client, fresh_account, owned_vpcs, plan_toml

PLANS = 20
# (availability zones, private subnets); without private subnets the nodes go in the
# public ones, and there is no NAT or egress-only gateway.
SHAPES = [(2, True), (3, True), (2, False), (3, False)]


def plan(i):
    """Plan ``i``: its own name, in shape ``i % 4``."""
    zones, private = SHAPES[i % len(SHAPES)]
    return eks6.ClusterPlan.from_toml(plan_toml(f"pypar-{i:02d}", zones, private))


async def life(endpoint, account, plan, journal):
    """One plan in its own account with its own client: connect, up, verify, down."""
    c = await asyncio.to_thread(client, endpoint, account)  # the constructor blocks (GIL released)
    up = await c.up(plan, journal)
    report = await c.verify(plan)
    down = await c.down(plan, journal)
    return up, report, down


def check(endpoint, batch, runs):
    """Each run: its own cluster in every report, verify passed, nothing left after down."""
    vpcs = set()
    for i, (account, p, (up, report, down)) in enumerate(runs):
        where = f"{batch} run {i} ({p.name} in {account})"
        assert (up.workflow, up.cluster, up.plan_id) == ("up", p.name, p.plan_id), where
        assert report.cluster == p.name, where
        assert report.passed, f"{where}\n{report}"
        assert report.check("nodes-ipv6").status == "pass", f"{where}\n{report}"
        assert (down.workflow, down.cluster) == ("down", p.name), where
        assert any(s.outcome == "deleted" for s in down.steps), f"{where}\n{down}"
        assert owned_vpcs(endpoint, account, p) == [], where
        vpcs.add(up.resources["vpc"])
    assert len(vpcs) == len(runs), f"{batch}: two runs reported the same VPC"


def summary(runs):
    """Mean times per plan (from the reports) and the batch's API calls."""
    reports = [r for _, _, r in runs]

    def mean(k):
        return sum(r[k].elapsed_ms for r in reports) / max(len(reports), 1)

    calls = sum(r.api_calls for rs in reports for r in rs)
    return f"up {mean(0):.0f} ms, verify {mean(1):.0f} ms, down {mean(2):.0f} ms (means); {calls} API calls in all"


def test_twenty_plans_in_twenty_accounts_at_once(endpoint, tmp_path):
    plans = [plan(i) for i in range(PLANS)]
    assert len({p.plan_id for p in plans}) == PLANS

    # All twenty at once, in one event loop.
    accounts = [fresh_account() for _ in plans]

    async def batch():
        return await asyncio.gather(
            *(life(endpoint, a, p, tmp_path / f"{a}.json") for a, p in zip(accounts, plans)),
            return_exceptions=True,
        )

    started = time.perf_counter()
    results = asyncio.run(batch())
    concurrent_wall = time.perf_counter() - started
    for r in results:
        if isinstance(r, BaseException):
            raise r
    concurrent = list(zip(accounts, plans, results))

    # The same twenty one after another, each in a fresh account and its own event loop.
    accounts = [fresh_account() for _ in plans]
    started = time.perf_counter()
    results = [asyncio.run(life(endpoint, a, p, tmp_path / f"{a}.json")) for a, p in zip(accounts, plans)]
    sequential_wall = time.perf_counter() - started
    sequential = list(zip(accounts, plans, results))

    check(endpoint, "concurrent", concurrent)
    check(endpoint, "sequential", sequential)

    ratio = sequential_wall / max(concurrent_wall, 1e-9)
    figures = (
        "eks6 scale figures (Python): python/tests/test_parallel.py\n"
        f"{PLANS} plans (2 or 3 zones, with or without private subnets), each in a fresh emulator account with its "
        "own eks6.Client and journal: connect, up, verify, down\n"
        f"concurrent (asyncio.gather in one event loop): {concurrent_wall:.2f} s wall\n"
        f"one after another (asyncio.run of each in turn): {sequential_wall:.2f} s wall\n"
        f"ratio (one after another / concurrent): {ratio:.2f}\n"
        f"per plan, concurrent: {summary(concurrent)}\n"
        f"per plan, one after another: {summary(sequential)}\n"
    )
    Path(tempfile.gettempdir(), "eks6-scale-figures-python.txt").write_text(figures)
