#!/usr/bin/env python3
"""A registry on 127.0.0.1 that serves one large index for `app:1`, for
benches/index.sh: the index lists N image manifests, each for a platform that is not
this machine's (linux/fake0, linux/fake1, ...), optionally with annotations to make
each entry larger. Child manifests answer 404, or (SERVE_CHILDREN=1) are served: small
image manifests, each with its own digest. Prints its port, then counts requests; on
SIGTERM it writes the counts to the file given.

    benches/index.py ENTRIES ANNOTATION_BYTES COUNTS_FILE
"""
import os
import hashlib
import http.server
import json
import signal
import socketserver
import sys
import threading

entries, pad, counts_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
SERVE = os.environ.get("SERVE_CHILDREN") == "1"
CONFIG = "sha256:" + "0" * 64
docs = {}
children = []
for i in range(entries):
    doc = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": CONFIG, "size": 2},
        "layers": [],
        "annotations": {"n": str(i)},
    }).encode()
    digest = "sha256:" + hashlib.sha256(doc).hexdigest()
    if SERVE:
        docs[digest] = doc
    child = {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": digest,
        "size": len(doc),
        "platform": {"architecture": f"fake{i}", "os": "linux"},
    }
    if os.environ.get("MINIMAL") == "1":
        # As many entries as fit: a digest each, nothing else.
        child = {"digest": digest}
    if pad:
        child["annotations"] = {"org.example.note": "x" * pad}
    children.append(child)
INDEX = json.dumps(
    {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": children}
).encode()
DIGEST = "sha256:" + hashlib.sha256(INDEX).hexdigest()
counts = {"manifests": 0, "children": 0, "other": 0}
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", ctype="application/json", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        with lock:
            if path == "/v2/app/manifests/1":
                counts["manifests"] += 1
            elif "/manifests/" in path:
                counts["children"] += 1
            else:
                counts["other"] += 1
        if path in ("/v2/", "/v2"):
            return self.reply(200, b"{}")
        if path == "/v2/app/manifests/1":
            return self.reply(200, INDEX, "application/vnd.oci.image.index.v1+json",
                              [("Docker-Content-Digest", DIGEST)])
        name = path.rsplit("/", 1)[-1]
        if name in docs:
            return self.reply(200, docs[name], "application/vnd.oci.image.manifest.v1+json",
                              [("Docker-Content-Digest", name)])
        return self.reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}')

    do_HEAD = do_GET


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


server = Server(("127.0.0.1", 0), Handler)


def stop(*_):
    with open(counts_file, "w") as f:
        json.dump(dict(counts, index_bytes=len(INDEX)), f)
    threading.Thread(target=server.shutdown).start()


signal.signal(signal.SIGTERM, stop)
print(server.server_address[1], flush=True)
server.serve_forever()
