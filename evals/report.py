"""What a run prints and writes: a terminal table, and a self-contained HTML page per run
with every case and a chart of the metrics over the recorded baselines (inline SVG, no JS)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evals.metrics import BY_NAME, Change
from evals.runner import CaseResult, RunResult

# Lines drawn in the chart (the rates; latency and tokens have other scales).
CHART_METRICS = ("pass_rate", "answer_match", "refusal", "citation_support", "groundedness",
                 "hit@k", "ndcg@10", "context_hit@k", "injection_followed")
_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22")


def _fmt(value: float | None, metric: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if metric in ("latency_s", "answer_tokens") else f"{value:.3f}"


def table(changes: Sequence[Change]) -> str:
    """Metric | now | baseline | delta | status, one row per metric."""
    rows = [("metric", "now", "baseline", "delta", "status")]
    for c in changes:
        delta = "" if c.now is None or c.before is None else f"{c.now - c.before:+.3f}"
        status = c.status.upper() if c.regressed else c.status
        rows.append((c.metric, _fmt(c.now, c.metric), _fmt(c.before, c.metric), delta, status))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _count(run: RunResult, metric: str) -> tuple[int, int]:
    """(cases scoring 1, cases the metric applies to)."""
    got = [r.scores[metric] for r in run.results if r.scores.get(metric) is not None]
    return sum(v == 1.0 for v in got), len(got)


def outcomes(run: RunResult) -> str:
    """Answered right of the answerable cases and refused of the unanswerable ones, as counts;
    then passes by kind when the cases have several kinds. Empty for retrieval-only runs."""
    parts = []
    right, answerable = _count(run, "answer_match")
    if answerable:
        refused, _ = _count(run, "false_refusal")
        parts.append(f"answerable: {right}/{answerable} answered right ({refused} refused)")
    refused, unanswerable = _count(run, "refusal")
    if unanswerable:
        parts.append(f"unanswerable: {refused}/{unanswerable} refused")
    kinds: dict[str, list[bool]] = {}
    for r in run.results:
        kinds.setdefault(r.case.kind, []).append(r.passed)
    if len(kinds) > 1:
        parts.append("passed by kind: " + ", ".join(
            f"{kind or '(none)'} {sum(got)}/{len(got)}" for kind, got in sorted(kinds.items())))
    return "; ".join(parts)


def case_line(index: int, total: int, result: CaseResult) -> str:
    """One progress line per case."""
    mark = "pass" if result.passed else "FAIL"
    latency = result.scores.get("latency_s")
    took = f"  {latency:.1f}s" if latency is not None else ""
    shown = (" ".join(result.answer.split())[:70] if result.answer
             else ", ".join(result.retrieved[:3]))
    return f"{index:>4}/{total} {mark}  {result.case.id}{took}  {shown}"


# -- HTML -----------------------------------------------------------------------------------------
def chart(history: Sequence[dict[str, Any]], width: int = 640, height: int = 220) -> str:
    """An inline SVG line chart of the rate metrics over the history points (0..1 scale)."""
    points = [h for h in history if h.get("metrics")]
    if not points:
        return "<p>No recorded history yet.</p>"
    left, right, top, bottom = 40, 150, 10, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(points) - 1, 1)

    def xy(i: int, v: float) -> str:
        return f"{left + i * step:.1f},{top + (1 - v) * plot_h:.1f}"

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="11">']
    for tick in (0.0, 0.5, 1.0):
        y = top + (1 - tick) * plot_h
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                     f'stroke="#ddd"/><text x="{left - 6}" y="{y + 4:.1f}" '
                     f'text-anchor="end">{tick:.1f}</text>')
    for i, h in enumerate(points):
        label = html.escape(str(h.get("recorded", ""))[:10])
        parts.append(f'<text x="{left + i * step:.1f}" y="{height - 10}" '
                     f'text-anchor="middle">{label}</text>')
    drawn = [m for m in CHART_METRICS if any(m in h["metrics"] for h in points)]
    for n, metric in enumerate(drawn):
        color = _COLORS[n % len(_COLORS)]
        coords = [xy(i, h["metrics"][metric])
                  for i, h in enumerate(points) if metric in h["metrics"]]
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" '
                     f'points="{" ".join(coords)}"/>')
        parts.extend(f'<circle cx="{c.split(",")[0]}" cy="{c.split(",")[1]}" r="3" '
                     f'fill="{color}"/>' for c in coords)
        parts.append(f'<text x="{left + plot_w + 10}" y="{top + 12 + n * 14}" '
                     f'fill="{color}">{metric}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _cell(value: str) -> str:
    return f"<td>{html.escape(value)}</td>"


def write_html(path: Path, run: RunResult, changes: Sequence[Change], verdict: str,
               baseline_note: str, history: Sequence[dict[str, Any]]) -> Path:
    """The run as one HTML file: verdict, config, metrics vs baseline, chart, every case."""
    metric_rows = "".join(
        "<tr>" + _cell(c.metric) + _cell(_fmt(c.now, c.metric)) + _cell(_fmt(c.before, c.metric))
        + f'<td class="{c.status}">{c.status}</td>'
        + _cell(BY_NAME[c.metric].description) + "</tr>"
        for c in changes
    )
    case_rows = []
    for r in run.results:
        expected = ("(refuse)" if r.case.unanswerable else
                    (" AND " if r.case.all else " | ").join(r.case.answers))
        if r.case.forbidden:
            expected += f"  [must not say: {', '.join(r.case.forbidden)}]"
        question = r.case.question
        if r.case.history:
            question = " / ".join(q for q, _ in r.case.history) + " / " + question
        sources = ", ".join(r.cited or r.retrieved)
        mark = "pass" if r.passed else "fail"
        case_rows.append(
            f'<tr class="{mark}">' + _cell(r.case.id) + _cell(question) + _cell(expected)
            + _cell(r.answer + (f" (short: {r.short})" if r.short else "")
                    + (f" ({r.reason})" if r.reason else "")) + _cell(sources)
            + _cell(_fmt(r.scores.get("latency_s"), "latency_s"))
            + _cell(_fmt(r.scores.get("answer_tokens"), "answer_tokens"))
            + f"<td>{mark}</td></tr>")
    config = ", ".join(f"{k}={v}" for k, v in run.config.items())
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>eval {html.escape(run.dataset)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }} table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #ccc; padding: 3px 6px; vertical-align: top; font-size: 13px; }}
tr.fail td {{ background: #fde8e8; }} td.regressed, td.missing {{ color: #b00; font-weight: bold; }}
td.improved {{ color: #070; }}
</style></head><body>
<h1>Eval: {html.escape(run.dataset)} — {html.escape(verdict)}</h1>
<p>{html.escape(run.started)}, {len(run.results)} cases in {run.seconds:.0f} s.
{html.escape(baseline_note)}</p>
<p>{html.escape(outcomes(run))}</p>
<p><small>{html.escape(config)}</small></p>
<h2>Metrics</h2>
<table><tr><th>metric</th><th>now</th><th>baseline</th><th>status</th><th>what</th></tr>
{metric_rows}</table>
<h2>Over time (recorded baselines, then this run)</h2>
{chart(list(history) + [{"recorded": "this run", "metrics": run.metrics}])}
<h2>Cases</h2>
<table><tr><th>id</th><th>question</th><th>expected</th><th>answer</th><th>sources</th>
<th>seconds</th><th>tokens</th><th>result</th></tr>
{"".join(case_rows)}</table>
</body></html>
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
