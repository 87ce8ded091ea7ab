#!/usr/bin/env python3
"""Check imgsize's `duplicate-files` and `unstripped` figures on a saved image
(a `docker save` archive) independently of imgsize's code: the layers are merged
here with tarfile (whiteouts, opaque directories, hard links), the visible regular
files of 4096 bytes or more hashed with hashlib, and each ELF file of a layer above
the base written to a temporary directory, stripped with the real `strip` and
measured. Prints a markdown table comparing the figures with imgsize's JSON report.

    benches/real-binaries.py IMAGE.tar [--imgsize target/release/imgsize] [--base N]

`--base N` is the number of base layers (default: what imgsize's report says).
Nothing is kept on disk: each ELF file is removed once measured.
"""

import argparse
import collections
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile

MIN_BYTES = 4096


def layers(path):
    outer = tarfile.open(path)
    manifest = json.load(outer.extractfile("manifest.json"))[0]
    for name in manifest["Layers"]:
        yield tarfile.open(fileobj=outer.extractfile(outer.getmember(name)), mode="r|*")


def norm(name):
    return os.path.normpath("/" + name).lstrip("/")


def merge(path, on_file):
    """Visible regular files: path -> (layer, inode key, size). `on_file(layer, member,
    read)` is called for every regular file as it streams by."""
    visible = {}
    inode_of = {}
    for li, layer in enumerate(layers(path)):
        for m in layer:
            name = norm(m.name)
            base, leaf = os.path.split(name)
            if leaf == ".wh..wh..opq":
                for p in [p for p in visible if p.startswith(base + "/")]:
                    del visible[p]
                continue
            if leaf.startswith(".wh."):
                gone = os.path.join(base, leaf[4:])
                for p in [p for p in visible if p == gone or p.startswith(gone + "/")]:
                    del visible[p]
                continue
            if m.isdir():
                visible.pop(name, None)
                continue
            # A file or link replaces a directory, and what was under it.
            for p in [p for p in visible if p.startswith(name + "/")]:
                del visible[p]
            if m.isreg():
                key = (li, name)
                inode_of[name] = key
                visible[name] = (li, key, m.size)
                on_file(li, m, layer)
            elif m.islnk():
                target = visible.get(norm(m.linkname))
                if target:
                    visible[name] = target
                else:
                    visible.pop(name, None)
            else:
                visible.pop(name, None)
    return visible


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("image")
    ap.add_argument("--imgsize", default="target/release/imgsize")
    ap.add_argument("--base", type=int)
    args = ap.parse_args()

    report = json.loads(
        subprocess.run(
            [args.imgsize, "report", args.image, "--format", "json"],
            check=True,
            capture_output=True,
        ).stdout
    )
    base = args.base if args.base is not None else report["base"]["layers"]

    digests = {}  # (layer, path) -> sha256, files of MIN_BYTES or more
    strip_of = {}  # (layer, path) -> bytes a real strip saves
    scratch = tempfile.mkdtemp(prefix="real-binaries-")

    def on_file(li, m, layer):
        f = layer.extractfile(m)
        head = f.read(64)
        h = hashlib.sha256(head)
        # The rule reads files of MIN_BYTES or more: smaller ones are neither counted.
        is_elf = (
            head[:4] == b"\x7fELF" and len(head) == 64 and head[16] in (2, 3)
            and m.size >= MIN_BYTES
        )
        out = open(os.path.join(scratch, "f"), "wb") if is_elf and li >= base else None
        if out:
            out.write(head)
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            if m.size >= MIN_BYTES:
                h.update(chunk)
            if out:
                out.write(chunk)
        digests[(li, norm(m.name))] = h.hexdigest()
        if out:
            out.close()
            p = os.path.join(scratch, "f")
            before = os.path.getsize(p)
            ok = subprocess.run(["strip", p], capture_output=True).returncode == 0
            if ok:
                strip_of[(li, norm(m.name))] = before - os.path.getsize(p)
            os.remove(p)

    visible = merge(args.image, on_file)
    os.rmdir(scratch)

    # Duplicates: visible files by content, hard links once; keep the lowest layer's.
    groups = collections.defaultdict(set)
    for name, (li, key, size) in visible.items():
        if size >= MIN_BYTES:
            groups[digests[key]].add((li, key, size))
    dups = collections.Counter()
    for members in groups.values():
        if len(members) < 2:
            continue
        for li, _, size in sorted(members)[1:]:
            if li >= base:
                dups[li] += size
    # A strip shrinks the files still visible, each content once (hard links share it).
    strip = collections.Counter()
    for li, key in {(v[0], v[1]) for v in visible.values()}:
        strip[li] += strip_of.get(key, 0)
    reported = collections.defaultdict(collections.Counter)
    for f in report["findings"]:
        reported[f["rule"]][f["layer"]] += f["bytes"]

    print("| rule | layer | independent (bytes) | imgsize (bytes) | difference |")
    print("|---|---|---|---|---|")
    for rule, truth in (("duplicate-files", dups), ("unstripped", strip)):
        for li in sorted(set(truth) | set(reported[rule])):
            t, r = truth.get(li, 0), reported[rule].get(li, 0)
            print(f"| `{rule}` | {li} | {t} | {r} | {r - t:+} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
