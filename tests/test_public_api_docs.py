"""Every public method and property of the engine's front doors says what it is for.

Session (a running story) and Library (everything outside one) are what front ends, tools and
modders' scripts call: a public name without a docstring there is a hole in the documentation.
"""

from __future__ import annotations

import inspect

import pytest

from engine.library import Library
from engine.session.core import Session


def public_members(cls):
    for name, member in inspect.getmembers(cls):
        if name.startswith("_"):
            continue
        if isinstance(member, property) or inspect.isfunction(member) or \
                inspect.ismethod(member):
            yield name, member


@pytest.mark.parametrize("cls", [Session, Library], ids=lambda cls: cls.__name__)
def test_every_public_method_has_a_docstring(cls):
    undocumented = [name for name, member in public_members(cls)
                    if not (inspect.getdoc(member) or "").strip()]
    assert not undocumented, f"{cls.__name__} lacks docstrings on: {', '.join(undocumented)}"


def test_the_check_sees_a_missing_docstring():
    class Door:
        def opened(self):
            return True

        @property
        def shut(self):
            return False

        def knock(self):
            """Someone is there."""

    assert [name for name, member in public_members(Door)
            if not (inspect.getdoc(member) or "").strip()] == ["opened", "shut"]
