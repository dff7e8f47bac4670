"""The figures of `dreamreel eval` put in order: totals, the printed tables, transcript, JSON.

Takes the RunResults of engine.evaluation.runner and only formats them: it plays nothing and
measures nothing new. Figures beyond the limits of engine.evaluation.metrics (repeated 4-grams
over 15%, a copied run of 12+ words) are marked with `!` in the tables.
"""

from __future__ import annotations

import json
import textwrap
from statistics import mean

from engine.evaluation.metrics import COPY_LIMIT, REPEAT_LIMIT, percentile
from engine.evaluation.runner import EvalSettings, RunResult, SceneRecord
from engine.text import shorten

WIDTH = 78


def totals(result: RunResult) -> dict:
    """The run's totals: shares 0-1, seconds, words; None where nothing could be measured.

    They describe the narrator's own scenes: authored scenes (a world's opening told from its
    storylet) are left out, unless every scene is authored (the storylets narrator)."""
    own = [s for s in result.scenes if not s.authored]
    scenes = own or result.scenes
    told = [s for s in scenes if not s.failed]
    prompt_runs = [s for s in told if s.copied_from_prompt is not None]
    rates = [s.tokens_per_s for s in told if s.tokens_per_s is not None]
    first_words = [s.first_word_s for s in told]

    def worst(values: list[SceneRecord], key) -> tuple:
        best = max(values, key=key, default=None)
        return (key(best), best.turn) if best is not None else (None, None)

    repeat, repeat_turn = worst(told, lambda s: s.repeated_4gram_share)
    scene_copy, scene_copy_turn = worst(told, lambda s: s.copied_from_scene)
    prompt_copy, prompt_copy_turn = worst(prompt_runs, lambda s: s.copied_from_prompt)
    return {
        "scenes": len(result.scenes),
        "authored": sum(s.authored for s in result.scenes),
        "measured": len(scenes),
        "retried": sum(s.attempts > 1 for s in told),
        "failed": len(scenes) - len(told),
        "well_formed": sum(s.well_formed for s in scenes),
        "well_formed_share": round(sum(s.well_formed for s in scenes) / len(scenes), 4)
        if scenes else None,
        "mean_words": round(mean(s.words for s in told), 1) if told else None,
        "max_repeated_4gram_share": repeat,
        "max_repeated_4gram_turn": repeat_turn,
        "max_copied_from_scene": scene_copy,
        "max_copied_from_scene_turn": scene_copy_turn,
        "max_copied_from_prompt": prompt_copy,
        "max_copied_from_prompt_turn": prompt_copy_turn,
        "first_word_p50_s": _round(percentile(first_words, 0.5)),
        "first_word_max_s": _round(max(first_words, default=None)),
        "mean_scene_s": _round(mean(s.scene_s for s in told) if told else None),
        "mean_tokens_per_s": round(mean(rates), 2) if rates else None,
        "tokens_per_s_estimated": any(s.tokens_estimated for s in told),
        "load_s": result.load_s,
    }


def _round(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


# -- printed tables ---------------------------------------------------------------------------
def scene_table(result: RunResult) -> str:
    """One line per scene, then the problems and notes under it."""
    head = (f"{'#':>3}  {'action':<18} {'title':<20} {'ok':<3} {'words':>5} {'rep4':>5} "
            f"{'copy<scene':>10} {'copy<prompt':>11} {'first s':>7} {'scene s':>7} "
            f"{'tok/s':>7}")
    lines = [head, "-" * len(head)]
    for s in result.scenes:
        if s.failed:
            prompt_copy = "-"
        elif s.authored:
            prompt_copy = "authored"
        else:
            prompt_copy = _copy(s.copied_from_prompt)
        lines.append(
            f"{s.turn:>3}  {_fit(s.taken, 18):<18} {_fit(s.title or '(failed)', 20):<20} "
            f"{'yes' if s.well_formed else 'NO':<3} {s.words:>5} "
            f"{_share(s.repeated_4gram_share) if not s.failed else '-':>5} "
            f"{_copy(s.copied_from_scene) if not s.failed else '-':>10} {prompt_copy:>11} "
            f"{s.first_word_s:>7.2f} {s.scene_s:>7.2f} {_rate(s):>7}")
    for s in result.scenes:
        if s.problems:
            lines.append(f"  turn {s.turn}: " + "; ".join(s.problems))
    for s in result.scenes:
        for kind, length, text in (("an earlier scene", s.copied_from_scene,
                                    s.copied_from_scene_text),
                                   ("the prompt", s.copied_from_prompt or 0,
                                    s.copied_from_prompt_text)):
            if length >= COPY_LIMIT:
                lines.append(f"  turn {s.turn}: {length} words copied from {kind}: "
                             f"\"{_fit(text, 100)}\"")
    for s in result.scenes:
        if s.attempts > 1:
            lines.append(f"  turn {s.turn}: told on the narrator's attempt {s.attempts}")
    lines += [f"  note: {note}" for note in result.notes]
    return "\n".join(lines)


TOTAL_ROWS = (
    ("scenes (authored)", lambda t: f"{t['scenes']} ({t['authored']})"),
    ("scenes measured", lambda t: str(t["measured"])),
    ("failed / retried", lambda t: f"{t['failed']} / {t['retried']}"),
    ("well-formed", lambda t: "-" if t["well_formed_share"] is None else
     f"{t['well_formed_share']:.0%} ({t['well_formed']}/{t['measured']})"),
    ("mean words", lambda t: _num(t["mean_words"], "{:.0f}")),
    ("max repeated 4-grams", lambda t: "-" if t["max_repeated_4gram_share"] is None else
     f"{_share(t['max_repeated_4gram_share'])} (turn {t['max_repeated_4gram_turn']})"),
    ("max copied run: scenes", lambda t: "-" if t["max_copied_from_scene"] is None else
     f"{_copy(t['max_copied_from_scene'])} (turn {t['max_copied_from_scene_turn']})"),
    ("max copied run: prompt", lambda t: "n/a" if t["max_copied_from_prompt"] is None else
     f"{_copy(t['max_copied_from_prompt'])} (turn {t['max_copied_from_prompt_turn']})"),
    ("first word p50 / max s", lambda t: "-" if t["first_word_p50_s"] is None else
     f"{t['first_word_p50_s']:.2f} / {t['first_word_max_s']:.2f}"),
    ("mean s / scene", lambda t: _num(t["mean_scene_s"], "{:.2f}")),
    ("mean tok/s", lambda t: "n/a" if t["mean_tokens_per_s"] is None else
     ("~" if t["tokens_per_s_estimated"] else "") + f"{t['mean_tokens_per_s']:.1f}"),
    ("model load s", lambda t: f"{t['load_s']:.1f}"),
)


def totals_table(results: list[RunResult]) -> str:
    """The totals, one column per run (per prompt folder when comparing)."""
    columns = [[result.label] + [show(totals(result)) for _, show in TOTAL_ROWS]
               for result in results]
    widths = [max(12, *(len(cell) for cell in column)) for column in columns]
    names = ["totals"] + [name for name, _ in TOTAL_ROWS]
    lines = []
    for row, name in enumerate(names):
        cells = "  ".join(f"{column[row]:>{width}}" for column, width in zip(columns, widths))
        lines.append(f"{name:<24}{cells}")
        if row == 0:
            lines.append("-" * len(lines[0]))
    return "\n".join(lines)


def printed(settings: EvalSettings, results: list[RunResult]) -> str:
    """Everything `dreamreel eval` prints: a header, a scene table per run, the totals."""
    first = results[0]
    out = [f"dreamreel eval: {first.world_title} ({first.world_id}), narrator {first.narrator}, "
           f"seed {settings.seed}, {settings.turns} turns, narration "
           f"{settings.word_range[0]}-{settings.word_range[1]} words"]
    if first.narrator.startswith("storylets:") and len(results) > 1:
        out.append("(the storylets narrator uses no prompts: the columns can only match)")
    for result in results:
        if len(results) > 1:
            out.append(f"\n[prompts: {result.label}]")
        out += ["", scene_table(result)]
    out += ["", totals_table(results)]
    return "\n".join(out)


def _fit(text: str, width: int) -> str:
    return shorten(" ".join(text.split()), width, at_word=False)


def _share(value: float) -> str:
    return f"{value:.0%}" + ("!" if value > REPEAT_LIMIT else "")


def _copy(value: int | None) -> str:
    return "-" if value is None else f"{value}" + ("!" if value >= COPY_LIMIT else "")


def _num(value, form: str) -> str:
    return "-" if value is None else form.format(value)


def _rate(s: SceneRecord) -> str:
    if s.tokens_per_s is None:
        return "-"
    return ("~" if s.tokens_estimated else "") + f"{s.tokens_per_s:.1f}"


# -- transcript and JSON ----------------------------------------------------------------------
def transcript(settings: EvalSettings, result: RunResult) -> str:
    """A readable Markdown transcript of one run: each scene with the action that led to it,
    its narration, choices, figures and problems."""
    lines = [f"# {result.world_title}: eval transcript", "",
             f"narrator `{result.narrator}` · spec `{settings.narrator}` · seed {settings.seed}"
             f" · {settings.turns} turns · prompts: {result.label}", ""]
    for s in result.scenes:
        lines.append(f"## {s.turn}. {s.title or '(failed)'}")
        if s.kind != "opening":
            how = "choice" if s.kind == "choice" else "typed"
            lines.append(f"> **{how} `{s.action}`**: {s.taken}")
        lines.append("")
        figures = [f"{s.words} words", f"first word {s.first_word_s:.2f} s",
                   f"scene {s.scene_s:.2f} s", f"tok/s {_rate(s)}",
                   f"repeated 4-grams {_share(s.repeated_4gram_share)}",
                   f"copied: scenes {_copy(s.copied_from_scene)}",
                   "prompt " + ("authored" if s.authored else _copy(s.copied_from_prompt))]
        if s.authored:
            figures.insert(0, f"authored (storylet `{s.source}`)")
        if s.attempts > 1:
            figures.append(f"told on attempt {s.attempts}")
        lines.append("*" + " · ".join(figures) + "*")
        lines.append("")
        lines.append("well-formed" if s.well_formed else "**not well-formed:** " +
                     "; ".join(s.problems))
        lines.append("")
        for paragraph in s.narration.split("\n\n"):
            if paragraph.strip():
                lines += [textwrap.fill(" ".join(paragraph.split()), WIDTH), ""]
        for number, label in enumerate(s.choices, start=1):
            lines.append(f"{number}. {label}")
        if s.ending:
            lines.append("*** THE END ***")
        lines.append("")
    if result.notes:
        lines += ["## Notes", ""] + [f"- {note}" for note in result.notes] + [""]
    return "\n".join(lines)


def transcripts(settings: EvalSettings, results: list[RunResult]) -> str:
    """All runs' transcripts in one file."""
    return "\n".join(transcript(settings, result) for result in results)


def as_json(settings: EvalSettings, results: list[RunResult]) -> str:
    """Every per-scene and total figure, the settings and the transcripts, as JSON text."""
    data = {
        "narrator": settings.narrator,
        "world": results[0].world_id if results else settings.world,
        "seed": settings.seed,
        "turns": settings.turns,
        "script": list(settings.script),
        "word_range": list(settings.word_range),
        "limits": {"repeated_4gram_share": REPEAT_LIMIT, "copied_run": COPY_LIMIT},
        "runs": [{"label": r.label, "prompts": r.prompts, "narrator_model": r.narrator,
                  "world_title": r.world_title, "notes": r.notes, "totals": totals(r),
                  "scenes": [s.to_dict() for s in r.scenes],
                  "transcript": transcript(settings, r)} for r in results],
    }
    return json.dumps(data, indent=2, ensure_ascii=False)


__all__ = ["totals", "scene_table", "totals_table", "printed", "transcript", "transcripts",
           "as_json"]
