#!/usr/bin/env python3
"""Make a one-layer container image from local files, with no image engine.

The cluster's add-ons are static binaries: their images need nothing but the
binary, so they are assembled here and imported into containerd (a k3s air-gap
import, in effect), and the smoke test pushes one to the loopback registry.

  image.py archive --out TAR --name REF [spec...]   docker-archive tar for `ctr images import`
  image.py push --registry HOST:PORT --repo REPO --tag TAG [spec...]
                                                    push over HTTP; prints REGISTRY/REPO@sha256:...
spec:
  --file SRC:DEST[:MODE]   copy a file (MODE octal, default: SRC's mode)
  --link DEST:TARGET       symbolic link
  --dir DEST[:MODE]        directory (default mode 0755)
  --entrypoint JSON        e.g. '["/traefik"]'
  --cmd JSON               default arguments
  --user UID:GID           numeric user (the image's USER)
  --env K=V                environment, repeatable

Layers are reproducible: every entry has mtime 0 and owner 0:0.
"""

import argparse
import hashlib
import io
import json
import os
import sys
import tarfile
import urllib.error
import urllib.request

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"


def fail(msg):
    print(f"[cluster-image] error: {msg}", file=sys.stderr)
    sys.exit(2)


def add_parents(tar, seen, path):
    parts = path.strip("/").split("/")[:-1]
    for i in range(1, len(parts) + 1):
        d = "/".join(parts[:i])
        if d not in seen:
            seen.add(d)
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            tar.addfile(info)


def make_layer(args):
    buf = io.BytesIO()
    seen = set()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for spec in args.dir or []:
            dest, _, mode = spec.partition(":")
            add_parents(tar, seen, dest + "/x")
            d = dest.strip("/")
            if d in seen:
                continue
            seen.add(d)
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = int(mode, 8) if mode else 0o755
            tar.addfile(info)
        for spec in args.file or []:
            fields = spec.split(":")
            if len(fields) not in (2, 3):
                fail(f"--file wants SRC:DEST[:MODE], got '{spec}'")
            src, dest = fields[0], fields[1]
            if not os.path.isfile(src):
                fail(f"--file {spec}: no file at '{src}'")
            add_parents(tar, seen, dest)
            info = tarfile.TarInfo(dest.strip("/"))
            info.size = os.path.getsize(src)
            info.mode = int(fields[2], 8) if len(fields) == 3 else os.stat(src).st_mode & 0o7777
            with open(src, "rb") as f:
                tar.addfile(info, f)
        for spec in args.link or []:
            dest, _, target = spec.partition(":")
            if not target:
                fail(f"--link wants DEST:TARGET, got '{spec}'")
            add_parents(tar, seen, dest)
            info = tarfile.TarInfo(dest.strip("/"))
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return buf.getvalue()


def make_config(args, layer):
    cfg = {}
    if args.entrypoint:
        cfg["Entrypoint"] = json.loads(args.entrypoint)
    if args.cmd:
        cfg["Cmd"] = json.loads(args.cmd)
    if args.user:
        cfg["User"] = args.user
    cfg["Env"] = ["PATH=/usr/local/bin:/usr/bin:/bin"] + (args.env or [])
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": cfg,
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "pyfleet cluster image"}],
    }
    return json.dumps(config, sort_keys=True, separators=(",", ":")).encode()


def archive(args, layer, config):
    config_digest = hashlib.sha256(config).hexdigest()
    layer_digest = hashlib.sha256(layer).hexdigest()
    manifest = [
        {
            "Config": config_digest + ".json",
            "RepoTags": [args.name],
            "Layers": [layer_digest + "/layer.tar"],
        }
    ]
    with tarfile.open(args.out, "w") as tar:
        for name, data in (
            (config_digest + ".json", config),
            (layer_digest + "/layer.tar", layer),
            ("manifest.json", json.dumps(manifest).encode()),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))


def request(method, url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()
    except OSError as e:
        fail(f"{method} {url}: {e} (is the loopback registry running? infra/local-infra.sh start)")


def push_blob(base, repo, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    status, _, _ = request("HEAD", f"{base}/v2/{repo}/blobs/{digest}")
    if status == 200:
        return digest
    status, headers, body = request("POST", f"{base}/v2/{repo}/blobs/uploads/")
    if status != 202:
        fail(f"blob upload to {base}/v2/{repo} refused: {status} {body[:200]!r}")
    location = headers["Location"]
    if location.startswith("/"):
        location = base + location
    sep = "&" if "?" in location else "?"
    status, _, body = request(
        "PUT",
        f"{location}{sep}digest={digest}",
        data,
        {"Content-Type": "application/octet-stream"},
    )
    if status != 201:
        fail(f"blob {digest} refused: {status} {body[:200]!r}")
    return digest


def push(args, layer, config):
    if not args.registry.startswith("127.0.0.1:"):
        fail(f"--registry must be a loopback registry (127.0.0.1:PORT), got '{args.registry}'")
    base = "http://" + args.registry
    layer_digest = push_blob(base, args.repo, layer)
    config_digest = push_blob(base, args.repo, config)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [{"mediaType": OCI_LAYER, "digest": layer_digest, "size": len(layer)}],
        },
        separators=(",", ":"),
    ).encode()
    status, headers, body = request(
        "PUT",
        f"{base}/v2/{args.repo}/manifests/{args.tag}",
        manifest,
        {"Content-Type": OCI_MANIFEST},
    )
    if status != 201:
        fail(f"manifest for {args.repo}:{args.tag} refused: {status} {body[:200]!r}")
    digest = headers.get("Docker-Content-Digest") or "sha256:" + hashlib.sha256(manifest).hexdigest()
    print(f"{args.registry}/{args.repo}@{digest}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["archive", "push"])
    p.add_argument("--out")
    p.add_argument("--name")
    p.add_argument("--registry")
    p.add_argument("--repo")
    p.add_argument("--tag", default="latest")
    p.add_argument("--file", action="append")
    p.add_argument("--link", action="append")
    p.add_argument("--dir", action="append")
    p.add_argument("--entrypoint")
    p.add_argument("--cmd")
    p.add_argument("--user")
    p.add_argument("--env", action="append")
    args = p.parse_args()
    layer = make_layer(args)
    config = make_config(args, layer)
    if args.mode == "archive":
        if not args.out or not args.name:
            fail("archive needs --out TAR and --name REF")
        archive(args, layer, config)
    else:
        if not args.registry or not args.repo:
            fail("push needs --registry 127.0.0.1:PORT and --repo REPO")
        push(args, layer, config)


if __name__ == "__main__":
    main()
