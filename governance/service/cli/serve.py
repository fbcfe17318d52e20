"""Top-level ``serve`` (uvicorn over governance.service.api) and ``worker`` (a Celery worker)."""

from __future__ import annotations

import logging
import os
import sys

import typer

from governance.service.cli.common import err_console, handle_errors, load_settings

__all__ = ["register"]


def serve_cmd(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (loopback by default)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="uvicorn worker processes."),
    log_level: str = typer.Option("info", "--log-level"),
    public_verify: bool = typer.Option(
        None,
        "--public-verify/--no-public-verify",
        help="Anonymous verification on the page and POST /api/verify, rate-limited per client "
        "(setting public_verify); every other route keeps its roles.",
    ),
    warm: bool = typer.Option(
        True,
        "--warm/--no-warm",
        help="Load the policy engine before taking requests (setting warm_policy), so the first "
        "prompt check does not wait seconds for it.",
    ),
) -> None:
    """Serve the HTTP API, its OpenAPI schema (/openapi.json) and the web page (/)."""
    import uvicorn

    if public_verify is not None:
        # uvicorn's factory (and each of its worker processes) reads settings from the environment.
        os.environ["REELGUARD_PUBLIC_VERIFY"] = "1" if public_verify else "0"
    os.environ["REELGUARD_WARM_POLICY"] = "1" if warm else "0"
    settings = load_settings()  # fail fast on a bad config, before binding the port
    if settings.environment == "production":
        from governance.flows import FlowContext

        FlowContext(settings, recover=False).check_environment()
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    mode = (
        f"public verification on ({settings.public_verify_per_minute:g}/min per client)"
        if settings.public_verify
        else "API keys required"
    )
    err_console.print(f"ReelGuard API on http://{host}:{port}/  (schema: /openapi.json; {mode})")
    uvicorn.run(
        "governance.service.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,
        server_header=False,
    )


def worker_cmd(
    concurrency: int = typer.Option(max(1, (os.cpu_count() or 2)), "--concurrency", "-c", min=1, max=256),
    queues: str = typer.Option(
        "", "--queues", "-Q", help="Comma-separated queue names (default REELGUARD_QUEUE or reelguard)."
    ),
    log_level: str = typer.Option("info", "--log-level"),
) -> None:
    """Run a Celery worker for generation and batch jobs (Redis: REELGUARD_BROKER_URL)."""
    from governance.service.jobs.queue import default_queue
    from governance.service.jobs.worker import app as celery

    load_settings()
    queues = queues or default_queue()
    celery.worker_main(
        [
            "worker",
            f"--concurrency={concurrency}",
            f"--queues={queues}",
            f"--loglevel={log_level}",
            "--pool=prefork",
            "--without-gossip",
            "--without-mingle",
        ]
    )
    sys.exit(0)


def register(app: typer.Typer) -> None:
    app.command("serve")(handle_errors(serve_cmd))
    app.command("worker")(handle_errors(worker_cmd))
