"""Generate one rattler-build recipe per PyPI wheel listed in packages.txt.

Run by build.sh inside the tools virtualenv (it has `packaging`):

    python generate_recipes.py --packages packages.txt --template wheel-recipe.yaml.in \\
        --wheels DIR --out DIR

The wheels are already in --wheels (build.sh downloads them with pip, from the indexes of the
machine's pip configuration). Each recipe installs its wheel with pip into $PREFIX, depends on
CPython 3.11 and on the wheel's own Requires-Dist (markers evaluated for CPython 3.11 on
linux-64, no extras), and names the wheel by sha256. The list must be closed under those
requirements: a requirement that packages.txt does not satisfy is an error naming both.
Prints the recipe paths, one a line, in an order where each package follows what it needs.
"""

from __future__ import annotations

import argparse
import email.parser
import hashlib
import re
import sys
import zipfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

# The environment the packages are for: CPython 3.11 on linux-64.
MARKER_ENV = {
    "python_version": "3.11",
    "python_full_version": "3.11.2",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "extra": "",
}


def fail(message: str) -> None:
    raise SystemExit(f"generate_recipes: {message}")


def read_pins(path: Path) -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][0-9A-Za-z.+!-]*)", line)
        if not match:
            fail(f"{path}:{number}: expected NAME==VERSION, got {raw!r}")
        name = canonicalize_name(match.group(1))
        if name in pins:
            fail(f"{path}:{number}: {name} is listed twice")
        pins[name] = Version(match.group(2))
    return pins


def metadata(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        if len(names) != 1:
            fail(f"{wheel}: expected one .dist-info/METADATA, found {len(names)}")
        return email.parser.BytesParser().parsebytes(archive.read(names[0]))


def conda_spec(specifiers: list[str]) -> str:
    # PEP 440 `==X.*` is conda's `X.*`; the other operators read the same in both.
    clauses = []
    for spec in specifiers:
        for clause in spec.split(","):
            clause = clause.strip()
            if clause.startswith("==") and clause.endswith(".*"):
                clause = clause[2:]
            if clause and clause not in clauses:
                clauses.append(clause)
    return ",".join(clauses)


def yaml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--packages", type=Path, required=True)
    parser.add_argument("--template", type=Path, required=True)
    parser.add_argument("--wheels", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    pins = read_pins(args.packages)
    if "pip" not in pins:
        fail(f"{args.packages} must list pip: every other recipe installs its wheel with it")
    template = args.template.read_text()
    wheels: dict[str, Path] = {}
    for wheel in sorted(args.wheels.glob("*.whl")):
        name, version, _, _ = parse_wheel_filename(wheel.name)
        if pins.get(name) == version:
            wheels[name] = wheel
    for name, version in pins.items():
        if name not in wheels:
            fail(f"no wheel of {name}=={version} in {args.wheels} (download failed?)")

    needs: dict[str, list[str]] = {}
    recipes: dict[str, str] = {}
    for name, wheel in wheels.items():
        meta = metadata(wheel)
        grouped: dict[str, list[str]] = {}
        for raw in meta.get_all("Requires-Dist") or []:
            requirement = Requirement(raw)
            if requirement.marker is not None and not requirement.marker.evaluate(MARKER_ENV):
                continue
            dep = canonicalize_name(requirement.name)
            if dep not in pins:
                fail(
                    f"{name} {pins[name]} requires {raw!r}, which packages.txt does not list: "
                    f"add {dep}==<version> to {args.packages}"
                )
            if not requirement.specifier.contains(pins[dep], prereleases=True):
                fail(
                    f"{name} {pins[name]} requires {raw!r}, but packages.txt pins "
                    f"{dep}=={pins[dep]}: change the pin in {args.packages}"
                )
            grouped.setdefault(dep, []).append(str(requirement.specifier))
        needs[name] = sorted(grouped)
        run = [f"    - {dep} {conda_spec(specs)}".rstrip() for dep, specs in sorted(grouped.items())]
        # pip installs itself by running from its own wheel; the others use that pip.
        install = (
            '$PYTHON "$SRC_DIR/@WHEEL@/pip" install'
            if name == "pip"
            else '$PYTHON -m pip install'
        )
        licence = meta.get("License-Expression")
        text = (
            template.replace("@INSTALL@", install)
            .replace("@NAME@", name)
            .replace("@VERSION@", str(pins[name]))
            .replace("@WHEEL@", wheel.name)
            .replace("@SHA256@", hashlib.sha256(wheel.read_bytes()).hexdigest())
            .replace("@HOST_PIP@\n", "" if name == "pip" else "    - pip\n")
            .replace("@RUN@\n", "".join(line + "\n" for line in run))
            .replace("@LICENSE@\n", f"  license: {yaml_string(licence)}\n" if licence else "")
            .replace("@SUMMARY@", yaml_string(meta.get("Summary") or name))
        )
        leftover = re.findall(r"@[A-Z0-9_]+@", text)
        if leftover:
            fail(f"template placeholders left in the recipe of {name}: {leftover}")
        recipes[name] = text

    # Dependency order (pip first: every other recipe installs with it).
    order: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in order:
            return
        if name in path:
            fail(f"dependency cycle: {' -> '.join(path + (name,))}")
        for dep in (["pip"] if name != "pip" else []) + needs[name]:
            visit(dep, path + (name,))
        order.append(name)

    for name in sorted(recipes):
        visit(name, ())
    args.out.mkdir(parents=True, exist_ok=True)
    for name in order:
        path = args.out / name / "recipe.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(recipes[name])
        print(path)


if __name__ == "__main__":
    try:
        main()
    except SystemExit as stop:
        if isinstance(stop.code, str):
            print(stop.code, file=sys.stderr)
            sys.exit(2)
        raise
