"""Build the local conda channel's packages with rattler-build, each once, and index the channel.

Run by build.sh inside the tools virtualenv (py-rattler-build, py-rattler):

    PYFLEET_CONDA_SOURCES=DIR python build_channel.py --cache DIR --channel DIR RECIPE...

Each recipe is built into DIR/packages/<name>-<key>/, where <key> hashes the recipe text and
the rattler-build version: a recipe that did not change is never rebuilt, and a new wheel
version rebuilds only its own package. The recipes are built in the order given (python
first: the others take it from the packages already built). The channel is then assembled
from the packages and indexed with rattler's indexer (repodata.json per subdir).

Progress goes to stderr every PROGRESS_SECONDS: which package, time elapsed and the time
its last build took (DIR/timings.json).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import sys
import subprocess
import time
from pathlib import Path

import rattler_build

PROGRESS_SECONDS = 20
SUBDIRS = ("linux-64", "noarch")


def log(message: str) -> None:
    print(f"[conda-channel] {message}", file=sys.stderr, flush=True)


def minutes(seconds: float) -> str:
    return f"{int(seconds) // 60}m{int(seconds) % 60:02d}s"


def recipe_key(recipe: Path) -> str:
    digest = hashlib.sha256(recipe.read_bytes())
    digest.update(b"\0rattler-build " + rattler_build.rattler_build_version().encode())
    return digest.hexdigest()[:16]


def package_name(recipe: Path) -> str:
    # The first `name:` under `package:`; recipes here are flat, one package each.
    in_package = False
    for line in recipe.read_text().splitlines():
        if line.startswith("package:"):
            in_package = True
        elif in_package and line.strip().startswith("name:"):
            return line.split(":", 1)[1].strip()
    raise SystemExit(f"{recipe}: no package.name")


class Timings:
    """Seconds each package's last build took, to tell how long the next one should."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.data: dict[str, float] = json.loads(path.read_text())
        except (OSError, ValueError):
            self.data = {}

    def expected(self, name: str) -> str:
        last = self.data.get(name)
        return f"last build took {minutes(last)}" if last is not None else "no earlier build"

    def record(self, name: str, seconds: float) -> None:
        self.data[name] = round(seconds, 1)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=2, sort_keys=True) + "\n")
        tmp.replace(self.path)


def run_with_progress(label: str, expected: str, argv: list[str], log_file: Path) -> float:
    """Runs argv with its output in log_file, logging progress until it exits; returns seconds.

    A child process rather than a thread: rattler-build holds the interpreter lock while it
    builds, so a thread beside it could not report anything.
    """
    started = time.monotonic()
    with log_file.open("wb") as out:
        child = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        while True:
            try:
                child.wait(timeout=PROGRESS_SECONDS)
                break
            except subprocess.TimeoutExpired:
                log(f"{label}: {minutes(time.monotonic() - started)} elapsed ({expected})")
    if child.returncode != 0:
        tail = log_file.read_text(errors="replace").splitlines()[-25:]
        raise SystemExit(
            f"building {label} failed (exit {child.returncode}); last lines of {log_file}:\n"
            + "\n".join("  " + line for line in tail)
        )
    return time.monotonic() - started


# The child: one rattler-build run (argv: recipe, output dir, channel URL).
BUILD_CHILD = """
import sys, warnings
import rattler_build
warnings.simplefilter("ignore", DeprecationWarning)
rattler_build.build_recipes(
    [sys.argv[1]], output_dir=sys.argv[2], channel=[sys.argv[3]],
    package_format="conda", test="native", no_build_id=True,
)
"""


def built_packages(out: Path) -> list[Path]:
    return sorted(p for sub in SUBDIRS for p in (out / sub).glob("*.conda"))


def build_one(recipe: Path, cache: Path, built: Path, timings: Timings) -> list[Path]:
    name = package_name(recipe)
    slot = cache / "packages" / f"{name}-{recipe_key(recipe)}"
    done_marker = slot / "done"
    if done_marker.exists():
        return built_packages(slot / "out")
    if slot.exists():
        shutil.rmtree(slot)  # an interrupted build
    # A clean recipe folder: rattler-build copies the recipe's folder into the package.
    (slot / "recipe").mkdir(parents=True)
    shutil.copy2(recipe, slot / "recipe" / "recipe.yaml")
    log(f"{name}: building ({timings.expected(name)})")

    argv = [sys.executable, "-c", BUILD_CHILD, str(slot / "recipe" / "recipe.yaml")]
    argv += [str(slot / "out"), built.as_uri()]
    (slot / "out").mkdir()
    seconds = run_with_progress(name, timings.expected(name), argv, slot / "build.log")
    packages = built_packages(slot / "out")
    if not packages:
        raise SystemExit(f"building {name} from {recipe} made no package in {slot / 'out'}")
    # Keep the packages only: the work folders hold the whole build tree.
    for extra in ("bld", "src_cache", "build_cache"):
        shutil.rmtree(slot / "out" / extra, ignore_errors=True)
    timings.record(name, seconds)
    done_marker.write_text("")
    log(f"{name}: built in {minutes(seconds)}: {', '.join(p.name for p in packages)}")
    return packages


def index(channel: Path) -> None:
    # rattler's indexer (the one pixi and rattler-build use): conda-index imports `conda`
    # itself, which PyPI does not carry.
    from rattler.index import index_fs

    asyncio.run(index_fs(channel, write_zst=False, write_shards=False, force=True))
    for sub in SUBDIRS:
        if not (channel / sub / "repodata.json").is_file():
            raise SystemExit(f"indexing wrote no {channel / sub / 'repodata.json'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--channel", type=Path, required=True)
    parser.add_argument("recipes", type=Path, nargs="+")
    args = parser.parse_args()
    if not os.environ.get("PYFLEET_CONDA_SOURCES"):
        raise SystemExit("PYFLEET_CONDA_SOURCES must name the folder of downloaded sources")

    timings = Timings(args.cache / "timings.json")
    # Packages built so far, as a channel the next recipes' host environments resolve from.
    built = args.cache / "built"
    shutil.rmtree(built, ignore_errors=True)
    for sub in SUBDIRS:
        (built / sub).mkdir(parents=True)
    index(built)
    started = time.monotonic()
    for recipe in args.recipes:
        for package in build_one(recipe.resolve(), args.cache, built, timings):
            target = built / package.parent.name / package.name
            if not target.exists():
                os.link(package, target)
        index(built)

    tmp = args.channel.with_name(args.channel.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(built, tmp, copy_function=os.link)
    index(tmp)
    shutil.rmtree(args.channel, ignore_errors=True)
    tmp.rename(args.channel)
    log(f"channel {args.channel} indexed, {minutes(time.monotonic() - started)} in all")


if __name__ == "__main__":
    main()
