"""``reelguard registry``: --help on every command, then add / match --json / list / remove."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from governance.service.cli.registry import app
from tests.governance.records.test_registry import FPS, letterbox, pan_clip

runner = CliRunner()
COMMANDS = ["add", "match", "list", "remove", "export", "import"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output


def test_add_match_list_remove(tmp_path, monkeypatch):
    from detectors.video_io import write_video

    monkeypatch.setenv("REELGUARD_HOME", str(tmp_path / "home"))
    ref = write_video(tmp_path / "astronaut.mp4", pan_clip("astronaut"), fps=FPS, preset="ultrafast")
    query = write_video(tmp_path / "query.mp4", letterbox(pan_clip("astronaut")), fps=FPS, crf=30, preset="ultrafast")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")

    added = runner.invoke(app, ["add", str(ref), "--owner", "NASA", "--title", "Astronaut", "--json"])
    assert added.exit_code == 0, added.output
    (work,) = json.loads(added.stdout)["works"]
    work_id = work["work_id"]
    assert work["title"] == "Astronaut"  # one file: the title as given
    again = runner.invoke(app, ["add", str(ref), "--owner", "NASA", "--title", "Astronaut"])
    assert again.exit_code == 0 and "already registered" in again.stdout

    matched = runner.invoke(app, ["match", str(query), "--json"])
    assert matched.exit_code == 0, matched.output
    (m,) = json.loads(matched.stdout)["matches"]
    assert m["work_id"] == work_id and m["owner"] == "NASA" and m["fingerprint"] in {"pdq", "orb"}
    assert {"title", "score", "query_start", "query_end", "ref_start", "ref_end", "query_coverage"} <= set(m)

    human = runner.invoke(app, ["match", str(query)])  # 80 columns: every field whole on its line
    assert human.exit_code == 0 and "Astronaut (NASA)" in human.stdout and work_id in human.stdout
    assert "of the query" in human.stdout and "= astronaut.mp4 " in human.stdout  # the file that matched
    assert m["file"] == "astronaut.mp4"
    listed_human = runner.invoke(app, ["list"])
    rows = [line.split("│") for line in listed_human.stdout.splitlines() if line.startswith("│")]
    assert listed_human.exit_code == 0 and "".join(r[-2].strip() for r in rows) == work_id  # folded, never cut

    bad = runner.invoke(app, ["match", str(empty)])
    assert bad.exit_code == 21 and "empty" in bad.output

    listed = runner.invoke(app, ["list", "--json"])
    assert [w["id"] for w in json.loads(listed.stdout)["works"]] == [work_id]
    exported = runner.invoke(app, ["export", str(tmp_path / "reg.json")])
    assert exported.exit_code == 0
    assert runner.invoke(app, ["remove", work_id]).exit_code == 0
    assert runner.invoke(app, ["remove", work_id]).exit_code == 19
    imported = runner.invoke(app, ["import", str(tmp_path / "reg.json"), "--json"])
    assert json.loads(imported.stdout)["works"] == 1


def test_a_folder_is_one_work_per_file_unless_grouped(tmp_path, monkeypatch):
    from detectors.video_io import write_video

    monkeypatch.setenv("REELGUARD_HOME", str(tmp_path / "home"))
    folder = tmp_path / "films"
    folder.mkdir()
    for still in ("astronaut", "coffee"):
        write_video(folder / f"{still}.mp4", pan_clip(still), fps=FPS, preset="ultrafast")
    (folder / "notes.mp4").write_bytes(b"not a video")
    query = write_video(tmp_path / "query.mp4", letterbox(pan_clip("coffee")), fps=FPS, crf=30, preset="ultrafast")

    added = runner.invoke(app, ["add", str(folder), "--owner", "Studio", "--json"])
    assert added.exit_code == 0, added.output
    out = json.loads(added.stdout)
    assert not out["grouped"] and out["added"] == 2
    assert [w["title"] for w in out["works"]] == ["astronaut", "coffee"]  # each file its own work
    assert [f["path"].endswith("notes.mp4") for f in out["failed"]] == [True]  # reported, the rest registered
    coffee_id = out["works"][1]["work_id"]

    (m,) = json.loads(runner.invoke(app, ["match", str(query), "--json"]).stdout)["matches"]
    assert (m["work_id"], m["title"], m["file"]) == (coffee_id, "coffee", "coffee.mp4")
    assert 0 <= m["query_start"] < m["query_end"] and 0 <= m["ref_start"] < m["ref_end"]

    refused = runner.invoke(app, ["add", str(folder), "--owner", "Studio", "--group"])
    assert refused.exit_code == 19 and "--title" in refused.output
    grouped = runner.invoke(
        app,
        [
            "add",
            str(folder / "coffee.mp4"),
            str(folder / "astronaut.mp4"),
            "--owner",
            "Studio",
            "--title",
            "Both",
            "--group",
            "--json",
        ],
    )
    assert grouped.exit_code == 0, grouped.output
    (work,) = json.loads(grouped.stdout)["works"]
    assert work["duplicate"] and len(work["duplicates"]) == 2  # already registered one by one: nothing re-added
