"""The probe against vLLM on the interop matrix: builds every case of scripts/interop/matrix.py
(conversions and conversion faults, no vLLM run), runs `speculators probe --json` on it with
vLLM's prompts (Fixtures/interop/task.json), K = 3 and max_tokens = 24, and compares with
vLLM's counts recorded in docs/vllm-matrix.json:

- accepted tokens agree when |probe - vLLM| <= 5% of vLLM's drafted tokens;
- a fault that collapses vLLM's acceptance (below 0.05) must collapse in the probe too;
- a case vLLM cannot decode must be refused by the probe (exit 2) or collapse.

    python scripts/interop/probe_agreement.py [--speculators PATH] [--results FILE]   # vLLM env's python

Prints one line per case and writes docs/probe-agreement.json (not committed); exit 1 when a case
disagrees.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import matrix  # noqa: E402  (the case definitions and builders)

ROOT = matrix.ROOT
COLLAPSE = 0.05
# Cases about how vLLM is asked to serve a draft, not about the draft: no numerical verdict.
SERVING_ONLY = {"eagle3-no-method"}
# Algorithms the probe decodes (Sources/Probe/DraftReading.swift); other cases get no verdict.
PROBED_ALGORITHMS = ("eagle3", "eagle")  # the refusal names them too


def probe(binary: Path, directory: Path, prompts: Path) -> dict:
    args = [str(binary), "probe", str(directory), "--verifier", str(matrix.VERIFIER), "--prompt-ids", str(prompts),
            "--max-tokens", "24", "--num-speculative-tokens", "3", "--json", "--no-diagnosis"]
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    if done.returncode == 2:
        return {"refused": (done.stderr.strip().splitlines() or [""])[-1]}
    report = json.loads(done.stdout)
    return {key: report[key] for key in ("drafts", "draft_tokens", "accepted_tokens", "acceptance_rate")}


def judge(vllm: dict, ours: dict) -> tuple:
    decoded = vllm.get("phase") == "done" and vllm.get("draft_tokens", 0) > 0
    if not decoded:
        ok = "refused" in ours or ours.get("acceptance_rate", 1) < COLLAPSE
        return ok, "vLLM did not decode (" + (vllm.get("error") or vllm.get("phase") or "?")[:70] + f"); probe {ours}"
    vllm_collapsed = vllm["accepted_tokens"] < COLLAPSE * vllm["draft_tokens"]
    if "refused" in ours:
        # Non-finite activations: the probe stops where vLLM decodes garbage; both fail the draft.
        return vllm_collapsed and "NaN or infinite" in ours["refused"], "probe refused: " + ours["refused"][-100:]
    delta = abs(ours["accepted_tokens"] - vllm["accepted_tokens"])
    within = delta <= 0.05 * vllm["draft_tokens"]
    collapse_ok = not vllm_collapsed or ours["acceptance_rate"] < COLLAPSE
    return within and collapse_ok, (
        f"accepted {ours['accepted_tokens']}/{ours['draft_tokens']} vs vLLM {vllm['accepted_tokens']}/"
        f"{vllm['draft_tokens']}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--speculators", type=Path, default=ROOT / ".build" / "debug" / "speculators")
    parser.add_argument("--results", type=Path, default=matrix.RESULTS, help="vLLM's matrix results")
    args = parser.parse_args()
    results = json.loads(args.results.read_text())["cases"]
    task = json.loads((matrix.FIXTURES / "task.json").read_text())
    work = Path(tempfile.mkdtemp(prefix="speculators-probe-agreement-"))
    out, failures = {}, 0
    try:
        prompts = work / "prompts.jsonl"
        prompts.write_text("".join(json.dumps(p) + "\n" for p in task["prompts"]))
        conversions = {name: matrix.convert(args.speculators, work, name) for name in matrix.CONVERSIONS}
        for name, entry in sorted(results.items()):
            vllm = entry.get("vllm")
            if vllm is None:
                continue
            try:
                directory, _, conv = matrix.build_case(args.speculators, work, conversions, name)
            except SystemExit:
                continue
            if conv is not None and conv["exit"] != 0:
                ours = {"refused": "conversion failed"}
            else:
                ours = probe(args.speculators, directory, prompts)
            refusal = ours.get("refused", "")
            if "speculators_model_type" in refusal and "not supported by the probe" in refusal:
                out[name] = {"vllm": vllm.get("error"), "probe": ours, "agrees": None}
                print(f"  n/a {name}: the probe decodes {', '.join(PROBED_ALGORITHMS)} only")
                continue
            if vllm.get("phase") == "load" or name in SERVING_ONLY:
                # vLLM does not load it (speculators eagle, a config it rejects): no verdict.
                out[name] = {"vllm": vllm.get("error"), "probe": ours, "agrees": None}
                print(f"  n/a {name}: vLLM does not load it; probe {ours}")
                continue
            ok, detail = judge(vllm, ours)
            failures += not ok
            out[name] = {"vllm": {k: vllm.get(k) for k in ("draft_tokens", "accepted_tokens", "phase")},
                         "probe": ours, "agrees": ok}
            print(f"{'  ok' if ok else 'FAIL'} {name}: {detail}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    (ROOT / "docs" / "probe-agreement.json").write_text(json.dumps(out, indent=2, sort_keys=True) + "\n")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
