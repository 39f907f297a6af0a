"""Site folders for isolated workers: what Lambda would give a function, and nothing more.

A function's worker sees its code folder, its layers' python/ folders, one site folder with its
requirements (the function's requirements.txt plus its layers') and one with the runtime's boto3.
Each distinct requirements set is installed once into the cache's sites/ (localcloud/paths.py) and reused while the set
is unchanged, so a function that forgot a dependency fails here as it would on AWS. The installer is
uv (a dependency of localcloud: it resolves, downloads and links in parallel from its own cache,
where pip took ~40 s of a first `localcloud run`), or pip if uv is missing; both install the same pinned
lines with the same constraints into a folder of their own (`--target`).
"""
import fcntl
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from .paths import cache_dir

SITES = cache_dir() / "sites"
INSTALL_TIMEOUT = 900
log = logging.getLogger("localcloud.sites")


class SiteError(Exception):
    """The installer could not install a requirements set."""


def requirement_files(code_dir, layer_dirs):
    """The requirements.txt files that `sam build` would install for a function: its own, then its layers'."""
    files = [Path(code_dir) / "requirements.txt"]
    for layer in layer_dirs:
        layer = Path(layer)
        # A layer built with BuildMethod keeps requirements.txt beside its packages; a prebuilt one one level up.
        files.append(layer / "requirements.txt" if (layer / "requirements.txt").exists()
                     else layer.parent / "requirements.txt")
    return [f for f in files if f.is_file()]


def requirement_lines(files):
    """The requirement specifiers of files, without comments, sorted and unique."""
    lines = set()
    for path in files:
        for raw in Path(path).read_text().splitlines():
            line = raw.split("#", 1)[0].strip()
            if line:
                lines.add(line)
    return sorted(lines, key=str.lower)


def runtime_pins():
    """What the Lambda runtime provides: boto3 at the version installed beside localcloud (the one the project pins
    for its own code; botocore comes with it)."""
    try:
        return [f"boto3=={metadata.version('boto3')}"]
    except metadata.PackageNotFoundError:
        return ["boto3"]


def runtime_site():
    """The folder holding the runtime's boto3/botocore (installed once)."""
    return ensure(runtime_pins(), what="the Lambda runtime's boto3")


def function_site(code_dir, layer_dirs, name=""):
    """The site folder with a function's (and its layers') requirements; None if it has none."""
    lines = requirement_lines(requirement_files(code_dir, layer_dirs))
    if not lines:
        return None
    return ensure(lines, constraints=_installed(runtime_site()), what=name or str(code_dir))


def ensure(lines, constraints=(), what=""):
    """The folder where `lines` are installed, installing them the first time (one installer run per distinct set)."""
    key = hashlib.sha256("\n".join([sys.version.split()[0], *lines, "--", *constraints]).encode()).hexdigest()[:16]
    target = SITES / key
    if (target / ".complete").exists():
        return target
    SITES.mkdir(parents=True, exist_ok=True)
    with open(SITES / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # tests and the hot reloader may ask for the same set at once
        if (target / ".complete").exists():
            return target
        log.warning("installing requirements for %s into %s (first time for this set; reused while it is "
                    "unchanged): %s", what, target, ", ".join(lines))
        _install(lines, constraints, target)
    return target


def uv_binary():
    """The uv executable of the `uv` package in this interpreter's environment, or None if it is not installed."""
    try:
        from uv import find_uv_bin
        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        return None


def install_command(requirements, constraints, site):
    """(installer name, command) installing requirements (with constraints) into the folder site: uv, else pip."""
    uv = uv_binary()
    if uv is None:
        log.warning("uv is not installed in %s (make install adds it); installing with pip, which is slower",
                    sys.prefix)
        return "pip", [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                       "--no-warn-script-location", "--target", str(site),
                       "-r", str(requirements), "-c", str(constraints)]
    # --python: resolve for the interpreter the workers run (its version and platform), not uv's guess.
    # No --compile-bytecode: compiling every module (phonenumbers' data, botocore) was most of an install's
    # time; `sam build` ships no .pyc either, and a worker's first import writes those it needs into the site.
    return "uv", [uv, "pip", "install", "--quiet", "--python", sys.executable, "--target", str(site),
                  "-r", str(requirements), "-c", str(constraints)]


def _install(lines, constraints, target):
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=SITES))
    try:
        (tmp / "requirements.txt").write_text("\n".join(lines) + "\n")
        (tmp / "constraints.txt").write_text("\n".join(constraints) + "\n")
        installer, cmd = install_command(tmp / "requirements.txt", tmp / "constraints.txt", tmp / "site")
        started = time.monotonic()
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT,
                              env=dict(os.environ, PIP_NO_INPUT="1"))
        if done.returncode != 0:
            errors = [ln for ln in done.stderr.splitlines() if "is ignored" not in ln]
            raise SiteError(f"{installer} could not install {', '.join(lines)}:\n" + "\n".join(errors[-20:]))
        shutil.rmtree(target, ignore_errors=True)
        os.rename(tmp / "site", target)
        (target / ".requirements.txt").write_text("\n".join(lines) + "\n")
        (target / ".complete").touch()
        log.info("installed %s with %s in %.1f s", target, installer, time.monotonic() - started)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _installed(site):
    """name==version of every distribution in a site folder (used as constraints: one botocore everywhere)."""
    pins = []
    for info in sorted(Path(site).glob("*.dist-info")):
        name, _, version = info.name[:-len(".dist-info")].partition("-")
        pins.append(f"{name}=={version}")
    return pins
