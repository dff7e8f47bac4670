"""Worlds, the modding surface: loading a world folder, its file schema, pictures, templates,
checks, hot reload, importers (character cards, lorebooks, Twine) and the modder's toolchain.

Worlds are data, never code: everything here reads files as untrusted input.
"""
