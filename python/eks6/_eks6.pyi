"""Type stubs of the native module eks6._eks6 (checked by mypy.stubtest)."""

from collections.abc import Callable, Iterable, Iterator
from ipaddress import IPv6Address, IPv6Network
from typing import Any, Optional, Union, final, overload

__all__ = [
    "Carve",
    "CarveChunks",
    "PrefixAllocator",
    "PrefixTable",
    "WORKFLOW",
    "aggregate",
    "bracketed_url",
    "canonical",
    "carve",
    "contains",
    "expanded",
    "nth_subnet",
    "reverse_name",
    "subnet_count",
]

__version__: str
WORKFLOW: bool

Address = Union[str, IPv6Address]
Prefix = Union[str, IPv6Network]

def canonical(addr: Address) -> str: ...
def expanded(addr: Address) -> str: ...
def reverse_name(addr: Union[Address, Prefix]) -> str: ...
def subnet_count(prefix: Prefix, new_len: int) -> int: ...
def nth_subnet(prefix: Prefix, new_len: int, n: int) -> str: ...
def contains(prefix: Prefix, addr: Address) -> bool: ...
def aggregate(prefixes: Iterable[Prefix]) -> list[str]: ...
def bracketed_url(host: Union[str, IPv6Address], port: Optional[int] = None, scheme: str = "http", path: str = "/") -> str: ...
def carve(prefix: Prefix, new_len: int) -> Carve: ...
def _error_kinds() -> list[tuple[int, str, str]]: ...
def _error_of_kind(code: int) -> BaseException: ...

@final
class Carve:
    def __len__(self) -> int: ...
    @overload
    def __getitem__(self, key: int, /) -> str: ...
    @overload
    def __getitem__(self, key: slice, /) -> list[str]: ...
    def __iter__(self) -> Iterator[str]: ...

@final
class CarveChunks:
    def __iter__(self) -> CarveChunks: ...
    def __next__(self) -> list[str]: ...

@final
class PrefixAllocator:
    def __new__(cls, parent: Prefix, used: Optional[Iterable[Prefix]] = None) -> PrefixAllocator: ...
    def allocate(self, length: int) -> str: ...
    def release(self, prefix: Prefix) -> None: ...

@final
class PrefixTable:
    def __new__(cls) -> PrefixTable: ...
    def __setitem__(self, prefix: Prefix, value: Any, /) -> None: ...
    def __len__(self) -> int: ...
    def lookup(self, addr: Address) -> Optional[Any]: ...
    def lookup_many(self, addrs: Iterable[Address]) -> list[Optional[Any]]: ...

@final
class _Plan:
    @staticmethod
    def from_toml(text: str) -> _Plan: ...
    @staticmethod
    def from_json(text: str) -> _Plan: ...
    @staticmethod
    def from_file(path: str) -> _Plan: ...
    @property
    def name(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def plan_id(self) -> str: ...
    def to_toml(self) -> str: ...
    def to_json(self) -> str: ...
    def report_json(self) -> str: ...
    def address_plan_json(self, vpc_ipv6: Optional[str] = None, zones: list[str] = ...) -> str: ...

@final
class _Cancel:
    def __new__(cls) -> _Cancel: ...
    def trigger(self) -> None: ...
    @property
    def triggered(self) -> bool: ...

Sink = Callable[[str], Any]

@final
class _Client:
    def __new__(
        cls,
        region: Optional[str] = None,
        profile: Optional[str] = None,
        endpoint_url: Optional[str] = None,
        role_arn: Optional[str] = None,
        wait: Optional[tuple[float, float, float]] = None,
    ) -> _Client: ...
    @property
    def region(self) -> str: ...
    def api_calls(self) -> dict[str, int]: ...
    def run(
        self,
        workflow: str,
        plan: _Plan,
        journal: str,
        on_event: Optional[Sink] = None,
        cancel: Optional[_Cancel] = None,
        timeout: Optional[float] = None,
        blocking: bool = False,
    ) -> Any: ...
    def verify(
        self,
        plan: _Plan,
        probe_address: Optional[str] = None,
        probe_port: Optional[int] = None,
        addresses: list[str] = ...,
        kubectl: Optional[str] = None,
        on_event: Optional[Sink] = None,
        cancel: Optional[_Cancel] = None,
        timeout: Optional[float] = None,
        blocking: bool = False,
        kubernetes: Optional[bool] = None,
        context: Optional[str] = None,
        kubeconfig: Optional[str] = None,
        probe_pod_timeout: Optional[float] = None,
    ) -> Any: ...
    def eks_token(self, cluster: str) -> str: ...
    def preflight(
        self,
        plan: _Plan,
        on_event: Optional[Sink] = None,
        cancel: Optional[_Cancel] = None,
        timeout: Optional[float] = None,
        blocking: bool = False,
    ) -> Any: ...

def _probe(
    target: str,
    port: int = 80,
    path: str = "/",
    connect_timeout: float = 5.0,
    timeout: float = 10.0,
    blocking: bool = False,
) -> Any: ...
