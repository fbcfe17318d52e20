"""The ``reelguard`` command: a thin layer over governance.flows.

Commands load lazily: ``reelguard --help`` lists them from the short help texts below without
importing a single command module (those pull in numpy, PyAV, cryptography and the policy
engine), and ``reelguard verify ...`` imports only the module that defines ``verify``. A test
keeps each text below equal to its command's own help.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

# Third-party progress bars ("Loading weights", "Loading pipeline components") are noise on a
# command's stderr; transformers and diffusers read these before they import tqdm.
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
os.environ.setdefault("TQDM_DISABLE", "1")

__all__ = ["app", "main", "GROUPS", "COMMANDS"]

# Sub-command groups, one module per domain noun; each module exposes ``app``.
GROUPS: dict[str, tuple[str, str]] = {
    "policy": ("governance.service.cli.policy", "Prompt policy: check prompts against the policy packs."),
    "consent": ("governance.service.cli.consent", "Likeness consent: grant, revoke and list licences."),
    "likeness": (
        "governance.service.cli.likeness",
        "Likeness registry: enrol faces, list or remove people, scan clips for them.",
    ),
    "watermark": ("governance.service.cli.watermark", "Embed or detect ReelGuard's invisible video watermark."),
    "registry": ("governance.service.cli.registry", "Protected-material registry: register works, match clips."),
    "audit": (
        "governance.service.cli.audit",
        "The tamper-evident audit log: checkpoints, proofs, verification, reports.",
    ),
    "keys": ("governance.service.cli.keys", "C2PA signing keys and certificates."),
    "models": (
        "governance.service.cli.models",
        "Text-to-video models: the embedded one and diffusers pipelines in the local cache.",
    ),
    "apikeys": ("governance.service.cli.apikeys", "API keys for the HTTP API (stored hashed; each has one role)."),
    "trust": (
        "governance.service.cli.trust",
        "Verification trust: C2PA and TSA trust lists, allowed signers, accepted EKUs.",
    ),
}

# Top-level commands: the module's ``register(app)`` adds them. A text ending in "…" is the start
# of a longer help.
COMMANDS: dict[str, tuple[str, str]] = {
    "generate": ("governance.service.cli.flows", "Policy-gated, watermarked, C2PA-signed and audited generation."),
    "verify": (
        "governance.service.cli.flows",
        "Read C2PA credentials, detect the watermark, look up the registry: one verdict per file.",
    ),
    "demo": (
        "governance.service.cli.demo",
        "The main job end to end: a gated, watermarked, signed generation, a refused prompt…",
    ),
    "serve": (
        "governance.service.cli.serve",
        "Serve the HTTP API, its OpenAPI schema (/openapi.json) and the web page (/).",
    ),
    "worker": (
        "governance.service.cli.serve",
        "Run a Celery worker for generation and batch jobs (Redis: REELGUARD_BROKER_URL).",
    ),
    "doctor": (
        "governance.service.cli.doctor",
        "Report (and with --fix repair) interrupted generations, orphan temps and manifests…",
    ),
}


def _import(module: str) -> Any | None:
    """The module, or None when it is not built yet (a missing group must not break the others)."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        return None


class LazyGroup(TyperGroup):
    """A typer group whose sub-commands are imported on first use.

    ``commands`` (the dict of every sub-command) is a property that loads them all, so
    introspection (the help-for-every-command test, shell completion) sees the full tree, while
    the paths typer takes for one invocation (``get_command`` / ``list_commands``) load one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._loaded: dict[str, Any] = {}
        self._listing = False
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]
    def commands(self) -> dict[str, Any]:
        for name in self.list_commands(None):
            self._load(name)
        return {n: self._loaded[n] for n in self.list_commands(None) if n in self._loaded}

    @commands.setter
    def commands(self, value: dict[str, Any]) -> None:
        self._loaded.update(value or {})

    def add_command(self, cmd: Any, name: str | None = None) -> None:
        self._loaded[name or cmd.name or ""] = cmd

    def list_commands(self, ctx: Any | None) -> list[str]:
        known = [*COMMANDS, *GROUPS]
        extra = [n for n in self._loaded if n not in known]
        return [n for n in known if n in self._loaded or self._available(n)] + extra

    @staticmethod
    def _available(name: str) -> bool:
        module = (COMMANDS.get(name) or GROUPS.get(name) or ("", ""))[0]
        return bool(module) and importlib.util.find_spec(module) is not None

    def get_command(self, ctx: Any | None, cmd_name: str) -> Any | None:
        if self._listing and cmd_name not in self._loaded:
            spec = COMMANDS.get(cmd_name) or GROUPS.get(cmd_name)
            if spec is not None and spec[1]:
                return TyperCommand(cmd_name, help=spec[1], short_help=spec[1])
        return self._load(cmd_name)

    def _load(self, name: str) -> Any | None:
        if name in self._loaded:
            return self._loaded[name]
        # Through a holder app, so a group converts exactly as ``add_typer`` would (no
        # per-group completion options) and a command as ``app.command`` would.
        holder = typer.Typer(add_completion=False)
        if name in GROUPS:
            module = _import(GROUPS[name][0])
            if module is None:
                return None
            holder.add_typer(module.app, name=name)
        elif name in COMMANDS:
            module = _import(COMMANDS[name][0])
            if module is None:
                return None
            module.register(holder)
        else:
            return None
        built = typer.main.get_command(holder)
        command: Any | None = built
        if isinstance(built, TyperGroup):
            command = built.get_command(None, name)  # type: ignore[arg-type]  # click wants a Context; ours takes None
        if command is None:
            return None
        self._loaded[name] = command
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True  # the listing shows short help texts: no command module imported
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="reelguard",
    cls=LazyGroup,
    help="Provenance, watermarking and content governance around AI video generation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


# Set by the root callback on every invocation (None when not given), read by
# ``common.load_settings``: state of this one command, never written to the environment.
ACTOR: str | None = None


@app.callback()
def _root(
    actor: str = typer.Option(
        None,
        "--actor",
        metavar="NAME",
        help="Who is acting, as the audit log records it (default: REELGUARD_ACTOR, else your OS user name).",
    ),
) -> None:
    # The audit log names a person, not "cli": every command builds its settings through
    # ``load_settings``, which passes this on as ``Settings.actor`` to the flows.
    global ACTOR
    if actor is not None and (not actor.strip() or len(actor) > 100 or not actor.isprintable()):
        raise typer.BadParameter("--actor takes a name of 1-100 printable characters", param_hint="--actor")
    ACTOR = actor.strip() if actor is not None else None


def main() -> None:
    app()
