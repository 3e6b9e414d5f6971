#!/usr/bin/env python3
"""Bytes and time of Hub reads: ranged (headers, one tensor) next to the whole-file fetch.

Writes a 2-shard verifier-shaped checkpoint (safetensors written by hand, BF16 zeros), serves
it with Tests/Support/hub_server.py, and runs the built `speculators`:
  inspect ID             headers by range          (needed: 8 + N per shard)
  inspect ID --download  whole files               (the whole-file fetch)
  convert DRAFT --verifier ID   the embedding's range only (needed: its header + the tensor)
Prints, per command: bytes needed, bytes the emulator sent, the ratio, and seconds.

Usage: bench/hub_ranges.py [--binary .build/debug/speculators] [--vocab 32000] [--hidden 1024]
"""
import argparse, json, os, shutil, struct, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_safetensors(path, tensors):
    header, offset = {}, 0
    for name, shape in tensors:
        size = 2
        for d in shape:
            size *= d
        header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        f.truncate(8 + len(text) + offset)
    return 8 + len(text)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/debug/speculators"))
    parser.add_argument("--vocab", type=int, default=32000)
    parser.add_argument("--hidden", type=int, default=1024)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="hub-ranges-")
    repo = os.path.join(work, "repos", "bench", "verifier")
    os.makedirs(repo)
    def make_repo(repo, v, h, filler):
        os.makedirs(repo, exist_ok=True)
        config = json.load(open(os.path.join(ROOT, "Fixtures/verifier/config.json")))
        config.update({"vocab_size": v, "hidden_size": h})
        json.dump(config, open(os.path.join(repo, "config.json"), "w"))
        shard1 = [("model.embed_tokens.weight", [v, h]), ("model.layers.0.mlp.up_proj.weight", filler)]
        shard2 = [("lm_head.weight", [v, h]), ("model.norm.weight", [h])]
        names = ("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")
        headers = {}
        for name, tensors in zip(names, (shard1, shard2)):
            headers[name] = write_safetensors(os.path.join(repo, name), tensors)
        weight_map = {t: n for n, ts in zip(names, (shard1, shard2)) for t, _ in ts}
        json.dump({"metadata": {}, "weight_map": weight_map}, open(os.path.join(repo, "model.safetensors.index.json"), "w"))
        return headers, sum(os.path.getsize(os.path.join(repo, n)) for n in headers)

    v, h = args.vocab, args.hidden
    headers, whole = make_repo(repo, v, h, [4 * h, h])
    # The draft fixture is hidden 64, vocabulary 512: its verifier gets a 64 MiB filler tensor.
    small_headers, small_whole = make_repo(os.path.join(work, "repos", "bench", "small-verifier"), 512, 64, [8192, 4096])

    log = os.path.join(work, "log.jsonl")
    server = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "Tests/Support/hub_server.py"), "--root", os.path.join(work, "repos"), "--log", log],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    ports = json.loads(server.stdout.readline())

    def run(label, argv, needed):
        if os.path.exists(log):
            os.remove(log)
        env = dict(os.environ, HF_ENDPOINT=ports["endpoint"], HF_HUB_CACHE=os.path.join(work, "hf", label),
                   SPECULATORS_CACHE=os.path.join(work, "sc", label), HF_TOKEN="", HF_HUB_OFFLINE="")
        start = time.monotonic()
        result = subprocess.run([args.binary] + argv, env=env, capture_output=True, text=True, cwd=work)
        seconds = time.monotonic() - start
        entries = list(map(json.loads, open(log))) if os.path.exists(log) else []
        sent = sum(e.get("bytes", 0) for e in entries if e.get("server") == "cdn")
        status = "ok" if result.returncode == 0 else "exit %d: %s" % (result.returncode, result.stderr.strip()[-200:])
        print("%-32s needed %12d  sent %12d  ratio %7.3f  %6.2f s  %s" % (label, needed, sent, sent / max(needed, 1), seconds, status))

    embed = 512 * 64 * 2
    out = os.path.join(work, "out")
    run("inspect (ranged headers)", ["inspect", "bench/verifier", "--json"], sum(headers.values()))
    run("inspect --download (whole)", ["inspect", "bench/verifier", "--json", "--download"], whole)
    draft = os.path.join(work, "draft")
    shutil.copytree(os.path.join(ROOT, "Fixtures/eagle3-bin"), draft)
    run("convert (embedding range)", ["convert", draft, "--algorithm", "eagle3", "--verifier", "bench/small-verifier",
                                      "--output-path", out], small_headers["model-00001-of-00002.safetensors"] + embed)
    run("convert --download (whole shard)", ["convert", draft, "--algorithm", "eagle3", "--verifier",
                                             "bench/small-verifier", "--output-path", out + "-whole", "--download"],
        os.path.getsize(os.path.join(work, "repos/bench/small-verifier/model-00001-of-00002.safetensors")))
    server.stdin.close()
    server.wait()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
