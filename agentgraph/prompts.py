"""The prompt files and data tables: agent prompts (Markdown) and vocabularies (JSON).

`PromptLibrary(directory)` reads `<directory>/<name>` once and caches it; a missing
file raises FileNotFoundError naming the path. The directory is a setting
(`Settings.prompts_dir`, `AGENTGRAPH_PROMPTS_DIR`), passed down by whoever builds a
graph or a model; `prompt_library(directory)` returns the one library per directory
of the process. `DEFAULT_PROMPTS_DIR` is the `prompts/` folder that ships with
agentgraph.
"""

from __future__ import annotations

import json
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_PROMPTS_DIR", "PromptLibrary", "prompt_library"]

DEFAULT_PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


class PromptLibrary:
    """The prompt files of one directory, each read once."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @cache  # noqa: B019  (one library per directory lives for the process)
    def text(self, name: str) -> str:
        """The text of `<directory>/<name>` (e.g. `triage.md`)."""
        return (self.directory / name).read_text(encoding="utf-8")

    @cache  # noqa: B019
    def table(self, name: str) -> Any:
        """The parsed JSON table `<directory>/<name>` (e.g. `confirmation.json`)."""
        return json.loads(self.text(name))


@lru_cache(maxsize=8)
def prompt_library(directory: Path | None = None) -> PromptLibrary:
    """The process's library for `directory` (default: the shipped `prompts/`)."""
    return PromptLibrary(Path(directory or DEFAULT_PROMPTS_DIR).resolve())
