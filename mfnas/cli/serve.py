"""``python -m mfnas.serve MODEL_DIR``: serve an exported model over HTTP (FastAPI on uvicorn,
one worker process); ``mfnas.deploy.server`` documents the API, ``/docs`` shows it."""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

from mfnas.cli.common import OneLineParser, positive_int
from mfnas.tasks.device import DEVICES

EXTRA = 'pip install "mfnas[serve]"'


def _port(text: str) -> int:
    """An argparse type: a port number 0..65535 (0: the system picks a free one)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0..65535, got {port}")
    return port


def _check_free(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on, or None when it can."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(
        prog="python -m mfnas.serve",
        description="Serve a model folder written by python -m mfnas.export: recsys answers "
        "POST /recommend and /feedback, recsys-rating POST /predict, image, fashion and text "
        "POST /classify; every model GET /healthz, /readyz, /version, /metrics (Prometheus) "
        "and /docs (the OpenAPI page). Try: curl -s -X POST localhost:8000/recommend -H "
        "'Content-Type: application/json' -d '{\"user\": 196, \"k\": 5}'",
    )
    parser.add_argument("model_dir", type=Path, help="a model folder (python -m mfnas.export)")
    parser.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8000, help="port (default: 8000)")
    parser.add_argument(
        "--device", choices=DEVICES, default="auto", help="torch device (default: auto)"
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        help="torch threads (default: one per core); 1 is often faster on a busy machine",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=("critical", "error", "warning", "info", "debug"),
        help="uvicorn's log level (default: info)",
    )
    args = parser.parse_args(argv)
    try:
        import uvicorn

        from mfnas.deploy.server import create_app
    except ImportError as exc:
        parser.error(f"serving needs the serve extra ({exc.name} is missing): {EXTRA}")
    from mfnas.deploy.bundle import BundleError

    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    problem = _check_free(args.host, args.port)
    if problem:
        parser.error(problem)
    try:
        app = create_app(args.model_dir, device=args.device)
    except (BundleError, ValueError) as exc:
        parser.error(str(exc))
    print(
        f"serving the {app.title} from {args.model_dir} on http://{args.host}:{args.port} "
        f"(API at /docs)",
        flush=True,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, workers=1)
    return 0


def cli() -> None:
    sys.exit(main())
