"""Deployability: `sam build` output imports with only what Lambda gives each function, the SAM
linter passes, and every requirements.txt pins exactly what its code imports.

Every function and layer is read from the template, so functions added later are covered as they are."""
import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

from localcloud import sites
from localcloud.template import Stack, load, with_globals

import importgraph

ROOT = Path(__file__).resolve().parents[2]
SAM = ROOT / ".venv-sam" / "bin" / "sam"   # its own venv: aws-sam-cli's pins conflict with the project's
# A hang guard, not a speed claim: on a loaded 2-core machine (CPU load 40) sam build took over 14 minutes.
pytestmark = pytest.mark.timeout(2100)


def sam(*args, cwd=ROOT):
    assert SAM.exists(), f"{SAM} is missing: `make test` creates it from requirements-sam.txt"
    env = dict(os.environ, SAM_CLI_TELEMETRY="0", AWS_DEFAULT_REGION="us-east-1")
    # The builder runs pip with the python3.11 it finds on PATH: the project venv's, whatever shell runs this.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.pop("AWS_ENDPOINT_URL", None)
    return subprocess.run([str(SAM), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=2000)


def built_functions(build_dir):
    """(logical id, handler, built code folder, built layers' python/ folders) of every built function."""
    template = with_globals(load(build_dir / "template.yaml"))
    resources = template["Resources"]
    out = []
    for logical, res in resources.items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        props = res["Properties"]
        layers = []
        for ref in props.get("Layers", []):
            layer = resources[ref["Ref"]]["Properties"]
            layers.append(build_dir / layer["ContentUri"] / "python")
        out.append((logical, props["Handler"], build_dir / props["CodeUri"], layers))
    return out


@pytest.fixture(scope="module")
def build_dir():
    # --parallel: the functions' pip runs at once (network and disk waits overlap); --cached: a build whose source
    # and requirements are unchanged since the last run is reused from .aws-sam/cache and .aws-sam/deps (SAM keys
    # it on both hashes). SAM keeps those keys in build.toml beside the build folder: in a fresh temporary folder
    # every run they were lost, so every run built (and pip-installed) everything again, ~7 min under load, and
    # left another copy of every function's dependencies in .aws-sam/deps. One fixed folder keeps them.
    # Two suites (or two -n 2 workers) run from one checkout at once take turns: one writer, and no rebuild
    # under a module still reading the folder (the lock is held until the module's tests are done).
    cache = ROOT / ".aws-sam" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    out = ROOT / ".aws-sam" / "tests" / "build"
    with open(cache.parent / "cache.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = sam("build", "--template", "template.yaml", "--build-dir", str(out), "--parallel", "--cached",
                   "--cache-dir", str(cache))
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        yield out


def test_sam_validate_lint_passes():
    done = sam("validate", "--lint", "--template", "template.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is a valid SAM Template" in done.stdout + done.stderr


def test_every_built_function_imports_with_only_what_lambda_gives_it(build_dir):
    functions = built_functions(build_dir)
    declared = [k for k, v in load(ROOT / "template.yaml")["Resources"].items()
                if v.get("Type") == "AWS::Serverless::Function"]
    assert sorted(f[0] for f in functions) == sorted(declared)
    runtime = str(sites.runtime_site())  # boto3/botocore as the Lambda runtime provides them
    failures = []
    for logical, handler, code, layers in functions:
        assert code.is_dir() and all(layer.is_dir() for layer in layers), (logical, code, layers)
        module, _, attr = handler.rpartition(".")
        path = [str(code)] + [str(layer) for layer in layers] + [runtime]
        script = ("import importlib, sys\n"
                  f"sys.path[:0] = {path!r}\n"
                  "assert not [p for p in sys.path if 'site-packages' in p], sys.path\n"
                  f"handler = getattr(importlib.import_module({module!r}), {attr!r})\n"
                  "assert callable(handler)\n")
        done = subprocess.run([sys.executable, "-I", "-S", "-c", script], cwd=code, capture_output=True, text=True,
                              env={"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": "us-east-1"},
                              timeout=120)
        if done.returncode != 0:
            failures.append(f"{logical} ({handler}):\n{done.stderr[-1500:]}")
    assert not failures, "\n\n".join(failures)


def test_the_layer_lands_where_lambda_imports_it(build_dir):
    for _logical, _handler, _code, layers in built_functions(build_dir):
        for layer in layers:
            assert (layer / "common" / "__init__.py").is_file()
            assert not (layer / "python").exists()   # /opt/python/python/... is never imported


# Pinned though never imported by name: data a module reads, or the plugins an imported tool runs.
ALSO_PINNED = {"tzdata": "zoneinfo's time zone database",
               "mccabe": "flake8's checkers, at the versions results are compared with",
               "pycodestyle": "flake8's checkers", "pyflakes": "flake8's checkers"}


def test_requirements_pin_exactly_what_the_code_imports():
    stack = Stack(ROOT / "template.yaml")
    problems = []
    for logical, fn in stack.functions().items():
        needs = importgraph.third_party(fn.handler.rpartition(".")[0], fn.code_dir, fn.layer_dirs)
        pins = importgraph.pinned(fn.code_dir / "requirements.txt")
        # What a layer installs is not installed again in the function's folder: a second copy (chalice's
        # brought botocore, pip and setuptools into every function, 78-93 MB of the 250 MB Lambda allows with its
        # layers) whose version the two files could let drift apart.
        layered = set().union(*(importgraph.pinned(d / "requirements.txt") for d in fn.layer_dirs))
        own = needs[fn.code_dir] - layered
        if pins & layered:
            problems.append(f"{logical}: {fn.code_dir.name}/requirements.txt pins {sorted(pins & layered)}, "
                            "which its layer installs")
        elif own != pins - (set(ALSO_PINNED) - own):
            problems.append(f"{logical}: {fn.code_dir.name}/requirements.txt pins {sorted(pins)}, "
                            f"its code imports {sorted(own)} beside its layers'")
    for layer in {d for fn in stack.functions().values() for d in fn.layer_dirs}:
        pins = importgraph.pinned(layer / "requirements.txt")
        imports = importgraph.layer_imports(layer)
        if imports != pins:
            problems.append(f"layer {layer}: requirements.txt pins {sorted(pins)}, its code imports {sorted(imports)}")
    assert not problems, "\n".join(problems)
