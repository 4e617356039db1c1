"""Where this session's saved things live: its history, its presets and its images.

Every page reaches the stores through these functions, never by constructing them, so
the question "whose data is this?" is answered in one place.
"""
from __future__ import annotations

import streamlit as st

from lib.images.store import ImageStore
from lib.saved.history import History
from lib.saved.presets import PresetStore


def history_store() -> History:
    """The history this session reads and writes."""
    return History()


def preset_store() -> PresetStore:
    """The presets this session lists and saves."""
    return PresetStore()


@st.cache_resource
def image_store() -> ImageStore:
    """The stored images this session writes and reads back."""
    return ImageStore()
