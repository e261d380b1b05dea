"""The architecture as rules: imports flow one way, no module circle, short functions."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("prompts", "ingest", "assistant", "evals")
# what each package may import of ours: only the layers below it
ALLOWED = {
    "prompts": set(),
    "ingest": set(),
    "assistant": {"prompts", "ingest"},
    "evals": {"prompts", "ingest", "assistant"},
}
MAX_FUNCTION_LINES = 60


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def imported(path: Path) -> set[str]:
    """Our modules that `path` imports anywhere in it (lazy imports in functions included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES
                      else node.module for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
    return {name for name in names if name in MODULES}


GRAPH = {name: imported(path) for name, path in MODULES.items()}


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_only_the_layers_below_it(package: str) -> None:
    upward = sorted(
        f"{name} imports {target}"
        for name, targets in GRAPH.items() if name.split(".")[0] == package
        for target in targets
        if target.split(".")[0] != package and target.split(".")[0] not in ALLOWED[package]
    )
    assert upward == []


def test_no_two_modules_import_each_other_even_indirectly() -> None:
    def circle_from(start: str) -> list[str] | None:
        stack, seen = [(start, [start])], set()
        while stack:
            name, path = stack.pop()
            for target in GRAPH[name]:
                if target == start:
                    return [*path, start]
                if target not in seen:
                    seen.add(target)
                    stack.append((target, [*path, target]))
        return None

    assert [c for c in map(circle_from, sorted(GRAPH)) if c] == []


def test_the_layer_rule_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from evals.cli import register\n    import assistant.api\n")
    assert imported(module) == {"evals.cli", "assistant.api"}


def test_no_function_is_longer_than_the_limit() -> None:
    long = sorted(
        f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for name, path in MODULES.items()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (node.end_lineno or 0) - node.lineno + 1 > MAX_FUNCTION_LINES
    )
    assert long == []


def _loaded_after(argv: list[str]) -> tuple[bool, list[str]]:
    code = ("import sys; from assistant.cli import build_parser; "
            f"p = build_parser({argv!r}); "
            "print('evals' in sys.modules); print(*p._subparsers._group_actions[0].choices)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout.splitlines()
    return out[0] == "True", out[1].split()


def test_a_built_in_command_does_not_import_evals() -> None:
    assert _loaded_after(["--llm", "fake", "sources"]) == (
        False, ["ingest", "remove", "ask", "sources", "doctor", "chat", "serve"])


@pytest.mark.parametrize("argv", [["eval", "--limit", "1"], ["--help"]])
def test_the_eval_command_comes_from_its_entry_point(argv: list[str]) -> None:
    assert _loaded_after(argv) == (
        True, ["ingest", "remove", "ask", "sources", "doctor", "chat", "serve", "eval"])
