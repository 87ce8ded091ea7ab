#!/usr/bin/env python3
"""Peak memory and time of `imgsize report` on layers whose entries and names are many
but whose final tree is small: the cases docs/security.md's bounds must hold for.

    benches/layer-memory.py                 # every case
    CASES=same-long-path benches/layer-memory.py

Each case is one zstd layer in an OCI layout under bench-data/layer-memory/ (made once):

  same-long-path   25,000 entries, all the same path of 1,000 components (60,000 bytes)
  long-paths       20,000 distinct paths of 1,000 components (60,000 bytes each),
                   the same 999 folders then a file of its own
  same-name-10M    10,000,000 zero-size entries of one short name
  same-name-30M    30,000,000 of them (15 GB of tar in about 1.4 MB of zstd)
  distinct-1M      1,000,000 zero-size files with distinct short names (a real bound:
                   a tree that big is expected to cost memory)

and the peak RSS (GNU time `%M`) and wall time of `imgsize report --format json
--no-cache` on it, written to bench-data/layer-memory.md.
"""

import hashlib
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench-data", "layer-memory")
BIN = os.path.join(ROOT, "target", "release", "imgsize")


def header(name: bytes, size: int = 0, kind: bytes = b"0") -> bytes:
    """A ustar header; `name` must fit its 100 bytes."""
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"00000000000\0"
    h[148:156] = b" " * 8
    h[156:157] = kind
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def pax(path: bytes) -> bytes:
    """A PAX extended header naming `path`, then its payload padded to a block."""
    def record(key: bytes, value: bytes) -> bytes:
        body = b" " + key + b"=" + value + b"\n"
        n = len(body) + 1
        while len(str(n).encode()) + len(body) != n:
            n += 1
        return str(n).encode() + body
    data = record(b"path", path)
    pad = (-len(data)) % 512
    return header(b"././@PaxHeader", len(data), b"x") + data + b"\0" * pad


def long_path(i: int) -> bytes:
    """999 folders of 59 bytes shared by every path, then a leaf of its own: about
    60,000 bytes, 1,000 components, a final tree of about 1,000 + n nodes."""
    return b"/".join([b"d" * 59] * 999 + [b"f%09d" % i])


def entries(case: str):
    if case == "same-long-path":
        p = long_path(0)
        for _ in range(25_000):
            yield pax(p) + header(b"placeholder")
    elif case == "long-paths":
        for i in range(20_000):
            yield pax(long_path(i)) + header(b"placeholder")
    elif case in ("same-name-10M", "same-name-30M"):
        block = header(b"f")
        for _ in range(10_000_000 if case.endswith("10M") else 30_000_000):
            yield block
    elif case == "distinct-1M":
        for i in range(1_000_000):
            yield header(b"d%03d/f%07d" % (i // 10_000, i))
    else:
        sys.exit(f"unknown case {case}")


def make(case: str) -> str:
    layout = os.path.join(OUT, case)
    if os.path.exists(os.path.join(layout, "index.json")):
        return layout
    blobs = os.path.join(layout, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)
    raw = os.path.join(layout, "layer.tar.zst")
    diff = hashlib.sha256()
    with open(raw, "wb") as f:
        z = subprocess.Popen(["zstd", "-q", "-3", "-c"], stdin=subprocess.PIPE, stdout=f)
        for e in entries(case):
            diff.update(e)
            z.stdin.write(e)
        end = b"\0" * 1024
        diff.update(end)
        z.stdin.write(end)
        z.stdin.close()
        z.wait()
    data = open(raw, "rb").read()
    os.remove(raw)

    def put(b: bytes) -> tuple[str, int]:
        d = hashlib.sha256(b).hexdigest()
        with open(os.path.join(blobs, d), "wb") as f:
            f.write(b)
        return "sha256:" + d, len(b)

    layer, layer_size = put(data)
    config, config_size = put(json.dumps({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff.hexdigest()]},
    }).encode())
    manifest, manifest_size = put(json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+zstd",
                    "digest": layer, "size": layer_size}],
    }).encode())
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest, "size": manifest_size}]}, f)
    return layout


def main() -> None:
    subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "imgsize"],
                   cwd=ROOT, check=True)
    cases = os.environ.get(
        "CASES", "same-long-path long-paths same-name-10M same-name-30M distinct-1M")
    rows = []
    for case in cases.split():
        started = time.time()
        layout = make(case)
        made = time.time() - started
        layer = max((os.path.join(dp, f) for dp, _, fs in os.walk(layout) for f in fs),
                    key=os.path.getsize)
        t0 = time.time()
        r = subprocess.run(["/usr/bin/time", "-f", "%M", BIN, "report", layout, "--format",
                            "json", "--no-cache", "--no-progress"],
                           capture_output=True, text=True)
        wall = time.time() - t0
        rss = int(r.stderr.strip().splitlines()[-1]) // 1024
        status = "ok" if r.returncode == 0 else "exit %d: %s" % (
            r.returncode, r.stderr.strip().splitlines()[0][:120])
        rows.append((case, os.path.getsize(layer), wall, rss, status))
        print(f"{case}: layer {os.path.getsize(layer)} B (made in {made:.0f} s), "
              f"{wall:.2f} s, {rss} MB, {status}", flush=True)
    with open(os.path.join(ROOT, "bench-data", "layer-memory.md"), "w") as f:
        f.write("| case | layer (zstd) | wall | peak RSS | status |\n|---|---:|---:|---:|---|\n")
        for case, size, wall, rss, status in rows:
            f.write(f"| {case} | {size / 1e3:.0f} kB | {wall:.2f} s | {rss} MB | {status} |\n")
    print(open(os.path.join(ROOT, "bench-data", "layer-memory.md")).read())


if __name__ == "__main__":
    main()
