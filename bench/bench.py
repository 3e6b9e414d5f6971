"""Runs each benchmark case against its peer in the same run and prints medians and ratios.

Usage: python bench/bench.py --work DIR --binary PATH [--peer-python PATH] [--reps N] [--only CASE]

Each command is run as a whole process N times (after one unmeasured warm-up), taking ours and
the peers' in turn (A B A B ...) so that drift in machine speed affects all alike. Wall time
comes from a monotonic clock around the process; peak RSS from the kernel's accounting of that child
(wait4 ru_maxrss). Medians are reported, with ratios peer/ours (> 1 means we are faster).

Cases (--only, repeatable): convert-eagle1, convert-eagle3, scaling (EAGLE-3 convert at two
sizes: the slope of cost in bytes), inspect, hash, verify, diff, probe (`speculators probe`
against PyTorch + transformers, bench/probe_bench.py; needs --hf-python).
"""

import argparse
import json
import os
import shlex
import shutil
import statistics
import struct
import subprocess
import sys
import time


def run_once(argv, cwd=None, capture=False):
    """Runs argv, discarding its output (or, with capture, keeping its stdout); returns (wall
    seconds, peak RSS bytes, exit status, stdout bytes or None, CPU seconds: user + system)."""
    start = time.monotonic()
    with open(os.devnull, "wb") as sink:
        process = subprocess.Popen(argv, stdout=subprocess.PIPE if capture else sink, stderr=sink, cwd=cwd)
        output = process.stdout.read() if capture else None
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss * 1024, process.returncode, output, usage.ru_utime + usage.ru_stime


def measure(commands, reps, capture=False):
    """Times each (label, argv, prepare) command `reps` times after one warm-up each, taking the
    commands in turn (A B C A B C ...) so that drift in machine speed affects all alike.
    Returns one row per command: median, min and max wall time, median CPU time, peak RSS, exit
    statuses, every counted run's wall and CPU time (in round order), and with capture the stdout
    of every counted run."""
    walls = [[] for _ in commands]
    cpus = [[] for _ in commands]
    peaks = [[] for _ in commands]
    statuses = [set() for _ in commands]
    outputs = [[] for _ in commands]
    for round_index in range(reps + 1):
        for index, (_, argv, prepare) in enumerate(commands):
            if prepare:
                prepare()
            wall, peak, status, output, cpu = run_once(argv, capture=capture)
            if round_index == 0:
                continue
            walls[index].append(wall)
            cpus[index].append(cpu)
            peaks[index].append(peak)
            statuses[index].add(status)
            outputs[index].append(output)
    return [{"label": label, "wall": statistics.median(walls[i]), "min": min(walls[i]), "max": max(walls[i]),
             "cpu": statistics.median(cpus[i]), "walls": walls[i], "cpus": cpus[i],
             "rss": max(peaks[i]), "status": sorted(statuses[i]), "outputs": outputs[i]}
            for i, (label, _, _) in enumerate(commands)]


def fmt_bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def report(case, ours, peers, size_bytes):
    print(f"\n## {case}" + (f"  ({fmt_bytes(size_bytes)} read)" if size_bytes else ""))
    print(f"{'command':<50} {'median s':>9} {'min':>7} {'max':>7} {'peak RSS':>10} {'exit':>6} {'peer/ours':>10}")
    for row in [ours] + peers:
        ratio = row["wall"] / ours["wall"] if row is not ours and ours["wall"] > 0 else None
        print(f"{row['label']:<50} {row['wall']:>9.3f} {row['min']:>7.3f} {row['max']:>7.3f} "
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


def tensor_range(path, name):
    """The absolute (offset, length) of tensor `name`'s bytes in safetensors file `path`."""
    with open(path, "rb") as handle:
        header_length = struct.unpack("<Q", handle.read(8))[0]
        header = json.loads(handle.read(header_length))
    start, stop = header[name]["data_offsets"]
    return 8 + header_length + start, stop - start


def copy_command(files, ranges, target):
    """A shell command copying whole `files` with cp and (path, offset, length) `ranges` with dd:
    the bytes a conversion must read, copied by the system's own tools."""
    parts = [f"cp -- {' '.join(shlex.quote(f) for f in files)} {shlex.quote(target)}"]
    for index, (path, offset, length) in enumerate(ranges):
        parts.append(f"dd if={shlex.quote(path)} of={shlex.quote(os.path.join(target, f'range{index}'))} "
                     f"bs=4M iflag=skip_bytes,count_bytes skip={offset} count={length} status=none")
    return ["sh", "-c", " && ".join(parts)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--peer-python", default=None)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--hf-python", default=None)
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

    verifier = os.path.join(work, "verifier")
    embed_shard = os.path.join(verifier, "model-00001-of-00002.safetensors")

    def convert_command(algorithm, source, target):
        flag = "eagle" if algorithm == "eagle1" else "eagle3"
        return [ours, "convert", source, "--algorithm", flag, "--verifier", verifier, "--output-path", target]

    def fresh(path):
        """Every converter and copy writes into a new directory, removed before each run (outside
        the timing), so no run pays for deleting a previous output."""
        def prepare():
            shutil.rmtree(path, ignore_errors=True)
            os.makedirs(os.path.dirname(path), exist_ok=True)
        return prepare

    def fresh_directory(path):
        def prepare():
            fresh(path)()
            os.makedirs(path)
        return prepare

    def bytes_to_read(algorithm, source):
        """The files a conversion reads whole, and the byte ranges it reads of the verifier."""
        files = [os.path.join(source, "pytorch_model.bin")]
        ranges = []
        if algorithm == "eagle3":
            offset, length = tensor_range(embed_shard, "model.embed_tokens.weight")
            ranges.append((embed_shard, offset, length))
        return files, ranges

    for algorithm in ("eagle1", "eagle3"):
        case = f"convert-{algorithm}"
        if not wanted(case):
            continue
        source = os.path.join(work, algorithm)
        flag = "eagle" if algorithm == "eagle1" else "eagle3"
        target = os.path.join(out, f"ours-{algorithm}")
        commands = [("speculators convert (Swift)", convert_command(algorithm, source, target), fresh(target))]
        if peer_cli:
            peer_target = os.path.join(out, f"peer-{algorithm}")
            commands.append(("speculators convert (Python 0.1.0)",
                             [peer_cli, "convert", source, "--algorithm", flag, "--verifier", verifier,
                              "--output-path", peer_target], fresh(peer_target)))
        files, ranges = bytes_to_read(algorithm, source)
        copy_target = os.path.join(out, f"cp-{algorithm}")
        label = "cp of the draft" + (" + dd of the verifier embedding" if ranges else "")
        commands.append((label, copy_command(files, ranges, copy_target), fresh_directory(copy_target)))
        rows = measure(commands, reps)
        report(case, rows[0], rows[1:], size_of(files) + sum(length for _, _, length in ranges))

    if wanted("scaling"):
        # The same conversion (EAGLE-3, fp16 draft + bf16 verifier embedding) at two sizes.
        points = []
        for name in ("eagle3", "eagle3-3layer"):
            source = os.path.join(work, name)
            files, ranges = bytes_to_read("eagle3", source)
            target = os.path.join(out, f"ours-{name}")
            points.append((name, size_of(files) + sum(length for _, _, length in ranges),
                           (f"speculators convert {name}", convert_command("eagle3", source, target),
                            fresh(target))))
        rows = measure([command for _, _, command in points], reps)
        print("\n## scaling: convert EAGLE-3 at two sizes")
        for (name, size, _), row in zip(points, rows):
            print(f"{row['label']:<50} {fmt_bytes(size):>10} read {row['wall']:>8.3f} s "
                  f"({size / row['wall'] / 1e9:.2f} GB/s)")
        (_, small, _), (_, large, _) = points
        slope = (rows[1]["wall"] - rows[0]["wall"]) / ((large - small) / 1e9)
        intercept = rows[0]["wall"] - slope * small / 1e9
        print(f"slope: {slope:.3f} s per GB read ({1 / slope:.2f} GB/s marginal); "
              f"fixed cost at 0 bytes: {intercept:.3f} s")

    if wanted("inspect"):
        headers = os.path.join(work, "headers")
        commands = [("speculators inspect --json (Swift)", [ours, "inspect", "--json", headers], None),
                    ("speculators inspect (Swift, text)", [ours, "inspect", headers], None)]
        if args.peer_python:
            script = ("import sys,glob\nfrom safetensors import safe_open\nn=0\n"
                      "for f in sorted(glob.glob(sys.argv[1]+'/*.safetensors')):\n"
                      " with safe_open(f,'numpy') as h:\n"
                      "  for k in h.keys(): h.get_slice(k).get_shape(); n+=1\nprint(n)\n")
            commands.append(("Python safetensors listing", [args.peer_python, "-c", script, headers], None))
        rows = measure(commands, reps)
        report("inspect --json (100,000 tensors, 50 shards)", rows[0], rows[2:], 0)
        report("inspect, text (100,000 tensors, 50 shards)", rows[1], rows[2:], 0)

    if wanted("hash"):
        shards = files_under(verifier, (".safetensors",))
        cases = [
            ("hash: SHA-256 of files + XXH3-128 of tensors", [], "sha256sum"),
            ("hash: SHA-256 of files", ["--files-only"], "sha256sum"),
            ("hash: XXH3-128 of files", ["--files-only", "--algorithm", "xxh3"], "xxhsum"),
            ("hash: XXH3-128 of tensors", ["--tensors-only"], "xxhsum"),
        ]
        commands = [(f"speculators hash {' '.join(flags)}".strip(), [ours, "hash", verifier] + flags, None)
                    for _, flags, _ in cases]
        peers = {"sha256sum": ("sha256sum, file after file", ["sha256sum"] + shards, None)}
        if shutil.which("xxhsum"):
            peers["xxhsum"] = ("xxhsum -H2 (XXH3-128), file after file", ["xxhsum", "-H2"] + shards, None)
        rows = measure(commands + list(peers.values()), reps)
        peer_rows = dict(zip(peers, rows[len(commands):]))
        for (title, _, peer), mine in zip(cases, rows):
            report(f"{title} (verifier shards)", mine, [peer_rows[peer]] if peer in peer_rows else [],
                   size_of(shards))

    converted = os.path.join(out, "ours-eagle3")
    if wanted("verify") and os.path.isdir(converted):
        data = files_under(converted, (".safetensors",))
        rows = measure([("speculators verify --manifest --content (Swift)",
                         [ours, "verify", converted, "--verifier", verifier, "--manifest", "--content"], None),
                        ("cat > /dev/null", ["cat"] + data, None)], reps)
        report("verify (EAGLE-3 conversion)", rows[0], rows[1:], size_of(data))

    if wanted("diff") and os.path.isdir(converted):
        twin = os.path.join(out, "ours-eagle3-twin")
        if not os.path.isdir(twin):
            shutil.copytree(converted, twin)
        data = files_under(converted, (".safetensors",)) + files_under(twin, (".safetensors",))
        rows = measure([("speculators diff --values (Swift)", [ours, "diff", "--values", converted, twin], None),
                        ("cat > /dev/null", ["cat"] + data, None)], reps)
        report("diff (two EAGLE-3 conversions)", rows[0], rows[1:], size_of(data))

    if wanted("probe"):
        if args.hf_python and os.path.isdir(os.path.join(work, "probe-draft")):
            import probe_bench
            probe_bench.run(work, ours, args.hf_python, reps, measure, run_once)
        else:
            print("\n## probe: skipped (needs --hf-python, the transformers environment, and its inputs)")


if __name__ == "__main__":
    sys.exit(main())
