"""Runs each benchmark case against its peer in the same run and prints medians and ratios.

Usage: python bench/bench.py --work DIR --binary PATH [--peer-python PATH] [--reps N] [--only CASE]

Each command is run as a whole process N times (after one unmeasured warm-up), alternating ours
and the peer's so that drift in machine speed affects both alike. Wall time comes from a
monotonic clock around the process; peak RSS from the kernel's accounting of that child
(wait4 ru_maxrss). Medians are reported, with ratios peer/ours (> 1 means we are faster).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time


def run_once(argv, cwd=None):
    """Runs argv, discarding output; returns (wall seconds, peak RSS bytes, exit status)."""
    start = time.monotonic()
    with open(os.devnull, "wb") as sink:
        process = subprocess.Popen(argv, stdout=sink, stderr=sink, cwd=cwd)
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss * 1024, process.returncode


def measure(label, argv, reps, prepare=None):
    """Median wall time and peak RSS of `argv` over `reps` runs after one warm-up."""
    walls, peaks, statuses = [], [], []
    for index in range(reps + 1):
        if prepare:
            prepare()
        wall, peak, status = run_once(argv)
        if index == 0:
            continue
        walls.append(wall)
        peaks.append(peak)
        statuses.append(status)
    return {"label": label, "wall": statistics.median(walls), "min": min(walls), "max": max(walls),
            "rss": max(peaks), "status": sorted(set(statuses))}


def fmt_bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def report(case, ours, peers, size_bytes):
    print(f"\n## {case}" + (f"  ({fmt_bytes(size_bytes)} read)" if size_bytes else ""))
    print(f"{'command':<44} {'median s':>9} {'min':>7} {'max':>7} {'peak RSS':>10} {'exit':>6} {'peer/ours':>10}")
    for row in [ours] + peers:
        ratio = row["wall"] / ours["wall"] if row is not ours and ours["wall"] > 0 else None
        print(f"{row['label']:<44} {row['wall']:>9.3f} {row['min']:>7.3f} {row['max']:>7.3f} "
              f"{fmt_bytes(row['rss']):>10} {','.join(map(str, row['status'])):>6} "
              f"{(f'{ratio:.2f}x' if ratio else ''):>10}")
    if size_bytes and ours["wall"] > 0:
        print(f"ours: {size_bytes / ours['wall'] / 1e9:.2f} GB/s over the bytes read")


def files_under(path, suffixes):
    found = []
    for root, _, names in os.walk(path):
        for name in sorted(names):
            if name.endswith(suffixes):
                found.append(os.path.join(root, name))
    return sorted(found)


def size_of(paths):
    return sum(os.path.getsize(p) for p in paths)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--peer-python", default=None)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--only", action="append", default=None)
    args = parser.parse_args()

    work, ours, reps = os.path.abspath(args.work), os.path.abspath(args.binary), args.reps
    out = os.path.join(work, "out")
    os.makedirs(out, exist_ok=True)
    peer_cli = None
    if args.peer_python:
        candidate = os.path.join(os.path.dirname(args.peer_python), "speculators")
        if os.path.exists(candidate):
            peer_cli = candidate
    print(f"machine: {os.cpu_count()} cores; reps: {reps} (+1 warm-up); binary: {ours}")
    if not peer_cli:
        print("peer: Python reference converter unavailable (convert cases show only cp)")

    def wanted(case):
        return args.only is None or case in args.only

    def clean(path):
        return lambda: shutil.rmtree(path, ignore_errors=True)

    verifier = os.path.join(work, "verifier")
    for algorithm in ("eagle1", "eagle3"):
        case = f"convert-{algorithm}"
        if not wanted(case):
            continue
        source = os.path.join(work, algorithm)
        flag = "eagle" if algorithm == "eagle1" else "eagle3"
        target = os.path.join(out, f"ours-{algorithm}")
        mine = measure("speculators convert (Swift)",
                       [ours, "convert", source, "--algorithm", flag, "--verifier", verifier,
                        "--output-path", target, "--force"], reps)
        peers = []
        if peer_cli:
            peer_target = os.path.join(out, f"peer-{algorithm}")
            peers.append(measure("speculators convert (Python 0.1.0)",
                                 [peer_cli, "convert", source, "--algorithm", flag, "--verifier", verifier,
                                  "--output-path", peer_target], reps, prepare=clean(peer_target)))
        read = [os.path.join(source, "pytorch_model.bin")]
        if algorithm == "eagle3":
            read.append(os.path.join(verifier, "model-00001-of-00002.safetensors"))
        copy_target = os.path.join(out, f"cp-{algorithm}")
        os.makedirs(copy_target, exist_ok=True)
        peers.append(measure("cp of the source bytes", ["cp", "--"] + read + [copy_target], reps))
        report(case, mine, peers, size_of(read))

    if wanted("inspect"):
        headers = os.path.join(work, "headers")
        mine = measure("speculators inspect --json (Swift)", [ours, "inspect", "--json", headers], reps)
        peers = []
        if args.peer_python:
            script = ("import sys,glob\nfrom safetensors import safe_open\nn=0\n"
                      "for f in sorted(glob.glob(sys.argv[1]+'/*.safetensors')):\n"
                      " with safe_open(f,'numpy') as h:\n"
                      "  for k in h.keys(): h.get_slice(k).get_shape(); n+=1\nprint(n)\n")
            peers.append(measure("Python safetensors listing", [args.peer_python, "-c", script, headers], reps))
        report("inspect (100,000 tensors, 50 shards)", mine, peers, 0)

    if wanted("hash"):
        shards = files_under(verifier, (".safetensors",))
        size = size_of(shards)
        sha256sum = measure("sha256sum, file after file", ["sha256sum"] + shards, reps)
        xxhsum = measure("xxhsum -H2 (XXH3-128), file after file", ["xxhsum", "-H2"] + shards, reps) \
            if shutil.which("xxhsum") else None
        cases = [
            ("hash: SHA-256 of files + XXH3-128 of tensors", [], [sha256sum]),
            ("hash: SHA-256 of files", ["--files-only"], [sha256sum]),
            ("hash: XXH3-128 of files", ["--files-only", "--algorithm", "xxh3"], [xxhsum]),
            ("hash: XXH3-128 of tensors", ["--tensors-only"], [xxhsum]),
        ]
        for title, flags, peers in cases:
            mine = measure(f"speculators hash {' '.join(flags)}".strip(), [ours, "hash", verifier] + flags, reps)
            report(f"{title} (verifier shards)", mine, [p for p in peers if p], size)

    converted = os.path.join(out, "ours-eagle3")
    if wanted("verify") and os.path.isdir(converted):
        data = files_under(converted, (".safetensors",))
        mine = measure("speculators verify --manifest --content (Swift)",
                       [ours, "verify", converted, "--verifier", verifier, "--manifest", "--content"], reps)
        peers = [measure("cat > /dev/null", ["cat"] + data, reps)]
        report("verify (EAGLE-3 conversion)", mine, peers, size_of(data))

    if wanted("diff") and os.path.isdir(converted):
        twin = os.path.join(out, "ours-eagle3-twin")
        if not os.path.isdir(twin):
            shutil.copytree(converted, twin)
        data = files_under(converted, (".safetensors",)) + files_under(twin, (".safetensors",))
        mine = measure("speculators diff --values (Swift)", [ours, "diff", "--values", converted, twin], reps)
        peers = [measure("cat > /dev/null", ["cat"] + data, reps)]
        report("diff (two EAGLE-3 conversions)", mine, peers, size_of(data))


if __name__ == "__main__":
    sys.exit(main())
