#!/usr/bin/env python3
"""Write the seed corpus of every fuzz target (or of those named) into fuzz/corpus/<target>/.

Seeds are regenerated on every run and never committed: small tars (and their gzip,
zstd and xz compressions) for the layer walker and the merge, small image archives
for the documents target (testdata/sample.tar, the fixture builder's `sample`, a few
small files of /work/shared/corpus), and hand-written texts for the parsers.
"""
import gzip
import io
import lzma
import os
import shutil
import subprocess
import sys
import tarfile

FUZZ = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(FUZZ)
CORPUS = os.path.join(FUZZ, "corpus")
SHARED = "/work/shared/corpus"
SEPARATOR = b"\n--LAYER--\n"


WANTED = set(sys.argv[1:])  # the targets to regenerate; none named: all of them


def out(target, name, data):
    if WANTED and target not in WANTED:
        return
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def tar(members):
    """members: (name, kind, payload) with kind file|dir|symlink|hardlink."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, payload in members:
            info = tarfile.TarInfo(name)
            info.mtime = 0
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                t.addfile(info)
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = payload
                t.addfile(info)
            elif kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = payload
                t.addfile(info)
            else:
                info.size = len(payload)
                t.addfile(info, io.BytesIO(payload))
    return buf.getvalue()


def zstd(data):
    return subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True, check=True).stdout


LAYERS = {
    "base": tar([
        ("etc", "dir", None),
        ("etc/passwd", "file", b"root:x:0:0::/root:/bin/sh\n"),
        ("usr/bin/tool", "file", b"\x7fELF" + b"\0" * 200),
        ("usr/lib/libx.so", "file", b"x" * 1000),
        ("usr/lib/libx.so.1", "symlink", "libx.so"),
        ("usr/lib/hard", "hardlink", "usr/lib/libx.so"),
        ("var/cache/apt/archives/a.deb", "file", b"deb" * 300),
    ]),
    "rewrite": tar([
        ("usr/lib/libx.so", "file", b"y" * 1000),
        ("usr/bin/.wh.tool", "file", b""),
        ("var/cache/.wh..wh..opq", "file", b""),
        ("app/main.py", "file", b"print('hi')\n" * 20),
    ]),
    "delete": tar([
        ("usr/lib/.wh.hard", "file", b""),
        ("etc/.wh.passwd", "file", b""),
        ("../escape", "file", b"z" * 10),
        ("app/main.py", "file", b"print('hi')\n" * 20),
    ]),
}


def layer_seeds():
    for name, data in LAYERS.items():
        out("layer_walk", name + ".tar", data)
        out("layer_walk", name + ".tar.gz", gzip.compress(data, mtime=0))
        out("layer_walk", name + ".tar.zst", zstd(data))
        out("layer_walk", name + ".tar.xz", lzma.compress(data))
    out("layer_walk", "empty", b"")
    base, rewrite, delete = LAYERS["base"], LAYERS["rewrite"], LAYERS["delete"]
    out("merge", "two", base + SEPARATOR + rewrite)
    out("merge", "three", base + SEPARATOR + rewrite + SEPARATOR + delete)
    out("merge", "three-gz", gzip.compress(base, mtime=0) + SEPARATOR + zstd(rewrite)
        + SEPARATOR + lzma.compress(delete))
    out("merge", "one", base)


def document_seeds():
    sample = os.path.join(ROOT, "testdata", "sample.tar")
    if os.path.exists(sample):
        data = open(sample, "rb").read()
        out("documents", "testdata-sample.tar", data)
        out("documents", "testdata-sample.tar.gz", gzip.compress(data, mtime=0))
    tmp = os.path.join(FUZZ, "corpus", ".mkimage")
    os.makedirs(tmp, exist_ok=True)
    built = os.path.join(ROOT, "target", "debug", "examples", "mkimage")
    for fmt in ("docker", "oci-archive"):
        dest = os.path.join(tmp, "sample-" + fmt + ".tar")
        cmd = [built] if os.access(built, os.X_OK) else ["cargo", "run", "-q", "--example", "mkimage", "--"]
        r = subprocess.run(cmd + ["sample", dest, "--format", fmt], cwd=ROOT, capture_output=True)
        if r.returncode == 0 and os.path.exists(dest):
            out("documents", "mkimage-sample-" + fmt + ".tar", open(dest, "rb").read())
        else:
            print("seeds: mkimage sample --format %s failed, skipped" % fmt, file=sys.stderr)
    shutil.rmtree(tmp, ignore_errors=True)
    picked = 0
    if os.path.isdir(SHARED):
        for dirpath, _, files in sorted(os.walk(SHARED)):
            for f in sorted(files):
                p = os.path.join(dirpath, f)
                if f.endswith((".tar", ".tar.gz", ".tgz")) and os.path.getsize(p) < 100_000:
                    rel = os.path.relpath(p, SHARED).replace(os.sep, "_")
                    out("documents", "shared-" + rel, open(p, "rb").read())
                    picked += 1
                if picked >= 12:
                    break
            if picked >= 12:
                break
    out("documents", "manifest.json", b'[{"Config":"c.json","RepoTags":["a:b"],"Layers":["l.tar"]}]')


def text_seeds():
    budgets = {
        "flag-then-file": "total=100MB\n[budget]\ntotal = \"100 MB\"\nwasted = \"5%\"\n",
        "paths": "wasted=1GiB\n[budget]\nlayers = 10\n[budget.paths]\n\"/usr/**\" = \"50MB\"\n",
        "growth": "max-growth=10%\n[budget]\ngrowth = \"10%\"\ngrowth_measure = \"stored\"\n",
    }
    for name, text in budgets.items():
        out("budget", name, text.encode())
    df = os.path.join(ROOT, "testdata", "dockerfiles")
    for dirpath, _, files in os.walk(df):
        for f in files:
            p = os.path.join(dirpath, f)
            if os.path.getsize(p) < 100_000:
                out("dockerfile", os.path.relpath(p, df).replace(os.sep, "_"), open(p, "rb").read())
    out("dockerfile", "heredoc", b"# escape=`\nFROM alpine AS a\nRUN <<EOF\necho hi\nEOF\nFROM a\nCOPY --from=a / /\nRUN apt-get update && \\\n  apt-get install -y x\n")
    for i, text in enumerate([
        "ubuntu", "ubuntu:22.04", "docker.io/library/ubuntu@sha256:" + "a" * 64,
        "localhost:5000/a/b/c:tag", "ghcr.io/o/r:v1@sha256:" + "b" * 64, "[::1]:5000/x",
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull"',
        'Basic realm="x\\"y"', "bearer  , realm=a,,service=b",
    ]):
        out("registry", "seed%d" % i, text.encode())


def large_seeds():
    """Small inputs that decompress to a lot: a 48 MiB run of zeros in one file, and
    100,000 empty files, each as gzip, zstd and xz (plain tar would be the size itself)."""
    zeros = tar([("big/zeros", "file", bytes(48 << 20))])
    many = tar([("many/f%d" % i, "file", b"") for i in range(100_000)])
    for name, data in (("zeros", zeros), ("many", many)):
        for ext, packed in ((".tar.gz", gzip.compress(data, 9, mtime=0)), (".tar.zst", zstd(data)),
                            (".tar.xz", lzma.compress(data))):
            out("layer_walk", "large-" + name + ext, packed)
            out("merge", "large-" + name + ext, LAYERS["base"] + SEPARATOR + packed)


def main():
    if not WANTED:
        shutil.rmtree(CORPUS, ignore_errors=True)
    for t in WANTED:
        shutil.rmtree(os.path.join(CORPUS, t), ignore_errors=True)
    layer_seeds()
    large_seeds()
    if not WANTED or "documents" in WANTED:
        document_seeds()
    text_seeds()
    os.makedirs(CORPUS, exist_ok=True)
    for t in sorted(os.listdir(CORPUS)):
        print("seeds: %-10s %d files" % (t, len(os.listdir(os.path.join(CORPUS, t)))))


main()
