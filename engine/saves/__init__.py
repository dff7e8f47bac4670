"""Saves: slots of JSON snapshots plus an append-only journal, the autosave thread, slot locks,
the trash, and reading files that may come from other people.
"""
