"""code_check's wiring in template.yaml and its deployability (requirements cover what it imports)."""
import ast
import sys
from importlib import metadata
from pathlib import Path

from localcloud.template import load

ROOT = Path(__file__).resolve().parents[2]
FUNCTION = ROOT / "functions" / "code_check"
IMPORT_NAMES = {"yaml": "pyyaml", "psycopg2": "psycopg2-binary", "argon2": "argon2-cffi",
                "aws_lambda_powertools": "aws-lambda-powertools", "swagger_ui_bundle": "swagger-ui-bundle",
                "jinja2": "jinja2"}
PROVIDED = {"boto3", "botocore", "common", "chalicelib"}


def resources():
    return load(str(ROOT / "template.yaml"))["Resources"]


def _chalice_routes():
    """(path, method) of every route in app.py and its blueprints (chalicelib/routes), read from their source:
    importing them would clash with the other products' `app` / `chalicelib` modules in this test process."""
    routes = set()
    for source in [FUNCTION / "app.py", *sorted((FUNCTION / "chalicelib" / "routes").glob("*.py"))]:
        routes |= _routes_in(source)
    return routes


def _routes_in(source):
    routes = set()
    tree = ast.parse(source.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call) and getattr(decorator.func, "attr", None) == "route":
                path = ast.literal_eval(decorator.args[0])
                keywords = {k.arg: k.value for k in decorator.keywords}
                methods = ast.literal_eval(keywords["methods"]) if "methods" in keywords else ["GET"]
                routes |= {(path, method) for method in methods}
    return routes


def test_every_chalice_route_has_its_api_event():
    routes = _chalice_routes()
    assert len(routes) >= 25
    events = resources()["CodeCheckWebFunction"]["Properties"]["Events"].values()
    wired = {(e["Properties"]["Path"], e["Properties"]["Method"]) for e in events if e["Type"] == "Api"}
    assert routes == wired


def test_checker_schedule_notifier_queue_bucket_and_sender():
    res = resources()
    checker = res["CodeCheckCheckerFunction"]["Properties"]
    assert [e["Properties"]["Schedule"] for e in checker["Events"].values()] == ["rate(1 minute)"]
    notifier = res["CodeCheckNotifierFunction"]["Properties"]
    (event,) = notifier["Events"].values()
    assert event["Type"] == "SQS" and event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = res["CodeCheckReportsQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["CodeCheckReportsDeadLetterQueue", "Arn"]}
    assert int(queue["VisibilityTimeout"]) >= 6 * int(notifier["Timeout"])
    assert res["CodeCheckFilesBucket"]["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    assert res["CodeCheckSenderIdentity"]["Type"] == "AWS::SES::EmailIdentity"
    assert res["CodeCheckApi"]["Metadata"]["LocalPort"] == 3003


def _third_party_imports():
    found = set()
    for path in FUNCTION.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names and name not in PROVIDED}


def test_requirements_pin_every_third_party_import():
    pins = {}
    # chalice, psycopg2 and Jinja2 come with the common layer (a function does not install them again)
    for requirements in (FUNCTION / "requirements.txt", ROOT / "layers" / "common" / "python" / "requirements.txt"):
        for line in requirements.read_text().splitlines():
            line = line.split("#")[0].strip()
            if line:
                name, _, version = line.partition("==")
                assert version, f"{line} is not pinned"
                pins[name.lower()] = version
    imported = _third_party_imports()
    assert {"chalice", "flake8", "jinja2", "psycopg2"} <= imported
    for name in imported:
        assert IMPORT_NAMES.get(name, name) in pins, f"{name} is imported but not pinned"
    dev = (ROOT / "requirements-dev.txt").read_text()
    assert f"flake8=={pins['flake8']}" in dev          # the checker runs the flake8 the project lints with
    for checker in ("flake8", "pycodestyle", "pyflakes", "mccabe"):
        assert metadata.version(checker) == pins[checker], checker
