#!/usr/bin/env python3
"""Serves one checkpoint in vLLM (CPU build) and reports what vLLM did, as one JSON line.

Run with the vLLM environment (`bash scripts/venv.sh vllm`):

    python scripts/interop/serve.py --model DIR                      # as `vllm serve DIR`
    python scripts/interop/serve.py --model VERIFIER --speculative-config '{"method": "eagle3", "model": DIR, "num_speculative_tokens": 3}'

Prompts are token ids (`--task` JSON with a "prompts" list, default Fixtures/interop/task.json);
decoding is greedy with `ignore_eos`, no tokenizer and no detokenisation. The report's keys:
`loaded` (the engine started), `phase` (where it failed: "load" or "decode"), `error`,
`method` (the speculative method vLLM chose), `target` (the model vLLM served), `drafts`,
`draft_tokens`, `accepted_tokens`, `accepted_per_position`, `acceptance` (accepted / drafted),
`outputs` (generated token ids per prompt) and `vllm_version`.

vLLM starts its engine workers by spawn, so everything runs under `if __name__ == "__main__":`.
"""

import argparse
import json
import os
import time
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def metric_values(metrics) -> dict:
    """Counters and vectors from `LLM.get_metrics()`, by name."""
    values = {}
    for metric in metrics:
        name = getattr(metric, "name", "")
        if hasattr(metric, "values"):          # a vector (per-position counters)
            values[name] = [int(v) for v in metric.values]
        elif hasattr(metric, "value"):
            values[name] = int(metric.value)
    return values


def chosen_method(llm) -> tuple:
    """The speculative method and target model from the engine's resolved configuration."""
    try:
        config = llm.llm_engine.vllm_config
    except AttributeError:
        return None, None
    spec = config.speculative_config
    method = getattr(spec, "method", None) if spec is not None else None
    return method, config.model_config.model


def counters(llm) -> dict:
    try:
        return metric_values(llm.get_metrics())
    except Exception:  # metrics are unavailable on an engine that failed
        return {}


def delta(after: dict, before: dict, name: str):
    """This engine's share of a process-wide counter (engines in one process share them)."""
    a, b = after.get(name, 0), before.get(name, 0)
    if isinstance(a, list):
        b = b if isinstance(b, list) and len(b) == len(a) else [0] * len(a)
        return [x - y for x, y in zip(a, b)]
    return a - (b if isinstance(b, int) else 0)


def run(model: str, speculative_config: dict | None, task_path: str, max_tokens: int,
        in_process: bool) -> dict:
    report = {"loaded": False, "phase": "load", "error": None, "method": None, "target": None,
              "drafts": 0, "draft_tokens": 0, "accepted_tokens": 0,
              "accepted_per_position": [], "acceptance": None, "outputs": []}
    import vllm
    from vllm import LLM

    report["vllm_version"] = vllm.__version__
    task = json.loads(Path(task_path).read_text())
    kwargs = dict(model=model, skip_tokenizer_init=True, max_model_len=256,
                  enforce_eager=True, dtype="bfloat16", disable_log_stats=False,
                  max_num_seqs=8, kv_cache_memory_bytes=256 << 20)
    if in_process:
        kwargs["distributed_executor_backend"] = "uni"
    if speculative_config:
        kwargs["speculative_config"] = speculative_config
    try:
        llm = LLM(**kwargs)
    except Exception as error:  # vLLM refused the checkpoint or its configuration
        report["error"] = f"{type(error).__name__}: {error}".strip()
        return report
    try:
        return decode(llm, report, task, max_tokens)
    finally:
        shutdown(llm)


def shutdown(llm) -> None:
    try:
        llm.llm_engine.engine_core.shutdown()
    except Exception:
        pass
    del llm
    import gc
    gc.collect()


def decode(llm, report: dict, task: dict, max_tokens: int) -> dict:
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt
    report["loaded"] = True
    report["method"], report["target"] = chosen_method(llm)
    report["phase"] = "decode"
    prompts = [TokensPrompt(prompt_token_ids=p) for p in task["prompts"]]
    params = SamplingParams(temperature=0, max_tokens=max_tokens, detokenize=False,
                            ignore_eos=True)
    before = counters(llm)
    try:
        results = llm.generate(prompts, params, use_tqdm=False)
    except Exception as error:  # the engine died in a forward pass
        report["error"] = f"{type(error).__name__}: {error}".strip()
        return report
    report["phase"] = "done"
    report["outputs"] = [list(r.outputs[0].token_ids) for r in results]
    after = counters(llm)
    report["drafts"] = delta(after, before, "vllm:spec_decode_num_drafts")
    report["draft_tokens"] = delta(after, before, "vllm:spec_decode_num_draft_tokens")
    report["accepted_tokens"] = delta(after, before, "vllm:spec_decode_num_accepted_tokens")
    report["accepted_per_position"] = delta(
        after, before, "vllm:spec_decode_num_accepted_tokens_per_pos") or []
    if report["draft_tokens"]:
        report["acceptance"] = round(report["accepted_tokens"] / report["draft_tokens"], 4)
    # The verifier's own greedy continuation must follow the fixture's token function.
    nxt = task.get("next_token")
    if nxt:
        good = 0
        total = 0
        for prompt, out in zip(task["prompts"], report["outputs"]):
            prev = prompt[-1]
            for tok in out:
                total += 1
                good += int(tok == nxt[prev])
                prev = tok
        report["verifier_follows_task"] = round(good / total, 4) if total else None
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve checkpoints in vLLM; print JSON reports.")
    parser.add_argument("--model")
    parser.add_argument("--speculative-config", default=None, help="JSON object")
    parser.add_argument("--batch", default=None,
                        help="JSON file: a list of {name, model, speculative_config}, served one "
                             "after another in this process (vLLM's engine runs in-process)")
    parser.add_argument("--task", default=str(ROOT / "Fixtures" / "interop" / "task.json"))
    parser.add_argument("--max-tokens", type=int, default=24)
    args = parser.parse_args()
    if args.batch:
        jobs = json.loads(Path(args.batch).read_text())
    else:
        if not args.model:
            parser.error("--model or --batch is required")
        spec = json.loads(args.speculative_config) if args.speculative_config else None
        jobs = [{"name": "", "model": args.model, "speculative_config": spec}]
    for job in jobs:
        started = time.monotonic()
        try:
            report = run(job["model"], job.get("speculative_config"), args.task, args.max_tokens,
                         in_process=bool(args.batch))
        except Exception as error:
            report = {"loaded": False, "phase": "harness", "error": f"{type(error).__name__}: {error}",
                      "traceback": traceback.format_exc()}
        report["name"] = job.get("name", "")
        report["seconds"] = round(time.monotonic() - started, 1)
        sys.stdout.flush()
        print("INTEROP-REPORT " + json.dumps(report), flush=True)
        if report.get("error") and not report["error"].startswith("ValidationError"):
            # An engine that failed past config validation may leave this process's vLLM state
            # behind; the caller serves the remaining jobs in a fresh process.
            break


if __name__ == "__main__":
    if "--batch" in sys.argv:
        # One process for many engines: the engine core and its worker run in this process, so
        # vLLM is imported once rather than three times per engine.
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    main()
