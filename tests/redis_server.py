"""A throwaway ``redis-server`` (Debian's package) on a unix socket, for the RedisBackend tests.

Started with ``subprocess.Popen`` in a directory of its own, stopped by its PID. When
``redis-server`` is not installed the tests that need it skip, except where the environment
variable ``PRODUCTIVE_ASYNC_REQUIRE_REDIS`` is set (``.ci/run`` sets it): there they fail.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest


class RedisServer:
    """One redis-server process on ``socket``; :meth:`stop` and :meth:`start` again (on the
    same socket, with empty data) simulate an outage."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.socket = directory / "redis.sock"
        self.url = f"unix://{self.socket}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            message = "redis-server is not installed (Debian: apt-get install redis-server)"
            if os.environ.get("PRODUCTIVE_ASYNC_REQUIRE_REDIS"):
                pytest.fail(message)
            pytest.skip(message)
        self.process = subprocess.Popen(
            [executable, "--port", "0", "--unixsocket", str(self.socket), "--save", "",
             "--appendonly", "no", "--dir", str(self.directory), "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._answers():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        pytest.fail("redis-server did not start within 10 s")

    def _answers(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX) as conn:
                conn.settimeout(1)
                conn.connect(str(self.socket))
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.socket.unlink(missing_ok=True)
