#!/usr/bin/env python3
"""Writes a platform wheel that installs the native `speculators` binary as a command.

The standard wheel layout (PEP 427 / the binary distribution format spec), written with the
standard library only:

    <dist>-<version>.dist-info/METADATA, WHEEL, RECORD   (RECORD: sha256 of every file)
    <dist>-<version>.data/scripts/speculators             (mode 0755; pip puts it in bin/)

The binary holds no Python code, so the tag is `py3-none-<platform>`; the platform tag
(e.g. `manylinux_2_34_x86_64`) is computed by scripts/package.sh from the binary's symbol
versions and given here. Prints the path of the wheel it wrote.

Usage: make_wheel.py --binary PATH --version V --platform-tag TAG --out-dir DIR [--readme FILE]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import sys
import zipfile

DISTRIBUTION = "speculators-native"
COMMAND = "speculators"
SUMMARY = (
    "Native speculators CLI: convert, inspect, verify, diff and hash speculative-decoding "
    "draft checkpoints (one self-contained binary, no Python at run time)"
)
# A fixed timestamp so the same binary gives the same wheel bytes.
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


def record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def metadata(version: str, readme: str | None) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {DISTRIBUTION}",
        f"Version: {version}",
        f"Summary: {SUMMARY}",
        "Classifier: Environment :: Console",
        "Classifier: Operating System :: POSIX :: Linux",
        "Classifier: Programming Language :: Swift",
    ]
    text = "\n".join(lines) + "\n"
    if readme:
        text += "Description-Content-Type: text/markdown\n\n" + readme
    return text


def wheel_file(tag: str) -> str:
    return (
        "Wheel-Version: 1.0\n"
        "Generator: speculators scripts/make_wheel.py\n"
        "Root-Is-Purelib: false\n"
        f"Tag: {tag}\n"
    )


def add(archive: zipfile.ZipFile, records: list, name: str, data: bytes, mode: int) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o100000 | mode) << 16  # a regular file with these permissions
    archive.writestr(info, data, compresslevel=9)
    records.append(f"{name},{record_hash(data)},{len(data)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--platform-tag", required=True)
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--readme")
    args = parser.parse_args()

    if not re.fullmatch(r"[0-9]+(\.[0-9]+)*([a-z0-9.+-]*)", args.version):
        print(f"make_wheel: version '{args.version}' is not a PEP 440 version", file=sys.stderr)
        return 2
    if not re.fullmatch(r"[a-z0-9_]+", args.platform_tag):
        print(f"make_wheel: platform tag '{args.platform_tag}' is malformed", file=sys.stderr)
        return 2
    stem = DISTRIBUTION.replace("-", "_") + "-" + args.version
    tag = f"py3-none-{args.platform_tag}"
    with open(args.binary, "rb") as handle:
        binary = handle.read()
    readme = None
    if args.readme:
        with open(args.readme, encoding="utf-8") as handle:
            readme = handle.read()

    os.makedirs(args.out_dir, exist_ok=True)
    path = os.path.join(args.out_dir, f"{stem}-{tag}.whl")
    temporary = path + ".partial"
    records: list[str] = []
    with zipfile.ZipFile(temporary, "w") as archive:
        add(archive, records, f"{stem}.data/scripts/{COMMAND}", binary, 0o755)
        add(archive, records, f"{stem}.dist-info/METADATA",
            metadata(args.version, readme).encode("utf-8"), 0o644)
        add(archive, records, f"{stem}.dist-info/WHEEL", wheel_file(tag).encode("utf-8"), 0o644)
        record_name = f"{stem}.dist-info/RECORD"
        records.append(f"{record_name},,")
        info = zipfile.ZipInfo(record_name, date_time=ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o100644 << 16
        archive.writestr(info, "\n".join(records) + "\n")
    os.replace(temporary, path)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
