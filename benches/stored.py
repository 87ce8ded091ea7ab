#!/usr/bin/env python3
"""True stored bytes of a `docker save` archive, computed independently of imgsize.

For every layer listed in manifest.json (bottom layer first), sums the sizes of the
regular-file entries of the layer tar (`TarInfo.isreg()`): directories, symlinks,
hardlink entries, devices and whiteout markers (`.wh.*`, empty files anyway) count 0.
This is the definition of imgsize's `added_bytes` / `totals.stored_bytes`
(docs/json.md), so the two must agree.

Handles the classic layout (`<id>/layer.tar`) and Docker 25+ archives whose
manifest.json names OCI blobs (`blobs/sha256/<hex>`); layer blobs may be plain tar
or gzip/bzip2/xz tar (detected by tarfile). Only the first image of the manifest is
read.

    benches/stored.py IMAGE.tar                 human-readable, one line per layer
    benches/stored.py --tsv NAME IMAGE.tar      one row: NAME, stored, layers, per-layer
"""
import json
import posixpath
import sys
import tarfile


def layer_bytes(outer, member_name):
    member = outer.getmember(member_name)
    for _ in range(8):  # Docker 25+ archives link `<id>/layer.tar` to `blobs/sha256/...`
        if member.issym():
            target = posixpath.normpath(posixpath.join(posixpath.dirname(member.name), member.linkname))
        elif member.islnk():
            target = member.linkname
        else:
            break
        member = outer.getmember(target)
    f = outer.extractfile(member)
    total = 0
    files = 0
    # "r|*": read as a stream, any (or no) compression
    with tarfile.open(fileobj=f, mode="r|*") as layer:
        for entry in layer:
            if entry.isreg():
                total += entry.size
                files += 1
    return total, files


def stored(path):
    with tarfile.open(path, mode="r:*") as outer:
        manifest = json.load(outer.extractfile("manifest.json"))
        layers = manifest[0]["Layers"]
        return [layer_bytes(outer, name) for name in layers], manifest[0].get("RepoTags")


def main(argv):
    if len(argv) == 4 and argv[1] == "--tsv":
        name, path = argv[2], argv[3]
        per_layer, _ = stored(path)
        sizes = [b for b, _ in per_layer]
        print(f"{name}\t{sum(sizes)}\t{len(sizes)}\t{','.join(map(str, sizes))}")
        return 0
    if len(argv) == 2:
        per_layer, tags = stored(argv[1])
        print(f"{argv[1]} {tags or ''}")
        for i, (b, n) in enumerate(per_layer):
            print(f"  layer {i:2d}: {b:>14,d} bytes in {n:,d} regular files")
        print(f"  total   : {sum(b for b, _ in per_layer):>14,d} bytes, {len(per_layer)} layers")
        return 0
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
