#!/usr/bin/env python3
"""Start-up time and size, side by side: the native binary against the Python tool.

Commands, taken in turn (A B C D A B C D ...) so drift hits all alike:
  ours  `speculators --version`, `speculators --help`, `speculators inspect <example draft>`
  peer  `speculators --help` of the Python package (speculators 0.9.0, `bash scripts/venv.sh ref09`)

Each is timed "cold" and "warm". Cold: before each run the page cache of that command's own
files is dropped with posix_fadvise(DONTNEED) -- the binary and the example for ours; every file
of the venv and of its Python installation for the peer -- so they are read from disk again;
the rest of the machine's cache (glibc, other processes' files) is left alone. Pages another
process holds mapped stay cached, so a cold peer figure is a lower bound when that venv is in
use elsewhere. Warm: the same command again, nothing dropped. Whole-process wall time from
spawn to exit, CPU time (user + system, the figure least moved by other load on the machine)
and peak RSS from wait4; medians of --reps runs.

Usage: bench/startup.py [--binary PATH] [--peer-venv DIR] [--reps N]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "Fixtures", "eagle3-bin")


def files_under(paths):
    for path in paths:
        if os.path.isfile(path):
            yield path
            continue
        for directory, _, names in os.walk(path):
            for name in names:
                full = os.path.join(directory, name)
                if os.path.isfile(full) and not os.path.islink(full):
                    yield full


def drop_cache(files):
    for path in files:
        try:
            descriptor = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(descriptor)


def run_once(argv):
    """Wall seconds, CPU seconds (user + system) and peak RSS (bytes) of one run; output
    discarded, failure is fatal."""
    with open(os.devnull, "wb") as sink:
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=sink, stderr=sink)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"startup: {' '.join(argv)} exited {process.returncode}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def tree_size(path):
    return sum(os.path.getsize(f) for f in files_under([path]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "speculators"))
    parser.add_argument("--peer-venv")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    venv = args.peer_venv or subprocess.run(
        ["bash", os.path.join(ROOT, "scripts", "venv.sh"), "ref09"],
        check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    peer_python = os.path.join(venv, "bin", "python")
    base_prefix = subprocess.run(
        [peer_python, "-c", "import sys; print(sys.base_prefix)"],
        check=True, capture_output=True, text=True).stdout.strip()
    peer_version = subprocess.run(
        [peer_python, "-c", "import importlib.metadata as m; print(m.version('speculators'))"],
        check=True, capture_output=True, text=True).stdout.strip()
    binary = os.path.abspath(args.binary)

    ours_files = [binary, EXAMPLE]
    peer_files = [venv, base_prefix]
    cases = [
        ("speculators --version", [binary, "--version"], ours_files),
        ("speculators --help", [binary, "--help"], ours_files),
        ("speculators inspect Fixtures/eagle3-bin", [binary, "inspect", EXAMPLE], ours_files),
        (f"Python speculators {peer_version} --help",
         [os.path.join(venv, "bin", "speculators"), "--help"], peer_files),
    ]
    file_lists = {id(files): list(files_under(files)) for _, _, files in cases}
    results = {name: {"cold": [], "warm": [], "cpu": [], "rss": []} for name, _, _ in cases}
    for name, argv, _ in cases:  # one untimed run each: every command works before timing
        run_once(argv)
    for _ in range(args.reps):
        for name, argv, files in cases:
            drop_cache(file_lists[id(files)])
            elapsed, _, rss = run_once(argv)
            results[name]["cold"].append(elapsed)
            results[name]["rss"].append(rss)
        for name, argv, _ in cases:
            elapsed, cpu, _ = run_once(argv)
            results[name]["warm"].append(elapsed)
            results[name]["cpu"].append(cpu)

    peer_name = cases[-1][0]
    peer_cold = statistics.median(results[peer_name]["cold"])
    peer_warm = statistics.median(results[peer_name]["warm"])
    peer_cpu = statistics.median(results[peer_name]["cpu"])
    print(f"reps {args.reps}, load average {os.getloadavg()[0]:.1f}")
    print("| command | cold median s (min-max) | warm median s (min-max) | warm CPU s |"
          " peak RSS MB | peer/ours cold | peer/ours warm | peer/ours CPU |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, _, _ in cases:
        cold, warm = results[name]["cold"], results[name]["warm"]
        cpu = statistics.median(results[name]["cpu"])
        rss = statistics.median(results[name]["rss"]) / 1e6
        ratio_cold = ratio_warm = ratio_cpu = ""
        if name != peer_name:
            ratio_cold = f"{peer_cold / statistics.median(cold):.0f}x"
            ratio_warm = f"{peer_warm / statistics.median(warm):.0f}x"
            ratio_cpu = f"{peer_cpu / max(cpu, 1e-3):.0f}x"
        print(f"| {name} | {statistics.median(cold):.3f} ({min(cold):.3f}-{max(cold):.3f}) |"
              f" {statistics.median(warm):.3f} ({min(warm):.3f}-{max(warm):.3f}) | {cpu:.3f} |"
              f" {rss:.0f} | {ratio_cold} | {ratio_warm} | {ratio_cpu} |")
    print(f"binary {binary}: {os.path.getsize(binary) / 1e6:.1f} MB")
    site = os.path.join(venv, "lib")
    print(f"Python tool's venv {venv}: {tree_size(site) / 1e6:.0f} MB under lib/"
          " (speculators and its dependencies: torch, transformers, ...)")


if __name__ == "__main__":
    main()
