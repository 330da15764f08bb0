"""The local emulator for the workflow tests (tests/emulator/harness.py: moto with the
eks6 test extension), started once per test session on a free port and stopped after.
Each test works in AWS accounts of its own (STS AssumeRole on a role of that account),
so tests never see each other's resources."""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "emulator"))
from harness import emulator  # noqa: E402
from harness import test_env as emulator_env  # noqa: E402


@pytest.fixture(scope="session")
def endpoint():
    with emulator() as url:
        saved = dict(os.environ)
        os.environ.update(emulator_env(url))
        try:
            yield url
        finally:
            os.environ.clear()
            os.environ.update(saved)
