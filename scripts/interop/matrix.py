#!/usr/bin/env python3
"""The vLLM interop matrix: converts every fixture in Fixtures/interop with `speculators convert`,
applies each conversion fault to a correct conversion, serves every result in vLLM (one
scripts/interop/serve.py process per case), runs `speculators verify --content` on it, and
writes the results file and the tables of docs/vllm.md from it.

    bash scripts/interop/run.sh                      # everything (about 1.5 min per vLLM case)
    bash scripts/interop/run.sh --only aux-missing   # some cases; others keep their last result
    bash scripts/interop/run.sh --verify-only        # refresh verify's verdicts, keep vLLM's
    bash scripts/interop/run.sh --smoke              # the CI gate: one eagle3 served + eagle refused

Run with the vLLM environment's python (it has torch and safetensors); `run.sh` does that.
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Fixtures" / "interop"
VERIFIER = FIXTURES / "verifier"
RESULTS = ROOT / "docs" / "vllm-matrix.json"
DOC = ROOT / "docs" / "vllm.md"
SMOKE_THRESHOLD = 0.5   # acceptance a correct eagle3 conversion must reach in the smoke test


# ----------------------------------------------------------------------------------------------
# Faults: each edits a copy of a correct conversion in place.
# ----------------------------------------------------------------------------------------------

def edit_tensors(directory: Path, edit) -> None:
    path = directory / "model.safetensors"
    tensors = load_file(str(path))
    edit(tensors)
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata={"format": "pt"})


def edit_config(directory: Path, edit) -> None:
    path = directory / "config.json"
    config = json.loads(path.read_text())
    edit(config)
    path.write_text(json.dumps(config, indent=2) + "\n")


def drop_manifest(directory: Path) -> None:
    """A hand-edited checkpoint no longer matches its audit manifest; verify would say so for
    every fault. The matrix judges the fault itself, so the manifest goes."""
    (directory / "speculators-manifest.json").unlink(missing_ok=True)


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def random_embed(t):
    w = t["embed_tokens.weight"]
    t["embed_tokens.weight"] = (torch.randn(w.shape, generator=seeded(1)) * w.float().std()).to(w.dtype)


def permute_lm_head(t):
    w = t["lm_head.weight"]
    t["lm_head.weight"] = w[torch.randperm(w.shape[0], generator=seeded(2))]


def swap_qkv_halves(t):
    for name in ("q_proj", "k_proj", "v_proj"):
        key = f"layers.0.self_attn.{name}.weight"
        w = t[key]
        half = w.shape[1] // 2
        t[key] = torch.cat([w[:, half:], w[:, :half]], dim=1)


def zero_d2t(t):
    t["d2t"] = torch.zeros_like(t["d2t"])


def absolute_d2t(t):
    t["d2t"] = t["d2t"] + torch.arange(t["d2t"].shape[0], dtype=t["d2t"].dtype)


def int32_d2t(t):
    t["d2t"] = t["d2t"].to(torch.int32)


def drop(*names):
    def edit(t):
        for name in list(t):
            if any(name == n or name.startswith(n + ".") for n in names):
                del t[name]
    return edit


def reorder_fc_blocks(t):
    w = t["fc.weight"]
    blocks = list(w.chunk(3, dim=1))
    t["fc.weight"] = torch.cat([blocks[2], blocks[0], blocks[1]], dim=1)


def inf_weight(t):
    w = t["layers.0.self_attn.o_proj.weight"].clone()
    w[0, 0] = float("inf")
    t["layers.0.self_attn.o_proj.weight"] = w


def set_key(key, value):
    def edit(c):
        c[key] = value
    return edit


def delete_key(key):
    def edit(c):
        c.pop(key, None)
    return edit


def flip_norm_before_residual(c):
    c["norm_before_residual"] = not c.get("norm_before_residual", True)


def draft_vocab_as_vocab(c):
    c["transformer_layer_config"]["vocab_size"] = c["draft_vocab_size"]


# ----------------------------------------------------------------------------------------------
# Cases
# ----------------------------------------------------------------------------------------------

AUX = '{"eagle_aux_hidden_state_layer_ids": [1, 3, 4]}'

# name -> (source fixture, algorithm, kwargs JSON or None)
CONVERSIONS = {
    "eagle3-bin": ("eagle3-bin", "eagle3", AUX),
    "eagle3-bin-noaux": ("eagle3-bin", "eagle3", None),
    "eagle3-specforge": ("eagle3-specforge", "eagle3", None),
    "eagle3-2layer": ("eagle3-2layer", "eagle3", None),
    "eagle3-qwen3": ("eagle3-qwen3", "eagle3", None),
    "eagle31-norm-before-fc": ("eagle31-norm-before-fc", "eagle3", None),
    "eagle31-fc-norm": ("eagle31-fc-norm", "eagle3", None),
    "dflash": ("dflash", "dflash", None),
    "eagle-eagle1": ("eagle1", "eagle", None),
    "eagle-hass-bias": ("hass-bias", "eagle", None),
    "eagle-hass-layernorms": ("hass-layernorms", "eagle", None),
}

EAGLE3 = {"method": "eagle3", "num_speculative_tokens": 3}
EAGLE = {"method": "eagle", "num_speculative_tokens": 3}

# Output kinds: (name, label, conversion or raw fixture, how vLLM is asked to serve it)
#   serve: "model" = LLM(model=DIR) as `vllm serve DIR`; a dict = LLM(model=verifier,
#   speculative_config=dict + {"model": DIR}).
KINDS = [
    ("eagle3-bin", "eagle3 from a SafeAILab `.bin` without embeddings (aux ids given)", "eagle3-bin", "model"),
    ("eagle3-specforge", "eagle3 from SpecForge safetensors with embeddings", "eagle3-specforge", "model"),
    ("eagle3-2layer", "eagle3 with two decoder layers", "eagle3-2layer", "model"),
    ("eagle3-qwen3", "Qwen3-style eagle3 (q_norm/k_norm)", "eagle3-qwen3", "model"),
    ("eagle31-norm-before-fc", "EAGLE-3.1 eagle3 with `norm_before_fc` (`input_norm.weight`) and `norm_output`",
     "eagle31-norm-before-fc", "model"),
    ("eagle31-fc-norm", "EAGLE-3.1 eagle3 with `fc_norm` (`fc_norm.{j}.weight`)", "eagle31-fc-norm", "model"),
    ("dflash", "dflash from a z-lab DFlash draft (Qwen3 layer, no embedding or head)", "dflash", "model"),
    ("eagle3-explicit", "eagle3, `--speculative-config` with `method: eagle3`", "eagle3-specforge", EAGLE3),
    ("eagle3-no-method", "eagle3, `--speculative-config` without `method` (directory name without \"eagle\")",
     "eagle3-specforge", {"num_speculative_tokens": 3}),
    ("eagle-eagle1", "speculators eagle from EAGLE-1", "eagle-eagle1", "model"),
    ("eagle-hass-bias", "speculators eagle from HASS with fusion bias", "eagle-hass-bias", "model"),
    ("eagle-hass-layernorms", "speculators eagle from HASS with layernorms", "eagle-hass-layernorms", "model"),
    ("raw-eagle1", "original EAGLE-1, `method: eagle`", "raw:eagle1", EAGLE),
    ("raw-hass-bias", "original HASS with fusion bias, `method: eagle`", "raw:hass-bias", EAGLE),
    ("raw-hass-layernorms", "original HASS with layernorms, `method: eagle`", "raw:hass-layernorms", EAGLE),
]

# Faults: (name, label, base conversion, tensor edit, config edit, numerical (the probe's))
FAULTS = [
    ("embed-random", "random `embed_tokens`", "eagle3-specforge", random_embed, None, True),
    ("lm-head-permuted", "`lm_head` rows permuted", "eagle3-specforge", permute_lm_head, None, True),
    ("qkv-halves-swapped", "embedding and hidden halves of q/k/v swapped", "eagle3-specforge",
     swap_qkv_halves, None, True),
    ("d2t-zero", "all-zero `d2t`", "eagle3-specforge", zero_d2t, None, False),
    ("vocab-size-draft", "`vocab_size` set to the draft vocabulary", "eagle3-specforge", None,
     draft_vocab_as_vocab, False),
    ("norm-before-residual-flipped", "`norm_before_residual` flipped", "eagle3-specforge", None,
     flip_norm_before_residual, True),
    ("fc-blocks-reordered", "`fc` column blocks reordered", "eagle3-specforge", reorder_fc_blocks, None, True),
    ("layer1-dropped", "`layers.1` dropped from a 2-layer draft", "eagle3-2layer", drop("layers.1"), None, False),
    ("aux-last-layer", "aux id 6 for 6 layers (the last layer's output)", "eagle3-specforge", None,
     set_key("eagle_aux_hidden_state_layer_ids", [2, 4, 6]), False),
    ("aux-out-of-range", "aux ids out of range ([2, 4, 7] for 6 layers)", "eagle3-specforge", None,
     set_key("eagle_aux_hidden_state_layer_ids", [2, 4, 7]), False),
    ("aux-repeated", "aux ids repeated ([2, 3, 3])", "eagle3-specforge", None,
     set_key("eagle_aux_hidden_state_layer_ids", [2, 3, 3]), False),
    ("aux-missing", "aux ids absent (vLLM's default taps (2, 3, 3) for 6 layers)", "eagle3-bin-noaux", None,
     None, False),
    ("t2d-missing", "`t2d` missing", "eagle3-specforge", drop("t2d"), None, False),
    ("d2t-absolute", "`d2t` holding absolute ids", "eagle3-specforge", absolute_d2t, None, False),
    ("d2t-int32", "`d2t` stored as int32", "eagle3-specforge", int32_d2t, None, False),
    ("embed-missing", "`embed_tokens` missing (vLLM shares the verifier's)", "eagle3-specforge",
     drop("embed_tokens"), None, False),
    ("inf-weight", "a float overflowed to inf (`o_proj`)", "eagle3-specforge", inf_weight, None, False),
    ("dflash-o-proj-bias-missing", "dflash with `attention_bias` but no `o_proj.bias` (vLLM's DFlash has one)",
     "dflash", drop("layers.0.self_attn.o_proj.bias"), None, False),
]


# Cases expected to fail past config validation (each then costs a fresh vLLM process).
RISKY = {"aux-missing", "aux-repeated", "aux-out-of-range", "eagle3-no-method", "vocab-size-draft",
         "d2t-absolute", "layer1-dropped", "inf-weight", "raw-hass-layernorms", "raw-hass-bias",
         "d2t-int32", "t2d-missing"}

# ----------------------------------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------------------------------

def run_speculators(binary: Path, args: list) -> subprocess.CompletedProcess:
    return subprocess.run([str(binary), *args], capture_output=True, text=True, cwd=ROOT)


def convert(binary: Path, work: Path, name: str) -> dict:
    source, algorithm, kwargs = CONVERSIONS[name]
    out = work / "conv" / name.replace("eagle", "draft")   # no "eagle" in the path: see KINDS
    args = ["convert", str(FIXTURES / source), "--algorithm", algorithm,
            "--verifier", str(VERIFIER), "--output-path", str(out)]
    if kwargs:
        args += ["--algorithm-kwargs", kwargs]
    done = run_speculators(binary, args)
    return {"dir": out, "exit": done.returncode, "stdout": done.stdout, "stderr": done.stderr}


def verify(binary: Path, directory: Path) -> dict:
    done = run_speculators(binary, ["verify", str(directory), "--verifier", str(VERIFIER),
                                    "--content", "--json"])
    result = {"exit": done.returncode, "errors": [], "warnings": []}
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        result["message"] = (done.stderr.strip().splitlines() or [""])[-1]
        return result
    for finding in report.get("findings", []):
        severity = finding.get("severity")
        entry = finding.get("id") or finding.get("check")
        if severity == "error":
            result["errors"].append(entry)
        elif severity == "warning":
            result["warnings"].append(entry)
    result["errors"] = sorted(set(result["errors"]))
    result["warnings"] = sorted(set(result["warnings"]))
    return result


ERROR_LINE = re.compile(r"((?:[A-Za-z_.]+Error|[A-Za-z_.]*Exception|AssertionError)\b.*)")


def root_cause(log: str) -> str:
    """The most specific error line in vLLM's log (worker tracebacks come before the wrapper's)."""
    skip = ("WorkerProc initialization failed", "Engine core initialization failed",
            "EngineDeadError", "EngineCore encountered an issue", "Tokenizer not available")
    lines = []
    for line in log.splitlines():
        if line.startswith("INTEROP-REPORT "):
            continue
        match = ERROR_LINE.search(line)
        if match and not any(s in line for s in skip):
            lines.append(match.group(1).strip())
    return lines[-1][:300] if lines else ""


def serve_batch(python: str, jobs: list, on_report) -> None:
    """Serves `jobs` ((name, model, speculative config or None)) in as few vLLM processes as
    possible: serve.py --batch stops after a failure that may leave engine state behind, and the
    remaining jobs go to a fresh process. `on_report(name, report)` receives each result."""
    pending = list(jobs)
    while pending:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump([{"name": n, "model": str(m), "speculative_config": s} for n, m, s in pending], handle)
            batch = handle.name
        cmd = [python, str(ROOT / "scripts" / "interop" / "serve.py"), "--batch", batch]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=3600)
        os.unlink(batch)
        log = done.stdout + "\n" + done.stderr
        seen = set()
        reports = [json.loads(line[len("INTEROP-REPORT "):]) for line in done.stdout.splitlines()
                   if line.startswith("INTEROP-REPORT ")]
        for index, report in enumerate(reports):
            name = report.pop("name")
            report.pop("outputs", None)
            report.pop("traceback", None)
            error = report.get("error") or ""
            # Only the job that ended the process can own the log's last traceback.
            if error and index == len(reports) - 1 and not error.startswith("ValidationError"):
                cause = root_cause(log)
                if cause and cause not in error:
                    report["root_cause"] = cause
            seen.add(name)
            on_report(name, report)
        if not seen:   # the process died before reporting: record it for the first job
            name = pending[0][0]
            on_report(name, {"loaded": False, "phase": "harness",
                             "error": f"runner exit {done.returncode}", "root_cause": root_cause(log)})
            seen.add(name)
        pending = [job for job in pending if job[0] not in seen]


def vllm_outcome(report: dict) -> str:
    """refused / crash / acceptance, as the matrix prints it."""
    if not report:
        return "not run"
    if report.get("phase") == "load":
        return "refused"
    if report.get("phase") in ("decode", "harness"):
        return "crash"
    if report.get("acceptance") is None:
        return "no drafts"
    return f"{report['accepted_tokens']}/{report['draft_tokens']}"


# ----------------------------------------------------------------------------------------------
# Rendering docs/vllm.md
# ----------------------------------------------------------------------------------------------

def cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def verdict(v: dict) -> str:
    if not v:
        return "not run"
    if v.get("message"):
        return f"exit {v['exit']}: {v['message']}"
    parts = [f"exit {v['exit']}"]
    if v["errors"]:
        parts.append("errors " + ", ".join(f"`{e}`" for e in v["errors"]))
    if v["warnings"]:
        parts.append("warnings " + ", ".join(f"`{w}`" for w in v["warnings"]))
    return "; ".join(parts)


def detail(report: dict) -> str:
    if report.get("error"):
        text = report.get("root_cause") or report["error"]
        text = text.split('", "')[0].replace("\\n", " ").replace("\n", " ")
        if "Expected one of" in text:   # vLLM prints its registry of updater functions
            text = text.split("Expected one of")[0] + "Expected one of: eagle3, peagle, dflash, dflash2, dspark"
        return text[:240]
    per = report.get("accepted_per_position")
    return f"per position {per}" if per else ""


def render(results: dict) -> str:
    version = results.get("vllm_version", "?")
    lines = [f"<!-- generated by scripts/interop/matrix.py from docs/vllm-matrix.json; vLLM {version} -->", ""]
    lines.append("### Output kinds")
    lines.append("")
    lines.append("| kind | loads | method vLLM chose | accepted / drafted | verify | vLLM's message or per-position acceptance |")
    lines.append("|---|---|---|---|---|---|")
    for name, label, _, _ in KINDS:
        r = results["cases"].get(name, {})
        v, s = r.get("verify", {}), r.get("vllm", {})
        loads = "yes" if s.get("loaded") else ("no" if s else "not run")
        if r.get("convert_error"):
            loads, v = "conversion failed", {"exit": r["convert_exit"], "message": r["convert_error"],
                                              "errors": [], "warnings": []}
        lines.append(f"| {cell(label)} | {loads} | {cell(s.get('method') or '-')} | {vllm_outcome(s)} "
                     f"| {cell(verdict(v))} | {cell(detail(s))} |")
    lines.append("")
    lines.append("### Conversion faults")
    lines.append("")
    lines.append("Each fault is applied to a correct conversion (accepted as in the table above), "
                 "which is then served with `LLM(model=DIR)`.")
    lines.append("")
    lines.append("| fault | vLLM | verify | seen by | vLLM's message or per-position acceptance |")
    lines.append("|---|---|---|---|---|")
    for name, label, base, _, _, numerical in FAULTS:
        r = results["cases"].get(name, {})
        v, s = r.get("verify", {}), r.get("vllm", {})
        seen = "probe (numerical)" if numerical else "static checks"
        lines.append(f"| {cell(label)} | {vllm_outcome(s)} | {cell(verdict(v))} | {seen} | {cell(detail(s))} |")
    lines.append("")
    return "\n".join(lines)


def write_doc(results: dict) -> None:
    begin, end = "<!-- matrix:begin -->", "<!-- matrix:end -->"
    text = DOC.read_text()
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    DOC.write_text(head + begin + "\n" + render(results) + end + tail)


# ----------------------------------------------------------------------------------------------

def build_case(binary: Path, work: Path, conversions: dict, name: str) -> tuple:
    """The directory for a case and how to serve it."""
    for kind, _, source, how in KINDS:
        if kind == name:
            if source.startswith("raw:"):
                return FIXTURES / source[4:], how, None
            return conversions[source]["dir"], how, conversions[source]
    for fault, _, base, tensor_edit, config_edit, _ in FAULTS:
        if fault == name:
            target = work / "faults" / fault
            shutil.copytree(conversions[base]["dir"], target)
            drop_manifest(target)
            if tensor_edit:
                edit_tensors(target, tensor_edit)
            if config_edit:
                edit_config(target, config_edit)
            return target, "model", conversions[base]
    raise SystemExit(f"unknown case {name}")


def save(results: dict, smoke: bool, names: list) -> None:
    """Writes this run's cases into the results file, keeping every other case as it is there."""
    if smoke:
        return
    merged = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"cases": {}}
    for name in names:
        if name in results["cases"]:
            merged["cases"][name] = results["cases"][name]
    if results.get("vllm_version"):
        merged["vllm_version"] = results["vllm_version"]
    RESULTS.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description="vLLM interop matrix")
    parser.add_argument("--speculators", type=Path, default=ROOT / ".build" / "debug" / "speculators")
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument("--verify-only", action="store_true")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--render-only", action="store_true")
    parser.add_argument("--missing", action="store_true", help="only cases vLLM has not judged yet")
    parser.add_argument("--jobs", type=int, default=2, help="vLLM engines at once")
    args = parser.parse_args()
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"cases": {}}
    if args.render_only:
        write_doc(results)
        return
    names = [k[0] for k in KINDS] + [f[0] for f in FAULTS]
    first = ["eagle3-specforge", "eagle-eagle1", "aux-missing", "raw-eagle1", "raw-hass-layernorms"]
    names = first + [n for n in names if n not in first]
    if args.smoke:
        names = ["eagle3-specforge", "eagle-eagle1"]
    elif args.only:
        names = [n for n in args.only.split(",") if n]
    elif args.missing:
        names = [n for n in names if "vllm" not in results["cases"].get(n, {})]
    work = Path(tempfile.mkdtemp(prefix="speculators-interop-"))
    try:
        conversions = {name: convert(args.speculators, work, name) for name in CONVERSIONS}
        jobs = []
        for name in names:
            directory, how, conv = build_case(args.speculators, work, conversions, name)
            entry = results["cases"].get(name, {}) if not args.smoke else {}
            if conv is not None and conv["exit"] != 0:
                entry = {"convert_exit": conv["exit"],
                         "convert_error": (conv["stderr"].strip().splitlines() or [""])[-1]}
                results["cases"][name] = entry
                print(f"{name}: conversion failed: {entry['convert_error']}", flush=True)
                continue
            entry.pop("convert_error", None)
            entry.pop("convert_exit", None)
            entry["verify"] = verify(args.speculators, directory)
            if conv is not None:
                entry["convert_stdout"] = [line for line in conv["stdout"].splitlines()
                                           if "vllm serve" in line or "not served" in line
                                           or "instead:" in line]
            results["cases"][name] = entry
            if args.verify_only:
                print(f"{name}: verify {verdict(entry['verify'])}", flush=True)
                continue
            speculative = None
            model = directory
            if how != "model":
                speculative = dict(how, model=str(directory))
                model = VERIFIER
            jobs.append((name, model, speculative))
        save(results, args.smoke, names)
        lock = threading.Lock()

        def on_report(name, report):
            with lock:
                entry = results["cases"][name]
                entry["vllm"] = report
                if report.get("vllm_version"):
                    results["vllm_version"] = report["vllm_version"]
                print(f"{name}: vLLM {vllm_outcome(report)} {detail(report)}; "
                      f"verify {verdict(entry['verify'])} ({report.get('seconds')} s)", flush=True)
                save(results, args.smoke, names)

        # Cases likely to crash an engine go to their own process(es), so the others share one.
        risky = [job for job in jobs if job[0] in RISKY]
        safe = [job for job in jobs if job[0] not in RISKY]
        groups = [g for g in (safe, risky) if g]
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            for future in [pool.submit(serve_batch, sys.executable, g, on_report) for g in groups]:
                future.result()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.smoke:
        good = results["cases"]["eagle3-specforge"]
        refused = results["cases"]["eagle-eagle1"]
        ok = True
        acceptance = good.get("vllm", {}).get("acceptance") or 0
        if acceptance < SMOKE_THRESHOLD or good["verify"]["exit"] != 0:
            print(f"smoke: eagle3 conversion acceptance {acceptance} (need >= {SMOKE_THRESHOLD}), "
                  f"verify exit {good['verify']['exit']}", file=sys.stderr)
            ok = False
        if refused.get("vllm", {}).get("phase") != "load" or refused["verify"]["exit"] != 1:
            print("smoke: speculators eagle was not refused by vLLM and by verify", file=sys.stderr)
            ok = False
        print("smoke: " + ("passed" if ok else "FAILED"))
        sys.exit(0 if ok else 1)
    write_doc(json.loads(RESULTS.read_text()))


if __name__ == "__main__":
    main()
