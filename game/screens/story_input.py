"""Input for the story screen: the mouse, the hotkeys and the action field.

While the choices and the action field are shown, printable keys go to the field (digits still
pick a choice, Space still reads on), so typing "look" never opens Load and "run" never retells
the scene; hotkeys then need Ctrl (or Alt/Cmd), and work with it even while typing. Backspace
only ever edits text: rolling back is the wheel, Ctrl+Z or Page Up. Paste is Ctrl+V or
Shift+Insert. Mixed into StoryScreen, whose actions it calls; no drawing here.
"""

from __future__ import annotations

import pygame

from engine import SCENE_FAILED
from game.ui.widgets import HOTKEY_MODS, is_paste


class StoryInput:
    """Input handling for StoryScreen (which holds the state and the actions)."""

    def handle(self, event: pygame.event.Event) -> None:
        app = self.app
        if app.loading:      # another story is on its way: this one no longer takes input
            return
        if self.action.focused and self.action.handle(event):
            return
        kind = event.type
        for button in self.quick.buttons + self._version_buttons():
            if button.handle(event):
                return
        if self.choices_visible:
            if self.choices.handle(event):
                return
            if self.can_act and self._to_field(event):
                return
        if kind == pygame.MOUSEWHEEL:
            if event.y > 0:
                self.roll_back()
            elif event.y < 0:
                self.roll_forward()
        elif kind == pygame.MOUSEBUTTONDOWN:
            if event.button == 1 and not self.choices_visible:
                self.advance()
            elif event.button == 3:
                self.quick.buttons[-1].press()
        elif kind == pygame.KEYDOWN:
            self._key(event)

    def _to_field(self, event: pygame.event.Event) -> bool:
        """While the action field is offered, what the player types goes there: printable keys
        focus it (their TEXTINPUT follows), paste fills it, Backspace edits it. Digits 1-9 still
        pick a choice (the Menu took them first) and Space still reads on. True when used."""
        action = self.action
        if event.type in (pygame.MOUSEMOTION, pygame.MOUSEBUTTONDOWN):
            return action.handle(event)
        if event.type == pygame.TEXTINPUT:      # e.g. from an input method, with no key first
            text = event.text
            if text.strip() and not (len(text) == 1 and text.isdigit()):
                action.focus(True)
                action.insert(text)
                return True
            return False
        if event.type != pygame.KEYDOWN:
            return False
        if is_paste(event):
            action.focus(True)
            action.paste()
            return True
        if event.mod & HOTKEY_MODS:
            return False                      # Ctrl/Alt/Cmd + key: a hotkey
        char = event.unicode or ""
        if event.key == pygame.K_BACKSPACE:   # never a rollback
            if action.text:
                action.focus(True)
                action.handle(event)
            return True
        if len(char) == 1 and char.isprintable() and not char.isspace() \
                and not "1" <= char <= "9":
            action.focus(True)
            return True
        if char == " " and action.text:
            action.focus(True)
            return True
        return False

    def _key(self, event: pygame.event.Event) -> None:
        """Hotkeys. Letters arrive here with a modifier held, or while no field is offered."""
        from game.screens.history import HistoryScreen
        from game.screens.saves import SavesScreen
        from game.screens.settings import SettingsScreen
        from game.screens.title import TitleScreen
        app, key = self.app, event.key
        if key in (pygame.K_SPACE, pygame.K_RETURN, pygame.K_KP_ENTER):
            self.advance()
        elif (key == pygame.K_z and event.mod & HOTKEY_MODS) or key == pygame.K_PAGEUP:
            self.roll_back()
        elif key == pygame.K_PAGEDOWN:
            self.roll_forward()
        elif pygame.K_1 <= key <= pygame.K_9 and self.choices.buttons:
            self.box.finish()
        elif key == pygame.K_TAB and self.can_act:
            self.action.focus(True)
        elif key == pygame.K_r:
            self.regenerate()
        elif key == pygame.K_n and self.session is not None \
                and self.session.scene().status == SCENE_FAILED:
            self.use_builtin_narrator()
        elif key in (pygame.K_LEFTBRACKET, pygame.K_LEFT):
            self._version(-1)
        elif key in (pygame.K_RIGHTBRACKET, pygame.K_RIGHT):
            self._version(1)
        elif key == pygame.K_m:
            self._open_map()
        elif key == pygame.K_h:
            app.push(HistoryScreen(app))
        elif key == pygame.K_i:
            self.open_status()
        elif key == pygame.K_s:
            app.push(SavesScreen(app, "save"))
        elif key == pygame.K_l:
            app.push(SavesScreen(app, "load"))
        elif key == pygame.K_F5:
            app.quicksave()
        elif key == pygame.K_F9:
            app.quickload()
        elif key == pygame.K_a:
            self.toggle_auto()
        elif key == pygame.K_o:
            app.push(SettingsScreen(app))
        elif key == pygame.K_p:
            self.open_prompt()
        elif key == pygame.K_u:
            app.toggle_mute()
        elif key == pygame.K_e:
            from game.screens.export import ExportScreen
            app.push(ExportScreen(app))
        elif key in (pygame.K_ESCAPE, pygame.K_F1):
            app.push(TitleScreen(app))
