"""The embedded composer: a procedural score per mood, synthesized with numpy, as a seamless loop.

A mood's scoring (engine.audio.music.moods) gives key, mode, tempo, instruments and density; the
seed (from the world, the mood and the request) picks the chord progressions, writes a two-bar
melodic motif and its variations, an arpeggio, a bass line and a drum pattern. Notes come from
engine.audio.music.synth and are placed on a circular timeline: a note that rings past the end
of the loop carries on at its start, and the echo and reverb are circular too (the reverb is an
FFT convolution over the whole loop), so the last sample leads into the first like any other
pair: the loop has no seam. The clip is stereo at 44100 Hz, a whole number of bars long, mixed
to the mood's loudness (about -16.5 to -20 dBFS RMS) with its peaks kept under -1 dBFS.

This module composes and renders; it reads no file and knows nothing of caches or worlds' folders.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.audio.clips import Clip, clip_key
from engine.audio.music import MAX_SECONDS, MIN_SECONDS, MusicRequest
from engine.audio.music.moods import SCALES, MoodMusic
from engine.audio.music.synth import drum, note

RATE = 44100
SYNTH_VERSION = "1"     # the composer's `model`: bump it when the sound changes
PEAK = 0.89             # -1 dBFS: the loudest a sample may be
REVERB_SECONDS = 2.6    # the reverb's tail
MELODIC = ("brass", "bell", "pluck")   # voices that carry a melody, in order of preference
SEND = {"pad": 0.45, "strings": 0.3, "pluck": 0.3, "bell": 0.45, "brass": 0.25, "bass": 0.0,
        "kick": 0.05, "snare": 0.15, "hat": 0.1, "tom": 0.2}   # each voice's share to reverb
GAIN = {"pad": 0.22, "strings": 0.2, "pluck": 0.45, "bell": 0.3, "brass": 0.28, "bass": 0.5,
        "kick": 0.7, "snare": 0.35, "hat": 0.22, "tom": 0.45}  # each voice's level in the mix


@dataclass(frozen=True)
class Event:
    """One note of the score: which voice, when, how long and how loud, and where (pan -1..1)."""

    voice: str
    pitch: int         # MIDI note (ignored by drums)
    start: int         # sample in the loop
    held: int          # samples before its release
    velocity: float
    pan: float = 0.0


def _smooth(target: float, multiple: int) -> int:
    """The number nearest `target` that is a multiple of `multiple` and whose other factors are
    all 2, 3, 5 or 7 (so FFTs over the loop stay fast)."""
    def smooth(n: int) -> bool:
        for p in (2, 3, 5, 7):
            while n % p == 0:
                n //= p
        return n == 1
    base = max(1, round(target / multiple))
    for offset in range(0, base):
        for n in (base + offset, base - offset):
            if n > 0 and smooth(n):
                return n * multiple
    return base * multiple


class Score:
    """A mood's loop written out as events, with its timing (beat, bar, chord and loop length)."""

    def __init__(self, music: MoodMusic, seed: int, seconds: float, rate: int = RATE):
        self.music, self.rate = music, rate
        self.rng = np.random.default_rng(seed)
        self.scale = SCALES[music.mode]
        self.beat = _smooth(60.0 / music.tempo * rate, 12)     # divisible by 4 and by 3
        self.bar = self.beat * music.beats_per_bar
        self.chord_len = self.bar * music.bars_per_chord
        seconds = min(MAX_SECONDS, max(MIN_SECONDS, float(seconds)))
        chords = max(2, math.ceil(seconds * rate / self.chord_len))
        unit = 4 if seconds >= 20 else 2
        self.chords = self._progression(-(-chords // unit) * unit)
        self.length = len(self.chords) * self.chord_len
        self.events: list[Event] = []

    def _progression(self, count: int) -> list[int]:
        """`count` chords (scale degrees): the mood's progressions in a seeded order, the first
        one twice so the loop opens and comes back to the same phrase."""
        choices = self.music.progressions
        first = choices[int(self.rng.integers(len(choices)))]
        out = list(first)
        while len(out) < count:
            nxt = first if len(out) % (2 * len(first)) == 0 else \
                choices[int(self.rng.integers(len(choices)))]
            out += list(nxt)
        return out[:count]

    def degree(self, index: int, octave_of: int | None = None) -> int:
        """The MIDI note of scale degree `index` (0 = the tonic; 7 = its octave in a 7-note mode)."""
        size = len(self.scale)
        return self.music.root + 12 * (index // size) + self.scale[index % size]

    def chord(self, degree: int) -> list[int]:
        """The triad built on a scale degree by stacking thirds within the mode."""
        return [self.degree(degree + step) for step in (0, 2, 4)]

    def add(self, voice: str, pitch: int, start: int, held: int, velocity: float,
            pan: float = 0.0) -> None:
        """Put a note in the score (its start wraps round the loop)."""
        jitter = float(self.rng.normal(0.0, 0.04))
        self.events.append(Event(voice, int(pitch), int(start) % self.length, max(1, int(held)),
                                 max(0.05, velocity * (1.0 + jitter)), pan))

    def write(self) -> "Score":
        """Write every part the mood's instruments call for."""
        music = self.music
        voices = music.instruments
        melodic = [v for v in MELODIC if v in voices]
        if "pad" in voices:
            self._sustained("pad", 0)
        if "strings" in voices:
            if music.density >= 0.7 and music.tempo >= 110:
                self._ostinato("strings")
            else:
                self._sustained("strings", -12 if "pad" in voices else 0)
        if "bass" in voices:
            self._bass()
        if melodic:
            self._melody(melodic[0])
            if music.density >= 0.4 or len(melodic) > 1:
                self._arpeggio(melodic[-1])
        if "drums" in voices:
            self._drums()
        return self

    # -- parts -------------------------------------------------------------------------------
    def _sustained(self, voice: str, shift: int) -> None:
        for index, degree in enumerate(self.chords):
            tones = self.chord(degree)
            if self.music.density > 0.5:
                tones.append(tones[0] + 12)
            tones = _voiced(tones, shift)
            shift = 0
            for number, pitch in enumerate(tones):
                pan = (-0.5, 0.5, -0.2, 0.2)[number % 4]
                self.add(voice, pitch + shift, index * self.chord_len, self.chord_len,
                         0.9 / math.sqrt(len(tones)), pan)

    def _ostinato(self, voice: str) -> None:
        step = self.beat // 2
        for index, degree in enumerate(self.chords):
            low = self.degree(degree) - 12
            figure = (low, low, low + 12, low, low + 7, low, low + 12, low + 7)
            for n in range(self.chord_len // step):
                accent = 1.0 if n % 4 == 0 else 0.7
                self.add(voice, figure[n % len(figure)], index * self.chord_len + n * step,
                         int(step * 0.55), accent, (-0.3 if n % 2 else 0.3))

    def _bass(self) -> None:
        music, beat = self.music, self.beat
        shift = -24 if music.root >= 55 else -12
        for index, degree in enumerate(self.chords):
            root, start = self.degree(degree) + shift, index * self.chord_len
            if music.density < 0.4:
                self.add("bass", root, start, self.chord_len - beat // 4, 1.0)
            elif music.density < 0.7:
                for bar in range(music.bars_per_chord):
                    at = start + bar * self.bar
                    self.add("bass", root, at, beat * 2 - beat // 4, 1.0)
                    if music.beats_per_bar >= 3:
                        fifth = root + 7 if self.rng.random() < 0.5 else root + 12
                        self.add("bass", fifth, at + beat * 2, beat - beat // 4, 0.8)
            else:
                for n in range(self.chord_len // (beat // 2)):
                    pitch = root + (12 if n % 4 == 3 and music.tempo < 125 else 0)
                    self.add("bass", pitch, start + n * (beat // 2), int(beat * 0.4),
                             1.0 if n % 2 == 0 else 0.75)

    def _motif(self, steps: int, grid: int) -> list[tuple[int, int, int]]:
        """A rhythm and contour over `steps` grid steps: (step, length in steps, scale offset)."""
        density, notes = self.music.density, []
        per_beat = self.beat // grid
        offset, step = int(self.rng.integers(0, 3)) * 2, 0
        while step < steps:
            on_beat = step % per_beat == 0
            chance = (0.25 + 0.6 * density) if on_beat else (0.05 + 0.45 * density)
            if self.rng.random() < chance:
                length = int(self.rng.choice([1, 2, 2, 3, 4] if density > 0.6 else [2, 3, 4, 6]))
                notes.append((step, length, offset))
                offset += int(self.rng.choice([-2, -1, -1, 1, 1, 2, 0, 3, -3]))
                offset = max(-3, min(9, offset))
                step += length
            else:
                step += 1
        return notes or [(0, 4, 0)]

    def _melody(self, voice: str) -> None:
        grid = self.beat // (4 if self.music.density >= 0.75 else 2)
        span = 2 * self.bar // grid
        motifs = [self._motif(span, grid) for _ in range(2)]
        varied = [(s, l, o + (1 if i == len(motifs[0]) - 1 else 0))
                  for i, (s, l, o) in enumerate(motifs[0])]
        form = (motifs[0], varied, motifs[1], motifs[0])     # A A' B A, two bars each
        base = 7 * (1 + self.music.register) if len(self.scale) == 7 else 6 * (1 + self.music.register)
        for phrase in range(self.length // (2 * self.bar)):
            start = phrase * 2 * self.bar
            for step, length, offset in form[phrase % len(form)]:
                at = start + step * grid
                degree = self.chords[min(len(self.chords) - 1, at // self.chord_len)]
                index = base + degree + offset
                if step % (self.beat // grid) == 0:     # strong beats sit on a chord tone
                    index += (-(index - degree) % 2) if len(self.scale) == 7 else 0
                pan = float(self.rng.uniform(-0.25, 0.25))
                self.add(voice, self.degree(index), at, length * grid, 0.9, pan)

    def _arpeggio(self, voice: str) -> None:
        step = self.beat if self.music.density < 0.6 else self.beat // 2
        up = self.music.register >= 1
        for index, degree in enumerate(self.chords):
            tones = self.chord(degree)
            tones = [t + (12 if up else 0) for t in tones]
            pattern = tones + [tones[0] + 12, tones[2], tones[1]]
            for n in range(self.chord_len // step):
                if self.music.density < 0.35 and n % 2:
                    continue
                pan = -0.6 + 1.2 * ((n % len(pattern)) / max(1, len(pattern) - 1))
                self.add(voice, pattern[n % len(pattern)], index * self.chord_len + n * step,
                         step, 0.45, pan)

    def _drums(self) -> None:
        music, beat = self.music, self.beat
        beats = self.length // beat
        for n in range(beats):
            at, in_bar = n * beat, n % music.beats_per_bar
            if music.density < 0.5:        # a slow, deep drum (dark, mysterious)
                if in_bar == 0 and (n // music.beats_per_bar) % music.bars_per_chord == 0:
                    self.add("tom", 0, at, beat, 1.0)
                if music.density >= 0.4 and in_bar == 1:
                    self.add("tom", 0, at + beat // 2, beat, 0.45, 0.3)
                continue
            if in_bar == 0 or (in_bar == 2 and music.beats_per_bar == 4):
                self.add("kick", 0, at, beat, 1.0)
            if music.density >= 0.85 and in_bar == 1:
                self.add("kick", 0, at + beat // 2, beat, 0.7)
            if music.density >= 0.7 and in_bar in (1, 3):
                self.add("snare", 0, at, beat, 0.9, 0.1)
            if music.density >= 0.6:
                sub = 4 if music.density >= 0.85 else 2
                for k in range(sub):
                    self.add("hat", 0, at + k * beat // sub, beat // sub,
                             0.8 if k == 0 else 0.5, 0.35)
            if "brass" in music.instruments and n % (music.beats_per_bar * 4) == \
                    music.beats_per_bar * 4 - 1:
                for k in range(4):                # a timpani roll into the next phrase
                    self.add("tom", 0, at + k * beat // 4, beat // 4, 0.5 + 0.12 * k)


LOW_THIRDS = 52    # below this note (E3) only a chord's root and fifth sound: low thirds are mud
LOWEST = 38        # and nothing sustained goes below D2


def _voiced(tones: list[int], shift: int) -> list[int]:
    """A chord's tones moved by `shift`, voiced the way an orchestrator would: low in the range
    only open fifths (close thirds down there beat into a rumble), nothing below LOWEST."""
    root = tones[0] + shift
    out = []
    for tone in tones:
        pitch = tone + shift
        open_interval = (pitch - root) % 12 in (0, 7)
        while pitch < LOWEST or (pitch < LOW_THIRDS and not open_interval):
            pitch += 12
        out.append(pitch)
    return sorted(set(out))


def _place(bus: np.ndarray, samples: np.ndarray, start: int) -> None:
    """Add mono `samples` into the circular mono `bus` from `start`, wrapping at its end."""
    length = len(bus)
    first = min(len(samples), length - start)
    bus[start:start + first] += samples[:first]
    rest = samples[first:]
    while len(rest):
        part = rest[:length]
        bus[:len(part)] += part
        rest = rest[length:]


def render(score: Score, on_progress: Callable[[float], None] | None = None) -> np.ndarray:
    """The score as stereo float32 samples (frames, 2): notes, echo, reverb, level."""
    rate, length = score.rate, score.length
    dry = np.zeros((2, length), dtype=np.float32)
    wet = np.zeros((2, length), dtype=np.float32)
    echo = np.zeros((2, length), dtype=np.float32)
    notes: dict[tuple[str, int, int], np.ndarray] = {}
    for number, event in enumerate(score.events):
        key = (event.voice, event.pitch, event.held)
        sound = notes.get(key)
        if sound is None:
            sound = drum(event.voice, rate) if event.voice in ("kick", "snare", "hat", "tom") \
                else note(event.voice, event.pitch, event.held, rate)
            notes[key] = sound
        gain = GAIN[event.voice] * event.velocity
        angle = (event.pan + 1.0) * math.pi / 4.0          # constant-power pan
        send = SEND[event.voice]
        for channel, share in enumerate((math.cos(angle), math.sin(angle))):
            _place(dry[channel], sound * np.float32(gain * share), event.start)
            if send:
                _place(wet[channel], sound * np.float32(gain * share * send), event.start)
            if event.voice in ("bell", "pluck"):
                _place(echo[channel], sound * np.float32(gain * share * 0.3), event.start)
        if on_progress is not None and number % 64 == 0:
            on_progress(0.7 * number / max(1, len(score.events)))
    delay = (score.beat * 3) // 4                           # a dotted-eighth ping-pong echo
    for tap in range(1, 4):
        side = tap % 2
        dry[side] += np.roll(echo[1 - side], tap * delay) * np.float32(0.55 ** tap)
        wet[side] += np.roll(echo[1 - side], tap * delay) * np.float32(0.3 * 0.55 ** tap)
    mix = dry + _reverb(wet, rate, score.rng)
    if on_progress is not None:
        on_progress(0.9)
    return master(mix, score.music.level_db).T.copy()


def _reverb(wet: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
    """A circular convolution with a decaying noise tail (its own per channel, for width),
    darkened above about 5 kHz: the tail of the loop's end sounds at its start."""
    length = wet.shape[1]
    tail = min(length, int(REVERB_SECONDS * rate))
    t = np.arange(tail, dtype=np.float32) / np.float32(rate)
    decay = np.exp(t * np.float32(-6.9 / REVERB_SECONDS))
    freqs = np.fft.rfftfreq(length, 1.0 / rate)
    darken = 1.0 / np.sqrt(1.0 + (freqs / 5000.0) ** 2)
    out = np.empty_like(wet)
    for channel in range(2):
        response = np.zeros(length, dtype=np.float32)
        response[:tail] = rng.standard_normal(tail).astype(np.float32) * decay
        response[: int(0.012 * rate)] = 0.0                  # a short pre-delay
        response /= np.float32(math.sqrt(float((response ** 2).sum())) + 1e-9)
        spectrum = np.fft.rfft(wet[channel]) * np.fft.rfft(response) * darken
        out[channel] = np.fft.irfft(spectrum, n=length).astype(np.float32)
    return out * np.float32(0.9)


def master(mix: np.ndarray, level_db: float) -> np.ndarray:
    """Channels-first audio (channels, frames) mastered in place: no DC, loudness at level_db
    (RMS dBFS), and a soft knee above -3 dBFS that keeps every peak under PEAK (-1 dBFS)."""
    mix -= mix.mean(axis=1, keepdims=True)
    rms = float(np.sqrt(np.mean(mix.astype(np.float64) ** 2)))
    mix *= np.float32(10.0 ** (level_db / 20.0) / max(rms, 1e-9))
    knee = np.float32(0.7)
    over = np.abs(mix) > knee
    if over.any():
        span = np.float32(PEAK - 0.7)
        loud = mix[over]
        mix[over] = np.sign(loud) * (knee + span * np.tanh((np.abs(loud) - knee) / span))
    return mix


def music_seed(world_id: str, mood: str, seed: int = 0) -> int:
    """The score's seed: the request's seed mixed with the world and the mood, so one world's
    moods differ from each other and from another world's."""
    return zlib.crc32(f"{world_id}\0{mood}\0{int(seed)}".encode("utf-8"))


class ProceduralComposer:
    """The embedded composer: a procedural score per mood, synthesized with numpy."""

    id = "procedural"
    model = SYNTH_VERSION
    rate = RATE

    def cache_key(self, request: MusicRequest) -> str:
        """The key of the clip compose(request) makes (the place and style do not change it)."""
        music = request.scoring()
        return clip_key("music", self.id, self.model, json.dumps(music.as_record(), sort_keys=True),
                        music_seed(request.world_id, request.mood, request.seed),
                        seconds=round(float(request.seconds), 3), rate=self.rate)

    def bar_seconds(self, request: MusicRequest) -> float:
        """How long one bar of the request's loop lasts, exactly as rendered (the beat is
        rounded to a whole, FFT-friendly number of samples): where a crossfade may fall."""
        music = request.scoring()
        return _smooth(60.0 / music.tempo * self.rate, 12) * music.beats_per_bar / self.rate

    def score(self, request: MusicRequest) -> Score:
        """The request's score, written but not rendered (what tests and tools inspect)."""
        return Score(request.scoring(), music_seed(request.world_id, request.mood, request.seed),
                     request.seconds, self.rate).write()

    def compose(self, request: MusicRequest,
                on_progress: Callable[[float], None] | None = None) -> Clip:
        """A seamless stereo loop for the request's mood, a whole number of bars long."""
        score = self.score(request)
        samples = render(score, on_progress)
        if on_progress is not None:
            on_progress(1.0)
        return Clip(samples, self.rate)


__all__ = ["Event", "ProceduralComposer", "RATE", "Score", "master", "music_seed", "render"]
