#!/usr/bin/env python3
"""Writes the good PyTorch zip fixtures in Fixtures/torch/ with real torch.save, plus
Fixtures/torch/expected.json (per file, per tensor: safetensors dtype, shape, layout kind and
SHA-256 of the dense little-endian C-order bytes).

Run with the reference venv (torch 2.13 CPU):  /work/pyref/bin/python scripts/make_torch_fixtures.py
Swift tests read the committed outputs; they never need torch.

Files:
  dtypes.pt        one tensor per dtype with a legacy storage class (v2 rebuild)
  views.pt         transposed view, slice views with storage offsets, shared storage between two
                   names, an expanded (stride 0) view, a 0-d scalar, an empty tensor
  module.pt        nn.Module.state_dict() (OrderedDict + BUILD with _metadata, 0-d LongStorage)
  fp8.pt           float8_e4m3fn / float8_e5m2 / uint16 tensors (v3 rebuild, UntypedStorage)
  parameter.pt     a dict holding nn.Parameter objects (_rebuild_parameter)
  wrapped.pt       {"state_dict": {...}, "epoch": 3} (one wrapper level is unwrapped)
  buffer.pt        saved to a BytesIO, so the archive prefix is "archive/"
  bigendian.pt     views.pt's content with byteorder "big" and byte-swapped records (the zip
                   is rewritten with zipfile ZIP_STORED; torch.load reads it back to check)
  protocol1.pt, protocol4.pt, protocol5.pt
                   one small state dict saved with torch.save(..., pickle_protocol=N)
  golden-ex.pt     is NOT written here: it is a committed base64 file written by torch.save.
"""

import collections
import hashlib
import io
import json
import os
import sys
import zipfile

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "torch")

SAFETENSORS_DTYPE = {
    torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32", torch.float64: "F64",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL", torch.complex64: "C64",
    torch.float8_e4m3fn: "F8_E4M3", torch.float8_e5m2: "F8_E5M2", torch.uint16: "U16",
}


def dense_bytes(tensor):
    """The tensor's dense C-order bytes (this machine is little-endian)."""
    flat = tensor.detach().contiguous().reshape(-1)
    if flat.numel() == 0:
        return b""
    return flat.view(torch.uint8).numpy().tobytes()


def is_contiguous_view(tensor):
    return tensor.numel() == 0 or tensor.is_contiguous()


def describe(state, layouts=None):
    """Expected entries for every tensor of a flat dict, in order."""
    out = []
    for name, tensor in state.items():
        if not isinstance(tensor, torch.Tensor):
            continue
        data = dense_bytes(tensor)
        layout = "contiguous" if is_contiguous_view(tensor) else "strided"
        if layouts and name in layouts:
            layout = layouts[name]
        out.append({
            "name": name,
            "dtype": SAFETENSORS_DTYPE[tensor.dtype],
            "shape": list(tensor.shape),
            "layout": layout,
            "sha256": hashlib.sha256(data).hexdigest(),
            "first_bytes": data[:8].hex(),
        })
    return out


def save(name, state):
    path = os.path.join(OUT, name)
    torch.save(state, path)
    return path


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    expected = {}

    base = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 4
    dtypes = collections.OrderedDict()
    dtypes["f16"] = (base * 3).to(torch.float16)
    dtypes["bf16"] = (base - 1).to(torch.bfloat16)
    dtypes["f32"] = base.clone()
    dtypes["f64"] = base.to(torch.float64) / 3
    dtypes["i64"] = torch.tensor([-(2**40), -1, 0, 7, 2**62], dtype=torch.int64)
    dtypes["i32"] = torch.tensor([-5, 100000, 3], dtype=torch.int32)
    dtypes["i16"] = torch.tensor([[-300, 2], [3, 30000]], dtype=torch.int16)
    dtypes["i8"] = torch.tensor([-128, 0, 127], dtype=torch.int8)
    dtypes["u8"] = torch.tensor([0, 200, 255], dtype=torch.uint8)
    dtypes["bool"] = torch.tensor([True, False, True, True])
    dtypes["c64"] = torch.tensor([1 + 2j, -3.5 + 0.25j], dtype=torch.complex64)
    save("dtypes.pt", dtypes)
    expected["dtypes.pt"] = describe(dtypes)

    grid = torch.arange(24, dtype=torch.float16).reshape(4, 6)
    shared = torch.linspace(-1, 1, 10, dtype=torch.float32)
    views = collections.OrderedDict()
    views["grid"] = grid
    views["grid_t"] = grid.t()                      # size (6,4) stride (1,6): strided
    views["grid_rows"] = grid[1:3]                  # contiguous, storage offset 6
    views["grid_block"] = grid[1:3, 2:5]            # strided, storage offset 8
    views["grid_col"] = grid[:, 5]                  # strided, offset 5, stride 6
    views["shared_a"] = shared
    views["shared_b"] = shared[4:9]                 # same storage, offset 4, contiguous
    views["expanded"] = torch.tensor([2.5]).expand(3, 5)   # stride (0, 0)
    views["scalar"] = torch.tensor(7, dtype=torch.int64)   # 0-d
    views["empty"] = torch.zeros(0, 3, dtype=torch.bfloat16)
    views["unit_dims"] = torch.arange(6, dtype=torch.int32).reshape(1, 6, 1)
    save("views.pt", views)
    expected["views.pt"] = describe(views)

    module = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.randn_like(parameter))
    module_state = module.state_dict()
    assert hasattr(module_state, "_metadata")
    save("module.pt", module_state)
    expected["module.pt"] = describe(module_state)

    fp8 = collections.OrderedDict()
    fp8["e4m3"] = torch.tensor([[0.5, -1.0, 2.0], [448.0, -0.0, 0.125]]).to(torch.float8_e4m3fn)
    fp8["e5m2"] = torch.tensor([1.0, -2.0, 57344.0]).to(torch.float8_e5m2)
    fp8["u16"] = torch.tensor([0, 1, 65535], dtype=torch.uint16)
    fp8["e4m3_t"] = fp8["e4m3"].t()
    save("fp8.pt", fp8)
    expected["fp8.pt"] = describe(fp8)

    parameters = {
        "weight": torch.nn.Parameter(torch.randn(2, 3)),
        "frozen": torch.nn.Parameter(torch.ones(2, dtype=torch.float16), requires_grad=False),
    }
    save("parameter.pt", parameters)
    expected["parameter.pt"] = describe(parameters)

    inner = collections.OrderedDict(fc=torch.randn(2, 2).to(torch.bfloat16), bias=torch.zeros(2))
    save("wrapped.pt", {"state_dict": inner, "epoch": 3, "note": "trained"})
    expected["wrapped.pt"] = describe(inner)

    buffer = io.BytesIO()
    buffered = {"x": torch.arange(5, dtype=torch.int16)}
    torch.save(buffered, buffer)
    with open(os.path.join(OUT, "buffer.pt"), "wb") as handle:
        handle.write(buffer.getvalue())
    expected["buffer.pt"] = describe(buffered)

    # torch.save writes pickle protocol 2 by default; pickle_protocol=N picks another one, and
    # those files are ordinary checkpoints (protocol 1: no PROTO opcode, BINPUT memo; 4 and 5:
    # FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL).
    for protocol in (1, 4, 5):
        state = collections.OrderedDict()
        state["fc.weight"] = (base * protocol).to(torch.float16)
        state["fc.bias"] = torch.arange(3, dtype=torch.float32) - protocol
        state["layers.0.norm.weight"] = torch.ones(4, dtype=torch.bfloat16)
        name = f"protocol{protocol}.pt"
        torch.save(state, os.path.join(OUT, name), pickle_protocol=protocol)
        expected[name] = describe(state)

    write_big_endian(os.path.join(OUT, "views.pt"), os.path.join(OUT, "bigendian.pt"), views)
    layouts = {name: "strided" for name, t in views.items() if t.element_size() > 1 and t.numel() > 0}
    expected["bigendian.pt"] = describe(views, layouts)

    for name in expected:
        check_round_trip(os.path.join(OUT, name), expected[name])
    with open(os.path.join(OUT, "expected.json"), "w") as handle:
        json.dump(expected, handle, indent=2, sort_keys=True)
        handle.write("\n")
    print(f"wrote {len(expected)} fixtures to {os.path.normpath(OUT)}")


def write_big_endian(source, target, state):
    """Copies a torch.save zip with byteorder 'big' and every storage record byte-swapped.

    torch.save numbers storages "0", "1", ... in order of first appearance while pickling, which
    for a flat dict is the order of its values; that gives each record's element size.
    """
    element_size_by_key = {}
    seen = {}
    for tensor in state.values():
        pointer = tensor.untyped_storage().data_ptr()
        if pointer not in seen:
            seen[pointer] = str(len(seen))
            element_size_by_key[seen[pointer]] = tensor.element_size()
    with zipfile.ZipFile(source) as archive, \
            zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as out:
        names = archive.namelist()
        prefix = names[0].split("/")[0]
        for name in names:
            data = archive.read(name)
            if name == f"{prefix}/byteorder":
                data = b"big"
            elif name.startswith(f"{prefix}/data/"):
                size = element_size_by_key[name.rsplit("/", 1)[1]]
                data = b"".join(data[i:i + size][::-1] for i in range(0, len(data), size))
            # A fixed timestamp keeps the file byte-identical from run to run.
            info = zipfile.ZipInfo(name.replace(prefix + "/", "bigendian/", 1), date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            out.writestr(info, data)


def check_round_trip(path, entries):
    """torch.load gives back the bytes recorded as expected (weights_only, except for protocol 1,
    whose text INT opcodes torch's weights-only unpickler does not take; these are our own files)."""
    loaded = torch.load(path, weights_only="protocol" not in os.path.basename(path))
    if "state_dict" in loaded and not isinstance(loaded["state_dict"], torch.Tensor):
        loaded = loaded["state_dict"]
    for entry in entries:
        data = dense_bytes(loaded[entry["name"]])
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            sys.exit(f"{path}: {entry['name']} does not round-trip through torch.load")


if __name__ == "__main__":
    main()
