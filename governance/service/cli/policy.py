"""``reelguard policy``: check prompts, explain decisions, run a pack's own examples.

``check`` exits 0 when the prompt may be generated and 3 when the policy refuses it; with
``--file`` it reports each line (JSON lines carry the prompt unless ``--no-prompt``) and exits 3
if any line is refused or unreadable as a prompt, 0 only when every one passes. Bad prompts and
broken packs exit 40-42. The engine is loaded once per process (``PolicyEngine.shared``): a
second check in the same process costs milliseconds.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import typer
from rich.table import Table

from governance.service.cli.common import console, emit_json, err_console, handle_errors, load_settings

if TYPE_CHECKING:  # pragma: no cover
    from policies.engine import SemanticModel

__all__ = ["app"]

app = typer.Typer(help="Prompt policy: check prompts against the policy packs.", no_args_is_help=True)

_JURISDICTION = typer.Option(None, "--jurisdiction", "-j", help="eu, cn, us-ca or none (default: settings).")
_SEMANTIC = typer.Option(True, "--semantic/--no-semantic", help="Semantic matching with the embedded model.")
_MODEL = typer.Option(
    "multilingual", "--semantic-model", help="multilingual (USE-multilingual, default) or minilm (English MiniLM)."
)
_CONSENT = typer.Option(True, "--consent/--no-consent", help="Consult the consent registry for likeness licences.")


def _load(*, semantic: bool, consent: bool, extra: list[Path] | None = None, model: str = "multilingual"):
    """Engine (bundled + configured packs + registered protected names) and consent lookup."""
    from policies import PolicyEngine

    settings = load_settings()
    packs: list[object] = [*settings.policy_packs, *(extra or [])]
    registry = None
    if consent:
        from governance.records.consent import ConsentRegistry
        from governance.records.storage.db import get_engine

        registry = ConsentRegistry(get_engine(settings.resolved_database_url))
        if registry.protected_names():
            packs.append(registry.protected_pack())
    engine = PolicyEngine.shared(
        extra_packs=packs,
        semantic=semantic,
        model_cache=settings.cache_path / "models",
        semantic_model=cast("SemanticModel", model),  # the engine refuses other names (PolicyError)
    )
    return engine, registry, settings


def _print_decision(decision) -> None:
    colour = "green" if decision.allowed else "red"
    console.print(f"[bold {colour}]{decision.action}[/] ({'allowed' if decision.allowed else 'refused'})", end="")
    console.print(f"  {decision.category or ''} {decision.rule_id or ''}".rstrip(), markup=False)
    console.print(f"  reason: {decision.reason}", markup=False)
    if decision.obligations:
        console.print(f"  obligations ({decision.jurisdiction}): {', '.join(decision.obligations)}")
    if decision.consent_license_id:
        console.print(f"  licence: {decision.consent_license_id}")
    console.print(f"  pack digest: {decision.pack_digest[:16]}…  ({decision.latency_ms:.1f} ms)")


@app.command("check")
@handle_errors
def check_cmd(
    prompt: str = typer.Argument(None, help="The prompt (or use --file)."),
    file: Path = typer.Option(None, "--file", "-f", help="Check one prompt per line ('-' reads stdin)."),
    as_json: bool = typer.Option(False, "--json", help="JSON output (one object per line with --file)."),
    jurisdiction: str = _JURISDICTION,
    semantic: bool = _SEMANTIC,
    consent: bool = _CONSENT,
    model: str = _MODEL,
    with_prompt: bool = typer.Option(
        True, "--prompt/--no-prompt", help="With --file --json: put each prompt in its line (default) or leave it out."
    ),
) -> None:
    """Decide whether a prompt may be generated, and why (exit 3 if refused; with --file, if any is)."""
    from policies import PromptError

    if (prompt is None) == (file is None):
        raise typer.BadParameter("give either PROMPT or --file")
    engine, registry, settings = _load(semantic=semantic, consent=consent, model=model)
    where = jurisdiction or settings.jurisdiction
    if file is None:
        decision = engine.check(prompt, jurisdiction=where, consent=registry)
        emit_json(decision) if as_json else _print_decision(decision)
        raise typer.Exit(0 if decision.allowed else 3)
    try:
        stream = sys.stdin if str(file) == "-" else file.open(encoding="utf-8", errors="strict")
        lines = stream.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(f"cannot read {file}: {exc}") from None
    counts: dict[str, int] = {}
    refused = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        row: dict[str, Any]  # one JSON line of the report
        try:
            d = engine.check(line, jurisdiction=where, consent=registry)
        except PromptError as exc:
            row = {"line": number, "error": str(exc), "action": "deny", "allowed": False}
        else:
            row = {"line": number, **d.to_dict()}
        if with_prompt:
            row["prompt"] = line
        counts[row["action"]] = counts.get(row["action"], 0) + 1
        refused += not row["allowed"]
        if as_json:
            sys.stdout.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
        else:
            console.print(
                f"{number:>5}  {row['action']:<16} {row.get('rule_id') or row.get('error', '') or ''}  {line[:60]}",
                markup=False,
            )
    if not as_json:
        err_console.print("  ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "no prompts")
    raise typer.Exit(3 if refused else 0)


@app.command("explain")
@handle_errors
def explain_cmd(
    prompt: str = typer.Argument(..., help="The prompt."),
    jurisdiction: str = _JURISDICTION,
    semantic: bool = _SEMANTIC,
    consent: bool = _CONSENT,
    model: str = _MODEL,
) -> None:
    """Every rule hit (with the alias, name or exemplar that matched), what context defused, the
    normalised text, and the nearest exemplars with their similarity."""
    engine, registry, settings = _load(semantic=semantic, consent=consent, model=model)
    for line in engine.explain(prompt, jurisdiction=jurisdiction or settings.jurisdiction, consent=registry):
        console.print(line, markup=False)


@app.command("test")
@handle_errors
def test_cmd(
    pack: str = typer.Argument(..., help="A loaded pack's name (e.g. safety) or a pack file to load and test."),
    semantic: bool = _SEMANTIC,
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Run a pack's own examples (each rule's ``hit`` and ``miss`` prompts); exit 1 on failures."""
    from policies.schema import load_pack, sources_from_paths

    path = Path(pack)
    extra = [path] if path.suffix in (".yaml", ".yml") or path.exists() else []
    name = load_pack(sources_from_paths(extra)[0]).spec.pack if extra else pack
    engine, _, _ = _load(semantic=semantic, consent=False, extra=extra)
    results = engine.run_examples(name)
    failed = [r for r in results if not r.passed]
    if as_json:
        emit_json(
            {
                "pack": name,
                "passed": len(results) - len(failed),
                "failed": len(failed),
                "failures": [
                    {
                        "rule_id": r.rule_id,
                        "prompt": r.prompt,
                        "expect_hit": r.expect_hit,
                        "got": list(r.decision.rule_ids),
                    }
                    for r in failed
                ],
            }
        )
    else:
        for r in failed:
            want = "should hit" if r.expect_hit else "should not hit"
            console.print(
                f"[red]FAIL[/] {r.rule_id} {want}: {r.prompt!r} (got {', '.join(r.decision.rule_ids) or 'nothing'})"
            )
        console.print(f"pack {name}: {len(results) - len(failed)}/{len(results)} examples pass")
    if failed:
        raise typer.Exit(1)


@app.command("packs")
@handle_errors
def packs_cmd(semantic: bool = typer.Option(False, "--semantic/--no-semantic")) -> None:
    """The loaded packs, their versions and the combined digest."""
    engine, _, _ = _load(semantic=semantic, consent=False)
    table = Table("pack", "version", "rules", "source", "sha256")
    for p in engine.packs:
        table.add_row(p.spec.pack, p.spec.version, str(len(p.spec.rules)), p.source.name, p.sha256[:16])
    console.print(table)
    console.print(f"pack digest: {engine.pack_digest}")
