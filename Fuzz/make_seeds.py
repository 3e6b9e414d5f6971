#!/usr/bin/env python3
"""Writes the fuzz seed corpora in Fuzz/corpus/<target>/ from the committed fixtures.

Standard library only; deterministic. Seeds are small (the whole corpus stays well under 1 MB):
- FuzzSafetensorsHeader: the hostile safetensors files, the headers of the real fixture files
  (their data cut off: the header is what is parsed), and a few small complete valid files;
- FuzzZipArchive: the hostile torch files and the small real torch.save files of Fixtures/torch;
- FuzzPickle: the data.pkl of every one of those archives and of the fixture drafts' .bin files;
- FuzzShardIndex: every *.index.json of the fixtures (hostile ones included) and a few variants;
- FuzzConfigJSON: every config.json of the fixtures (hostile ones included).
Inputs a fuzzer finds are not written here by default (scripts/fuzz.sh works on a temporary
copy); FUZZ_UPDATE_CORPUS=1 scripts/fuzz.sh merges them back. Run from anywhere:
    python3 Fuzz/make_seeds.py
"""
import glob
import json
import os
import shutil
import struct
import zipfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIXTURES = os.path.join(ROOT, "Fixtures")
CORPUS = os.path.join(ROOT, "Fuzz", "corpus")
MAX_SEED = 20_000


def safetensors(entries, metadata=None, pad=True):
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    data = b""
    for name, dtype, shape, size in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + size]}
        data += bytes(range(size % 256)) + bytes(size - size % 256)
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def main():
    shutil.rmtree(CORPUS, ignore_errors=True)
    seeds = {}

    def add(target, name, data):
        if len(data) <= MAX_SEED:
            seeds.setdefault(target, {})[name.replace("/", "_")] = data

    def read(path):
        with open(path, "rb") as handle:
            return handle.read()

    # safetensors
    for path in sorted(glob.glob(os.path.join(FIXTURES, "hostile", "safetensors", "**", "*.safetensors"),
                                 recursive=True)):
        add("FuzzSafetensorsHeader", "hostile-" + os.path.relpath(path, os.path.join(FIXTURES, "hostile")),
            read(path))
    for path in sorted(glob.glob(os.path.join(FIXTURES, "*", "*.safetensors"))):
        data = read(path)
        if data[:4] == b"PK\x03\x04":
            continue
        length = struct.unpack("<Q", data[:8])[0]
        add("FuzzSafetensorsHeader", "header-" + os.path.relpath(path, FIXTURES), data[:8 + length])
    add("FuzzSafetensorsHeader", "valid-dtypes", safetensors(
        [("b", "BOOL", [2], 2), ("f4", "F4", [4], 2), ("f8", "F8_E4M3", [3], 3), ("h", "F16", [2, 2], 8),
         ("bf", "BF16", [1, 3], 6), ("i", "I64", [], 8), ("empty", "F32", [0, 5], 0), ("c", "C64", [1], 8)],
        {"format": "pt", "note": "x"}))
    add("FuzzSafetensorsHeader", "valid-unpadded", safetensors([("w", "F32", [2], 8)], pad=False))
    add("FuzzSafetensorsHeader", "valid-no-metadata", safetensors([("a.weight", "U8", [3], 3)]))
    add("FuzzSafetensorsHeader", "valid-empty", safetensors([], {"format": "pt"}))

    # torch zips and their pickles
    def pickle_of(path):
        try:
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    if name.endswith("/data.pkl"):
                        info = archive.getinfo(name)
                        if info.compress_type == zipfile.ZIP_STORED:
                            data = read(path)
                            offset = info.header_offset
                            name_len, extra_len = struct.unpack("<HH", data[offset + 26:offset + 30])
                            start = offset + 30 + name_len + extra_len
                            return data[start:start + info.file_size]
        except (zipfile.BadZipFile, OSError, KeyError, struct.error):
            pass
        return None

    torch_files = sorted(glob.glob(os.path.join(FIXTURES, "hostile", "torch", "*.pt")))
    torch_files += sorted(glob.glob(os.path.join(FIXTURES, "torch", "*.pt")))
    for path in torch_files:
        label = os.path.relpath(path, FIXTURES)
        add("FuzzZipArchive", label, read(path))
        pickle = pickle_of(path)
        if pickle is not None:
            add("FuzzPickle", label + ".pkl", pickle)
    for path in sorted(glob.glob(os.path.join(FIXTURES, "*", "*.bin"))):
        pickle = pickle_of(path)
        if pickle is not None:
            add("FuzzPickle", os.path.relpath(path, FIXTURES) + ".pkl", pickle)

    # indexes and configs
    for path in sorted(glob.glob(os.path.join(FIXTURES, "**", "*.index.json"), recursive=True)):
        add("FuzzShardIndex", os.path.relpath(path, FIXTURES), read(path))
    add("FuzzShardIndex", "variant-unsorted",
        b'{"metadata":{"total_size":8},"weight_map":{"z":"model-00002-of-00002.safetensors",'
        b'"a":"model-00001-of-00002.safetensors"}}')
    add("FuzzShardIndex", "variant-escapes",
        b'{"weight_map":{"a\\u00e9\\n":"m\\u0030.safetensors","b":"m0.safetensors"},"metadata":null}')
    for path in sorted(glob.glob(os.path.join(FIXTURES, "**", "config.json"), recursive=True)):
        add("FuzzConfigJSON", os.path.relpath(path, FIXTURES), read(path))

    total = 0
    for target, files in sorted(seeds.items()):
        directory = os.path.join(CORPUS, target)
        os.makedirs(directory)
        for name, data in sorted(files.items()):
            with open(os.path.join(directory, name), "wb") as handle:
                handle.write(data)
            total += len(data)
        print(f"{target}: {len(files)} seeds, {sum(map(len, files.values()))} bytes")
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
