"""What the generators share: the registry module of the package, loaded without importing the
package (whose ``__init__`` imports the very modules ``gen_code.py`` writes)."""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def registry_module() -> Any:
    """``productive_async/_registry.py`` (its spec classes, loader and naming rules)."""
    name = "_productive_registry"
    if name not in sys.modules:
        package = types.ModuleType(name)
        package.__path__ = [str(REPO_ROOT / "productive_async")]
        sys.modules[name] = package
    return importlib.import_module(f"{name}._registry")
