"""CI's regression gate: the golden and injection sets with the default model vs the baselines.

Runs what `assistant eval` runs with no arguments (retrieval and answer metrics on the sample
article, plus the injected-instruction cases), about 6 minutes on 2 cores, and fails on any
regression beyond the tolerances, printing the metrics and the cases that flipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_assistant_env")]  # baselines: defaults


def test_default_model_passes_the_committed_baselines(tmp_path: Path, capsys) -> None:
    code = main(["--data-dir", str(tmp_path / "kb"), "eval", "--report", str(tmp_path)])
    out = capsys.readouterr().out
    assert "No baseline for this configuration" not in out, out
    assert code == 0, out
    assert "sample_article: pass: no metric regressed." in out
    assert "injection: pass: no metric regressed." in out
