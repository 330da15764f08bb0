"""Start moto 5.2.5 (with the eks6 extension unless --plain) for the eks6 tests.

Prints exactly one line to stdout, ``EKS6_EMULATOR_PORT=<port>`` (flushed), once
the server accepts connections; everything else (moto, werkzeug) goes to stderr.
Then it serves until one of these, stops the server and exits 0:
  * stdin reaches EOF (default; a test harness spawns it with piped stdin and
    closes or drops the pipe, so the server never outlives the harness);
  * SIGTERM or SIGINT (always; with --no-stdin the only way, e.g. from a
    Makefile: ``python launch.py --no-stdin --pidfile f & ... kill $(cat f)``).

Options:
  --plain         plain moto, without eks6_moto_ext
  --no-stdin      do not watch stdin (needed when stdin is /dev/null or closed)
  --pidfile PATH  write the process id there once serving; removed on exit
  --host H        address to bind (default 127.0.0.1)
  --port N        port to bind (default 0: any free port)
  --verbose       keep werkzeug's per-request log on stderr (off by default so an
                  unread stderr pipe cannot fill up and stall the server)
The extension reads EKS6_MOTO_CREATING_DESCRIBES, EKS6_MOTO_IAM_PROPAGATION,
EKS6_MOTO_TIME_SCALE (a number > 0: the time-based mode, transitions last their
typical AWS durations times it) and EKS6_MOTO_STATIC_KEYS ("AKID:secret[,...]":
static keys whose presigned STS GetCallerIdentity requests it accepts) from the
environment (a bad value stops it before the port line), and adds the route
/moto-api/eks6/control-planes (see README.md).

Configuration, in both modes: MOTO_IAM_LOAD_MANAGED_POLICIES defaults to "true"
(set before moto is imported; an explicit value in the environment wins), so
AWS-managed policies such as arn:aws:iam::aws:policy/AmazonEKSClusterPolicy,
AmazonEKSWorkerNodePolicy and AmazonEC2ContainerRegistryPullOnly exist and can
be attached; moto's default is an IAM without them (AttachRolePolicy then fails
with NoSuchEntity). Only the EKS and ECR ones are kept (MANAGED_POLICY_PREFIXES):
moto builds the whole set in every new account, 0.2 s each under the server's
one interpreter lock, and the tests make hundreds of accounts.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
from pathlib import Path


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plain", action="store_true", help="run moto without the eks6 extension")
    parser.add_argument("--no-stdin", action="store_true", help="do not stop on stdin EOF")
    parser.add_argument("--pidfile", type=Path, help="write the pid here while serving")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser.parse_args(argv)


def _wait_accepting(host: str, port: int) -> None:
    for _ in range(100):
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            threading.Event().wait(0.05)
    raise RuntimeError(f"moto server on {host}:{port} does not accept connections")


def _watch_stdin(stop: threading.Event) -> None:
    try:
        while sys.stdin.buffer.read(65536):
            pass
    except (OSError, ValueError):
        pass
    stop.set()


# The AWS-managed policies the emulator offers: the EKS and ECR ones (what EKS roles
# attach). moto would build all of its ~1,600 in every new account (0.2 s each, under
# the server's one interpreter lock); the tests make hundreds of accounts.
MANAGED_POLICY_PREFIXES = ("AmazonEKS", "AmazonEC2ContainerRegistry")


def _only_eks_managed_policies() -> None:
    import json

    from moto.iam import aws_managed_policies, models

    every = json.loads(aws_managed_policies.aws_managed_policies_data)
    kept = {name: d for name, d in every.items() if name.startswith(MANAGED_POLICY_PREFIXES)}
    models.aws_managed_policies_data = json.dumps(kept)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    # Before anything imports moto: AWS-managed IAM policies exist (see above).
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    _only_eks_managed_policies()
    port_out = sys.stdout
    sys.stdout = sys.stderr  # anything else printed goes to stderr

    if not args.plain:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import eks6_moto_ext

        eks6_moto_ext.apply()
    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)

    from moto.server import ThreadedMotoServer

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        _wait_accepting(host, port)
        if args.pidfile:
            args.pidfile.write_text(f"{os.getpid()}\n")
        print(f"EKS6_EMULATOR_PORT={port}", file=port_out, flush=True)
        if not args.no_stdin:
            threading.Thread(target=_watch_stdin, args=(stop,), daemon=True).start()
        while not stop.wait(1.0):
            pass
    finally:
        server.stop()
        if args.pidfile:
            args.pidfile.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
