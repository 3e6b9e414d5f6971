#!/usr/bin/env python3
"""Bytes and time of Hub and URL reads: ranged (headers, one tensor) next to the whole-file fetch.

Writes a 2-shard verifier-shaped checkpoint (safetensors written by hand, BF16 zeros), serves
it with Tests/Support/hub_server.py (as a Hub repository, and as static files under a URL), and
runs the built `speculators`:
  inspect ID             headers by range          (needed: 8 + N per shard)
  inspect ID --download  whole files               (the whole-file fetch)
  diff ID ID2            headers by range, both    (needed: 8 + N per shard of each)
  diff ID ID2 --values   whole files, both
  hash ID --tensors-only whole files               (needed: every tensor and its header = the files)
  convert DRAFT --verifier ID   the embedding's range only (needed: its header + the tensor)
  the same inspect, diff and convert with URLs     (needed also counts config.json and the
                                                    index, which a URL source downloads whole)
Prints, per command: bytes needed, bytes the emulator sent (the CDN, which serves the weights
and the URL files), the ratio, whether the bound sent <= 1.05 x needed + 64 KiB per file holds,
and seconds.

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
    # A second repository of the same structure (for diff), and every repository as static files.
    make_repo(os.path.join(work, "repos", "bench", "verifier-b"), v, h, [4 * h, h])
    os.makedirs(os.path.join(work, "static"))
    for name in ("verifier", "verifier-b", "small-verifier"):
        os.symlink(os.path.join(work, "repos", "bench", name), os.path.join(work, "static", name))

    log = os.path.join(work, "log.jsonl")
    server = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "Tests/Support/hub_server.py"), "--root", os.path.join(work, "repos"),
         "--static", os.path.join(work, "static"), "--log", log],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    ports = json.loads(server.stdout.readline())

    def run(label, argv, needed, files, expect=(0,)):
        if os.path.exists(log):
            os.remove(log)
        env = dict(os.environ, HF_ENDPOINT=ports["endpoint"], HF_HUB_CACHE=os.path.join(work, "hf", label),
                   SPECULATORS_CACHE=os.path.join(work, "sc", label), HF_TOKEN="", HF_HUB_OFFLINE="")
        start = time.monotonic()
        result = subprocess.run([args.binary] + argv, env=env, capture_output=True, text=True, cwd=work)
        seconds = time.monotonic() - start
        entries = list(map(json.loads, open(log))) if os.path.exists(log) else []
        sent = sum(e.get("bytes", 0) for e in entries if e.get("server") == "cdn")
        status = "ok" if result.returncode in expect else "exit %d: %s" % (result.returncode, result.stderr.strip()[-200:])
        bound = "within" if sent <= 1.05 * needed + 65536 * files else "OVER"
        print("%-36s needed %12d  sent %12d  ratio %7.3f  bound %-6s  %6.2f s  %s"
              % (label, needed, sent, sent / max(needed, 1), bound, seconds, status))

    embed = 512 * 64 * 2
    out = os.path.join(work, "out")
    shards = len(headers)
    run("inspect (ranged headers)", ["inspect", "bench/verifier", "--json"], sum(headers.values()), shards)
    run("inspect --download (whole)", ["inspect", "bench/verifier", "--json", "--download"], whole, shards)
    run("diff (ranged headers, both sides)", ["diff", "bench/verifier", "bench/verifier-b", "--json"],
        2 * sum(headers.values()), 2 * shards)
    run("diff --values (whole, both sides)", ["diff", "bench/verifier", "bench/verifier-b", "--values", "--json"],
        2 * whole, 2 * shards)
    run("hash --tensors-only (whole files)", ["hash", "bench/verifier", "--tensors-only"], whole, shards)
    draft = os.path.join(work, "draft")
    shutil.copytree(os.path.join(ROOT, "Fixtures/eagle3-bin"), draft)
    taps = ["--algorithm-kwargs", json.dumps({"eagle_aux_hidden_state_layer_ids": [1, 2, 3]})]
    shard = small_headers["model-00001-of-00002.safetensors"]
    run("convert (embedding range)", ["convert", draft, "--algorithm", "eagle3", "--verifier", "bench/small-verifier",
                                      "--output-path", out] + taps, shard + embed, 1)
    run("convert --download (whole shard)", ["convert", draft, "--algorithm", "eagle3", "--verifier",
                                             "bench/small-verifier", "--output-path", out + "-whole", "--download"] + taps,
        os.path.getsize(os.path.join(work, "repos/bench/small-verifier/model-00001-of-00002.safetensors")), 1)
    # URL sources: the same files as static files; config.json and the index come whole from the CDN too.
    base = ports["cdn"] + "/files/"
    def json_bytes(repo):
        return sum(os.path.getsize(os.path.join(repo, n)) for n in ("config.json", "model.safetensors.index.json"))
    run("URL inspect (ranged headers)", ["inspect", base + "verifier/", "--json"],
        sum(headers.values()) + json_bytes(repo), shards + 2)
    run("URL diff (ranged headers, both)", ["diff", base + "verifier/", base + "verifier-b/", "--json"],
        2 * (sum(headers.values()) + json_bytes(repo)), 2 * (shards + 2))
    run("URL convert (embedding range)", ["convert", draft, "--algorithm", "eagle3", "--verifier", base + "small-verifier/",
                                          "--output-path", out + "-url"] + taps,
        shard + embed + json_bytes(os.path.join(work, "repos/bench/small-verifier")), 3)
    server.stdin.close()
    server.wait()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
