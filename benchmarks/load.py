"""Load test of `assistant serve` on loopback: concurrent OpenAI clients, a fixed request count.

    python benchmarks/load.py                  # fake model: 1, 8 and 32 clients, 200 requests each
    python benchmarks/load.py --model default  # Qwen2.5-Coder-1.5B: 16, 16 and 32 requests
    python benchmarks/load.py --model fake --clients 4 64 --requests 500

Each run sends max(--requests, clients) requests, so that every client has one; the 1-client
run is the baseline that the others are compared with (same script run).

For each run the sample article is ingested into a temporary data dir (real MiniLM
embeddings), then a fresh `assistant serve` runs as its own process on a free port and each
client streams answers through the official `openai` client. The 8 questions repeat, so
llama.cpp's prompt cache serves their second and later asks faster than a first one. Printed
per run: throughput, p50/p95 latency to the last chunk and to the first text, and errors (any
error is a failure: the script exits 1).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import openai

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this folder comes first on sys.path; the project's packages must win.
sys.path.insert(0, str(ROOT))

from assistant import Settings  # noqa: E402

BIN = Path(sys.executable).parent
QUESTIONS = [
    "What did Jensen Huang call the export controls?",
    "Who founded Huawei?",
    "How much will Xiaomi invest in R&D from 2026 to 2030?",
    "What is Nvidia's market share in China now?",
    "How big was Nvidia's inventory write-down in April?",
    "Which Huawei chip competes with Nvidia's H200?",
    "What is the name of Xiaomi's 3-nanometer chip?",
    "Who is the principal analyst at J.Gold Associates?",
]
MODELS = {"fake": "fake", "default": "llamacpp:qwen2.5-coder-1.5b",
          "small": "llamacpp:smollm2-135m"}


@dataclass
class Run:
    clients: int
    requests: int
    wall_s: float = 0.0
    latencies: list[float] = field(default_factory=list)
    first_text: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    load_avg: float = 0.0  # the machine's 1-minute load average at the end: others' work shows


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100)
    return ordered[int(rank) - 1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def one_request(client: openai.OpenAI, question: str) -> tuple[float, float]:
    """Stream one answer; (seconds to the closing chunk, seconds to the first text)."""
    started = time.perf_counter()
    first = None
    closed = False
    stream = client.chat.completions.create(
        model="docs-assistant", messages=[{"role": "user", "content": question}], stream=True
    )
    for chunk in stream:
        choice = chunk.choices[0]
        if first is None and choice.delta.content:
            first = time.perf_counter() - started
        if choice.finish_reason == "stop":
            closed = "sources" in (chunk.model_extra or {})
    if not closed:
        raise RuntimeError("the stream ended without its closing chunk")
    total = time.perf_counter() - started
    return total, first if first is not None else total


def load(base_url: str, clients: int, requests: int) -> Run:
    run = Run(clients, requests)
    client = openai.OpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0,
                           timeout=3600)

    def job(i: int) -> None:
        try:
            total, first = one_request(client, QUESTIONS[i % len(QUESTIONS)])
            run.latencies.append(total)
            run.first_text.append(first)
        except Exception as exc:  # counted and shown, never hidden
            run.errors.append(f"{type(exc).__name__}: {exc}")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(job, range(requests)))
    run.wall_s = time.perf_counter() - started
    run.load_avg = os.getloadavg()[0]
    return run


def start_server(
    data_dir: Path, models_dir: Path, llm: str, port: int, log: Path
) -> subprocess.Popen:
    models_dir.mkdir(parents=True, exist_ok=True)
    data_dir.mkdir(parents=True)
    (data_dir / "models").symlink_to(models_dir.resolve())  # the 1.1 GB model, assembled once
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data_dir), "ASSISTANT_LLM": llm,
           "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    subprocess.run([str(BIN / "assistant"), "ingest", "-q", str(ROOT / "data" / "sample")],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    proc = subprocess.Popen([str(BIN / "assistant"), "serve", "--port", str(port)], env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"assistant serve exited:\n{log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("assistant serve did not start within 600 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="fake",
                        help=f"{', '.join(MODELS)}, or any ASSISTANT_LLM name")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--models-dir", type=Path,
                        help="where the answer model is assembled (default: the data dir's)")
    parser.add_argument("--requests", type=int,
                        help="requests per run, at least one per client "
                        "(default: 200 with fake, 16 otherwise)")
    args = parser.parse_args()
    llm = MODELS.get(args.model, args.model)
    requests = args.requests or (200 if llm == "fake" else 16)

    runs = []
    models_dir = args.models_dir or Settings().data_dir / "models"
    for clients in args.clients:
        # A fresh server for each run: llama.cpp keeps earlier prompts in a RAM cache, so a
        # run after another would find the same questions' prompts already read.
        with tempfile.TemporaryDirectory() as tmp:
            port = free_port()
            proc = start_server(Path(tmp) / "kb", models_dir, llm, port, Path(tmp) / "serve.log")
            try:
                runs.append(load(f"http://127.0.0.1:{port}", clients, max(requests, clients)))
            finally:
                proc.terminate()
                proc.wait(timeout=30)

    print(f"\nassistant serve, model {llm}, {os.cpu_count()} CPU cores, streamed requests\n")
    print("| clients | requests | errors | wall s | answers/s | vs first run | p50 s | p95 s "
          "| p50 first text s | p95 first text s | load avg |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    base = len(runs[0].latencies) / runs[0].wall_s or float("nan")
    for r in runs:
        rate = len(r.latencies) / r.wall_s
        print(f"| {r.clients} | {r.requests} | {len(r.errors)} | {r.wall_s:.1f} | {rate:.2f} "
              f"| {rate / base:.2f} | {percentile(r.latencies, 50):.2f} "
              f"| {percentile(r.latencies, 95):.2f} | {percentile(r.first_text, 50):.2f} "
              f"| {percentile(r.first_text, 95):.2f} | {r.load_avg:.1f} |")
    errors = [e for r in runs for e in r.errors]
    for error in sorted(set(errors)):
        print(f"error ({errors.count(error)}x): {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
