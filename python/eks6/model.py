"""Findings, events and reports: frozen dataclasses built from the core's JSON schema
(the same JSON the CLI prints with ``--output json`` and the C ABI returns).

Each has ``from_dict`` (the parsed JSON) and a readable ``str()``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Tuple

__all__ = [
    "Finding",
    "SubnetPlan",
    "AddressPlan",
    "PlanReport",
    "Event",
    "StepReport",
    "RunReport",
    "Check",
    "VerifyReport",
    "ProbeAnswer",
]


@dataclass(frozen=True)
class Finding:
    """A pre-flight finding, or one made while running."""

    rule: str
    severity: str  # "error", "warning" or "info"
    field: str
    message: str
    fix: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Finding:
        return cls(d["rule"], d["severity"], d["field"], d["message"], d["fix"])

    def __str__(self) -> str:
        return f"{self.severity}[{self.rule}] {self.field}: {self.message} (fix: {self.fix})"


@dataclass(frozen=True)
class SubnetPlan:
    """One planned subnet: its IPv4 block and its /64 (``None`` until the VPC's /56 is
    known), with the /64's index in the /56 and how many /80 node prefixes it holds."""

    key: str
    kind: str
    zone_index: int
    zone: str
    ipv4: str
    ipv6: Optional[str]
    ipv6_index: int
    node_prefixes: int

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SubnetPlan:
        return cls(
            d["key"], d["kind"], d["zone_index"], d["zone"], d["ipv4"], d.get("ipv6"), d["ipv6_index"],
            d["node_prefixes"],
        )

    def __str__(self) -> str:
        v6 = self.ipv6 or f"<the VPC's /56>:{self.ipv6_index:x}::/64"
        return f"{self.key:<10} {self.zone:<12} {self.ipv4:<18} {v6}"


@dataclass(frozen=True)
class AddressPlan:
    """The plan's addresses: the VPC blocks and one entry per subnet."""

    vpc_ipv4: str
    vpc_ipv6: Optional[str]
    subnets: Tuple[SubnetPlan, ...]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AddressPlan:
        return cls(d["vpc_ipv4"], d.get("vpc_ipv6"), tuple(SubnetPlan.from_dict(s) for s in d["subnets"]))

    def __str__(self) -> str:
        head = f"VPC {self.vpc_ipv4}, {self.vpc_ipv6 or 'an Amazon-provided /56'}"
        return "\n".join([head] + [f"  {s}" for s in self.subnets])


@dataclass(frozen=True)
class PlanReport:
    """What ``eks6 plan`` reports (and ``ClusterPlan.report()``): the plan's identity, its
    address plan (``None`` when its network settings allow none) and every offline
    finding, errors first."""

    plan: str
    plan_id: str
    region: str
    kubernetes_version: str
    address_plan: Optional[AddressPlan]
    findings: Tuple[Finding, ...]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PlanReport:
        ap = d.get("address_plan")
        return cls(
            d["plan"], d["plan_id"], d["region"], d["kubernetes_version"],
            AddressPlan.from_dict(ap) if ap is not None else None,
            tuple(Finding.from_dict(f) for f in d["findings"]),
        )

    @classmethod
    def from_json(cls, text: str) -> PlanReport:
        return cls.from_dict(json.loads(text))

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    def __str__(self) -> str:
        lines = [f"plan {self.plan} ({self.plan_id}) in {self.region}, Kubernetes {self.kubernetes_version}"]
        if self.address_plan is not None:
            lines.append(str(self.address_plan))
        lines += [str(f) for f in self.findings] or ["no findings"]
        return "\n".join(lines)


@dataclass(frozen=True)
class Event:
    """A progress event. ``kind`` is ``step_started``, ``step_finished``, ``waiting``,
    ``waited`` (a resource ready: ``wait_kind``, ``polls``, ``waited_ms``,
    ``expected_ms``), ``retry``, ``finding`` or (from ``verify``) ``check``; the fields
    that kind does not have are ``None``. Steps run side by side, so the events of
    several steps interleave; each names its ``step``."""

    kind: str
    cluster: str
    elapsed_ms: int
    step: Optional[str] = None
    outcome: Optional[str] = None
    resources: Tuple[str, ...] = ()
    api_calls: Optional[int] = None
    resource: Optional[str] = None
    status: Optional[str] = None
    waited_ms: Optional[int] = None
    reason: Optional[str] = None
    wait_kind: Optional[str] = None
    polls: Optional[int] = None
    expected_ms: Optional[int] = None
    finding: Optional[Finding] = None
    check: Optional[Check] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Event:
        kind = d["event"]
        return cls(
            kind=kind,
            cluster=d["cluster"],
            elapsed_ms=d["elapsed_ms"],
            step=d.get("step"),
            outcome=d.get("outcome"),
            resources=tuple(d.get("resources", ())),
            api_calls=d.get("api_calls"),
            resource=d.get("resource"),
            status=d.get("status"),
            waited_ms=d.get("waited_ms"),
            reason=d.get("reason"),
            wait_kind=d.get("kind"),
            polls=d.get("polls"),
            expected_ms=d.get("expected_ms"),
            finding=Finding.from_dict(d) if kind == "finding" else None,
            check=Check.from_dict(d) if kind == "check" else None,
        )

    @classmethod
    def from_json(cls, text: str) -> Event:
        return cls.from_dict(json.loads(text))

    def __str__(self) -> str:
        t = f"[{self.elapsed_ms / 1000:7.1f}s] {self.cluster}"
        if self.kind == "step_started":
            return f"{t} {self.step}: started"
        if self.kind == "step_finished":
            ids = f" ({', '.join(self.resources)})" if self.resources else ""
            return f"{t} {self.step}: {self.outcome}{ids}, {self.api_calls} API calls"
        if self.kind == "waiting":
            return f"{t} {self.step}: waiting for {self.resource} ({self.status}, {(self.waited_ms or 0) / 1000:.0f}s)"
        if self.kind == "retry":
            return f"{t} {self.step}: {self.resource} refused for now ({self.reason}); trying again"
        if self.kind == "check":
            return f"{t} {self.check}"
        return f"{t} {self.finding}"


@dataclass(frozen=True)
class StepReport:
    step: str
    outcome: str
    resources: Tuple[str, ...]
    api_calls: int
    elapsed_ms: int
    started_ms: int = 0  # since the run began: steps run side by side, listed as they end

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> StepReport:
        return cls(d["step"], d["outcome"], tuple(d["resources"]), d["api_calls"], d["elapsed_ms"],
                   d.get("started_ms", 0))

    def __str__(self) -> str:
        return f"{self.step:<22} {self.outcome:<8} {self.api_calls:>3} calls {self.elapsed_ms:>7} ms"


@dataclass(frozen=True)
class RunReport:
    """The report of ``up`` or ``down``."""

    workflow: str
    cluster: str
    plan_id: str
    region: str
    steps: Tuple[StepReport, ...]
    findings: Tuple[Finding, ...]
    resources: Mapping[str, str] = field(default_factory=dict)
    api_calls: int = 0
    elapsed_ms: int = 0

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RunReport:
        return cls(
            d["workflow"], d["cluster"], d["plan_id"], d["region"],
            tuple(StepReport.from_dict(s) for s in d["steps"]),
            tuple(Finding.from_dict(f) for f in d["findings"]),
            dict(d["resources"]), d["api_calls"], d["elapsed_ms"],
        )

    @classmethod
    def from_json(cls, text: str) -> RunReport:
        return cls.from_dict(json.loads(text))

    def __str__(self) -> str:
        lines = [f"{self.workflow} {self.cluster} in {self.region} ({self.plan_id})"]
        lines += [f"  {s}" for s in self.steps]
        lines += [f"  {f}" for f in self.findings]
        lines.append(f"  {self.api_calls} API calls in {self.elapsed_ms / 1000:.1f} s")
        return "\n".join(lines)


@dataclass(frozen=True)
class Check:
    """One named check of ``verify``, with its evidence."""

    name: str
    status: str  # "pass", "fail" or "skipped"
    summary: str
    evidence: Tuple[str, ...]
    fix: Optional[str]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Check:
        return cls(d["name"], d["status"], d["summary"], tuple(d["evidence"]), d.get("fix"))

    def __str__(self) -> str:
        fix = f"\n    fix: {self.fix}" if self.status == "fail" and self.fix else ""
        return f"{self.status:<8} {self.name:<16} {self.summary}{fix}"


@dataclass(frozen=True)
class VerifyReport:
    """The report of ``verify``: ``passed`` when no check failed (skipped checks do not);
    ``passed_strict`` when every check ran and passed."""

    cluster: str
    region: str
    checks: Tuple[Check, ...]
    api_calls: int
    elapsed_ms: int

    @property
    def passed(self) -> bool:
        return all(c.status != "fail" for c in self.checks)

    @property
    def passed_strict(self) -> bool:
        """Every check ran and passed: none failed, none was skipped for want of data."""
        return all(c.status == "pass" for c in self.checks)

    def check(self, name: str) -> Check:
        """The check of that name (``KeyError`` if there is none)."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> VerifyReport:
        return cls(d["cluster"], d["region"], tuple(Check.from_dict(c) for c in d["checks"]), d["api_calls"],
                   d["elapsed_ms"])

    @classmethod
    def from_json(cls, text: str) -> VerifyReport:
        return cls.from_dict(json.loads(text))

    def __str__(self) -> str:
        head = f"verify {self.cluster} in {self.region}: {'passed' if self.passed else 'FAILED'}"
        return "\n".join([head] + [f"  {c}" for c in self.checks])


@dataclass(frozen=True)
class ProbeAnswer:
    """What the HTTP probe over IPv6 got back."""

    url: str
    address: str
    status_line: str
    status: int
    headers: Tuple[Tuple[str, str], ...]
    body: str
    connect_ms: int
    first_byte_ms: int
    total_ms: int

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ProbeAnswer:
        return cls(
            d["url"], d["address"], d["status_line"], d["status"], tuple((k, v) for k, v in d["headers"]), d["body"],
            d["connect_ms"], d["first_byte_ms"], d["total_ms"],
        )

    @classmethod
    def from_json(cls, text: str) -> ProbeAnswer:
        return cls.from_dict(json.loads(text))

    def __str__(self) -> str:
        return f"{self.url} -> {self.status_line} ({self.total_ms} ms)"
