"""Prompt files (`*.yaml`, package data), loaded with importlib.resources and rendered strictly.

Each file holds `inputs` (the variables the chain supplies), `system` and `user` templates in
f-string syntax; `system_from: other` instead of `system` reuses another file's system message
(the same prompt prefix, which llama.cpp keeps cached). Loading fails if a template uses a
variable that `inputs` does not declare or leaves a declared one unused, and rendering fails on
a missing variable.
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
    missing = {"inputs", "user", "system_from" if "system_from" in spec else "system"} - set(spec)
    if missing:
        raise PromptError(f"prompts/{name}.yaml lacks {', '.join(sorted(missing))}")
    if "system_from" in spec:  # the same system message, so a cached prompt prefix is reused
        system = _system(spec["system_from"])
    else:
        system = spec["system"].strip()
    template = ChatPromptTemplate.from_messages(
        [("system", system), ("human", spec["user"].strip())]
    )
    declared, used = set(spec["inputs"]), set(template.input_variables)
    if declared != used:
        raise PromptError(
            f"prompts/{name}.yaml declares inputs {sorted(declared)} but uses {sorted(used)}"
        )
    return template


def _system(name: str) -> str:
    """The system message template of `prompts/<name>.yaml`."""
    message = load_prompt(name).messages[0]
    return str(message.prompt.template)  # type: ignore[union-attr]


def prompt_names() -> list[str]:
    """Names of all prompt files shipped in the package."""
    names = (p.name for p in files(__package__).iterdir())
    return sorted(n.removesuffix(".yaml") for n in names if n.endswith(".yaml"))
