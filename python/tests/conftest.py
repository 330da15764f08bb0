"""The local emulator for the workflow tests (tests/emulator/harness.py: moto with the
eks6 test extension), started once per test session on a free port and stopped after.
Each test works in AWS accounts of its own (STS AssumeRole on a role of that account),
so tests never see each other's resources."""

import http.server
import os
import socket
import sys
import threading
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


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = b"hello from a Python thread\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class _V6Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6


@pytest.fixture
def python_server():
    """An HTTP server on [::1] served by a Python thread: it can only answer while the
    calling thread does not hold the GIL. It also stands in for every sample pod: the
    control plane's probe pod GETs it."""
    srv = _V6Server(("::1", 0), _Hello)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()
