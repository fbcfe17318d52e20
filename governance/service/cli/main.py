"""The ``reelguard`` command: a thin layer over governance.flows."""

from __future__ import annotations

import importlib
import os

import typer

# Third-party progress bars ("Loading weights", "Loading pipeline components") are noise on a
# command's stderr; transformers and diffusers read this before they import tqdm.
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

__all__ = ["app", "main"]

app = typer.Typer(
    name="reelguard",
    help="Provenance, watermarking and content governance around AI video generation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Sub-command groups, one module per domain noun; each module exposes ``app``.
_GROUPS = {
    "policy": "governance.service.cli.policy",
    "consent": "governance.service.cli.consent",
    "watermark": "governance.service.cli.watermark",
    "registry": "governance.service.cli.registry",
    "audit": "governance.service.cli.audit",
    "keys": "governance.service.cli.keys",
    "models": "governance.service.cli.models",
    "apikeys": "governance.service.cli.apikeys",
    "trust": "governance.service.cli.trust",
}

for _name, _module in _GROUPS.items():
    try:
        _sub = importlib.import_module(_module)
    except ModuleNotFoundError as _exc:  # a group not built yet must not break the others
        if _exc.name != _module:
            raise
        continue
    app.add_typer(_sub.app, name=_name)

from governance.service.cli import flows as _flows  # noqa: E402  (registers generate / verify / serve / demo)

_flows.register(app)

from governance.service.cli import serve as _serve  # noqa: E402  (registers serve / worker)

_serve.register(app)

from governance.service.cli import doctor as _doctor  # noqa: E402  (registers doctor)

_doctor.register(app)


def main() -> None:
    app()
