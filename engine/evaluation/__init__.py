"""Measuring narration: the engine behind `dreamreel eval`.

Plays scripted turns with a narrator through the Session and reports, per scene and in total,
whether scenes are well-formed, their length, repetition, copying and speed:
  metrics  pure text measures (words, repeated 4-grams, longest copied run, shape checks)
  runner   plays the script, once per prompt folder, and measures each scene
  report   totals, the printed tables, the Markdown transcript and the JSON
Importing this package is cheap: no model, no pygame.
"""

from engine.evaluation.metrics import (COPY_LIMIT, REPEAT_LIMIT, WORD_RANGE, longest_shared_run,
                                       repeated_ngram_share, shape_problems, words)
from engine.evaluation.report import as_json, printed, totals, transcripts
from engine.evaluation.runner import (DEFAULT_SCRIPT, DEFAULT_TURNS, EvalError, EvalSettings,
                                      RunResult, SceneRecord, evaluate, parse_word_range,
                                      read_script)

__all__ = ["COPY_LIMIT", "REPEAT_LIMIT", "WORD_RANGE", "longest_shared_run",
           "repeated_ngram_share", "shape_problems", "words", "as_json", "printed", "totals",
           "transcripts", "DEFAULT_SCRIPT", "DEFAULT_TURNS", "EvalError", "EvalSettings",
           "RunResult", "SceneRecord", "evaluate", "parse_word_range", "read_script"]
