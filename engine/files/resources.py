"""Where the files Digitlab ships live: the pre-trained model, the icon.

They sit in ``resources/`` at the top of the repository, which the wheel installs as the
package ``digitlab_resources``; from a checkout that was not installed, the folder itself.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["resource", "SHIPPED_MODEL"]


def resource(name: str) -> Path:
    """The path of a shipped resource file (it may not exist: callers check)."""
    top = next(p for p in Path(__file__).resolve().parents if p.name == "engine")   # the package
    here = top.parent / "resources"
    if not (here / "__init__.py").is_file():      # installed from the wheel: the package
        from importlib.resources import files
        here = Path(str(files("digitlab_resources")))
    return here / name


#: The model the app and ``digitlab evaluate`` use when given none.
SHIPPED_MODEL = resource("model.npz")
