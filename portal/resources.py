"""Where the top-level `templates/`, `static/` and `locales/` folders are.

In a source checkout (and an editable install) they sit beside the package; a built wheel
carries them inside it as `portal/_resources/` (see pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    for candidate in (_PACKAGE / "_resources" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the portal's {name}/ folder is missing next to {_PACKAGE}")


TEMPLATES = resource_dir("templates")
STATIC = resource_dir("static")
LOCALES = resource_dir("locales")
