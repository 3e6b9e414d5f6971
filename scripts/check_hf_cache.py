#!/usr/bin/env python3
"""Checks that a Hugging Face cache written by `speculators` is read by Python `huggingface_hub`.

Run with a Python that has huggingface_hub installed:

    python scripts/check_hf_cache.py --cache-dir DIR --repo org/name [--revision main] \
        --file config.json --file model.safetensors [--sha256 model.safetensors=<hex>]

It never touches the network (HF_HUB_OFFLINE=1 is set before huggingface_hub is imported) and:
  1. `scan_cache_dir(DIR)` must list the repository without warnings, with the revision's
     snapshot holding every --file;
  2. `hf_hub_download(repo, file, revision=..., cache_dir=DIR, local_files_only=True)` must
     return the snapshot path of every --file, whose bytes must have the --sha256 given;
  3. `snapshot_download(..., local_files_only=True)` must return the same snapshot folder.
Prints what it saw; exits 1 on the first disagreement, 0 when everything matches.
"""

import argparse
import hashlib
import os
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", required=True)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--revision", default="main")
    parser.add_argument("--file", action="append", required=True, dest="files")
    parser.add_argument("--sha256", action="append", default=[], help="name=<hex>")
    args = parser.parse_args()

    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    import huggingface_hub
    from huggingface_hub import hf_hub_download, scan_cache_dir, snapshot_download

    print("huggingface_hub", huggingface_hub.__version__)
    failures = []

    def check(condition, message):
        print(("ok   " if condition else "FAIL ") + message)
        if not condition:
            failures.append(message)

    info = scan_cache_dir(args.cache_dir)
    check(not info.warnings, "scan_cache_dir: no warnings %s" % [str(w) for w in info.warnings])
    repos = {r.repo_id: r for r in info.repos}
    check(args.repo in repos, "scan_cache_dir lists %s (found %s)" % (args.repo, sorted(repos)))
    if args.repo not in repos:
        return 1
    repo = repos[args.repo]
    print("     repo_type=%s size_on_disk=%d nb_files=%d refs=%s" % (
        repo.repo_type, repo.size_on_disk, repo.nb_files, sorted(repo.refs)))
    for revision in sorted(repo.revisions, key=lambda r: r.commit_hash):
        print("     revision %s refs=%s files=%s" % (
            revision.commit_hash, sorted(revision.refs), sorted(f.file_name for f in revision.files)))

    hashes = dict(item.split("=", 1) for item in args.sha256)
    snapshot = None
    for name in args.files:
        try:
            path = hf_hub_download(args.repo, name, revision=args.revision, cache_dir=args.cache_dir,
                                   local_files_only=True)
        except Exception as error:  # noqa: BLE001 - report whatever huggingface_hub raised
            check(False, "hf_hub_download(%s) raised %s: %s" % (name, type(error).__name__, error))
            continue
        snapshot = os.path.dirname(path) if "/" not in name else snapshot
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        check(os.path.islink(path) and os.path.exists(path),
              "hf_hub_download(%s) -> %s (symlink to %s)" % (name, path, os.readlink(path)
                                                             if os.path.islink(path) else "-"))
        if name in hashes:
            check(digest == hashes[name], "%s sha256 %s" % (name, digest))

    try:
        folder = snapshot_download(args.repo, revision=args.revision, cache_dir=args.cache_dir,
                                   local_files_only=True)
        check(snapshot is None or os.path.samefile(folder, snapshot),
              "snapshot_download(local_files_only=True) -> %s" % folder)
    except Exception as error:  # noqa: BLE001
        check(False, "snapshot_download raised %s: %s" % (type(error).__name__, error))

    print("%d check(s) failed" % len(failures) if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
