"""The film: an MP4 (H.264 and AAC) and an .srt, made from a saved story and read back by FFmpeg."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("imageio_ffmpeg", reason="the film needs FFmpeg from imageio-ffmpeg")
import imageio_ffmpeg  # noqa: E402

from engine.errors import DreamreelError, JobCancelled  # noqa: E402
from engine.export.film import export_film, subtitles_path  # noqa: E402
from engine.export.film_encoder import ffmpeg_exe, read_back  # noqa: E402
from engine.export.film_frames import (Camera, Move, choose_move, picture_size,  # noqa: E402
                                       view_box)
from engine.export.film_plan import (CROSSFADE, LEAD_IN, LINE_CHARS, MAX_SHOT,  # noqa: E402
                                     MIN_SHOT, READING_CPS, plan_shots, split_cues)
from engine.export.story import open_story, read_story, scene_picture  # noqa: E402
from engine.session.core import Session  # noqa: E402
from engine.session.jobs import InlineRunner  # noqa: E402

SIZE, FPS = (320, 180), 10      # small and slow: the whole film encodes in a few seconds
# A decoded frame matches its scene's picture, as the camera framed it at that frame, when
# their mean absolute difference (0..255, above the subtitle band) is under MATCH. Measured on
# this film: the encoder's own error (H.264 at the film's quality, 4:2:0 chroma, the YUV round
# trip) is 1.4 to 1.7; the same picture framed 1 pixel off is 2.3 to 2.5, 6 pixels off 5 to 7,
# unframed (the whole picture scaled to the frame) 6 to 14; another scene's picture, even of the
# same harbour, 34 or more. 4 is over twice the encoder's error, and fails a picture that is
# wrong or misplaced by a few pixels (both checked below).
MATCH = 4.0
TOP = 0.62          # the share of the frame above the subtitle band, compared with the picture


def normalised(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A story of The Lantern Coast told by the storylets: four scenes, saved."""
    from engine.config import load_config
    folder = tmp_path_factory.mktemp("film")
    config = load_config(use_user_file=False).with_changes(
        game={"saves_dir": str(folder / "saves"), "seed": 7, "painter": "procedural",
              "world": "lantern_coast"},
        images={"width": 192, "height": 108})
    session = Session.new(config, runner=InlineRunner(), slot="tale")
    session.wait()
    for _ in range(3):
        session.choose(0)
        session.wait()
    session.flush_saves()
    session.close()
    return config, folder


@pytest.fixture(scope="module")
def film(saved):
    """The saved story filmed once (small and at 10 fps), with every progress report."""
    config, folder = saved
    reports = []
    session = open_story(config, "tale")
    try:
        result = export_film(session, folder / "out" / "tale.mp4", size=SIZE, fps=FPS,
                             on_progress=lambda fraction, what: reports.append((fraction, what)))
        story = read_story(session)
    finally:
        session.close()
    return result, story, reports


def decoded(path, wanted: set[int]) -> dict[int, np.ndarray]:
    """The film's frames numbered in `wanted`, decoded by FFmpeg to RGB arrays."""
    frames, reader = {}, imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    for number, data in enumerate(reader):
        if number in wanted:
            frames[number] = np.frombuffer(data, np.uint8).reshape(height, width, 3)
    reader.close()
    return frames


def difference(a, b, rows: slice = slice(None)) -> float:
    """Mean absolute difference of two RGB pictures (0..255) over `rows`."""
    return float(np.abs(np.asarray(a, np.int16)[rows] - np.asarray(b, np.int16)[rows]).mean())


@dataclass
class Framed:
    """What the exporter showed of a shot at a step: its picture, as the camera framed it."""

    camera: Camera

    def at(self, step: int) -> np.ndarray:
        return np.asarray(self.camera.view(step))


def cameras(config, plan) -> list[Framed]:
    session = open_story(config, "tale")
    try:
        shots = []
        for shot in plan.shots:
            picture = scene_picture(session, shot.scene_id, picture_size(SIZE))
            shots.append(Framed(Camera(picture, choose_move(shot.mood, picture), shot.frames,
                                       SIZE)))
        return shots
    finally:
        session.close()


def test_the_film_has_one_video_and_one_audio_stream_and_lasts_as_planned(film):
    result, story, reports = film
    info = read_back(result.path)
    assert len(info.video) == 1 and len(info.audio) == 1
    assert "h264" in info.video[0] and "yuv420p" in info.video[0] and "320x180" in info.video[0]
    assert "aac" in info.audio[0]
    plan = result.plan
    assert abs(info.duration - plan.duration) <= 0.05 * plan.duration
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(result.path))
    assert frames == plan.frames == result.frames          # not one frame lost or added
    assert abs(seconds - plan.duration) < 1.0 / FPS
    assert [shot.scene_id for shot in plan.shots] == [scene.id for scene in story.scenes]
    assert result.subtitles == subtitles_path(result.path) and result.subtitles.exists()
    fractions = [fraction for fraction, _ in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(reports) > 20
    assert any(what.startswith("Filming scene") for _, what in reports)
    assert sorted(p.name for p in result.path.parent.iterdir()) == ["tale.mp4", "tale.srt"]
    if sys.platform.startswith("linux"):             # FFmpeg's peak memory, read from /proc
        assert 1 < result.encoder_peak_mb < 2000


def test_a_frame_from_the_middle_of_each_shot_shows_that_scenes_picture(saved, film):
    config, _ = saved
    result, story, _ = film
    plan = result.plan
    framed = cameras(config, plan)
    frames = decoded(result.path, {shot.middle_frame for shot in plan.shots})
    top = slice(0, round(SIZE[1] * TOP))
    for index, shot in enumerate(plan.shots):
        frame, step = frames[shot.middle_frame], shot.middle_frame - shot.first_frame
        expected = framed[index].at(step)
        assert difference(frame, expected, top) < MATCH, f"shot {index}"
        for other, camera in enumerate(framed):        # the check can fail: other pictures
            if other != index:
                assert difference(frame, camera.at(step), top) > MATCH, (index, other)
        # the same picture, framed a few pixels off, fails too
        camera = framed[index].camera
        left, upper, right, lower = camera.box(step)
        off = 6 if right + 6 <= camera.picture.width else -6
        shifted = camera.picture.resize(SIZE, box=(left + off, upper, right + off, lower))
        assert difference(frame, shifted, top) > MATCH
        # a cue is showing: the subtitle band differs from the bare picture
        bottom = slice(round(SIZE[1] * TOP), None)
        assert difference(frame, expected, bottom) > MATCH


def test_the_srt_holds_each_scenes_narration_cue_by_cue(film):
    result, story, _ = film
    text = result.subtitles.read_text("utf-8")
    blocks = [block for block in text.strip().split("\n\n")]
    stamp = r"(\d\d):(\d\d):(\d\d),(\d\d\d)"
    cues = []
    for number, block in enumerate(blocks, start=1):
        lines = block.split("\n")
        assert lines[0] == str(number)
        found = re.fullmatch(f"{stamp} --> {stamp}", lines[1])
        assert found, lines[1]
        h1, m1, s1, ms1, h2, m2, s2, ms2 = map(int, found.groups())
        start = h1 * 3600 + m1 * 60 + s1 + ms1 / 1000
        end = h2 * 3600 + m2 * 60 + s2 + ms2 / 1000
        assert 1 <= len(lines) - 2 <= 2 and all(len(line) <= LINE_CHARS for line in lines[2:])
        cues.append((start, end, " ".join(lines[2:])))
    assert all(a[1] <= b[0] and a[0] < a[1] for a, b in zip(cues, cues[1:]))
    plan = result.plan
    assert len(cues) == len(plan.cues)
    taken = 0
    for shot, scene in zip(plan.shots, story.scenes):
        mine = cues[taken:taken + len(shot.cues)]
        taken += len(shot.cues)
        assert normalised(" ".join(text for _, _, text in mine)) == normalised(scene.narration)
        assert shot.start + LEAD_IN - 0.001 <= mine[0][0]
        assert mine[-1][1] <= shot.start + shot.duration - CROSSFADE + 0.001


def test_a_title_card_opens_the_film_and_an_ending_card_closes_it(saved, film):
    config, _ = saved
    result, story, _ = film
    plan = result.plan
    framed = cameras(config, plan)
    last_shot = plan.shots[-1]
    title_frame = plan.title_frames // 2
    ending_frame = last_shot.end_frame + plan.ending_frames // 4
    frames = decoded(result.path, {0, title_frame, ending_frame, plan.frames - 1})
    first_view, last_view = framed[0].at(0), framed[-1].at(last_shot.frames - 1)
    assert difference(frames[title_frame], first_view) > 25      # darkened, blurred, lettered
    assert difference(frames[ending_frame], last_view) > 25
    assert frames[0].mean() < 40 and frames[plan.frames - 1].mean() < 8   # from and to black
    assert plan.title == "The Lantern Coast" and plan.starring.startswith("starring ")
    assert plan.ending == "To be continued"            # the path has not reached an ending
    # the title's lettering: bright type in the middle of a dark card
    middle = frames[title_frame][SIZE[1] // 3: 2 * SIZE[1] // 3]
    assert middle.max() > 200 and frames[title_frame].mean() < first_view.mean()


def audio_of(path, rate: int) -> np.ndarray:
    """A film's sound as mono float samples at `rate`, decoded by FFmpeg."""
    raw = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(path),
                          "-vn", "-ac", "1", "-ar", str(rate), "-f", "s16le", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, "<i2").astype(np.float64) / 32768.0


def correlation(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def test_with_no_music_and_no_voice_the_sound_is_a_quiet_bed_that_never_drops_out(saved,
                                                                                   tmp_path):
    config, _ = saved
    session = open_story(config, "tale")
    try:
        result = export_film(session, tmp_path / "quiet.mp4", size=SIZE, fps=FPS, music=False,
                             voice=False)
    finally:
        session.close()
    assert result.sound == "bed"
    samples = audio_of(result.path, 8000)
    assert abs(len(samples) / 8000 - result.plan.duration) < 0.2
    seconds = samples[: len(samples) // 8000 * 8000].reshape(-1, 8000)
    loudness = np.sqrt((seconds ** 2).mean(axis=1))
    assert loudness[2:-3].min() > 0.003            # sound all through, cuts included
    assert np.abs(samples).max() < 0.2             # and quiet (the bed peaks at 0.1)


def test_the_games_music_plays_under_the_shots_and_its_voice_reads_each_scene(saved, film):
    """The film's sound is what the game plays: the music of each shot's mood (the same clip
    the game caches) and each line of narration read by its voice where the shot speaks it."""
    from engine.audio.clips import Clip, ClipCache
    from engine.audio.music import DEFAULT_SECONDS, make_composer, music_for
    from engine.audio.voices import lines, make_voice, speak_cached
    from engine.export.film import LINE_GAP
    config, _ = saved
    result, story, _ = film
    assert result.sound == "music and voice" and result.notes == ()
    rate = 44100
    samples = audio_of(result.path, rate)
    cache, voice = ClipCache(config.saves_dir / "cache" / "audio"), make_voice("espeak")
    session = open_story(config, "tale")
    try:
        world = session.world
        shot = result.plan.shots[0]
        scene = story.scenes[0]
        # the music under the title card is the first shot's track, read from its start
        track = music_for(world, shot.mood, scene.location, composer=make_composer(
            "procedural"), cache=cache, seconds=DEFAULT_SECONDS)
        loop = Clip.from_wav(track.path).samples.mean(axis=1)
        span = slice(int(1.5 * rate), int(3.5 * rate))
        assert correlation(samples[span], loop[span]) > 0.8
        for shot, scene in zip(result.plan.shots, story.scenes):
            said = lines(scene.narration)
            clips = [Clip.from_wav(speak_cached(voice, cache, line.text)) for line in said]
            seconds = sum(c.seconds for c in clips) + LINE_GAP * (len(clips) - 1)
            assert shot.duration >= LEAD_IN + seconds + CROSSFADE - 1.0 / FPS   # never cut
            first = clips[0]
            at = round((shot.start + LEAD_IN) * rate)
            heard = samples[at: at + round(first.seconds * rate)]
            spoken = np.interp(np.arange(len(heard)) * (first.rate / rate),
                               np.arange(len(first.samples)), first.samples)
            assert correlation(heard, spoken) > 0.8, scene.id     # its first line, right there
    finally:
        session.close()


def test_cancelling_stops_the_export_and_leaves_no_file(saved, tmp_path):
    config, _ = saved

    def cancel(fraction, what):
        if what.startswith("Filming scene 2"):
            raise JobCancelled()

    session = open_story(config, "tale")
    try:
        with pytest.raises(JobCancelled):
            export_film(session, tmp_path / "cut.mp4", size=SIZE, fps=FPS, on_progress=cancel)
    finally:
        session.close()
    assert list(tmp_path.iterdir()) == []          # no film, no .srt, no working folder


def test_a_missing_picture_is_painted_first_with_progress(saved, tmp_path):
    config, _ = saved
    session = open_story(config, "tale")
    try:
        story = read_story(session)
        first = story.scenes[0]
        session.cache.path_for(first.image_key).unlink(missing_ok=True)
        assert not session.cache.contains(first.image_key)
        reports = []

        def stop_when_filming(fraction, what):
            reports.append(what)
            if what.startswith("Filming"):
                raise JobCancelled()

        with pytest.raises(JobCancelled):
            export_film(session, tmp_path / "p.mp4", size=SIZE, fps=FPS,
                        on_progress=stop_when_filming)
        assert "Painting scene 1 of 1" in reports
        assert session.cache.contains(first.image_key)
    finally:
        session.close()


def test_an_encoder_failure_is_an_error_that_quotes_ffmpeg_and_leaves_no_file(saved, tmp_path,
                                                                              monkeypatch):
    from engine.export import film_encoder
    config, _ = saved
    real = film_encoder.encode_command
    monkeypatch.setattr(film_encoder, "encode_command", lambda *args: [
        *real(*args)[:-1], "-c:v", "no-such-codec", str(args[1])])
    session = open_story(config, "tale")
    try:
        with pytest.raises(DreamreelError, match="FFmpeg .*no-such-codec"):
            export_film(session, tmp_path / "broken.mp4", size=SIZE, fps=FPS)
    finally:
        session.close()
    assert list(tmp_path.iterdir()) == []


def test_bad_sizes_are_refused(saved, tmp_path):
    config, _ = saved
    session = open_story(config, "tale")
    try:
        for size in ((321, 180), (32, 18), (8000, 4000)):
            with pytest.raises(DreamreelError, match="frame"):
                export_film(session, tmp_path / "x.mp4", size=size, fps=FPS)
        with pytest.raises(DreamreelError, match="frames a second"):
            export_film(session, tmp_path / "x.mp4", size=SIZE, fps=0)
    finally:
        session.close()
    assert list(tmp_path.iterdir()) == []


# --- the plan: timing rules, on stories made in code -----------------------------------------

@dataclass(frozen=True)
class FakeScene:
    id: int
    narration: str
    mood: str = "calm"
    ending: bool = False


@dataclass(frozen=True)
class FakeStory:
    scenes: tuple
    world_title: str = "A World"
    player_name: str = "Ada"


SENTENCE = "The lamp swings in the wind above the quay. "


def test_a_shot_lasts_as_long_as_its_narration_takes_to_read():
    short, middling, huge = "Rain.", SENTENCE * 8, SENTENCE * 60
    plan = plan_shots(FakeStory((FakeScene(1, short), FakeScene(2, middling),
                                 FakeScene(3, huge, ending=True))), fps=30)
    first, second, third = plan.shots
    assert first.duration == MIN_SHOT                   # a word still gets a look
    reading = len(normalised(middling)) / READING_CPS
    assert abs(second.duration - (LEAD_IN + reading + CROSSFADE)) < 0.5
    assert third.duration == MAX_SHOT                   # read faster rather than drag on
    assert plan.ending == "The End" and plan.starring == "starring Ada"
    assert plan.frames == plan.title_frames + sum(s.frames for s in plan.shots) + plan.ending_frames
    for shot in plan.shots:
        assert shot.cues[0].first_frame == shot.first_frame + round(LEAD_IN * 30)
        assert shot.cues[-1].end_frame == shot.end_frame - plan.crossfade_frames
        for cue, following in zip(shot.cues, shot.cues[1:]):
            assert cue.end_frame == following.first_frame and cue.end_frame > cue.first_frame
    assert [cue.index for cue in plan.cues] == list(range(1, len(plan.cues) + 1))


def test_a_narration_voice_sets_the_length_of_its_shot():
    scenes = (FakeScene(1, SENTENCE * 4), FakeScene(2, SENTENCE * 4))
    read = plan_shots(FakeStory(scenes), fps=30)
    voiced = plan_shots(FakeStory(scenes), fps=30, spoken={1: 30.0})
    assert abs(voiced.shots[0].duration - (LEAD_IN + 30.0 + CROSSFADE)) < 0.1
    assert voiced.shots[1].duration == read.shots[1].duration


def test_narration_is_cut_into_cues_of_two_short_lines_in_order():
    narration = ('The fog opens like a curtain and Skerrow is there: a crooked harbour of black '
                 'stone, roofs huddled under a headland, and high above them the white finger '
                 'of the lighthouse. Rain.\n\n"Lonely work," he says. ' + "word " * 40)
    cues = split_cues(narration)
    assert normalised(" ".join(cues)) == normalised(narration)
    assert all(len(cue.split("\n")) <= 2 for cue in cues)
    assert all(len(line) <= LINE_CHARS for cue in cues for line in cue.split("\n"))
    assert "lighthouse. Rain." in normalised(" ".join(cues[:4]))   # short sentences share
    assert any(cue.startswith('"Lonely work,"') for cue in cues)    # a paragraph starts a cue
    assert cues[0].endswith("there:")                               # long ones break at clauses


def test_the_camera_moves_by_mood_toward_the_pictures_detail():
    detail_right = Image.new("RGB", (358, 202), (40, 40, 60))
    for x in range(260, 350, 6):
        detail_right.paste((250, 240, 200), (x, 40, x + 3, 160))
    assert choose_move("tense", detail_right).kind == "push"
    pan = choose_move("calm", detail_right)
    assert pan.kind == "pan" and pan.forward and pan.focus[0] > 0.6   # ends on the detail
    assert choose_move("triumphant", detail_right).kind == "pull"
    for move in (Move("push", (0.9, 0.2)), Move("pull", (0.1, 0.9)), Move("pan", (0.5, 0.5)),
                 Move("tilt", (0.5, 0.5), forward=False)):
        for progress in (0.0, 0.3, 0.5, 1.0):
            left, top, right, bottom = view_box(move, progress, (358, 202), SIZE)
            assert 0 <= left < right <= 358 and 0 <= top < bottom <= 202
            assert right - left >= SIZE[0] and bottom - top >= SIZE[1]   # never enlarged
    widest = view_box(Move("push", (0.5, 0.5)), 0.0, (358, 202), SIZE)
    assert widest == (0, 0, 358, round(358 * SIZE[1] / SIZE[0]))   # all of it, at the aspect
    start = view_box(pan, 0.0, (358, 202), SIZE)
    end = view_box(pan, 1.0, (358, 202), SIZE)
    assert start[0] == 0 and end[2] == 358 and end[2] - end[0] == SIZE[0]


GREEN = (0, 230, 40)     # a portrait no scene of the Lantern Coast is painted in


def greenish(frame: np.ndarray) -> np.ndarray:
    """Where a decoded frame shows the portrait's green (H.264 shifts it a little)."""
    r, g, b = (frame[..., i].astype(int) for i in range(3))
    return (g > 150) & (r < 90) & (b < 110)


def test_the_title_card_shows_the_players_portrait_beside_the_name(saved, film, tmp_path):
    config, folder = saved
    portrait = tmp_path / "me.png"
    Image.new("RGB", (60, 80), GREEN).save(portrait)
    session = Session.new(config, runner=InlineRunner(), slot="hero",
                          player={"name": "Mira", "portrait": str(portrait)})
    session.wait()
    session.flush_saves()
    session.close()
    session = open_story(config, "hero")
    try:
        story = read_story(session)
        assert story.player_name == "Mira" and story.portrait is not None
        result = export_film(session, folder / "out" / "hero.mp4", size=SIZE, fps=FPS,
                             music=False, voice=False)
    finally:
        session.close()
    title_frame = result.plan.title_frames // 2
    shown = greenish(decoded(result.path, {title_frame})[title_frame])
    assert result.plan.starring == "starring Mira"
    rows, columns = np.nonzero(shown)
    assert shown.sum() > 0.5 * 0.8 * (0.3 * SIZE[1]) ** 2     # most of the oval, in green
    assert columns.max() < SIZE[0] / 2                         # beside the type, on its left
    assert abs(rows.mean() - SIZE[1] / 2) < SIZE[1] * 0.1      # level with it
    plain = film[0]                                            # a story without a portrait
    frame = plain.plan.title_frames // 2
    assert greenish(decoded(plain.path, {frame})[frame]).sum() == 0
