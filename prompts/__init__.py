"""Prompt files (`*.yaml`, package data), loaded with importlib.resources and rendered strictly.

Each file holds `inputs` (the variables the chain supplies), `system` and `user` templates in
f-string syntax. Loading fails if a template uses a variable that `inputs` does not declare or
leaves a declared one unused, and rendering fails on a missing variable.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import yaml
from langchain_core.prompts import ChatPromptTemplate


class PromptError(ValueError):
    """A prompt file that is missing, malformed, or disagrees with its declared inputs."""


@cache
def load_prompt(name: str) -> ChatPromptTemplate:
    """The chat prompt stored in `prompts/<name>.yaml`."""
    resource = files(__package__).joinpath(f"{name}.yaml")
    if not resource.is_file():
        raise PromptError(f"No prompt file prompts/{name}.yaml")
    try:
        spec = yaml.safe_load(resource.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise PromptError(f"prompts/{name}.yaml is not valid YAML: {exc}") from exc
    missing = {"inputs", "system", "user"} - set(spec)
    if missing:
        raise PromptError(f"prompts/{name}.yaml lacks {', '.join(sorted(missing))}")
    template = ChatPromptTemplate.from_messages(
        [("system", spec["system"].strip()), ("human", spec["user"].strip())]
    )
    declared, used = set(spec["inputs"]), set(template.input_variables)
    if declared != used:
        raise PromptError(
            f"prompts/{name}.yaml declares inputs {sorted(declared)} but uses {sorted(used)}"
        )
    return template


def prompt_names() -> list[str]:
    """Names of all prompt files shipped in the package."""
    names = (p.name for p in files(__package__).iterdir())
    return sorted(n.removesuffix(".yaml") for n in names if n.endswith(".yaml"))
