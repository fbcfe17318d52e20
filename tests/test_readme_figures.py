"""Every figure in the README's results table comes from a committed result file.

The table's second column holds the headline numbers; the third links the pages that report
them. Each number of the second column (rounded or not) (goals excepted: they come from the issues, not from
a run) must appear as a number in one of the linked pages or in the result files of the folder
beside each page (``docs/<topic>.md`` → ``docs/<topic>/*.md|json|csv``), which the benchmarks
write. A number typed by hand into the README and found in no result fails here.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NUMBER = re.compile(r"(?<![\w.\-])\d[\d,]*(?:\.\d+)?(?:e-?\d+)?(?![\d])")
GOAL = re.compile(r"\bgoals?\b[^;()]*?(?=[;()]|$)")  # "goal 10 ms", "goals 1.2x and 1.5x met"
LINK = re.compile(r"\]\((docs/[^)#]+)")


def _table_rows() -> list[tuple[str, str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Benchmarks and results", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and not set(cells[0]) <= {"-"} and cells[0] != "topic":
            rows.append((cells[0], cells[1], cells[2]))
    return rows


def _numbers(text: str) -> set[str]:
    text = re.sub(r"`[^`]*`", " ", text)  # code: option names, file names
    return {m.group(0).replace(",", "") for m in NUMBER.finditer(text)}


@cache
def _reported(page: str) -> frozenset[str]:
    """Numbers in a linked page and in the result files of its folder."""
    path = ROOT / page
    files = [path] if path.is_file() else []
    folder = path.with_suffix("")
    if folder.is_dir():
        files += [p for p in sorted(folder.rglob("*")) if p.suffix in (".md", ".json", ".csv", ".log")]
    found: set[str] = set()
    for f in files:
        found |= _numbers(f.read_text(encoding="utf-8", errors="replace"))
    # a figure may be quoted rounded: 0.937 req/s as 0.94, 4.26 ms as 4.3, 12.0 as 12
    for n in [n for n in found if "." in n and "e" not in n]:
        for places in range(len(n.split(".")[1])):
            rounded = f"{float(n):.{places}f}"
            found |= {rounded, rounded.rstrip("0").rstrip(".") if "." in rounded else rounded}
    return frozenset(found)


ROWS = _table_rows()


def test_the_results_table_is_there():
    assert len(ROWS) >= 6, "the README's results table moved or lost rows"


@pytest.mark.parametrize("topic,figures,links", ROWS, ids=[r[0][:40] for r in ROWS])
def test_readme_figures_come_from_committed_results(topic, figures, links):
    pages = LINK.findall(links)
    assert pages, f"row {topic!r} links no result page"
    for page in pages:
        assert (ROOT / page).is_file(), f"{page} is linked from the README but not committed"
    reported = set().union(*(_reported(p) for p in pages))
    claimed = _numbers(GOAL.sub(" ", figures))
    missing = sorted(n for n in claimed if n not in reported and n.rstrip("0").rstrip(".") not in reported)
    assert not missing, f"README figures of {topic!r} found in no committed result ({', '.join(pages)}): {missing}"
