"""Sound: what a story sounds like, following the narrator and painter pattern.

- clips: the Clip (float samples and a rate) and the content-addressed clip cache on disk;
- music: composers by spec ("procedural", "musicgen:<model>", "none"), a world's own tracks,
  and music_for / track_key (which music a scene plays, and getting it);
- voices: voices by spec ("espeak", "transformers:<model>", "none"), the narration cut into
  lines, and speak_cached / voice_key;
- soundtrack: a film's sound (music, voice and ducking) written to a WAV file;
- bed: the quiet procedural bed under a film with no music.

Nothing is imported until used: `import engine.audio` is free. Nothing here plays sound: the
front end's mixer does (game/sound.py).
"""
