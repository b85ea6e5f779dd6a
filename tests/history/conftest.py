"""The app's Qt fixtures (window, gate, prompts, ...) for the history tests."""
from tests.app.conftest import (Gate, gate, no_thread_left, prompts, settings,  # noqa: F401
                                small_settings, synthetic_data, use_gated, window)
