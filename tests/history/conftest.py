"""The app's Qt fixtures (window, gate, prompts, ...) for the history tests."""
from tests.app.conftest import (FakePrompts, Gate, draw_on, gate, line, no_thread_left,  # noqa: F401
                                prompts, settings, small_settings, synthetic_data, use_gated, window)
