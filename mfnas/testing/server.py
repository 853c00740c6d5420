"""What the deployment tests and benchmarks share: a small live run to export, a real
``python -m mfnas.serve`` process, and a small HTTP client."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.client import HTTPConnection
from pathlib import Path
from typing import Any


def live_run(folder: Path, task: str, strategy: str = "grid") -> Path:
    """A live run of ``strategy`` with one full training of 2 epochs (seed 0) on ``task`` into
    ``folder``, made by the bench CLI, without its reference rows (they cost most of such a
    run's time and play no part in what is exported)."""
    import pytest

    from mfnas.cli.bench import main as bench
    from mfnas.tasks.fashion import FashionTask
    from mfnas.tasks.image import ImageTask
    from mfnas.tasks.rating import RatingTask
    from mfnas.tasks.recsys import RecsysTask
    from mfnas.tasks.text import TextTask

    with pytest.MonkeyPatch.context() as patch:
        for cls in (RecsysTask, RatingTask, ImageTask, FashionTask, TextTask):
            patch.setattr(cls, "references", lambda self: {})
        argv = ["--task", task, "--strategies", strategy, "--budget", "1", "--max-epochs", "2"]
        if bench([*argv, "--seeds", "1", "--out", str(folder), "--quiet"]) != 0:
            raise RuntimeError(f"the live {task} run into {folder} failed")
    return folder


_LISTENING = re.compile(r"Uvicorn running on http://([\d.]+):(\d+)")


class Client:
    """One keep-alive HTTP/1.1 connection to a server; JSON in and out."""

    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        self.connection = HTTPConnection(host, port, timeout=timeout)

    def request(
        self, method: str, path: str, body: Any = None, raw: bytes | None = None
    ) -> tuple[int, Any]:
        """Send ``body`` as JSON (or ``raw`` bytes as they are); return the status and the
        parsed JSON answer (the text when it is not JSON)."""
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        self.connection.request(method, path, body=data, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode()
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, text

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        return self.request("POST", path, body)

    def get(self, path: str) -> tuple[int, Any]:
        return self.request("GET", path)

    def close(self) -> None:
        self.connection.close()


@contextmanager
def running_server(
    model_dir: Path, *options: str, timeout: float = 120.0
) -> Iterator[tuple[str, int]]:
    """Start ``python -m mfnas.serve model_dir *options`` on a free loopback port (port 0: the
    system picks one, and uvicorn's start-up line says which); yield (host, port) once it
    listens, stop it after. Raises RuntimeError with the server's output when it exits first."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "mfnas.serve", str(model_dir), "--port", "0", *options]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    lines: list[str] = []
    listening: list[tuple[str, int]] = []
    said = threading.Event()

    def drain() -> None:  # reads every line, so the server never blocks on a full pipe
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            found = _LISTENING.search(line)
            if found and not listening:
                listening.append((found.group(1), int(found.group(2))))
                said.set()
        said.set()  # the server exited

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        said.wait(timeout)
        if not listening:
            raise RuntimeError("the server did not start listening:\n" + "".join(lines))
        yield listening[0]
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=10)
