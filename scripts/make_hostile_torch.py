#!/usr/bin/env python3
"""Writes the hostile PyTorch corpus in Fixtures/hostile/torch/ and its expected.json
(file -> error kind and message substring the Swift TorchZipReader must report).

Pickles are assembled opcode by opcode and zips written with zipfile.ZIP_STORED (then patched
where a test needs a broken container). Nothing here is ever unpickled or passed to torch:
several files would run commands if they were. Needs only the Python standard library.

    python3 scripts/make_hostile_torch.py
"""

import json
import os
import struct
import zipfile
import zlib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "hostile", "torch")
# Valid archives whose tensors are views with unusual strides (stride 0 from expand, transposed,
# overlapping, offsets at the storage end), and EAGLE drafts holding such views.
STRIDES_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "hostile", "strides")

SIX_FLOATS = struct.pack("<6f", 1, 2, 3, 4, 5, 6)

# What a payload would run if anything ever executed it: it creates a file named "pwned" in the
# working directory, which the command-level tests (run in an empty directory) would see.
SHELL_PAYLOAD = "touch pwned"
PYTHON_PAYLOAD = "__import__('os').system('touch pwned')"


def payload_for(module, attribute):
    """The argument that makes module.attribute(argument) leave the "pwned" file."""
    if (module, attribute) in (("builtins", "eval"), ("builtins", "exec"), ("__builtin__", "eval"),
                               ("builtins", "compile")):
        return PYTHON_PAYLOAD
    return SHELL_PAYLOAD


class Pickle:
    """Emits protocol-2 pickle opcodes; `offset` is where the next opcode will start."""

    def __init__(self, proto=True):
        self.data = bytearray()
        if proto:
            self.raw(b"\x80\x02")

    @property
    def offset(self):
        return len(self.data)

    def raw(self, data):
        self.data += data
        return self

    def op(self, name):
        codes = {
            "MARK": b"(", "STOP": b".", "TUPLE": b"t", "TUPLE1": b"\x85", "TUPLE2": b"\x86",
            "EMPTY_TUPLE": b")", "EMPTY_DICT": b"}", "EMPTY_LIST": b"]", "SETITEM": b"s",
            "SETITEMS": b"u", "APPEND": b"a", "REDUCE": b"R", "BUILD": b"b", "BINPERSID": b"Q",
            "NEWFALSE": b"\x89", "NEWTRUE": b"\x88", "NONE": b"N", "STACK_GLOBAL": b"\x93",
            "MEMOIZE": b"\x94",
        }
        return self.raw(codes[name])

    def proto(self, version=2):
        return self.raw(bytes([0x80, version]))

    def global_(self, module, name):
        return self.raw(b"c" + module.encode() + b"\n" + name.encode() + b"\n")

    def string(self, text):
        encoded = text.encode()
        return self.raw(b"X" + struct.pack("<I", len(encoded)) + encoded)

    def int(self, value):
        if 0 <= value < 256:
            return self.raw(b"K" + bytes([value]))
        if -2**31 <= value < 2**31:
            return self.raw(b"J" + struct.pack("<i", value))
        encoded = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
        return self.raw(b"\x8a" + bytes([len(encoded)]) + encoded)  # LONG1

    def put(self, index):
        return self.raw(b"q" + bytes([index]))

    def get(self, index):
        return self.raw(b"h" + bytes([index]))

    def ordered_dict(self):
        return self.global_("collections", "OrderedDict").op("EMPTY_TUPLE").op("REDUCE")

    def storage(self, storage_class="FloatStorage", key="0", numel=6, module="torch"):
        self.op("MARK").string("storage").global_(module, storage_class).string(key).string("cpu")
        return self.int(numel).op("TUPLE").op("BINPERSID")

    def ints(self, values):
        self.op("MARK")
        for value in values:
            self.int(value)
        return self.op("TUPLE")

    def tensor(self, offset=0, size=(2, 3), stride=(3, 1), metadata=None, **storage):
        """_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()[, metadata])."""
        self.global_("torch._utils", "_rebuild_tensor_v2").op("MARK").storage(**storage)
        self.int(offset).ints(size).ints(stride).op("NEWFALSE").ordered_dict()
        if metadata is not None:
            metadata(self)
        return self.op("TUPLE").op("REDUCE")

    def bytes(self):
        return bytes(self.data)


def state_dict(items, ordered=False):
    """A root dict {name: value-writer} ending in STOP."""
    p = Pickle()
    if ordered:
        p.ordered_dict()
    else:
        p.op("EMPTY_DICT")
    p.op("MARK")
    for name, write in items:
        p.string(name)
        write(p)
    return p.op("SETITEMS").op("STOP")


def write_archive(name, pickle, records=None, extra=None, compress=(), directory=None, stem=None):
    """A torch.save-shaped zip: <stem>/data.pkl, byteorder, data/<key>, version."""
    stem = stem or os.path.basename(name).rsplit(".", 1)[0]
    records = {"0": SIX_FLOATS} if records is None else records
    path = os.path.join(directory or OUT, name)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        def add(entry, data, method=zipfile.ZIP_STORED):
            # A fixed timestamp keeps the corpus byte-identical from run to run.
            info = zipfile.ZipInfo(entry, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)

        add(f"{stem}/data.pkl", pickle)
        add(f"{stem}/byteorder", b"little")
        for key, data in records.items():
            add(f"{stem}/data/{key}", data, zipfile.ZIP_DEFLATED if key in compress else zipfile.ZIP_STORED)
        for entry, data in (extra or {}).items():
            add(f"{stem}/{entry}", data)
        add(f"{stem}/version", b"3\n")
    return path


def patch(path, transform):
    with open(path, "rb") as handle:
        data = bytearray(handle.read())
    data = transform(data)
    with open(path, "wb") as handle:
        handle.write(data)


def raw_zip(entries, zip64_end=None):
    """A hand-built zip (no zipfile module, so sizes, counts and extras can lie).

    Each entry is a dict: name, data, and optionally method (0), crc (computed), central_sizes
    (compressed, uncompressed; default the data length), zip64 (uncompressed, compressed) for a
    ZIP64 extra field in the central directory. `zip64_end` = entry count claimed by a ZIP64
    end record (the classic record then holds 0xFFFF / 0xFFFFFFFF sentinels)."""
    out = bytearray()
    central = bytearray()
    for entry in entries:
        name = entry["name"].encode()
        data = entry["data"]
        method = entry.get("method", 0)
        crc = entry.get("crc", zlib.crc32(data))
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(data), len(data),
                           len(name), 0) + name + data
        compressed, uncompressed = entry.get("central_sizes", (len(data), len(data)))
        extra = b""
        if "zip64" in entry:
            extra = struct.pack("<HHQQ", 1, 16, *entry["zip64"])
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, method, 0, 0x21, crc,
                               compressed, uncompressed, len(name), len(extra), 0, 0, 0, 0o644 << 16,
                               offset) + name + extra
    directory_offset = len(out)
    out += central
    count = len(entries)
    if zip64_end is not None:
        zip64_offset = len(out)
        out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, zip64_end, zip64_end, len(central),
                           directory_offset)
        out += struct.pack("<IIQI", 0x07064B50, 0, zip64_offset, 1)
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    else:
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), directory_offset, 0)
    return bytes(out)


def hardening_cases(expect, write_archive):
    """Cases added for the hardening work (docs/hardening.md): more dangerous imports, opcodes
    that build objects, memo tricks, zip bombs and ZIP64 size lies."""
    def refused_global(name, module, attribute, dangerous=True):
        p = Pickle()
        p.op("EMPTY_DICT").op("MARK").string("w").tensor().string("payload")
        at = p.offset
        p.global_(module, attribute).string(payload_for(module, attribute)).op("TUPLE1").op("REDUCE")
        p.op("SETITEMS").op("STOP")
        write_archive(name, p.bytes())
        hint = "dangerous" if dangerous else "unknown"
        expect(name, "refused", f"refused: GLOBAL {module}.{attribute} at data.pkl offset {hex(at)} "
               f"(not in the allowlist; {hint} import)")

    for module, attribute in [
        ("builtins", "__import__"), ("builtins", "compile"), ("builtins", "open"), ("__builtin__", "eval"),
        ("nt", "system"), ("os", "popen"), ("os", "execv"), ("subprocess", "check_output"),
        ("socket", "create_connection"), ("shutil", "rmtree"), ("ctypes", "CDLL"), ("pickle", "loads"),
        ("torch", "load"), ("torch.serialization", "load"), ("operator", "attrgetter"),
        ("types", "CodeType"), ("webbrowser", "open"), ("importlib", "import_module"),
    ]:
        refused_global(f"{module.strip('_').replace('.', '_')}_{attribute.strip('_').lower()}.pt", module, attribute)
    # numpy's reconstruction path is not dangerous by name but is not on the allowlist either.
    refused_global("numpy_reconstruct.pt", "numpy.core.multiarray", "_reconstruct", dangerous=False)

    # Opcodes that construct objects or import by other routes.
    p = Pickle().op("MARK").string(SHELL_PAYLOAD)
    at = p.offset
    p.raw(b"ios\nsystem\n").op("STOP")
    write_archive("inst_opcode.pt", p.bytes())
    expect("inst_opcode.pt", "refused", f"data.pkl offset {hex(at)}: opcode INST (0x69) is not allowed")

    p = Pickle().global_("collections", "OrderedDict").op("EMPTY_TUPLE")
    at = p.offset
    p.raw(b"\x81").op("STOP")
    write_archive("newobj.pt", p.bytes())
    expect("newobj.pt", "refused", f"data.pkl offset {hex(at)}: opcode NEWOBJ (0x81) is not allowed")

    p = Pickle().op("MARK").global_("os", "system").string(SHELL_PAYLOAD)
    at = p.offset
    p.raw(b"o").op("STOP")
    write_archive("obj_opcode.pt", p.bytes())
    expect("obj_opcode.pt", "refused", "refused: GLOBAL os.system at data.pkl offset 0x3 (not in the allowlist; "
           "dangerous import)")

    p = Pickle().op("EMPTY_DICT")
    at = p.offset
    p.raw(b"\x82\x01").op("STOP")
    write_archive("ext1_opcode.pt", p.bytes())
    expect("ext1_opcode.pt", "refused", f"data.pkl offset {hex(at)}: opcode EXT1 (0x82) is not allowed")

    # A GLOBAL with control characters in its name: the message must stay one printable line.
    refused_global("global_escape.pt", "\x1b[2J\x1b]0;owned\x07os", "system", dangerous=False)
    expected_escape = "refused: GLOBAL \\x1b[2J\\x1b]0;owned\\x07os.system"
    expect("global_escape.pt", "refused", expected_escape)

    # Persistent ids other than ("storage", ...).
    p = Pickle().op("EMPTY_DICT").op("MARK").string("w").op("MARK").string("module")
    p.global_("torch", "FloatStorage").string("0").string("cpu").int(6).op("TUPLE")
    at = p.offset
    p.op("BINPERSID").op("SETITEMS").op("STOP")
    write_archive("persid_not_storage.pt", p.bytes())
    expect("persid_not_storage.pt", "refused",
           f"data.pkl offset {hex(at)}: persistent id must be ('storage', storage class, key, location, "
           "numel); found (str, global torch.FloatStorage, str, str, int)")

    # REDUCE on allowlisted globals that are not callables, or with the wrong argument count.
    write_archive("reduce_dtype.pt", state_dict([
        ("w", lambda p: p.global_("torch", "float16").op("EMPTY_TUPLE").op("REDUCE")),
    ]).bytes())
    expect("reduce_dtype.pt", "refused",
           "forbidden call: torch.float16 may only appear inside a persistent id or as a dtype argument")

    write_archive("rebuild_wrong_arity.pt", state_dict([
        ("w", lambda p: p.global_("torch._utils", "_rebuild_tensor_v2").op("MARK").storage().int(0)
         .ints((6,)).op("TUPLE").op("REDUCE")),
    ]).bytes())
    expect("rebuild_wrong_arity.pt", "refused",
           "forbidden call: torch._utils._rebuild_tensor_v2 expects (storage, int, tuple of ints, tuple of ints, "
           "bool, OrderedDict()[, dict]); found (storage, int, tuple[1])")

    # Memo tricks: a huge unset index, a list appended into itself, and shared sub-values whose
    # logical size doubles at every level (2^90 leaves in a few hundred bytes).
    p = Pickle().op("EMPTY_DICT").op("MARK").string("w")
    at = p.offset
    p.raw(b"j" + struct.pack("<I", 0xFFFFFFFF)).op("SETITEMS").op("STOP")
    write_archive("long_binget_huge.pt", p.bytes())
    expect("long_binget_huge.pt", "malformed",
           f"data.pkl offset {hex(at)}: LONG_BINGET of memo index 4294967295, which was never set")

    p = Pickle().op("EMPTY_DICT").op("MARK").string("w").op("EMPTY_LIST").put(1).get(1)
    at = p.offset
    p.op("APPEND").op("SETITEMS").op("STOP")
    write_archive("memo_cycle.pt", p.bytes())
    expect("memo_cycle.pt", "refused",
           f"data.pkl offset {hex(at)}: APPEND on a list that is already nested in another value")

    p = Pickle().op("EMPTY_DICT").op("MARK").string("w").tensor().string("laughs")
    p.string("lol").op("TUPLE1").put(200)
    for _ in range(90):
        p.get(200).op("TUPLE2").put(200)
    p.op("SETITEMS").op("STOP")
    write_archive("memo_laughs.pt", p.bytes())
    expect("memo_laughs.pt", "limitExceeded",
           "value expands to more than 10000000 items through shared memo references")

    # Zip bombs and size lies.
    write_archive("zip_bomb.pt", state_dict([("w", lambda p: p.tensor())]).bytes(),
                  records={"0": bytes(16 << 20)}, compress={"0"})
    expect("zip_bomb.pt", "refused",
           "zip entry 'zip_bomb/data/0' is compressed (method 8); torch.save never compresses")

    pickle = state_dict([("w", lambda p: p.tensor())]).bytes()

    def torch_entries(stem, storage_overrides):
        storage = {"name": f"{stem}/data/0", "data": SIX_FLOATS}
        storage.update(storage_overrides)
        return [{"name": f"{stem}/data.pkl", "data": pickle}, {"name": f"{stem}/byteorder", "data": b"little"},
                storage, {"name": f"{stem}/version", "data": b"3\n"}]

    def write_raw(name, data):
        with open(os.path.join(OUT, name), "wb") as handle:
            handle.write(data)

    write_raw("zip64_size_lie.pt", raw_zip(torch_entries("zip64_size_lie", {
        "central_sizes": (0xFFFFFFFF, 0xFFFFFFFF), "zip64": (1 << 40, 1 << 40)})))
    expect("zip64_size_lie.pt", "malformed",
           "zip entry 'zip64_size_lie/data/0' (offset 254, 1099511627776 bytes) lies outside the file")

    write_raw("stored_size_lie.pt", raw_zip(torch_entries("stored_size_lie", {
        "central_sizes": (24, 0xFFFFFFF0)})))
    expect("stored_size_lie.pt", "malformed",
           "stored zip entry 'stored_size_lie/data/0' has compressed size 24 but uncompressed size 4294967280")

    write_raw("zip64_entry_count.pt", raw_zip(torch_entries("zip64_entry_count", {}), zip64_end=1 << 40))
    expect("zip64_entry_count.pt", "malformed",
           "zip declares 1099511627776 entries but its central directory has only 286 bytes")


def halves(count, seed=0):
    """`count` small float16 values of both signs (never NaN or infinite), as bytes."""
    return b"".join(struct.pack("<H", (0x3C00 + ((i + seed) * 37) % 512) | (0x8000 if i % 3 == 0 else 0))
                    for i in range(count))


def strides_cases():
    """Fixtures/hostile/strides/: archives every command must read without materialising a
    view larger than its storage, and EAGLE drafts holding such views (see
    Tests/EndToEndTests/StrideCommandTests.swift)."""
    os.makedirs(STRIDES_OUT, exist_ok=True)
    for stale in os.listdir(STRIDES_OUT):
        path = os.path.join(STRIDES_OUT, stale)
        if os.path.isdir(path):
            for inner in os.listdir(path):
                os.remove(os.path.join(path, inner))
            os.rmdir(path)
        else:
            os.remove(path)

    def single(name, offset, size, stride, numel, dtype="FloatStorage", element=4):
        data = SIX_FLOATS[:4] * numel if element == 4 else halves(numel)
        pickle = state_dict([
            ("w", lambda p: p.tensor(offset=offset, size=size, stride=stride, storage_class=dtype, key="0",
                                     numel=numel)),
            ("b", lambda p: p.tensor(offset=0, size=(2,), stride=(1,), storage_class="FloatStorage", key="1",
                                     numel=2)),
        ]).bytes()
        write_archive(name, pickle, records={"0": data[:numel * element], "1": SIX_FLOATS[:8]},
                      directory=STRIDES_OUT)

    # torch.zeros(1).expand(2**40): a 1.6 KB file naming 4 TiB of float32.
    single("expand_1d.pt", 0, (2**40,), (0,), 1)
    # torch.zeros(1).expand(2**20, 2**20) and torch.arange(4.).expand(2**30, 4).
    single("expand_2d.pt", 0, (2**20, 2**20), (0, 0), 1)
    single("expand_rows.pt", 0, (2**30, 4), (0, 1), 4)
    # A small expansion: torch.ones(1).expand(8).
    single("expand_small.pt", 0, (8,), (0,), 1)
    # torch.arange(6.).reshape(2, 3).t(): a transposed (non-contiguous) view.
    single("transposed.pt", 0, (3, 2), (1, 3), 6)
    # Overlapping windows: torch.arange(6.).as_strided((4, 3), (1, 1)).
    single("overlapping.pt", 0, (4, 3), (1, 1), 6)
    # Views at the end of their storage: the last element, and an empty view past it.
    single("offset_last.pt", 5, (1,), (1,), 6)
    single("offset_end_empty.pt", 6, (0,), (1,), 6)

    # EAGLE-1 drafts (the layout of Fixtures/eagle1-bin) holding views.
    shapes = [
        ("embed_tokens.weight", (512, 64)), ("fc.bias", (64,)), ("fc.weight", (64, 128)),
        ("layers.0.mlp.down_proj.weight", (64, 128)), ("layers.0.mlp.gate_proj.weight", (128, 64)),
        ("layers.0.mlp.up_proj.weight", (128, 64)), ("layers.0.post_attention_layernorm.weight", (64,)),
        ("layers.0.self_attn.k_proj.weight", (32, 64)), ("layers.0.self_attn.o_proj.weight", (64, 64)),
        ("layers.0.self_attn.q_proj.weight", (64, 64)), ("layers.0.self_attn.v_proj.weight", (32, 64)),
    ]
    with open(os.path.join(os.path.dirname(OUT), "..", "eagle1-bin", "config.json")) as handle:
        config = handle.read()

    def draft(directory, views):
        """`views`: name -> (numel, offset, size, stride) for the tensors that are not plain."""
        os.makedirs(os.path.join(STRIDES_OUT, directory))
        items = []
        records = {}
        for index, (name, shape) in enumerate(shapes):
            key = str(index)
            numel = 1
            for dim in shape:
                numel *= dim
            stride = tuple(int(x) for x in ([1] if len(shape) == 1 else [shape[1], 1]))
            numel, offset, size, stride = views.get(name, (numel, 0, shape, stride))
            records[key] = halves(numel, seed=index)
            items.append((name, lambda p, key=key, numel=numel, offset=offset, size=size, stride=stride:
                          p.tensor(offset=offset, size=size, stride=stride, storage_class="HalfStorage", key=key,
                                   numel=numel)))
        write_archive(os.path.join(directory, "pytorch_model.bin"), state_dict(items).bytes(), records=records,
                      directory=STRIDES_OUT, stem="archive")
        with open(os.path.join(STRIDES_OUT, directory, "config.json"), "w") as handle:
            handle.write(config)

    # A transposed q_proj: its storage holds q_proj.T, the view reads it back as q_proj.
    draft("eagle1-transposed", {"layers.0.self_attn.q_proj.weight": (64 * 64, 0, (64, 64), (1, 64))})
    # A norm weight that is torch.ones(1).expand(64) (stride 0).
    draft("eagle1-expanded", {"layers.0.post_attention_layernorm.weight": (1, 0, (64,), (0,))})


def check_with_torch():
    """When torch is importable (`bash scripts/venv.sh torch`), loads every strides archive with
    weights_only=True and prints each view, so the hand-built archives are known to be what
    torch.save writes for such views."""
    try:
        import torch
    except ImportError:
        return
    for root, _, names in os.walk(STRIDES_OUT):
        for name in sorted(names):
            if name.endswith((".pt", ".bin")):
                state = torch.load(os.path.join(root, name), weights_only=True)
                for key, tensor in state.items():
                    print(f"torch: {os.path.relpath(os.path.join(root, name), STRIDES_OUT)} {key} "
                          f"size {tuple(tensor.shape)} stride {tensor.stride()} offset {tensor.storage_offset()}")


def main():
    os.makedirs(OUT, exist_ok=True)
    for stale in os.listdir(OUT):
        os.remove(os.path.join(OUT, stale))
    expected = {}

    def expect(name, kind, message):
        expected[name] = {"kind": kind, "message": message}

    def one_tensor(name, **arguments):
        """An archive whose state dict holds one tensor 'w' built with these arguments."""
        return write_archive(name, state_dict([("w", lambda p: p.tensor(**arguments))]).bytes())

    def refused_global(name, module, attribute, dangerous=True):
        """A state dict whose second value is module.attribute("payload")."""
        p = Pickle()
        p.op("EMPTY_DICT").op("MARK").string("w").tensor().string("payload")
        at = p.offset
        p.global_(module, attribute).string(payload_for(module, attribute)).op("TUPLE1").op("REDUCE")
        p.op("SETITEMS").op("STOP")
        write_archive(name, p.bytes())
        hint = "dangerous" if dangerous else "unknown"
        expect(name, "refused", f"refused: GLOBAL {module}.{attribute} at data.pkl offset {hex(at)} "
               f"(not in the allowlist; {hint} import)")

    refused_global("os_system.pt", "os", "system")
    refused_global("posix_system.pt", "posix", "system")
    refused_global("builtins_eval.pt", "builtins", "eval")
    refused_global("builtins_exec.pt", "builtins", "exec")
    refused_global("builtins_getattr.pt", "builtins", "getattr")
    refused_global("subprocess_popen.pt", "subprocess", "Popen")
    refused_global("runpy_run_path.pt", "runpy", "run_path")
    refused_global("functools_partial.pt", "functools", "partial")
    refused_global("unknown_module.pt", "mypackage.layers", "Factory", dangerous=False)

    # STACK_GLOBAL (protocol 4) goes through the same allowlist as GLOBAL.
    p = Pickle().string("os").string("system")
    at = p.offset
    p.op("STACK_GLOBAL").string(SHELL_PAYLOAD).op("TUPLE1").op("REDUCE").op("STOP")
    write_archive("stack_global.pt", p.bytes())
    expect("stack_global.pt", "refused",
           f"refused: STACK_GLOBAL os.system at data.pkl offset {hex(at)} (not in the allowlist; dangerous import)")

    # MEMOIZE (protocol 4) with nothing to remember.
    p = Pickle()
    at = p.offset
    p.op("MEMOIZE").op("EMPTY_DICT").op("STOP")
    write_archive("memoize.pt", p.bytes())
    expect("memoize.pt", "malformed", f"data.pkl offset {hex(at)}: MEMOIZE with an empty stack")

    # An allowlisted global called in a way torch.save never writes.
    write_archive("reduce_storage_class.pt", state_dict([
        ("w", lambda p: p.global_("torch", "FloatStorage").op("EMPTY_TUPLE").op("REDUCE")),
    ]).bytes())
    expect("reduce_storage_class.pt", "refused",
           "forbidden call: torch.FloatStorage may only appear inside a persistent id")

    # REDUCE whose callable is not a global at all (a memoised string).
    p = Pickle().op("EMPTY_DICT").op("MARK").string("w").string("os.system").put(1).op("EMPTY_TUPLE")
    at = p.offset
    p.op("REDUCE").op("SETITEMS").op("STOP")
    write_archive("reduce_on_string.pt", p.bytes())
    expect("reduce_on_string.pt", "refused", f"data.pkl offset {hex(at)}: forbidden call: REDUCE on a str")

    write_archive("reduce_ordered_dict_args.pt", state_dict([
        ("w", lambda p: p.global_("collections", "OrderedDict").string("x").op("TUPLE1").op("REDUCE")),
    ]).bytes())
    expect("reduce_ordered_dict_args.pt", "refused",
           "forbidden call: collections.OrderedDict expects (); found (str,)")

    write_archive("rebuild_parameter_state.pt", state_dict([
        ("w", lambda p: p.global_("torch._utils", "_rebuild_parameter_with_state")),
    ]).bytes())
    expect("rebuild_parameter_state.pt", "unsupported",
           "GLOBAL torch._utils._rebuild_parameter_with_state")

    write_archive("tensor_subclass.pt", state_dict([
        ("w", lambda p: p.global_("torch._tensor", "_rebuild_from_type_v2")),
    ]).bytes())
    expect("tensor_subclass.pt", "unsupported", "GLOBAL torch._tensor._rebuild_from_type_v2")

    one_tensor("quantized_storage.pt", storage_class="QInt8Storage", numel=24)
    expect("quantized_storage.pt", "unsupported", "quantized storages are not supported")

    # BUILD whose state is not {"_metadata": dict}: __setstate__-style payloads.
    p = Pickle().ordered_dict().op("MARK").string("w").tensor().op("SETITEMS")
    p.op("EMPTY_DICT").op("MARK").string("__class__").string("os.system").op("SETITEMS")
    at = p.offset
    p.op("BUILD").op("STOP")
    write_archive("build_state.pt", p.bytes())
    expect("build_state.pt", "refused",
           f"data.pkl offset {hex(at)}: forbidden call: BUILD state must be {{'_metadata': dict}}; "
           "found a dict with keys {'__class__'}")

    p = Pickle().ordered_dict().op("MARK").string("w").tensor().op("SETITEMS")
    p.string("__setstate__").string("payload").op("TUPLE2")
    at = p.offset
    p.op("BUILD").op("STOP")
    write_archive("build_tuple_state.pt", p.bytes())
    expect("build_tuple_state.pt", "refused",
           f"data.pkl offset {hex(at)}: forbidden call: BUILD state must be {{'_metadata': dict}}; "
           "found (str, str)")

    p = Pickle().ordered_dict().string("x").op("TUPLE1").op("EMPTY_DICT")
    at = p.offset
    p.op("BUILD").op("STOP")
    write_archive("build_non_dict.pt", p.bytes())
    expect("build_non_dict.pt", "refused", f"data.pkl offset {hex(at)}: forbidden call: BUILD on a tuple[1]")

    # SETITEM on a tensor (CVE-2026-24747 part 1).
    p = Pickle().op("EMPTY_DICT").string("w").tensor().string("storage").op("NONE")
    at = p.offset
    p.op("SETITEM").op("SETITEM").op("STOP")
    write_archive("setitem_on_tensor.pt", p.bytes())
    expect("setitem_on_tensor.pt", "refused",
           f"data.pkl offset {hex(at)}: forbidden call: SETITEM on a tensor (only dicts accept SETITEM)")

    p = Pickle().op("EMPTY_LIST").string("k").int(1)
    at = p.offset
    p.op("SETITEM").op("STOP")
    write_archive("setitem_on_list.pt", p.bytes())
    expect("setitem_on_list.pt", "refused", f"data.pkl offset {hex(at)}: forbidden call: SETITEM on a list")

    p = Pickle().op("EMPTY_DICT").op("MARK").string("w")
    at = p.offset
    p.get(9).op("SETITEMS").op("STOP")
    write_archive("binget_unset.pt", p.bytes())
    expect("binget_unset.pt", "malformed",
           f"data.pkl offset {hex(at)}: BINGET of memo index 9, which was never set")

    p = Pickle().op("EMPTY_DICT").raw(b"(" * 20000).op("STOP")
    write_archive("deep_mark.pt", p.bytes())
    expect("deep_mark.pt", "limitExceeded", "more than 10000 nested MARKs")

    p = Pickle().op("EMPTY_TUPLE").raw(b"\x85" * 5000).op("STOP")
    write_archive("deep_tuple.pt", p.bytes())
    expect("deep_tuple.pt", "limitExceeded", "values nested deeper than 100 levels")

    p = Pickle().op("EMPTY_DICT").proto().op("STOP")
    write_archive("second_proto.pt", p.bytes())
    expect("second_proto.pt", "malformed", "data.pkl offset 0x3: PROTO is only allowed at offset 0")

    # Stacked pickles: a clean state dict, then a payload after STOP.
    clean = state_dict([("w", lambda p: p.tensor())]).bytes()
    payload = (Pickle().global_("os", "system").string(SHELL_PAYLOAD).op("TUPLE1").op("REDUCE").op("STOP")
               .bytes())
    write_archive("trailing_pickle.pt", clean + payload)
    expect("trailing_pickle.pt", "malformed",
           f"data.pkl offset {hex(len(clean))}: {len(payload)} trailing bytes after STOP")

    write_archive("no_stop.pt", state_dict([("w", lambda p: p.tensor())]).bytes()[:-1])
    expect("no_stop.pt", "malformed", "pickle ends without STOP")

    write_archive("duplicate_key.pt",
                  state_dict([("w", lambda p: p.tensor()), ("w", lambda p: p.tensor())]).bytes())
    expect("duplicate_key.pt", "malformed", "duplicate dict key 'w'")

    # Storage numel disagreeing with the record size (CVE-2026-24747 part 2).
    one_tensor("numel_mismatch.pt", numel=1000)
    expect("numel_mismatch.pt", "malformed",
           "storage '0' declares 1000 elements of F32 but record 'numel_mismatch/data/0' holds 24 bytes")

    one_tensor("storage_key_missing.pt", key="7")
    expect("storage_key_missing.pt", "malformed",
           "persistent id names storage '7' but the archive has no such data record")

    one_tensor("storage_key_traversal.pt", key="../../etc/passwd")
    expect("storage_key_traversal.pt", "malformed", "persistent id names storage '../../etc/passwd'")

    write_archive("storage_redeclared.pt", state_dict([
        ("a", lambda p: p.tensor()),
        ("b", lambda p: p.tensor(storage_class="IntStorage", size=(6,), stride=(1,))),
    ]).bytes())
    expect("storage_redeclared.pt", "malformed", "storage '0' is declared as 6 × F32 and again as 6 × I32")

    # Views reaching outside their storage.
    one_tensor("stride_outside.pt", size=(2, 3), stride=(3, 2))
    expect("stride_outside.pt", "malformed",
           "view (offset 0, size [2, 3], stride [3, 2]) reaches element 7 of storage '0', "
           "which has 6 elements")

    one_tensor("offset_outside.pt", offset=5, size=(2,), stride=(1,))
    expect("offset_outside.pt", "malformed", "reaches element 6 of storage '0', which has 6 elements")

    one_tensor("huge_size.pt", size=(2**31 - 1,) * 3, stride=(0, 0, 0))
    expect("huge_size.pt", "malformed", "more bytes than fit in 64 bits")

    one_tensor("negative_stride.pt", size=(6,), stride=(-1,))
    expect("negative_stride.pt", "unsupported", "negative stride")

    one_tensor("conj_bit.pt",
               metadata=lambda q: q.op("EMPTY_DICT").string("conj").op("NEWTRUE").op("SETITEM"))
    expect("conj_bit.pt", "unsupported", "tensor metadata {'conj'} is not supported")

    write_archive("backward_hooks.pt", state_dict([
        ("w", lambda p: p.global_("torch._utils", "_rebuild_tensor_v2").op("MARK").storage().int(0)
         .ints((6,)).ints((1,)).op("NEWFALSE").ordered_dict().string("hook").op("NONE").op("SETITEM")
         .op("TUPLE").op("REDUCE")),
    ]).bytes())
    expect("backward_hooks.pt", "refused",
           "backward_hooks must be an empty OrderedDict; found an OrderedDict of 1 entries")

    # Container attacks.
    write_archive("deflated_storage.pt", state_dict([("w", lambda p: p.tensor())]).bytes(),
                  records={"0": bytes(24)}, compress={"0"})
    expect("deflated_storage.pt", "refused",
           "zip entry 'deflated_storage/data/0' is compressed (method 8); torch.save never compresses")

    write_archive("torchscript.pt", state_dict([]).bytes(),
                  extra={"constants.pkl": Pickle().op("EMPTY_TUPLE").op("STOP").bytes(),
                         "code/__torch__.py": b"def forward(self): pass\n"})
    expect("torchscript.pt", "unsupported",
           "TorchScript archive (torch.jit.save; has 'torchscript/constants.pkl') is not supported")

    write_archive("second_pickle.pt", state_dict([]).bytes(),
                  extra={"payload.pkl": payload})
    expect("second_pickle.pt", "refused", "unexpected pickle 'second_pickle/payload.pkl'")

    path = write_archive("crc_mismatch.pt", state_dict([("w", lambda p: p.tensor())]).bytes())

    def flip_storage_byte(data):
        at = bytes(data).index(SIX_FLOATS)
        data[at] ^= 0xFF
        return data
    patch(path, flip_storage_byte)
    expect("crc_mismatch.pt", "malformed", "zip entry 'crc_mismatch/data/0' fails its CRC-32 check")

    path = write_archive("local_name_mismatch.pt", state_dict([("w", lambda p: p.tensor())]).bytes())
    patch(path, lambda data: bytearray(
        bytes(data).replace(b"local_name_mismatch/data/0", b"local_name_mismatch/data/9", 1)))
    expect("local_name_mismatch.pt", "malformed",
           "local header names 'local_name_mismatch/data/9' but the central directory names "
           "'local_name_mismatch/data/0'")

    path = write_archive("path_traversal.pt", state_dict([]).bytes(), extra={"../../evil": b"x"})
    expect("path_traversal.pt", "malformed",
           "zip entry name 'path_traversal/../../evil' contains a '..' component")

    path = write_archive("truncated.pt", state_dict([("w", lambda p: p.tensor())]).bytes())
    patch(path, lambda data: data[: len(data) // 2])
    expect("truncated.pt", "malformed",
           "no zip end-of-central-directory record (truncated file or not a zip archive)")

    def move_directory_past_end(data):
        end = bytes(data).rindex(b"PK\x05\x06")
        data[end + 16:end + 20] = struct.pack("<I", 0x7FFF0000)
        return data
    path = write_archive("directory_past_eof.pt", state_dict([("w", lambda p: p.tensor())]).bytes())
    patch(path, move_directory_past_end)
    expect("directory_past_eof.pt", "malformed", "central directory (offset 2147418112,")

    def claim_many_entries(data):
        end = bytes(data).rindex(b"PK\x05\x06")
        data[end + 8:end + 12] = struct.pack("<HH", 0xFFFF, 0xFFFF)
        return data
    path = write_archive("entry_count.pt", state_dict([]).bytes())
    patch(path, claim_many_entries)
    expect("entry_count.pt", "malformed", "zip declares 65535 entries but its central directory has only")

    # Non-zip formats.
    legacy = (bytes.fromhex("80028a0a6cfc9c46f9206aa850192e")  # PROTO 2, LONG1 magic, STOP
              + bytes.fromhex("80024de9032e")                   # protocol version 1001
              + Pickle().op("EMPTY_DICT").op("STOP").bytes())
    with open(os.path.join(OUT, "legacy.pt"), "wb") as handle:
        handle.write(legacy)
    expect("legacy.pt", "unsupported",
           "legacy (pre-1.6) PyTorch format is not supported; re-save with torch>=1.6")

    with open(os.path.join(OUT, "bare_pickle.pt"), "wb") as handle:
        handle.write(payload)
    expect("bare_pickle.pt", "unsupported", "a bare pickle stream")

    with open(os.path.join(OUT, "pytorch1.pt"), "wb") as handle:
        handle.write(b"PYTORCH1" + bytes(32))
    expect("pytorch1.pt", "unsupported", "preview-era PyTorch format (PYTORCH1) is not supported")

    with open(os.path.join(OUT, "empty.pt"), "wb") as handle:
        pass
    # (TorchZipReader: "not a PyTorch zip archive …"; CheckpointReader: "not a safetensors file or
    # PyTorch zip archive (the file is empty)".)
    expect("empty.pt", "malformed", "PyTorch zip archive")

    hardening_cases(expect, write_archive)

    with open(os.path.join(OUT, "expected.json"), "w") as handle:
        json.dump(expected, handle, indent=2, sort_keys=True, ensure_ascii=False)
        handle.write("\n")
    print(f"wrote {len(expected)} hostile files to {os.path.normpath(OUT)}")
    strides_cases()
    check_with_torch()


if __name__ == "__main__":
    main()
