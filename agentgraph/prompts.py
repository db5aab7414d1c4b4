"""Loads the prompt files and data tables under the top-level `prompts/` directory.

Agent prompts are Markdown files (`prompts/<agent>.md`); keyword and intent tables
are JSON. Files are read once per process and cached; a missing file is a packaging
error and raises FileNotFoundError naming the path.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

PROMPTS_DIR = Path(
    os.environ.get("AGENTGRAPH_PROMPTS_DIR", Path(__file__).resolve().parent.parent / "prompts")
)


@lru_cache(maxsize=64)
def load_text(name: str) -> str:
    """The text of `prompts/<name>` (e.g. `triage.md`)."""
    return (PROMPTS_DIR / name).read_text(encoding="utf-8")


@lru_cache(maxsize=64)
def load_table(name: str) -> Any:
    """The parsed JSON table `prompts/<name>` (e.g. `confirmation.json`)."""
    return json.loads(load_text(name))
