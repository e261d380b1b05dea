"""The regression gate: aggregation, tolerances, baselines, and broken configurations failing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from assistant import Settings
from assistant.cli import main
from evals.baseline import BaselineFile, config_of, default_config
from evals.metrics import aggregate, compare
from tests.test_evals_cases import news_folder

pytestmark = pytest.mark.usefixtures("no_assistant_env")


def test_aggregate_means_where_a_metric_applies_and_median_latency() -> None:
    cases = [
        {"answer_match": 1.0, "refusal": None, "latency_s": 1.0},
        {"answer_match": 0.0, "refusal": None, "latency_s": 9.0},
        {"answer_match": None, "refusal": 1.0, "latency_s": 2.0},
    ]
    assert aggregate(cases) == {"answer_match": 0.5, "refusal": 1.0, "latency_s": 2.0}


def test_compare_applies_direction_and_tolerance() -> None:
    before = {"answer_match": 0.80, "false_refusal": 0.10, "latency_s": 4.0, "refusal": 1.0}
    now = {"answer_match": 0.76, "false_refusal": 0.20, "latency_s": 17.0}
    status = {c.metric: c.status for c in compare(now, before)}
    assert status == {
        "answer_match": "ok",  # -0.04 is within 0.05
        "false_refusal": "regressed",  # lower is better: +0.10
        "refusal": "missing",  # measured before, not now
        "latency_s": "regressed",  # 17 > 4 * 4
    }
    assert {c.metric: c.status for c in compare(now, before, tolerance=0.01)}[
        "answer_match"] == "regressed"
    assert compare({"answer_match": 0.9}, {"answer_match": 0.8})[0].status == "improved"
    # relative tolerances have a floor: 0.01 s -> 0.9 s is noise, not a regression
    assert compare({"latency_s": 0.9}, {"latency_s": 0.01})[0].status == "ok"


def test_baseline_keeps_cases_per_configuration(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    reference, other = default_config(), {**default_config(), "k": 2}
    file = BaselineFile.load(path)
    file.record(reference, "t1", {"a": (True, {"answer_match": 1.0}),
                                  "b": (False, {"answer_match": 0.0})})
    file.record(other, "t2", {"a": (False, {"answer_match": 0.0})})
    file.record(reference, "t3", {"b": (True, {"answer_match": 1.0})})  # a --limit update
    file.save()

    again = BaselineFile.load(path)
    entry, exact = again.find(reference)
    assert exact and entry is not None and entry.recorded == "t3"
    assert entry.metrics() == {"answer_match": 1.0}
    assert entry.metrics({"a"}) == {"answer_match": 1.0}
    fallback, exact = again.find({**reference, "llm": "fake"})
    assert fallback is entry and not exact  # unknown configurations meet the reference
    assert [h["recorded"] for h in again.history_for(reference)] == ["t1", "t3"]


def test_config_leaves_out_paths_and_secrets() -> None:
    config = config_of(Settings(data_dir="/somewhere", openai_api_key="sk-secret"))
    assert "data_dir" not in config and "openai_api_key" not in config
    assert config == default_config()


# -- the gate end to end, fake models ------------------------------------------------------------
def run_eval(tmp_path: Path, *args: str, k: str = "4") -> int:
    os.environ["ASSISTANT_EMBEDDING"] = "fake"
    try:
        return main(["--data-dir", str(tmp_path / "kb"), "--llm", "fake", "-k", k, "eval",
                     "--dataset", "sample_article", "--baseline", str(tmp_path / "base.json"),
                     "--report", str(tmp_path / "reports"), *args])
    finally:
        del os.environ["ASSISTANT_EMBEDDING"]


def test_gate_passes_against_its_own_baseline_and_fails_when_k_is_zero(tmp_path: Path, capsys):
    assert run_eval(tmp_path, "--update-baseline") == 0
    recorded = json.loads((tmp_path / "base.json").read_text())
    assert len(recorded["entries"][0]["cases"]) == 54
    capsys.readouterr()

    assert run_eval(tmp_path) == 0
    out = capsys.readouterr().out
    assert "sample_article: pass: no metric regressed. Report: " in out

    assert run_eval(tmp_path, k="0") == 1
    out = capsys.readouterr().out
    # k=0 is another configuration, so it meets the recorded one, and says how they differ
    assert "compared with the reference one (k: 0 vs 4)" in out
    verdict = next(line for line in out.splitlines() if line.startswith("sample_article: "))
    assert verdict.startswith("sample_article: REGRESSION in hit@k, recall@k, context_hit@k, "
                              "answer_match, false_refusal, citation_support, ")
    assert "  pass -> FAIL  gold-firm: 'Which consultancy does Jack Gold work for?' -> " \
           "\"I found nothing in your documents about this, so I can't answer it.\"" in out
    assert "  fail -> pass  out-2" in out  # refusing everything "fixes" the unanswerable ones
    reports = sorted((tmp_path / "reports").glob("sample_article-*.html"))
    assert reports and "REGRESSION" in reports[-1].read_text()


def test_limited_run_compares_with_the_same_cases(tmp_path: Path, capsys) -> None:
    assert run_eval(tmp_path, "--update-baseline") == 0
    capsys.readouterr()
    assert run_eval(tmp_path, "--limit", "6") == 0
    out = capsys.readouterr().out
    assert "6 cases in common" in out and "6/6 cases passed" not in out  # some fail, as before


def test_missing_baseline_fails_and_says_how_to_record_one(tmp_path: Path, capsys) -> None:
    assert run_eval(tmp_path, "--limit", "2") == 1
    out = capsys.readouterr().out
    assert f"No baseline recorded in {tmp_path / 'base.json'}." in out
    assert "sample_article: NO BASELINE: record one with --update-baseline. Report: " in out


def test_unknown_dataset_is_one_line_error(tmp_path: Path, capsys) -> None:
    assert main(["--llm", "fake", "eval", "--dataset", str(tmp_path / "nope.jsonl")]) == 1
    assert capsys.readouterr().err == (
        f"Error: No dataset file at {tmp_path / 'nope.jsonl'}. "
        "Fix: pass --dataset with an existing file.\n")


def test_html_report_has_cases_and_chart(tmp_path: Path) -> None:
    assert run_eval(tmp_path, "--update-baseline", "--limit", "5") == 0
    page = next((tmp_path / "reports").glob("*.html")).read_text()
    assert "<svg" in page and "<polyline" in page and "huang-failure" in page
    assert "<script" not in page


@pytest.mark.integration
def test_fake_model_fails_the_committed_gate(tmp_path: Path, capsys,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """`ASSISTANT_LLM=fake assistant eval`: the quoting model never refuses, so it fails."""
    monkeypatch.setenv("ASSISTANT_LLM", "fake")
    code = main(["--data-dir", str(tmp_path / "kb"), "eval", "--dataset", "sample_article",
                 "--report", str(tmp_path / "reports")])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "compared with the reference one (llm: 'fake' vs 'llamacpp:qwen2.5-coder-1.5b')" in out
    assert "REGRESSION in" in out and "refusal" in out


def test_beir_folder_runs_retrieval_only(tmp_path: Path, capsys) -> None:
    root = tmp_path / "beir"
    (root / "qrels").mkdir(parents=True)
    topics = ["rivers flood in spring", "volcanoes erupt lava", "bees make honey"]
    (root / "corpus.jsonl").write_text("".join(
        json.dumps({"_id": f"d{i}", "title": "", "text": t}) + "\n" for i, t in enumerate(topics)))
    (root / "queries.jsonl").write_text(
        json.dumps({"_id": "q1", "text": "honey bees"}) + "\n"
        + json.dumps({"_id": "q2", "text": "lava volcanoes"}) + "\n")
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td2\t1\nq2\td1\t1\n")
    os.environ["ASSISTANT_EMBEDDING"] = "fake"
    try:
        code = main(["--data-dir", str(tmp_path / "kb"), "--llm", "fake", "-k", "1",
                     "eval", "--dataset", f"beir:{root}", "--baseline", str(tmp_path / "b.json"),
                     "--report", str(tmp_path), "--update-baseline"])
    finally:
        del os.environ["ASSISTANT_EMBEDDING"]
    out = capsys.readouterr().out
    assert code == 0, out
    assert "== beir-beir: 2 cases, retrieval only, k=1" in out
    assert "2/2 cases passed" in out  # the bag-of-words fake embeddings match the shared words
    entry = json.loads((tmp_path / "b.json").read_text())["entries"][0]
    assert "llm" not in entry["config"] and entry["metrics"]["ndcg@10"] == 1.0


def test_a_setting_added_later_at_its_default_keeps_the_baseline(tmp_path: Path) -> None:
    file = BaselineFile(tmp_path / "b.json", [], [])
    old = {k: v for k, v in default_config().items() if k != "chunk_size"}  # recorded before
    file.record(old, "t1", {"a": (True, {"answer_match": 1.0})})
    entry, exact = file.find(default_config())
    assert entry is not None and exact
    entry, exact = file.find({**default_config(), "chunk_size": 123})
    assert not exact


def test_python_dash_m_evals_takes_the_same_options(tmp_path: Path, capsys) -> None:
    from evals.cli import main as evals_main

    os.environ["ASSISTANT_EMBEDDING"] = "fake"
    try:
        code = evals_main(["--data-dir", str(tmp_path / "kb"), "--llm", "fake", "--limit", "3",
                           "--dataset", "injection", "--baseline", str(tmp_path / "b.json"),
                           "--report", str(tmp_path), "--update-baseline"])
    finally:
        del os.environ["ASSISTANT_EMBEDDING"]
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("== injection: 3 cases, llm=fake, k=4\n")
    assert f"injection: baseline updated ({tmp_path / 'b.json'}). Report: " in out


def test_news_folder_runs_split_and_dumps_every_case(tmp_path: Path, capsys) -> None:
    root = news_folder(tmp_path / "news")
    dump = tmp_path / "out" / "cases.jsonl"

    def news(*args: str) -> int:
        os.environ["ASSISTANT_EMBEDDING"] = "fake"
        try:
            return main(["--data-dir", str(tmp_path / "kb"), "--llm", "fake", "-k", "2", "eval",
                         "--dataset", f"news:{root}", "--baseline", str(tmp_path / "b.json"),
                         "--report", str(tmp_path / "reports"), "--dump", str(dump), *args])
        finally:
            del os.environ["ASSISTANT_EMBEDDING"]

    assert news("--update-baseline") == 0
    out = capsys.readouterr().out
    assert "== news-news: 3 cases, llm=fake, k=2" in out
    # the fake quotes the best passage: the name is in it, a "yes" is not
    outcomes = ("answerable: 1/2 answered right (0 refused); unanswerable: 1/1 refused; "
                "passed by kind: comparison_query 0/1, inference_query 1/1, null_query 1/1")
    assert "2/3 cases passed in " in out and f" s.\n  {outcomes}\n" in out
    assert outcomes in next((tmp_path / "reports").glob("news-news-*.html")).read_text()
    lines = [json.loads(line) for line in dump.read_text().splitlines()]
    assert [(x["id"], x["split"], x["kind"], x["answerable"], x["matched"], x["refused"],
             x["reason"], x["passed"], x["signals"]) for x in lines] == [
        ("0", "test", "comparison_query", True, False, False, "", False, {}),
        ("1", "test", "inference_query", True, True, False, "", True, {}),
        ("2", "dev", "null_query", False, None, True, "no-passages", True, {}),
    ]

    assert news("--split", "dev") == 0
    out = capsys.readouterr().out
    assert "== news-news: 1 cases, llm=fake, k=2" in out and "1 cases in common" in out
    assert "1/1 cases passed" in out and "  unanswerable: 1/1 refused\n" in out
    assert [json.loads(line)["id"] for line in dump.read_text().splitlines()] == ["2"]


def test_split_runs_one_half_of_a_case_file(tmp_path: Path, capsys) -> None:
    assert run_eval(tmp_path, "--split", "test", "--update-baseline") == 0
    out = capsys.readouterr().out
    assert out.startswith("== sample_article: 21 cases, llm=fake, k=4\n")
    recorded = json.loads((tmp_path / "base.json").read_text())["entries"][0]["cases"]
    assert len(recorded) == 21 and "gold-firm" not in recorded  # gold-firm is a dev case


def test_split_of_a_beir_folder_is_one_line_error(tmp_path: Path, capsys) -> None:
    (tmp_path / "beir").mkdir()
    assert main(["--llm", "fake", "eval", "--dataset", f"beir:{tmp_path / 'beir'}",
                 "--split", "dev"]) == 1
    assert capsys.readouterr().err == (
        "Error: --split applies to answer datasets, not BEIR folders. "
        "Fix: leave out --split, or use --limit for a smaller run.\n")


def test_cases_missing_from_the_baseline_are_listed_briefly(tmp_path: Path, capsys) -> None:
    assert run_eval(tmp_path, "--update-baseline", "--limit", "2") == 0
    capsys.readouterr()
    run_eval(tmp_path)
    line = next(x for x in capsys.readouterr().out.splitlines() if "not in the baseline" in x)
    assert line.endswith(" and 42 more") and line.count(", ") == 9  # 54 cases, 2 recorded
