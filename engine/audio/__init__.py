"""Sound: what a story sounds like. For now, the film's quiet bed (engine.audio.bed).

The sound backends (a composer per mood, a narration voice) will live here, following the
narrator and painter pattern. Nothing is imported until used: `import engine.audio` is free.
"""
