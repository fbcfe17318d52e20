"""HTML and PDF rendering of an ``AuditReport``: one Jinja2 template, matplotlib plots inlined
as PNG data URIs, and WeasyPrint for the PDF (the same HTML, paged with the print CSS)."""

from __future__ import annotations

import base64
import io
from importlib import resources
from typing import TYPE_CHECKING

from governance.core.errors import AuditError

if TYPE_CHECKING:  # pragma: no cover
    from governance.records.audit.report import AuditReport

__all__ = ["render_html", "render_pdf", "plots"]

JURIS_NAMES = {"eu": "European Union", "cn": "China", "us-ca": "California (US)"}
INK, ACCENT, MUTED = "#1d2330", "#2f5fb3", "#9aa3b5"
VERDICT_COLORS = {
    "authentic": "#2e7d32",
    "recovered": "#558b2f",
    "unknown": "#9aa3b5",
    "untrusted": "#ef6c00",
    "tampered": "#c62828",
}


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=160, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _empty(ax, text: str = "no events in the period") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", color=MUTED, fontsize=11, transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def _style(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(colors=INK, labelsize=8)


def _barh(data: dict[str, int], colors: dict[str, str] | None = None, top: int = 8) -> str:
    import matplotlib.pyplot as plt

    items = list(data.items())[:top]
    fig, ax = plt.subplots(figsize=(4.2, 0.35 * max(len(items), 3) + 0.6))
    if not items:
        _empty(ax)
    else:
        labels, values = zip(*reversed(items), strict=True)
        ax.barh(labels, values, color=[(colors or {}).get(k, ACCENT) for k in labels])
        for y, v in enumerate(values):
            ax.text(v, y, f" {v:,}", va="center", fontsize=8, color=INK)
        ax.set_xlim(0, max(values) * 1.18)
        _style(ax)
    return _png(fig)


def plots(report: AuditReport) -> dict[str, str]:
    """The report's figures as PNG data URIs."""
    import matplotlib

    matplotlib.use("Agg")
    from datetime import date

    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.2, 2.6))
    days = [date.fromisoformat(d["date"]) for d in report.daily]
    series = [
        ("generations", ACCENT),
        ("denials", "#c62828"),
        ("held for review", "#ef6c00"),
        ("verifications", "#2e7d32"),
    ]
    if not any(d[k] for d in report.daily for k, _ in series):
        _empty(ax)
    else:
        for key, color in series:
            ax.plot(
                mdates.date2num(days),
                [d[key] for d in report.daily],
                label=key,
                color=color,
                linewidth=1.6,
                marker="o" if len(days) < 40 else None,
                markersize=2.5,
            )
        ax.legend(frameon=False, fontsize=8, ncol=4, loc="upper left", bbox_to_anchor=(0, 1.18))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
        ax.set_ylabel("events per day", fontsize=8, color=INK)
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", color="#e3e6ec", linewidth=0.6)
        _style(ax)
    out = {"daily": _png(fig)}
    out["denials"] = _barh(report.denials_by_category)
    out["verdicts"] = _barh(report.verifications, VERDICT_COLORS)
    out["holders"] = _barh(report.protected_matches)
    return out


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "–"


def render_html(report: AuditReport) -> str:
    import jinja2

    folder = resources.files("governance.records.audit.templates")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(folder.joinpath("report.html").read_text(encoding="utf-8"))
    share = report.generations.get("share_marked")
    integrity = report.integrity
    if not integrity.get("verified"):
        itext, iclass, ilong = "not checked", "", ""
    elif integrity.get("ok"):
        itext, iclass = "verified", "good"
        ilong = f"all {integrity['size']:,} events verified; root {integrity['root']}."
    else:
        itext, iclass = "FAILED", "bad"
        ilong = f"verification FAILED at leaf {integrity.get('first_bad_index')}: {integrity.get('reason')}"
    review_keys = ["approved", "rejected", "expired"]
    return template.render(
        r=report,
        css=folder.joinpath("report.css").read_text(encoding="utf-8"),
        plots=plots(report),
        share=share,
        share_ok=share == 1.0,
        share_text="–" if share is None else f"{100 * share:.1f} %",
        integrity_text=itext,
        integrity_class=iclass,
        integrity_long=ilong,
        juris_names=JURIS_NAMES,
        pct=_pct,
        review_keys=review_keys,
        open_reviews=max(0, report.reviews.get("held", 0) - sum(report.reviews.get(k, 0) for k in review_keys)),
    )


def render_pdf(report: AuditReport) -> bytes:
    """The same HTML, laid out on A4 pages by WeasyPrint."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: pango missing on the system
        raise AuditError(f"PDF rendering needs WeasyPrint and pango: {exc}") from exc
    return weasyprint.HTML(string=render_html(report)).write_pdf()
