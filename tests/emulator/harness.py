"""Start the emulator (launch.py) for a test run and stop it afterwards.

As a context manager (the Python tests)::

    with emulator() as endpoint:   # "http://127.0.0.1:<port>"
        ...

As a command (the C tests, from make)::

    python harness.py [--plain] -- PROGRAM ARGS...

runs PROGRAM with ``EKS6_ENDPOINT_URL`` set to the emulator and test credentials in
``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` (nothing real is reachable), then stops
the emulator and exits with PROGRAM's status.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent

# The credentials every test uses; tests grep outputs for them (they must never appear).
TEST_KEY_ID = "AKIAEKS6TESTKEY00001"
TEST_SECRET = "eks6TestSecret/DoNotPrint+0000000000000"  # as tests/src/emulator.rs


def test_env(endpoint: str) -> dict[str, str]:
    """The environment of a program talking to the emulator at ``endpoint``."""
    env = dict(os.environ)
    for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        env.pop(k, None)
    env.update(
        EKS6_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID=TEST_KEY_ID,
        AWS_SECRET_ACCESS_KEY=TEST_SECRET,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
    )
    # The plans' locks in a directory of the test run's, not the user's.
    env.setdefault("EKS6_STATE_DIR", os.path.join(os.environ.get("TMPDIR", "/tmp"), f"eks6-state-{os.getuid()}"))
    return env


@contextlib.contextmanager
def emulator(plain: bool = False) -> Iterator[str]:
    """Runs launch.py until the block ends; yields its endpoint URL."""
    cmd = [sys.executable, str(HERE / "launch.py")] + (["--plain"] if plain else [])
    env = dict(os.environ, EKS6_MOTO_CREATING_DESCRIBES="2")
    with subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True) as proc:
        assert proc.stdout is not None and proc.stdin is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("EKS6_EMULATOR_PORT="):
            proc.kill()
            raise RuntimeError(f"the emulator did not announce its port: {line!r}")
        try:
            yield f"http://127.0.0.1:{line.split('=', 1)[1]}"
        finally:
            proc.stdin.close()  # launch.py stops on stdin EOF
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def main(argv: list[str]) -> int:
    plain = "--plain" in argv[: argv.index("--")] if "--" in argv else False
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        print("usage: harness.py [--plain] -- PROGRAM ARGS...", file=sys.stderr)
        return 2
    program = argv[argv.index("--") + 1 :]
    with emulator(plain) as endpoint:
        return subprocess.call(program, env=test_env(endpoint))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
