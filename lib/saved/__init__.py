"""What outlives a session, all written through ``datadir`` as private files: the run
history, presets, share links, and the settings a recorded run restores to a page.
"""
from lib.saved.history import History, Run
from lib.saved.presets import Preset, PresetError, PresetStore

__all__ = ["History", "Preset", "PresetError", "PresetStore", "Run"]
