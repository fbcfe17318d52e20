"""Shared CLI plumbing: consoles, JSON output, and one error handler for every command.

Commands stay thin: parse arguments, call a flow, print its typed result. Errors from the
ReelGuard tree become one red line on stderr and the error's exit code; nothing else leaks a
stack trace (set REELGUARD_DEBUG=1 to see one).

Both consoles are ``SafeConsole``: commands interpolate user text (paths, titles, reasons) into
rich markup, and text such as ``[/x]`` in a file name is malformed markup. Where the markup does
not parse, the line is printed as plain text instead of raising ``MarkupError``.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from typing import Any, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.errors import MarkupError
from rich.markup import escape

from governance.core.errors import ANY_ERROR, exit_code_for
from governance.core.settings import Settings, get_settings

__all__ = ["console", "err_console", "handle_errors", "emit_json", "to_jsonable", "load_settings", "SafeConsole"]


class SafeConsole(Console):
    """A rich console whose ``print`` falls back to plain text when the markup does not parse
    (user text with brackets in it), so printing a message never raises."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        try:
            super().print(*objects, **kwargs)
        except MarkupError:
            kwargs["markup"] = False
            super().print(*objects, **kwargs)


console = SafeConsole(highlight=False)
err_console = SafeConsole(stderr=True, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])


def load_settings() -> Settings:
    """The settings of this command; ``--actor`` (given to ``reelguard``) overrides the actor."""
    from governance.service.cli import main as _main

    settings = get_settings(**({"actor": _main.ACTOR} if _main.ACTOR else {}))
    settings.ensure_dirs()
    return settings


def to_jsonable(value: Any) -> Any:
    """Typed results to plain JSON values (dataclasses, pydantic models, bytes as hex)."""
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return to_jsonable(value.to_dict())
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(asdict(value))
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "__fspath__"):
        return os.fspath(value)
    if hasattr(value, "value") and isinstance(value.value, (str, int)):
        return value.value
    return value


def emit_json(value: Any) -> None:
    """Print one JSON document on stdout (machine-readable output never goes through rich)."""
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def handle_errors(func: F) -> F:
    """Turn ReelGuard errors into a one-line message and the error's exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except ANY_ERROR as exc:
            if os.environ.get("REELGUARD_DEBUG"):
                raise
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, soft_wrap=True)
            raise typer.Exit(exit_code_for(exc)) from None
        except KeyboardInterrupt:
            err_console.print("[red]interrupted[/]")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]
