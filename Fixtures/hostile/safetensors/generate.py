#!/usr/bin/env python3
"""Writes the hostile safetensors fixtures in this directory and expected.json.

Standard library only; deterministic. Each case is a file (or a directory holding a sharded
checkpoint) that a strict reader must reject, mapped in expected.json to a substring of the
one-line error `speculators inspect` must print. Run from anywhere:
    python3 Fixtures/hostile/safetensors/generate.py
"""
import json
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def raw(header: bytes, data: bytes = b"", length=None) -> bytes:
    return struct.pack("<Q", len(header) if length is None else length) + header + data


def st(entries, data_len: int, metadata=None) -> bytes:
    """A file whose JSON header lists `entries` (name, dtype, shape, begin, end) in order."""
    parts = []
    if metadata is not None:
        parts.append('"__metadata__":' + json.dumps(metadata, separators=(",", ":")))
    for name, dtype, shape, begin, end in entries:
        parts.append(
            json.dumps(name) + ":" + json.dumps(
                {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}, separators=(",", ":")))
    return raw(("{" + ",".join(parts) + "}").encode(), bytes(data_len))


def good(names, metadata={"format": "pt"}) -> bytes:
    return st([(n, "F32", [1], 4 * i, 4 * i + 4) for i, n in enumerate(names)], 4 * len(names), metadata)


ONE = ("a", "F32", [1], 0, 4)
FILES = {
    "truncated.safetensors": (b"\x10\x00\x00", "file is 3 bytes, too small for the 8-byte header length"),
    "header-past-eof.safetensors": (raw(b"{}", length=4096), "header length 4096 runs past the end of the file"),
    "header-too-large.safetensors": (
        raw(b"{}", length=200_000_000), "header length 200000000 exceeds the 100000000-byte limit"),
    "empty-header.safetensors": (raw(b""), "header is not valid JSON: unexpected end of JSON"),
    "overlapping-offsets.safetensors": (
        st([("a", "F32", [2], 0, 8), ("b", "F32", [1], 4, 8)], 8),
        "data_offsets [4, 8] overlap tensor 'a', which ends at byte 8"),
    "gapped-offsets.safetensors": (
        st([ONE, ("b", "F32", [2], 8, 16)], 16), "data_offsets [8, 16] leave a gap after byte 4"),
    "nonzero-start.safetensors": (st([("a", "F32", [1], 4, 8)], 8), "data_offsets [4, 8] leave a gap after byte 0"),
    "size-mismatch.safetensors": (
        st([("a", "F32", [2, 3], 0, 20)], 20), "shape [2, 3] of F32 needs 24 bytes but data_offsets [0, 20] span 20"),
    "shape-overflow.safetensors": (
        st([("a", "F32", [4294967296, 4294967296], 0, 4)], 4),
        "shape [4294967296, 4294967296] of F32 overflows the element count"),
    "sub-byte-remainder.safetensors": (
        st([("a", "F4", [3], 0, 2)], 2), "shape [3] of F4 is 12 bits, not a whole number of bytes"),
    "duplicate-name.safetensors": (
        raw(b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
            b'"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}', bytes(4)),
        "duplicate tensor name 'a'"),
    "non-utf8-header.safetensors": (
        raw(b'{"\xff":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', bytes(4)), "header is not valid UTF-8"),
    "nul-padded-header.safetensors": (
        raw(b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}\x00\x00\x00\x00', bytes(4)),
        "header is padded with NUL bytes"),
    "trailing-bytes.safetensors": (st([ONE], 5), "1 trailing byte after the tensor data"),
    "truncated-data.safetensors": (st([ONE], 3), "(the file is truncated)"),
    "metadata-not-string.safetensors": (
        st([ONE], 4, {"format": "pt", "version": 2}), "__metadata__ value for 'version' is 2, not a string"),
    "tensor-named-metadata.safetensors": (
        st([("__metadata__", "F32", [1], 0, 4)], 4), "a tensor may not be named '__metadata__'"),
    "unknown-dtype.safetensors": (st([("a", "F128", [1], 0, 16)], 16), "unknown dtype 'F128'"),
    "negative-dimension.safetensors": (st([("a", "F32", [-1], 0, 4)], 4), "shape[0] is -1, not a non-negative integer"),
    "root-array.safetensors": (raw(b"[]"), "header is an array, not an object"),
    "legacy-pickle.bin": (
        bytes([0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]),
        "legacy (pre-1.6) PyTorch format is not supported; re-save with torch>=1.6"),
}

S1 = "model-00001-of-00002.safetensors"
S2 = "model-00002-of-00002.safetensors"
DIRECTORIES = {
    "shard-dotdot": (
        {S1: good(["a"]), "model.safetensors.index.json": {"a": S1, "b": "../outside.safetensors"}},
        "shard name \"../outside.safetensors\" contains a '..' component"),
    "shard-absolute": (
        {S1: good(["a"]), "model.safetensors.index.json": {"a": S1, "b": "/tmp/model.safetensors"}},
        "shard name \"/tmp/model.safetensors\" is an absolute path"),
    "shard-missing": (
        {S1: good(["a"]), "model.safetensors.index.json": {"a": S1, "b": S2}},
        f"shard '{S2}' listed in the index does not exist"),
    "shard-wrong": (
        {S1: good(["a"]), S2: good(["b", "c"]), "model.safetensors.index.json": {"a": S1, "b": S1, "c": S2}},
        f"index places the tensor in '{S1}' but it is stored in '{S2}'"),
    "shard-unindexed": (
        {S1: good(["a"]), S2: good(["b", "extra"]), "model.safetensors.index.json": {"a": S1, "b": S2}},
        f"tensor is in shard '{S2}' but missing from the index"),
}


def main():
    for entry in os.listdir(HERE):
        path = os.path.join(HERE, entry)
        if entry in ("generate.py", "README.md"):
            continue
        shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
    expected = {}
    for name, (content, message) in FILES.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(content)
        expected[name] = message
    for name, (files, message) in DIRECTORIES.items():
        os.makedirs(os.path.join(HERE, name))
        for file, content in files.items():
            if file.endswith(".index.json"):
                content = (json.dumps({"metadata": {"total_size": 0}, "weight_map": content}, indent=2,
                                      sort_keys=True) + "\n").encode()
            with open(os.path.join(HERE, name, file), "wb") as f:
                f.write(content)
        expected[name] = message
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
