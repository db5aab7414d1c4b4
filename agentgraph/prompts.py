"""The prompt files and data tables: agent prompts (Markdown) and vocabularies (JSON).

`PromptLibrary(directory)` reads `<directory>/<name>` once and caches it; a missing
file raises FileNotFoundError naming the path. The directory is a setting
(`Settings.prompts_dir`, `AGENTGRAPH_PROMPTS_DIR`), passed down by whoever builds a
graph or a model; `prompt_library(directory)` returns the one library per directory
of the process. `DEFAULT_PROMPTS_DIR` is the `prompts/` folder that ships with
agentgraph: the source tree's, or in an installed wheel the same files as the
package data `agentgraph.bundled_prompts`.
"""

from __future__ import annotations

import importlib.util
import json
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_PROMPTS_DIR", "PromptLibrary", "prompt_library"]


def _shipped_prompts() -> Path:
    """The prompts/ folder of the source tree, or the copy a wheel installs as the
    package `agentgraph.bundled_prompts` (the source tree's wins when both exist)."""
    source = Path(__file__).resolve().parent.parent / "prompts"
    if (source / "triage.md").is_file():
        return source
    bundled = importlib.util.find_spec("agentgraph.bundled_prompts")
    if bundled is not None and bundled.submodule_search_locations:
        return Path(next(iter(bundled.submodule_search_locations)))
    return source


DEFAULT_PROMPTS_DIR = _shipped_prompts()


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
