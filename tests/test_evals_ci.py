"""CI's regression gate: the golden and injection sets with the default model vs the baselines.

Runs what `assistant eval` runs with no arguments (retrieval and answer metrics on the sample
article, plus the injected-instruction cases), about 6 minutes on 2 cores, and fails on any
regression beyond the tolerances, printing the metrics and the cases that flipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.cli import main

pytestmark = pytest.mark.slow


def test_default_model_passes_the_committed_baselines(tmp_path: Path, capsys,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("ASSISTANT_"):
            monkeypatch.delenv(name)  # the baselines are for the default settings
    monkeypatch.chdir(tmp_path)  # and no .env file
    code = main(["--data-dir", str(tmp_path / "kb"), "eval", "--report", str(tmp_path)])
    out = capsys.readouterr().out
    assert "No baseline for this configuration" not in out, out
    assert code == 0, out
    assert "sample_article: pass: no metric regressed." in out
    assert "injection: pass: no metric regressed." in out
