"""The regression suite: golden questions, offline metrics, baselines and a gate.

`assistant eval` (or `python -m evals`) runs datasets through the public `Assistant` API,
compares every metric with the committed baseline of the same configuration and exits non-zero
on a regression. Modules: `cases` (case files), `adapters` (BEIR, SQuAD), `scorers` (pure
metrics), `metrics` (aggregation and tolerances), `runner`, `baseline`, `gate`, `report`,
`judge` (optional LLM judge), `cli`. `ingest` never imports this package, and `assistant`
only from inside its CLI functions (the `eval` options and command), never at module level.
"""
