"""FFmpeg as the film's encoder (the static binary of the imageio-ffmpeg wheel), and reading a
film back.

Frames go to FFmpeg through a pipe, as they are drawn: the film is never held in memory, and
FFmpeg encodes while the next frames are drawn (on another core). They go already in the
encoder's own form (YUV 4:2:0, BT.709, video range): a frame is converted once when drawn
(`pack`), not once per frame sent, which matters because most frames of a slow camera move
repeat the one before. The sound comes from a finished WAV file. The output is an MP4: H.264 (libx264, yuv420p, BT.709, 'faststart' so
that it plays while it downloads) and AAC. The process is driven directly rather than through
imageio_ffmpeg.write_frames, so that a failed encode is an error (its exit status and log are
read) and a cancelled one is killed at once instead of being finished first.

This module runs FFmpeg; it knows nothing of stories or of what the frames show.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from engine.errors import DreamreelError

VIDEO_CODEC = "libx264"
PRESET = "veryfast"     # x264's speed for size: 'ultrafast' is ~1.4x faster, ~4x larger
# ... with the quickest motion search (a slow pan moves a pixel at a time): ~20% less time
X264_PARAMS = "me=dia:subme=1"
CRF = 20                # x264 quality: visually clean on painted pictures at this rate
AUDIO_CODEC = "aac"
AUDIO_BITRATE = "128k"    # stereo: music and a voice
PIPE_BYTES = 1 << 20    # the pipe's buffer (Linux): fewer switches between us and FFmpeg
LOG_TAIL = 600          # characters of FFmpeg's log quoted in an error
# RGB (0..255) -> Y'CbCr, BT.709, video range (Y 16..235, Cb and Cr 16..240), as PIL's
# convert matrix (the +0.5 rounds instead of truncating)
BT709 = (0.1826, 0.6142, 0.0620, 16.5,
         -0.1006, -0.3386, 0.4392, 128.5,
         0.4392, -0.3989, -0.0403, 128.5)


def ffmpeg_exe() -> str:
    """The FFmpeg binary of the imageio-ffmpeg wheel (or IMAGEIO_FFMPEG_EXE, if set)."""
    try:
        import imageio_ffmpeg
    except ImportError as err:
        raise DreamreelError("Making a film needs FFmpeg: pip install imageio-ffmpeg") from err
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as err:
        raise DreamreelError(f"FFmpeg was not found: {err}") from err


def pack(image) -> bytes:
    """An RGB frame (PIL, even width and height) in the form the encoder takes: its Y plane,
    then Cb and Cr at half size each way (each the mean of four pixels)."""
    luma, blue, red = image.convert("RGB", BT709).split()
    return luma.tobytes() + blue.reduce(2).tobytes() + red.reduce(2).tobytes()


def encode_command(exe: str, target: Path, size: tuple[int, int], fps: int,
                   audio: Path | None) -> list[str]:
    """FFmpeg's command line: raw YUV 4:2:0 frames on stdin (and a WAV) to an MP4 at `target`."""
    command = [exe, "-hide_banner", "-nostats", "-loglevel", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{size[0]}x{size[1]}",
               "-framerate", str(fps), "-i", "pipe:0"]
    if audio is not None:
        command += ["-i", str(audio), "-map", "0:v:0", "-map", "1:a:0",
                    "-c:a", AUDIO_CODEC, "-b:a", AUDIO_BITRATE]
    command += ["-vf", "setparams=range=tv:color_primaries=bt709:color_trc=bt709:colorspace=bt709",
                "-c:v", VIDEO_CODEC, "-preset", PRESET, "-x264-params", X264_PARAMS,
                "-crf", str(CRF), "-pix_fmt", "yuv420p",
                "-movflags", "+faststart", "-f", "mp4", str(target)]
    return command


class Encoder:
    """A running FFmpeg that writes one MP4: `write` each frame, then `finish`, or `abort`."""

    def __init__(self, target: Path, size: tuple[int, int], fps: int, audio: Path | None,
                 log: Path):
        self.target, self.log = Path(target), Path(log)
        self.frame_bytes = size[0] * size[1] * 3 // 2
        self.peak_mb: float | None = None    # FFmpeg's peak memory, once finished (Linux)
        self._log_file = open(self.log, "wb")
        try:
            self._process = subprocess.Popen(
                encode_command(ffmpeg_exe(), self.target, size, fps, audio),
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log_file)
        except BaseException:
            self._log_file.close()
            raise
        _widen_pipe(self._process.stdin)

    def write(self, frame: bytes) -> None:
        """One frame, as `pack` makes it."""
        if len(frame) != self.frame_bytes:
            raise ValueError(f"a frame is {self.frame_bytes} bytes, not {len(frame)}")
        try:
            self._process.stdin.write(frame)
        except (BrokenPipeError, ValueError, OSError):
            self._process.wait()
            self._close()
            raise DreamreelError(f"FFmpeg stopped while the film was written: {self._tail()}")

    def finish(self) -> None:
        """Close the stream and wait for FFmpeg to complete the file.

        Raises:
            DreamreelError: FFmpeg failed (its log's end is quoted).
        """
        try:
            self._process.stdin.close()
        except OSError:
            pass
        self.peak_mb = _peak_mb(self._process.pid)    # all frames are in: near its whole run
        code = self._process.wait()
        self._close()
        if code != 0:
            raise DreamreelError(f"FFmpeg could not write the film (exit {code}): {self._tail()}")

    def abort(self) -> None:
        """Stop FFmpeg now (a cancelled or failed export); what it wrote is left to remove."""
        if self._process.poll() is None:
            self._process.kill()
        try:
            self._process.stdin.close()
        except OSError:
            pass
        self._process.wait()
        self._close()

    def _close(self) -> None:
        if not self._log_file.closed:
            self._log_file.close()

    def _tail(self) -> str:
        try:
            text = self.log.read_text("utf-8", errors="replace").strip()
        except OSError:
            text = ""
        return text[-LOG_TAIL:] or "no message"


def _peak_mb(pid: int) -> float | None:
    """A running process's peak resident memory in MB, where /proc tells it (Linux), else None."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _widen_pipe(stream) -> None:
    """Give the pipe to FFmpeg a bigger buffer where the system allows (Linux)."""
    try:
        import fcntl
        fcntl.fcntl(stream.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass


@dataclass(frozen=True)
class FilmInfo:
    """What FFmpeg reads from a film file."""

    duration: float                  # seconds (the container's)
    video: tuple[str, ...]           # one description per video stream
    audio: tuple[str, ...]           # ... and per audio stream


_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_STREAM = re.compile(r"Stream #\d+:\d+\S*:\s*(Video|Audio):\s*(.*)")


def read_back(path: Path) -> FilmInfo:
    """Let FFmpeg open a film and list its streams and duration (what ffprobe would say).

    Raises:
        DreamreelError: FFmpeg cannot read it.
    """
    result = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", os.fspath(path)],
                            capture_output=True, text=True, errors="replace", timeout=60)
    found = _DURATION.search(result.stderr)
    if found is None:
        raise DreamreelError(f"FFmpeg cannot read {path}: {result.stderr.strip()[-LOG_TAIL:]}")
    hours, minutes, seconds = found.groups()
    streams = _STREAM.findall(result.stderr)
    return FilmInfo(duration=int(hours) * 3600 + int(minutes) * 60 + float(seconds),
                    video=tuple(text for kind, text in streams if kind == "Video"),
                    audio=tuple(text for kind, text in streams if kind == "Audio"))


__all__ = ["Encoder", "FilmInfo", "encode_command", "ffmpeg_exe", "pack", "read_back"]
