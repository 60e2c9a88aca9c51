"""Create a conda environment with py-rattler (the library behind pixi), without conda or mamba.

In an image's builder stage:

    python rattler-install.py --app NAME --prefix /opt/conda/envs/app --file environment.yml
    python rattler-install.py --app NAME --prefix /opt/conda/envs/app --file conda-lock.yml

environment.yml is solved against its channels (or $CONDA_CHANNEL, which replaces them), then
its `pip:` section is installed with the environment's own pip (which reads the PIP_* build
arguments). conda-lock.yml is installed as written, without a solve: each linux-64 conda
package is taken by its file name from its channel's repodata and checked against the lock's
sha256; pip packages are installed by exact version with --require-hashes.

On a workstation, with py-rattler installed:

    python rattler-install.py --app NAME --lock conda-lock.yml --file environment.yml

solves environment.yml and writes a conda-lock.yml (version 1 format, linux-64) instead.
Errors name the app and the file, and exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import rattler
import yaml

PLATFORM = "linux-64"
CONDA_FORGE_ALIAS = "https://conda.anaconda.org/"


class InputError(Exception):
    """Bad input: the message names the app, the file, the value and the fix."""


def log(message: str) -> None:
    print(f"[rattler-install] {message}", file=sys.stderr, flush=True)


def channel_urls(names: list[str]) -> list[str]:
    override = os.environ.get("CONDA_CHANNEL", "").strip()
    if override:
        return [u.strip().rstrip("/") for u in override.split(",") if u.strip()]
    return [n if "://" in n else CONDA_FORGE_ALIAS + n for n in names]


def read_environment(app: str, path: Path) -> tuple[list[str], list[str], list[str]]:
    """(channels, conda specs, pip requirements) of an environment.yml."""
    where = f"app {app}: {path.name}"
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise InputError(f"{where} is not valid YAML ({error}); fix the file") from None
    if not isinstance(doc, dict):
        raise InputError(f"{where} must be a mapping with a dependencies list, got {doc!r}")
    deps = doc.get("dependencies")
    if not isinstance(deps, list) or not deps:
        raise InputError(
            f"{where} has no dependencies; list the packages under `dependencies:` "
            "(e.g. - python=3.11)"
        )
    specs: list[str] = []
    pip: list[str] = []
    for dep in deps:
        if isinstance(dep, str):
            specs.append(dep)
        elif isinstance(dep, dict) and set(dep) == {"pip"} and isinstance(dep["pip"], list):
            pip.extend(str(r) for r in dep["pip"])
        else:
            raise InputError(
                f"{where}: dependency {dep!r} is neither a conda spec nor a `pip:` list"
            )
    if pip and not any(s.split("=")[0].split(" ")[0].split("<")[0] == "pip" for s in specs):
        raise InputError(f"{where} has a pip: section but no pip dependency; add - pip")
    channels = doc.get("channels") or []
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise InputError(f"{where}: channels must be a list of names or URLs, got {channels!r}")
    return channels, specs, pip


def solve(app: str, path: Path, channels: list[str], specs: list[str]):
    try:
        match_specs = [rattler.MatchSpec(s) for s in specs]
    except Exception as error:  # rattler's parse errors have no common base class here
        raise InputError(f"app {app}: {path.name}: {error}; fix the spec") from None
    started = time.monotonic()
    try:
        records = asyncio.run(
            rattler.solve(
                channels,
                match_specs,
                platforms=[PLATFORM, "noarch"],
                virtual_packages=rattler.VirtualPackage.detect(),
            )
        )
    except Exception as error:
        raise InputError(
            f"app {app}: {path.name} cannot be solved against {', '.join(channels)}:\n{error}\n"
            "Fix the spec, or add the package to the channel"
        ) from None
    log(f"solved {len(specs)} specs to {len(records)} packages in {time.monotonic() - started:.1f} s")
    return records


def install(records, prefix: Path) -> None:
    started = time.monotonic()
    # The package cache goes with the layer unless RATTLER_CACHE_DIR keeps it (e.g. a BuildKit
    # cache mount).
    kept = os.environ.get("RATTLER_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="rattler-cache-") as tmp:
        cache = Path(kept) if kept else Path(tmp)
        asyncio.run(
            rattler.install(records, target_prefix=prefix, cache_dir=cache, show_progress=False)
        )
    log(f"installed {len(records)} packages into {prefix} in {time.monotonic() - started:.1f} s")


def pip_install(prefix: Path, args: list[str]) -> None:
    command = [str(prefix / "bin" / "python"), "-m", "pip", "install", "--no-cache-dir"]
    command += ["--disable-pip-version-check", "--root-user-action=ignore", *args]
    subprocess.run(command, check=True)


def from_lock(app: str, path: Path, prefix: Path) -> None:
    where = f"app {app}: {path.name}"
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise InputError(f"{where} is not valid YAML ({error}); regenerate it") from None
    if not isinstance(doc, dict) or doc.get("version") != 1 or not isinstance(doc.get("package"), list):
        raise InputError(f"{where} is not a conda-lock file (version 1); regenerate it")
    platforms = (doc.get("metadata") or {}).get("platforms") or []
    entries = [p for p in doc["package"] if p.get("platform") == PLATFORM]
    if PLATFORM not in platforms or not entries:
        raise InputError(
            f"{where} locks {', '.join(map(str, platforms)) or 'no platform'}, not {PLATFORM}, "
            f"the platform of this image; re-lock for it (conda-lock -p {PLATFORM})"
        )
    conda = [p for p in entries if p.get("manager") == "conda"]
    pip = [p for p in entries if p.get("manager") == "pip"]
    override = channel_urls([])

    # Repodata of each channel subdir named in the lock, fetched once: records by file name.
    records = []
    repodata: dict[str, dict[str, object]] = {}
    for entry in conda:
        url = str(entry["url"])
        base, subdir, file_name = url.rsplit("/", 2)
        if override:
            base = override[0]
        key = f"{base}/{subdir}"
        if key not in repodata:
            with tempfile.TemporaryDirectory() as tmp:
                target = Path(tmp) / "repodata.json"
                urllib.request.urlretrieve(f"{key}/repodata.json", target)
                channel = rattler.Channel(base)
                repodata[key] = {
                    r.file_name: r for r in rattler.RepoData.from_path(target).into_repo_data(channel)
                }
        record = repodata[key].get(file_name)
        if record is None:
            raise InputError(f"{where}: {file_name} is not in {key}; re-lock against this channel")
        want = (entry.get("hash") or {}).get("sha256")
        have = record.sha256.hex() if record.sha256 is not None else None
        if want is None or want != have:
            raise InputError(
                f"{where}: {file_name} has sha256 {have} in {key}, the lock says {want}; re-lock"
            )
        records.append(record)
    log(f"{len(records)} conda packages from {path.name}, without a solve")
    install(records, prefix)
    if pip:
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as reqs:
            for entry in pip:
                sha = (entry.get("hash") or {}).get("sha256")
                reqs.write(f"{entry['name']}=={entry['version']} --hash=sha256:{sha}\n")
        pip_install(prefix, ["--no-deps", "--require-hashes", "-r", reqs.name])


def write_lock(app: str, env_file: Path, lock_file: Path) -> None:
    names, specs, pip = read_environment(app, env_file)
    channels = channel_urls(names)
    records = solve(app, env_file, channels, specs)
    packages = []
    for r in sorted(records, key=lambda r: r.name.normalized):
        packages.append(
            {
                "name": r.name.normalized,
                "version": str(r.version),
                "manager": "conda",
                "platform": PLATFORM,
                "dependencies": {d.split(" ")[0]: " ".join(d.split(" ")[1:]) for d in r.depends},
                "url": r.url,
                "hash": {"md5": r.md5.hex() if r.md5 else "", "sha256": r.sha256.hex()},
                "category": "main",
                "optional": False,
            }
        )
    if pip:
        # pip's own resolver, for CPython 3.11 on linux-64, without installing anything.
        with tempfile.TemporaryDirectory() as tmp:
            report = Path(tmp) / "report.json"
            subprocess.run(
                [sys.executable, "-m", "pip", "install", "--quiet", "--dry-run", "--ignore-installed",
                 "--only-binary=:all:", "--python-version", "3.11", "--platform", "manylinux_2_28_x86_64",
                 "--target", str(Path(tmp) / "t"), "--report", str(report), *pip],
                check=True,
            )
            for item in json.loads(report.read_text())["install"]:
                meta, info = item["metadata"], item["download_info"]
                packages.append(
                    {
                        "name": meta["name"].lower(),
                        "version": meta["version"],
                        "manager": "pip",
                        "platform": PLATFORM,
                        "dependencies": {},
                        "url": info["url"],
                        "hash": {"sha256": info["archive_info"]["hashes"]["sha256"]},
                        "category": "main",
                        "optional": False,
                    }
                )
    content_hash = hashlib.sha256(env_file.read_bytes()).hexdigest()
    doc = {
        "version": 1,
        "metadata": {
            "content_hash": {PLATFORM: content_hash},
            "channels": [{"url": c, "used_env_vars": []} for c in channels],
            "platforms": [PLATFORM],
            "sources": [env_file.name],
        },
        "package": packages,
    }
    lock_file.write_text(
        "# Generated by rattler-install.py --lock from " + env_file.name + ": do not edit.\n"
        + yaml.safe_dump(doc, sort_keys=False)
    )
    log(f"wrote {lock_file} ({len(packages)} packages)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--app", required=True, help="app name, for error messages")
    parser.add_argument("--file", type=Path, required=True, help="environment.yml or conda-lock.yml")
    parser.add_argument("--prefix", type=Path, help="environment to create")
    parser.add_argument("--lock", type=Path, help="write this conda-lock.yml instead of installing")
    args = parser.parse_args()
    try:
        if not args.file.is_file():
            raise InputError(f"app {args.app}: {args.file} not found")
        if args.lock is not None:
            write_lock(args.app, args.file, args.lock)
            return
        if args.prefix is None:
            raise InputError("--prefix is required to install")
        if args.file.name.endswith("lock.yml"):
            from_lock(args.app, args.file, args.prefix)
            return
        names, specs, pip = read_environment(args.app, args.file)
        install(solve(args.app, args.file, channel_urls(names), specs), args.prefix)
        if pip:
            pip_install(args.prefix, pip)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
