#!/usr/bin/env python3
"""Writes the hostile config.json fixtures in this directory and expected.json.

Standard library only; deterministic. Each case is a directory holding a tiny valid
model.safetensors and a config.json that a strict reader must reject; expected.json maps the
directory to the error kind and a substring of the one-line error that `CheckpointReader.open`
throws and `speculators inspect` prints (exit status 2). Run from anywhere:
    python3 Fixtures/hostile/config/generate.py
"""
import json
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

HEADER = b'{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
HEADER += b" " * (-len(HEADER) % 8)
WEIGHTS = struct.pack("<Q", len(HEADER)) + HEADER + bytes(4)

CASES = {
    "deep-nesting": (b'{"text_config": ' + b"[" * 200 + b"]" * 200 + b"}", "malformed", "config is not valid JSON: nesting deeper than 128"),
    "deeper-nesting": (b"[" * 10_000, "malformed", "config is not valid JSON: nesting deeper than 128"),
    "duplicate-key": (b'{"hidden_size": 64, "hidden_size": 4096}', "malformed", 'config is not valid JSON: duplicate key "hidden_size"'),
    "duplicate-nested-key": (
        b'{"text_config": {"vocab_size": 512, "vocab_size": 128000}}', "malformed", 'config is not valid JSON: duplicate key "vocab_size"'),
    "huge-float": (b'{"rope_theta": 1e400}', "malformed", "config is not valid JSON"),
    "nan-literal": (b'{"rope_theta": NaN}', "malformed", "config is not valid JSON"),
    "infinity-literal": (b'{"rope_theta": -Infinity}', "malformed", "config is not valid JSON"),
    "non-utf8": (b'{"model_type": "llama\xff"}', "malformed", "config is not valid JSON"),
    "utf8-bom": (b'\xef\xbb\xbf{"model_type": "llama"}', "malformed", "config is not valid JSON"),
    "root-array": (b'[{"model_type": "llama"}]', "malformed", "config is an array, not an object"),
    "trailing-garbage": (b'{"model_type": "llama"} {"model_type": "evil"}', "malformed", "config is not valid JSON"),
    "comment": (b'{"model_type": "llama" /* evil */}', "malformed", "config is not valid JSON"),
    "single-quotes": (b"{'model_type': 'llama'}", "malformed", "config is not valid JSON"),
    "control-character": (b'{"model_type": "lla\x01ma"}', "malformed", "config is not valid JSON"),
    "nul-padded": (b'{"model_type": "llama"}' + bytes(16), "malformed", "config is not valid JSON"),
    "empty": (b"", "malformed", "config is not valid JSON"),
    "truncated": (b'{"model_type": "lla', "malformed", "config is not valid JSON"),
}


def main():
    for entry in os.listdir(HERE):
        path = os.path.join(HERE, entry)
        if entry in ("generate.py", "README.md"):
            continue
        shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
    expected = {}
    for name, (config, kind, message) in CASES.items():
        os.makedirs(os.path.join(HERE, name))
        with open(os.path.join(HERE, name, "config.json"), "wb") as f:
            f.write(config)
        with open(os.path.join(HERE, name, "model.safetensors"), "wb") as f:
            f.write(WEIGHTS)
        expected[name] = {"kind": kind, "message": message}
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
