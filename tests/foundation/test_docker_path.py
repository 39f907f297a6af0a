"""The Docker path (docker-compose.localstack.yml + Dockerfile), checked without a Docker engine.

No engine runs on the development machines, so these tests read the files: the compose file against
the Compose Specification's JSON schema (compose-spec.json beside this file, see compose-spec.NOTICE),
images pinned by exact tags, the image installing the same requirements as `make install`, a non-root
user, migrations before the cloud, health-gated start-up, and the published ports being the template's.
The bind-host switch the container relies on is exercised for real in localcloud/tests/test_bind_host.py.
"""
import copy
import json
import re
import shlex
from pathlib import Path
from urllib.parse import urlparse

import jsonschema
import pytest
import yaml

import emulators
from localcloud.__main__ import parse_args
from localcloud.template import load

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.localstack.yml"
DOCKERFILE = ROOT / "Dockerfile"
SCHEMA = Path(__file__).resolve().parent / "compose-spec.json"
PLATFORMS = {"platform": "localstack", "platform-moto": "moto"}  # platform service -> its AWS endpoint service
# PostgreSQL (10+) numbers releases major.minor, so two parts name one release; everything else needs three.
TWO_PART_RELEASES = {"postgres"}
_VAR = re.compile(r"\$\{(\w+)(:?-)?([^}]*)\}")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE.read_text())


def interpolate(text):
    """What Compose makes of ${VAR:-default} with nothing set; a variable without a default fails."""
    def default(match):
        assert match.group(2), f"{match.group(0)} has no default: the file would depend on the caller's shell"
        return match.group(3)
    return _VAR.sub(default, text)


def dockerfile_instructions():
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def requirement_files(command):
    """The files a `pip install` command line installs from (-r / --requirement)."""
    words = shlex.split(command)
    files = []
    for i, word in enumerate(words):
        if word in ("-r", "--requirement"):
            files.append(words[i + 1])
        elif word.startswith("--requirement="):
            files.append(word.split("=", 1)[1])
    return files


def pip_commands(lines):
    return [part for line in lines for part in re.split(r"&&|;", line) if re.search(r"\bpip3? install\b", part)]


def published(service):
    """(host_ip, host_port, container_port) for each `ports:` entry."""
    out = []
    for entry in service.get("ports", []):
        host_ip, host_port, container = entry.split(":")
        out.append((host_ip, int(host_port), int(container)))
    return out


# ---- the compose file ------------------------------------------------------------------------------

def test_compose_file_matches_the_compose_specification(compose):
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []
    # The same validator rejects what Compose rejects, so a pass above means something.
    broken = copy.deepcopy(compose)
    broken["services"]["platform"]["depends_on"]["postgres"]["condition"] = "service_ready"
    broken["services"]["mysql"]["healthcheck"]["intervall"] = "3s"
    assert len(list(validator.iter_errors(broken))) == 2


def test_every_image_is_pinned_by_an_exact_tag(compose):
    images = [interpolate(s["image"]) for s in compose["services"].values() if "image" in s]
    images += [interpolate(args.split()[0]) for word, args in dockerfile_instructions() if word == "FROM"]
    assert len(images) == 5
    for image in images:
        name, _, tag = image.rpartition(":")
        assert name and "/" not in tag, f"{image}: no tag"
        parts = 2 if name in TWO_PART_RELEASES else 3
        assert re.fullmatch(r"\d+(\.\d+){%d}(-[a-z0-9]+)*" % (parts - 1), tag), f"{image}: not an exact release"


def test_emulator_images_are_the_free_ones_and_match_the_project(compose):
    localstack = interpolate(compose["services"]["localstack"]["image"])
    major = int(localstack.rpartition(":")[2].split(".")[0])
    assert major < 2026, "LocalStack's calendar-versioned images (2026.x) refuse to start without an auth token"
    assert compose["services"]["localstack"]["environment"]["LOCALSTACK_AUTH_TOKEN"] == "${LOCALSTACK_AUTH_TOKEN:-}"
    moto_pin = re.search(r"^moto\[server\]==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert compose["services"]["moto"]["image"] == f"motoserver/moto:{moto_pin}"


def test_platforms_wait_for_healthy_databases_and_their_endpoint(compose):
    services = compose["services"]
    for name, endpoint in PLATFORMS.items():
        platform = services[name]
        assert platform["depends_on"] == {dep: {"condition": "service_healthy"}
                                          for dep in ("postgres", "mysql", endpoint)}
        for dep in ("postgres", "mysql", endpoint):
            assert services[dep]["healthcheck"]["test"][0] == "CMD"
        assert services[name]["healthcheck"]["test"][0] == "CMD"
        env = platform["environment"]
        aws = urlparse(env["AWS_ENDPOINT_URL"])
        assert aws.hostname == endpoint
        assert aws.port in {c for _ip, _h, c in published(services[endpoint])}
        assert urlparse(env["DATABASE_URL"]).hostname == "postgres"
        assert urlparse(env["MYSQL_URL"]).hostname == "mysql"
        assert env["LOCAL_BIND_HOST"] == "0.0.0.0"
    # one profile each: the default `up` starts LocalStack, never both endpoints on 4566
    assert "profiles" not in services["platform"] and "profiles" not in services["localstack"]
    assert services["moto"]["profiles"] == services["platform-moto"]["profiles"] == ["moto"]


def test_platform_publishes_the_template_and_emulator_ports(compose):
    template = load(str(ROOT / "template.yaml"))
    local_ports = {r["Metadata"]["LocalPort"] for r in template["Resources"].values()
                   if "LocalPort" in (r.get("Metadata") or {})}
    expected = local_ports | {emulators.default_port(parameter) for *_rest, parameter in emulators.EMULATORS}
    assert len(local_ports) >= 4
    for name in PLATFORMS:
        ports = published(compose["services"][name])
        assert {c for _ip, _h, c in ports} == expected
        assert all(ip == "127.0.0.1" and host == container for ip, host, container in ports)
    aws_port = parse_args(["run"]).moto_port
    for endpoint in PLATFORMS.values():
        assert [(ip, host) for ip, host, _c in published(compose["services"][endpoint])] == [("127.0.0.1", aws_port)]


# ---- the Dockerfile ----------------------------------------------------------------------------------

def test_image_installs_exactly_what_make_install_installs():
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^\$\(BIN\)/\.installed:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    # make installs with uv's pip (`$(UV) pip install --python $(BIN)/python ...`), once uv itself is there
    make_pips = [re.sub(r"\$\(UV\) |--python \S+", "", cmd) for cmd in pip_commands(recipe.splitlines())
                 if "uv==" not in cmd]
    make_files = [f for cmd in make_pips for f in requirement_files(cmd)]
    steps = dockerfile_instructions()
    runs = [args for word, args in steps if word == "RUN"]
    docker_pips = pip_commands(runs)
    lists = [cmd for cmd in docker_pips if requirement_files(cmd)]
    assert len(lists) == 1, "one list of requirements, one install"
    assert requirement_files(lists[0]) == make_files == ["requirements-dev.txt"]
    assert re.sub(r"(-r|--requirement)\s+\S+|-q", "", lists[0]).split() == ["pip", "install"]
    # localcloud too, without dependencies in both: nothing beyond the pinned list (editable only for make)
    packages = [re.sub(r"\$\(BIN\)/|-q|-e", "", cmd).split() for cmd in make_pips + docker_pips
                if not requirement_files(cmd)]
    assert packages == [["pip", "install", "--no-deps", "./localcloud"]] * 2
    # every requirements file the list pulls in is in the image before the install runs
    included = {"requirements-dev.txt"} | set(re.findall(r"^-r\s+(\S+)", (ROOT / "requirements-dev.txt").read_text(),
                                                         re.M))
    install_at = next(i for i, (word, args) in enumerate(steps) if word == "RUN" and args in runs
                      and pip_commands([args]))
    copied = {src for word, args in steps[:install_at] if word == "COPY" for src in args.split()[:-1]}
    assert included <= copied


def test_image_runs_as_a_non_root_user_and_migrates_first():
    steps = dockerfile_instructions()
    users = [i for i, (word, _a) in enumerate(steps) if word == "USER"]
    assert users and steps[users[-1]][1] not in ("root", "0", "0:0")
    cmd_at = max(i for i, (word, _a) in enumerate(steps) if word == "CMD")
    assert users[-1] < cmd_at
    shell = json.loads(steps[cmd_at][1])[-1]
    assert re.fullmatch(r"python -m infra\.migrate && exec python -m tools\.run_local run", shell)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", ".localcloud"} <= set(ignored)
