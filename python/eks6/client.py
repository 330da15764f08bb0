"""The workflow API: ``ClusterPlan`` and ``Client`` (async methods and blocking twins).

The work happens in the native module on a shared tokio runtime; this layer turns the
core's JSON into dataclasses, routes events, and makes asyncio cancellation stop a run
the safe way (at its next step boundary, journal intact).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Iterable, Optional, Sequence, Tuple, TypeVar, Union

from . import _eks6
from .errors import ArgumentError
from .model import AddressPlan, Event, Finding, PlanReport, ProbeAnswer, RunReport, VerifyReport

__all__ = ["Cancel", "ClusterPlan", "Client", "WaitPolicy", "probe", "probe_sync", "step_graph"]

# The native halves exist in a build with the workflows only (eks6.WORKFLOW); this module
# is imported either way, so that eks6 knows the names it lacks.
if _eks6.WORKFLOW:
    Cancel = _eks6._Cancel

log = logging.getLogger("eks6")

PathLike = Union[str, "os.PathLike[str]"]
OnEvent = Callable[[Event], Any]


class ClusterPlan:
    """A cluster plan (the TOML the CLI takes), parsed and checked for syntax."""

    __slots__ = ("_native",)

    def __init__(self, native: "_eks6._Plan") -> None:
        self._native = native

    @classmethod
    def from_toml(cls, text: str) -> ClusterPlan:
        """Parses TOML; ``PlanError`` names the line and key of a mistake."""
        return cls(_eks6._Plan.from_toml(text))

    @classmethod
    def from_json(cls, text: str) -> ClusterPlan:
        return cls(_eks6._Plan.from_json(text))

    @classmethod
    def from_file(cls, path: PathLike) -> ClusterPlan:
        """Reads a ``.toml`` (or ``.json``) plan file."""
        return cls(_eks6._Plan.from_file(os.fspath(path)))

    @property
    def name(self) -> str:
        return self._native.name

    @property
    def region(self) -> str:
        return self._native.region

    @property
    def plan_id(self) -> str:
        """The ``eks6:plan-id`` tag value of everything this plan creates."""
        return self._native.plan_id

    def to_toml(self) -> str:
        return self._native.to_toml()

    def to_dict(self) -> dict[str, Any]:
        return json.loads(self._native.to_json())  # type: ignore[no-any-return]

    def report(self) -> PlanReport:
        """What ``eks6 plan`` reports: identity, address plan, offline findings."""
        return PlanReport.from_json(self._native.report_json())

    def validate(self) -> Tuple[Finding, ...]:
        """The offline pre-flight findings, errors first (empty when all is well)."""
        return self.report().findings

    def address_plan(self, vpc_ipv6: Optional[str] = None, zones: Sequence[str] = ()) -> AddressPlan:
        """The subnets' blocks: with the VPC's /56 when known, else their /64 indexes."""
        return AddressPlan.from_dict(json.loads(self._native.address_plan_json(vpc_ipv6, list(zones))))

    def __repr__(self) -> str:
        return f"ClusterPlan(name={self.name!r}, region={self.region!r})"


def _log_event(e: Event) -> None:
    if e.kind == "waiting":
        log.debug("%s", e)
    elif e.kind == "finding" and e.finding is not None and e.finding.severity != "info":
        log.warning("%s", e)
    else:
        log.info("%s", e)


def _sink_sync(on_event: Optional[OnEvent]) -> Callable[[str], None]:
    """Events of a blocking call: logged, then given to ``on_event`` on the thread the
    workflow runs on (the calling thread)."""

    def sink(text: str) -> None:
        e = Event.from_json(text)
        _log_event(e)
        if on_event is not None:
            on_event(e)

    return sink


def _sink_async(on_event: Optional[OnEvent], loop: asyncio.AbstractEventLoop) -> Callable[[str], None]:
    """Events of an awaited call: handed to the event loop, so ``on_event`` runs there."""

    def sink(text: str) -> None:
        e = Event.from_json(text)
        _log_event(e)
        if on_event is not None:
            loop.call_soon_threadsafe(on_event, e)

    return sink


async def _run(start: Callable[["_eks6._Cancel"], Awaitable[str]]) -> str:
    """Awaits a native run; if the awaiting task is cancelled, cancels the run the
    cooperative way, waits for it to stop (its journal written, its lock released),
    then lets the cancellation through."""
    cancel = _eks6._Cancel()
    fut = asyncio.ensure_future(start(cancel))
    try:
        return await asyncio.shield(fut)
    except asyncio.CancelledError:
        cancel.trigger()
        try:
            await fut
        except Exception:  # the run's own CancelledError (eks6's), or what stopped it
            pass
        raise


R = TypeVar("R")


def _twins(
    native: Callable[..., Any], arity: int, parse: Callable[[str], R], doc: str
) -> Tuple[Callable[..., Awaitable[R]], Callable[..., R]]:
    """A workflow's coroutine and its blocking ``*_sync`` twin, from one definition.

    ``native(self, sink, cancel, blocking, *args, **kwargs)`` starts the native call (an
    awaitable, or with ``blocking`` its JSON); ``arity`` positional arguments are its
    own, and one more positional is ``on_event``. The coroutine routes events to the
    event loop and, when its task is cancelled, stops the run the cooperative way; the
    twin releases the GIL, delivers events on the calling thread, and takes ``cancel=``
    (an ``eks6.Cancel``) to be stopped from another thread."""

    def split(args: Tuple[Any, ...], on_event: Optional[OnEvent]) -> Tuple[Tuple[Any, ...], Optional[OnEvent]]:
        if len(args) > arity:
            return args[:arity], args[arity]
        return args, on_event

    async def run_async(self: "Client", *args: Any, on_event: Optional[OnEvent] = None, **kwargs: Any) -> R:
        args, on_event = split(args, on_event)
        sink = _sink_async(on_event, asyncio.get_running_loop())
        return parse(await _run(lambda c: native(self, sink, c, False, *args, **kwargs)))

    def run_sync(
        self: "Client", *args: Any, on_event: Optional[OnEvent] = None, cancel: Optional["_eks6._Cancel"] = None,
        **kwargs: Any,
    ) -> R:
        args, on_event = split(args, on_event)
        return parse(native(self, _sink_sync(on_event), cancel, True, *args, **kwargs))

    run_async.__doc__ = doc
    run_sync.__doc__ = "The blocking form (see the coroutine). " + doc
    return run_async, run_sync


def _change(workflow: str) -> Callable[..., Any]:
    def native(
        self: "Client", sink: Any, cancel: Any, blocking: bool, plan: "ClusterPlan", journal: PathLike, *,
        timeout: Optional[float] = None,
    ) -> Any:
        return self._native.run(workflow, plan._native, os.fspath(journal), sink, cancel, timeout, blocking)

    return native


def _verify(
    self: "Client", sink: Any, cancel: Any, blocking: bool, plan: "ClusterPlan", *,
    probe_address: Optional[str] = None, probe_port: Optional[int] = None, addresses: Iterable[str] = (),
    kubectl: Optional[str] = None, timeout: Optional[float] = None, kubernetes: Optional[bool] = None,
    context: Optional[str] = None, kubeconfig: Optional[str] = None, probe_pod_timeout: Optional[float] = None,
) -> Any:
    return self._native.verify(
        plan._native, probe_address, probe_port, list(addresses), kubectl, sink, cancel, timeout, blocking,
        kubernetes, context, None if kubeconfig is None else os.fspath(kubeconfig), probe_pod_timeout,
    )


def _preflight(
    self: "Client", sink: Any, cancel: Any, blocking: bool, plan: "ClusterPlan", *, timeout: Optional[float] = None,
) -> Any:
    return self._native.preflight(plan._native, None, cancel, timeout, blocking)


@dataclass(frozen=True)
class WaitPolicy:
    """How workflows wait for AWS resources, as the CLI's ``--poll-interval``,
    ``--wait-timeout`` and ``--time-scale`` and C's ``eks6_client_set_wait`` do.

    ``poll_interval``: seconds between polls, fixed; ``None`` (the default) places the
    polls by how long each kind of resource usually takes (``step_graph()["expected"]``):
    rarely early in a wait, every 2 % of it near its expected end. ``deadline``: seconds
    to wait for any one resource. ``time_scale``: the factor on the usual durations (1 for
    AWS, 0.01 for an emulator a hundred times faster); not applied to ``deadline``.
    """

    poll_interval: Optional[float] = None
    deadline: float = 1800.0
    time_scale: float = 1.0


def step_graph(workflow: str) -> dict[str, Any]:
    """The steps of ``"up"`` or ``"down"`` and what each needs (a step starts as soon as
    those are done, several at once), with the waits each makes, and ``expected``: every
    kind of wait with how long AWS usually takes and the source of that figure."""
    return json.loads(_eks6._step_graph(workflow))


class Client:
    """The AWS clients of one account and region, built once.

    ``region``, ``profile`` and ``endpoint_url`` default to the usual chain (environment,
    shared config); ``role_arn`` is assumed through STS. ``wait`` is a ``WaitPolicy``
    (default: polls placed by the usual durations, 30 minutes for any one resource).
    Safe to share between threads and tasks.

    Every workflow has an ``async`` method and a blocking ``*_sync`` twin that releases
    the GIL while it waits. ``timeout`` (seconds) bounds a whole run: past it the run
    stops at its next step boundary and raises ``eks6.TimeoutError``.
    """

    __slots__ = ("_native",)

    def __init__(
        self,
        region: Optional[str] = None,
        profile: Optional[str] = None,
        endpoint_url: Optional[str] = None,
        *,
        role_arn: Optional[str] = None,
        wait: Optional[WaitPolicy] = None,
    ) -> None:
        if wait is not None and not isinstance(wait, WaitPolicy):
            raise ArgumentError(
                f"wait: {wait!r}: give an eks6.WaitPolicy(poll_interval=, deadline=, time_scale=) "
                "(the (first_delay, max_delay, deadline) tuple of earlier releases is gone with the doubling schedule)",
                {"kind": "invalid_argument"},
            )
        native_wait = None if wait is None else (wait.poll_interval, wait.deadline, wait.time_scale)
        self._native = _eks6._Client(region, profile, endpoint_url, role_arn, native_wait)

    @property
    def region(self) -> str:
        return self._native.region

    def api_calls(self) -> dict[str, int]:
        """AWS API calls (HTTP attempts) so far, by ``Service:Operation``."""
        return self._native.api_calls()

    up, up_sync = _twins(
        _change("up"), 2, RunReport.from_json,
        "``up(plan, journal, on_event=None, *, timeout=None)``: stands the plan up, or resumes it from ``journal``.",
    )
    down, down_sync = _twins(
        _change("down"), 2, RunReport.from_json,
        "``down(plan, journal, on_event=None, *, timeout=None)``: tears down exactly what the plan owns (by its "
        "tags). Idempotent.",
    )
    verify, verify_sync = _twins(
        _verify,
        1,
        VerifyReport.from_json,
        "``verify(plan, *, probe_address=None, probe_port=None, addresses=(), kubectl=None, on_event=None, "
        "timeout=None, kubernetes=None, context=None, kubeconfig=None, probe_pod_timeout=None)``: the walkthrough's "
        "checks; they read only, but for the Kubernetes checks' probe pod, made and deleted in the sample's "
        "namespace (``probe_pod_timeout``: seconds it may take to start, default 120). A "
        "failed check is in the report, not raised. ``on_event`` gets each check as it completes (an ``Event`` of "
        "kind ``check``). The Kubernetes checks (nodes, the sample's pods in their node's /80, the Service's "
        "address, aws-node and CoreDNS, a probe pod inside the VPC) run when ``kubernetes`` is true, when a "
        "kubeconfig ``context`` is given, or by default when the plan has ``[sample]`` (``kubernetes=False`` "
        "turns them off); an API that refuses the token raises ``KubeUnauthorizedError``, one that cannot be "
        "reached ``KubeError``.",
    )

    preflight, preflight_sync = _twins(
        _preflight,
        1,
        PlanReport.from_json,
        "``preflight(plan, *, timeout=None)``: ``eks6 plan --live``: the plan's offline report plus read-only "
        "checks against the account (roles and the node role's IPv6 rights as IAM answers, zones, instance types, "
        "an existing VPC, Elastic IP headroom, a cluster of the same name). Error findings are in the report "
        "(``report.has_errors``), not raised.",
    )

    def eks_token(self, cluster: str) -> dict[str, Any]:
        """The EKS bearer token for ``cluster``, made with this client's credentials (no AWS
        CLI), as the ExecCredential ``aws eks get-token`` prints:
        ``{"kind": "ExecCredential", "apiVersion": ..., "status": {"token", "expirationTimestamp"}}``."""
        return json.loads(self._native.eks_token(cluster))

    async def probe(self, target: str, port: int = 80, path: str = "/", *, timeout: float = 10.0) -> ProbeAnswer:
        """An HTTP GET to ``http://[target]:port/path`` over IPv6 only."""
        return await probe(target, port, path, timeout=timeout)

    def probe_sync(self, target: str, port: int = 80, path: str = "/", *, timeout: float = 10.0) -> ProbeAnswer:
        return probe_sync(target, port, path, timeout=timeout)

    def __repr__(self) -> str:
        return f"Client(region={self.region!r})"


async def probe(target: str, port: int = 80, path: str = "/", *, timeout: float = 10.0) -> ProbeAnswer:
    """An HTTP GET over IPv6 only (what ``curl -g -6`` does); ``ProbeError`` when refused,
    ``eks6.TimeoutError`` past ``timeout`` seconds."""
    return ProbeAnswer.from_json(await _eks6._probe(target, port, path, min(5.0, timeout), timeout, False))


def probe_sync(target: str, port: int = 80, path: str = "/", *, timeout: float = 10.0) -> ProbeAnswer:
    """The blocking form of ``probe`` (the GIL released)."""
    return ProbeAnswer.from_json(_eks6._probe(target, port, path, min(5.0, timeout), timeout, True))
