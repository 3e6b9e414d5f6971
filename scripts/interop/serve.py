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


def run(args) -> dict:
    report = {"loaded": False, "phase": "load", "error": None, "method": None, "target": None,
              "drafts": 0, "draft_tokens": 0, "accepted_tokens": 0,
              "accepted_per_position": [], "acceptance": None, "outputs": []}
    import vllm
    from vllm import LLM, SamplingParams
    from vllm.inputs import TokensPrompt

    report["vllm_version"] = vllm.__version__
    task = json.loads(Path(args.task).read_text())
    kwargs = dict(model=args.model, skip_tokenizer_init=True, max_model_len=256,
                  enforce_eager=True, dtype="bfloat16", disable_log_stats=False,
                  max_num_seqs=8, kv_cache_memory_bytes=256 << 20)
    if args.speculative_config:
        kwargs["speculative_config"] = json.loads(args.speculative_config)
    try:
        llm = LLM(**kwargs)
    except Exception as error:  # vLLM refused the checkpoint or its configuration
        report["error"] = f"{type(error).__name__}: {error}".strip()
        return report
    report["loaded"] = True
    report["method"], report["target"] = chosen_method(llm)
    report["phase"] = "decode"
    prompts = [TokensPrompt(prompt_token_ids=p) for p in task["prompts"]]
    params = SamplingParams(temperature=0, max_tokens=args.max_tokens, detokenize=False,
                            ignore_eos=True)
    try:
        results = llm.generate(prompts, params, use_tqdm=False)
    except Exception as error:  # the engine died in a forward pass
        report["error"] = f"{type(error).__name__}: {error}".strip()
        return report
    report["phase"] = "done"
    report["outputs"] = [list(r.outputs[0].token_ids) for r in results]
    values = metric_values(llm.get_metrics())
    report["drafts"] = values.get("vllm:spec_decode_num_drafts", 0)
    report["draft_tokens"] = values.get("vllm:spec_decode_num_draft_tokens", 0)
    report["accepted_tokens"] = values.get("vllm:spec_decode_num_accepted_tokens", 0)
    report["accepted_per_position"] = values.get(
        "vllm:spec_decode_num_accepted_tokens_per_pos", [])
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
    parser = argparse.ArgumentParser(description="Serve one checkpoint in vLLM; print a JSON report.")
    parser.add_argument("--model", required=True)
    parser.add_argument("--speculative-config", default=None, help="JSON object")
    parser.add_argument("--task", default=str(ROOT / "Fixtures" / "interop" / "task.json"))
    parser.add_argument("--max-tokens", type=int, default=24)
    args = parser.parse_args()
    try:
        report = run(args)
    except Exception as error:
        report = {"loaded": False, "phase": "harness", "error": f"{type(error).__name__}: {error}",
                  "traceback": traceback.format_exc()}
    sys.stdout.flush()
    print("INTEROP-REPORT " + json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
