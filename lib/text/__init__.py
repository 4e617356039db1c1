"""Completions: a stream run in a background thread (``stream_run``), its history record
(``record``), the choice board and token table that show it, replay of a recorded run
(``replay``) and the text parameter sweep (``sweep``).
"""
from lib.text.replay import ReplayError, replay_plan
from lib.text.stream_run import ChoiceView, RunView, StreamRun

__all__ = ["ChoiceView", "ReplayError", "RunView", "StreamRun", "replay_plan"]
