"""The game screens: title (and world picker), story, map, history, saves, settings."""
