"""``reelguard models``: the generators this install can use, and what identifies them."""

from __future__ import annotations

import typer
from rich.table import Table

from governance.service.cli.common import console, emit_json, handle_errors, load_settings

__all__ = ["app"]

app = typer.Typer(
    help="Text-to-video models: the embedded one and diffusers pipelines in the local cache.", no_args_is_help=True
)


@app.command("list")
@handle_errors
def list_cmd(json_out: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """List the embedded model and cached diffusers pipeline folders (no weights are loaded)."""
    from generator import list_models

    models = list_models()
    if json_out:
        emit_json(models)
        return
    table = Table("model", "pipeline", "size", "folder")
    for m in models:
        table.add_row(m.model_id, m.pipeline_class, f"{m.size_bytes / 1e6:.1f} MB", str(m.folder))
    console.print(table)


@app.command("info")
@handle_errors
def info_cmd(
    model: str = typer.Argument(None, help="folder or hub id; default: the configured model, else the embedded one"),
    json_out: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Show a model's pipeline class, components, weights digest and training record."""
    from generator import describe_model

    info = describe_model(model if model is not None else load_settings().model)
    if json_out:
        emit_json(info)
        return
    console.print(f"[bold]{info.model_id}[/]  ({info.pipeline_class})")
    console.print(f"folder          {info.folder}")
    console.print(f"size            {info.size_bytes / 1e6:.1f} MB")
    console.print(f"weights digest  sha256:{info.weights_digest}")
    for name, (library, cls) in info.components.items():
        console.print(f"  {name:<14}{library or '-'}.{cls or '(supplied by the pipeline)'}")
    if info.training:
        console.print("training        " + ", ".join(f"{k}={v}" for k, v in info.training.items() if k != "args"))
