"""Widgets and drawing for the pygame front end: theme, fonts, text boxes, buttons, toasts."""
