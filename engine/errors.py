"""Exception families, one per concern, with messages a player or modder can act on.

Every error the game shows to a person derives from DreamreelError. Messages name the file or
setting at fault and say what to do. This module must not import anything heavy.
"""

from __future__ import annotations


class DreamreelError(Exception):
    """Base of every error Dreamreel reports to a person instead of a traceback."""


class ConfigError(DreamreelError):
    """A config file, key or command-line value is wrong."""


class WorldError(DreamreelError):
    """A world folder or one of its files cannot be used."""


class TemplateError(WorldError):
    """A Jinja2 template or condition failed to parse, render or stay within its limits."""


class SaveError(DreamreelError):
    """A save slot cannot be read or written."""


class NarratorError(DreamreelError):
    """The narrator could not produce a usable scene."""


class PainterError(DreamreelError):
    """The painter could not produce an image."""


class AudioError(DreamreelError):
    """Music or voice could not be made or played (a missing backend, a bad clip, a full disk)."""


class JobCancelled(Exception):
    """Raised inside a job (from on_token / on_progress) when its job was cancelled.

    Not a DreamreelError: cancellation is normal control flow, never shown as an error.
    """
