#!/usr/bin/env python3
"""A small Hugging Face Hub emulator for the model-source tests (standard library only).

It starts two HTTP servers on 127.0.0.1 with ephemeral ports and prints one JSON line on stdout,
{"endpoint": "http://127.0.0.1:P", "cdn": "http://127.0.0.1:Q"}, then serves until its standard
input reaches end of file (so it dies with the test process that started it).

The endpoint server answers like the Hub:
  GET  /api/models/{org}/{name}/revision/{rev}   {"id", "sha", "siblings": [{"rfilename"}]}
  HEAD|GET /{org}/{name}/resolve/{rev}/{file}    small files: 200 with ETag (git blob sha1);
       weight files (LFS): 302 to the CDN server with X-Linked-Etag (quoted sha256), X-Linked-Size
  Every answer carries X-Repo-Commit; errors carry X-Error-Code (RepoNotFound, RevisionNotFound,
  EntryNotFound, GatedRepo) like the Hub.
The CDN server serves /cdn/{sha256} (LFS bodies) and /files/{path} (plain static files, for URL
sources), both with Range support (206 / 416).

Repositories are directories {root}/{org}/{name}; the revision `main` and the repository's
commit (a sha1 over its file names and contents) are accepted.

Switches: --gated org/name --token T (401 without a bearer token, 403 with another one),
--cut FILE [--cut-times N] (send the headers and half the body, then drop the connection),
--corrupt FILE (serve the bytes with the last one flipped), --no-range (ignore Range headers:
always 200 with the whole body, as some servers do), --trickle FILE (announce the whole body but
send one byte every --trickle-interval seconds), --endless FILE (a chunked body that never ends),
--static-no-etag (static files come without ETag or Last-Modified, as from a bare file server).
Every request to either server is appended to --log as one JSON line
{"server", "method", "path", "headers"} before it is answered, and one line
{"server", "method", "path", "status", "bytes"} after it, `bytes` being the body bytes sent.
"""

import argparse
import hashlib
import http.server
import json
import os
import socket
import sys
import threading
import time
import urllib.parse

LFS_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")


class State:
    def __init__(self, args):
        self.root = args.root
        self.static = args.static
        self.log_path = args.log
        self.gated = set(args.gated or [])
        self.token = args.token
        self.cut = args.cut
        self.cuts_left = args.cut_times
        self.corrupt = args.corrupt
        self.no_range = args.no_range
        self.trickle = args.trickle
        self.trickle_interval = args.trickle_interval
        self.endless = args.endless
        self.static_no_etag = args.static_no_etag
        self.lock = threading.Lock()
        self.endpoint = ""
        self.cdn = ""

    def log(self, server, handler):
        entry = {
            "server": server,
            "method": handler.command,
            "path": handler.path,
            "headers": {k.lower(): v for k, v in handler.headers.items()},
        }
        with self.lock:
            if self.log_path:
                with open(self.log_path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(entry) + "\n")

    def log_sent(self, server, handler, status, sent):
        entry = {"server": server, "method": handler.command, "path": handler.path,
                 "status": status, "bytes": sent}
        with self.lock:
            if self.log_path:
                with open(self.log_path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(entry) + "\n")

    def take_cut(self, name):
        with self.lock:
            if self.cut == name and self.cuts_left > 0:
                self.cuts_left -= 1
                return True
            return False


def repo_files(repo_dir):
    out = []
    for base, _, files in os.walk(repo_dir):
        for f in files:
            out.append(os.path.relpath(os.path.join(base, f), repo_dir).replace(os.sep, "/"))
    return sorted(out)


_SHA256 = {}
_SHA256_LOCK = threading.Lock()


def file_sha256(path):
    """SHA-256 hex of the file at `path`, remembered while its size and mtime stay the same
    (every request names the repository's commit, a digest over all its files)."""
    info = os.stat(path)
    key = (path, info.st_size, info.st_mtime_ns)
    with _SHA256_LOCK:
        known = _SHA256.get(key)
    if known is None:
        with open(path, "rb") as f:
            known = hashlib.sha256(f.read()).hexdigest()
        with _SHA256_LOCK:
            _SHA256[key] = known
    return known


def repo_commit(repo_dir):
    h = hashlib.sha1()
    for name in repo_files(repo_dir):
        h.update(name.encode() + b"\0")
        h.update(bytes.fromhex(file_sha256(os.path.join(repo_dir, name))))
    return h.hexdigest()


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def parse_range(header, total):
    """(start, end_inclusive) for 'bytes=a-' or 'bytes=a-b'; None when absent; 'bad' when unsatisfiable."""
    if not header or not header.startswith("bytes="):
        return None
    first, _, last = header[len("bytes="):].partition("-")
    start = int(first)
    end = int(last) if last else total - 1
    if start >= total or end < start:
        return "bad"
    return start, min(end, total - 1)


class Handler(http.server.BaseHTTPRequestHandler):
    server_name_tag = "hub"
    state = None

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.handle_request(head=True)

    def do_GET(self):
        self.handle_request(head=False)

    # -- helpers -----------------------------------------------------------------------------
    def send(self, status, headers, body=b"", head=False):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        sent = 0
        if not head:
            try:
                view = memoryview(body)
                while sent < len(body):
                    chunk = view[sent:sent + 65536]
                    self.wfile.write(chunk)
                    sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
        self.state.log_sent(self.server_name_tag, self, status, sent)

    def trickle_body(self, status, headers, data, head):
        """Announces the whole body, then sends a byte every trickle-interval seconds."""
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data) if data else 100_000_000))
        self.end_headers()
        sent = 0
        if not head:
            try:
                while True:
                    self.wfile.write(b"\0")
                    self.wfile.flush()
                    sent += 1
                    time.sleep(self.state.trickle_interval)
            except (BrokenPipeError, ConnectionResetError, OSError):
                pass
        self.close_connection = True
        self.state.log_sent(self.server_name_tag, self, status, sent)

    def endless_body(self, status, headers, head):
        """A chunked body that never ends (until the client goes away)."""
        self.protocol_version = "HTTP/1.1"
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent = 0
        chunk = b"{" * 65536
        if not head:
            try:
                while True:
                    self.wfile.write(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                    sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError, OSError):
                pass
        self.close_connection = True
        self.state.log_sent(self.server_name_tag, self, status, sent)

    def error(self, status, code, message, head, extra=None):
        headers = {"X-Error-Code": code, "X-Error-Message": message,
                   "Content-Type": "application/json"}
        headers.update(extra or {})
        self.send(status, headers, json.dumps({"error": message}).encode(), head)

    def serve_bytes(self, name, data, etag, head, extra=None):
        """Serves `data` with Range support, the cut and corrupt switches."""
        if self.state.corrupt == name:
            data = data[:-1] + bytes([data[-1] ^ 0xFF]) if data else data
        total = len(data)
        rng = None if self.state.no_range else parse_range(self.headers.get("Range"), total)
        headers = {"Content-Type": "application/octet-stream"}
        if etag is not None:
            headers["ETag"] = etag
        if not self.state.no_range:
            headers["Accept-Ranges"] = "bytes"
        headers.update(extra or {})
        if self.state.trickle == name:
            return self.trickle_body(200, headers, data, head)
        if self.state.endless == name:
            return self.endless_body(200, headers, head)
        if rng == "bad":
            headers["Content-Range"] = "bytes */%d" % total
            self.send(416, headers, b"", head)
            return
        status, body = 200, data
        if rng is not None:
            status, body = 206, data[rng[0]:rng[1] + 1]
            headers["Content-Range"] = "bytes %d-%d/%d" % (rng[0], rng[1], total)
        if not head and self.state.take_cut(name):
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.state.log_sent(self.server_name_tag, self, status, len(body) // 2)
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.send(status, headers, body, head)

    def authorized(self, repo, head):
        if repo not in self.state.gated:
            return True
        auth = self.headers.get("Authorization")
        if auth is None:
            self.error(401, "GatedRepo", "Access to model %s is restricted. You must have access "
                       "to it and be authenticated to access it. Please log in." % repo, head)
            return False
        if auth != "Bearer %s" % self.state.token:
            self.error(403, "GatedRepo", "Access to model %s is restricted and you are not in "
                       "the authorized list." % repo, head)
            return False
        return True

    # -- routing -----------------------------------------------------------------------------
    def handle_request(self, head):
        self.state.log(self.server_name_tag, self)
        raw = urllib.parse.urlsplit(self.path).path
        parts = [urllib.parse.unquote(p) for p in raw.split("/")[1:]]
        if self.server_name_tag == "cdn":
            return self.handle_cdn(parts, head)
        if len(parts) >= 6 and parts[:2] == ["api", "models"] and parts[4] == "revision":
            return self.handle_api(parts[2] + "/" + parts[3], "/".join(parts[5:]), head)
        if len(parts) >= 5 and parts[2] == "resolve":
            return self.handle_resolve(parts[0] + "/" + parts[1], parts[3], "/".join(parts[4:]), head)
        self.error(404, "NotFound", "no route for %s" % raw, head)

    def locate(self, repo, revision, head):
        """(repo_dir, commit) or None after sending the error."""
        repo_dir = os.path.join(self.state.root, *repo.split("/"))
        if not os.path.isdir(repo_dir):
            self.error(404, "RepoNotFound", "Repository Not Found for url: %s." % self.path, head)
            return None
        if not self.authorized(repo, head):
            return None
        commit = repo_commit(repo_dir)
        if revision not in ("main", commit):
            self.error(404, "RevisionNotFound", "Invalid rev id: %s" % revision, head,
                       {"X-Repo-Commit": commit})
            return None
        return repo_dir, commit

    def handle_api(self, repo, revision, head):
        found = self.locate(repo, revision, head)
        if found is None:
            return
        repo_dir, commit = found
        if self.state.trickle == "api":
            return self.trickle_body(200, {"X-Repo-Commit": commit}, b"", head)
        if self.state.endless == "api":
            return self.endless_body(200, {"X-Repo-Commit": commit}, head)
        info = {"id": repo, "modelId": repo, "sha": commit,
                "siblings": [{"rfilename": n} for n in repo_files(repo_dir)]}
        self.send(200, {"Content-Type": "application/json", "X-Repo-Commit": commit},
                  json.dumps(info).encode(), head)

    def handle_resolve(self, repo, revision, name, head):
        found = self.locate(repo, revision, head)
        if found is None:
            return
        repo_dir, commit = found
        path = os.path.join(repo_dir, *name.split("/"))
        if ".." in name.split("/") or not os.path.isfile(path):
            self.error(404, "EntryNotFound", "%s does not exist on %s" % (name, revision), head,
                       {"X-Repo-Commit": commit})
            return
        with open(path, "rb") as f:
            data = f.read()
        if name.endswith(LFS_SUFFIXES):
            sha = file_sha256(path)
            headers = {"X-Repo-Commit": commit, "X-Linked-Etag": '"%s"' % sha,
                       "X-Linked-Size": str(len(data)), "ETag": '"%s"' % git_blob_sha1(data),
                       "Location": "%s/cdn/%s?name=%s&X-Amz-Signature=fake" % (
                           self.state.cdn, sha, urllib.parse.quote(name, safe=""))}
            self.send(302, headers, b"", head)
            return
        self.serve_bytes(name, data, '"%s"' % git_blob_sha1(data), head,
                         {"X-Repo-Commit": commit})

    def handle_cdn(self, parts, head):
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        if len(parts) == 2 and parts[0] == "cdn":
            name = query.get("name", [""])[0]
            for base, _, files in os.walk(self.state.root):
                for f in files:
                    full = os.path.join(base, f)
                    if file_sha256(full) == parts[1]:
                        with open(full, "rb") as fh:
                            data = fh.read()
                        return self.serve_bytes(name, data, '"%s"' % parts[1], head)
            return self.error(404, "NotFound", "no such object", head)
        if len(parts) >= 2 and parts[0] == "files" and self.state.static and ".." not in parts:
            path = os.path.join(self.state.static, *parts[1:])
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    data = f.read()
                name = "/".join(parts[1:])
                etag = None if self.state.static_no_etag else 'W/"%d-static"' % len(data)
                return self.serve_bytes(name, data, etag, head)
        self.error(404, "NotFound", "no such file", head)


def start(state, tag):
    handler = type("H_" + tag, (Handler,), {"server_name_tag": tag, "state": state})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return "http://127.0.0.1:%d" % server.server_address[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="directory holding {org}/{name}/ repos")
    parser.add_argument("--static", help="directory served under /files/ by the CDN server")
    parser.add_argument("--log", help="JSON-lines request log")
    parser.add_argument("--gated", action="append", help="org/name needing --token")
    parser.add_argument("--token", default="")
    parser.add_argument("--cut", help="file name whose body is cut mid-way")
    parser.add_argument("--cut-times", type=int, default=1)
    parser.add_argument("--corrupt", help="file name served with a flipped byte")
    parser.add_argument("--no-range", action="store_true", help="ignore Range headers (always 200)")
    parser.add_argument("--static-no-etag", action="store_true", help="serve static files without ETag")
    parser.add_argument("--trickle", help="file name sent one byte at a time")
    parser.add_argument("--trickle-interval", type=float, default=2.0)
    parser.add_argument("--endless", help="file name sent as a never-ending chunked body")
    args = parser.parse_args()
    state = State(args)
    state.cdn = start(state, "cdn")
    state.endpoint = start(state, "hub")
    sys.stdout.write(json.dumps({"endpoint": state.endpoint, "cdn": state.cdn}) + "\n")
    sys.stdout.flush()
    # Serve until the parent closes our standard input (or dies).
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
