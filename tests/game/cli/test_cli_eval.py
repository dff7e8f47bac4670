"""`dreamreel eval` on the command line: the printed report, the transcript and JSON files,
prompt folders side by side, and one-line errors for what a person gets wrong."""

from __future__ import annotations

import json

from game.cli.main import main


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(["eval", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_eval_writes_the_table_transcript_and_json(capsys, tmp_path):
    script = tmp_path / "script.txt"
    script.write_text("# a short walk\n1\nI ask about the bell\n7\n", encoding="utf-8")
    transcript, report = tmp_path / "out" / "walk.md", tmp_path / "out" / "walk.json"
    code, out, err = run(capsys, "--narrator", "storylets", "--world", "lantern_coast",
                         "--script", str(script), "--seed", "5", "--json", str(report),
                         "--transcript", str(transcript))
    assert code == 0, err
    assert "The Lantern Coast" in out and "well-formed" in out and "mean words" in out
    assert f"Transcript: {transcript}" in out and f"JSON: {report}" in out
    data = json.loads(report.read_text(encoding="utf-8"))
    assert (data["narrator"], data["world"], data["seed"], data["turns"]) == \
        ("storylets", "lantern_coast", 5, 3)           # turns: the script's length
    scenes = data["runs"][0]["scenes"]
    assert [s["action"] for s in scenes] == ["", "1", "I ask about the bell", "7"]
    assert scenes[2]["kind"] == "text" and scenes[2]["taken"] == "I ask about the bell"
    assert scenes[3]["taken"] == scenes[2]["choices"][-1]
    assert data["runs"][0]["totals"]["scenes"] == 4
    text = transcript.read_text(encoding="utf-8")
    assert data["runs"][0]["transcript"] == text
    assert all(f"## {s['turn']}. {s['title']}" in text for s in scenes)


def test_eval_turns_cycle_the_default_script(capsys, tmp_path):
    report = tmp_path / "r.json"
    code, out, _ = run(capsys, "--narrator", "storylets", "--world", "hollow_orbit",
                       "--turns", "14", "--json", str(report),
                       "--transcript", str(tmp_path / "t.md"))
    assert code == 0
    data = json.loads(report.read_text(encoding="utf-8"))
    run_ = data["runs"][0]
    assert run_["totals"]["scenes"] == 15
    kinds = {s["kind"] for s in run_["scenes"]}
    assert kinds == {"opening", "choice", "text"}


def test_eval_compares_prompt_folders(capsys, tmp_path):
    folders = []
    for name in ("terse", "lavish"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "scene.j2").write_text("{{ action.label }}", encoding="utf-8")
        folders += ["--prompts", str(folder)]
    code, out, _ = run(capsys, "--narrator", "storylets", "--world", "hollow_orbit",
                       "--turns", "2", *folders, "--transcript", str(tmp_path / "t.md"))
    assert code == 0
    header = next(line for line in out.splitlines() if line.startswith("totals"))
    assert header.split() == ["totals", "terse", "lavish"]
    assert "[prompts: terse]" in out and "[prompts: lavish]" in out
    assert (tmp_path / "t.md").read_text(encoding="utf-8").count("# Hollow Orbit") == 2


def test_eval_errors_are_one_line(capsys, tmp_path):
    for args, words in (
            (["--narrator", "nonsense"], "Unknown narrator"),
            (["--narrator", f"transformers:{tmp_path / 'no-model'}"], "no-model"),
            (["--narrator", "storylets", "--script", str(tmp_path / "none.txt")], "none.txt"),
            (["--narrator", "storylets", "--prompts", str(tmp_path / "nope")], "nope"),
            (["--narrator", "storylets", "--world", "atlantis"], "atlantis"),
            (["--narrator", "storylets", "--words", "lots"], "--words")):
        code, out, err = run(capsys, *args, "--transcript", str(tmp_path / "t.md"))
        assert code == 2, args
        assert err.startswith("dreamreel: ") and words in err and err.count("\n") == 1, err
        assert "Traceback" not in err
