"""The local runtime as Lambda runs functions: isolated from the venv, dead idle workers skipped,
idle workers retired, hot reload of code and template; the invoke and generate-event commands."""
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from localcloud.model import InvocationError
from polling import wait_until as _wait_until

PACKAGE = Path(__file__).resolve().parents[1]    # localcloud/: what `pip install -e` puts on the path
FOUNDATION = Path(__file__).resolve().parent / "template.yaml"
pytestmark = pytest.mark.timeout(120)

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.11
    Timeout: 5
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
  VersionFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: version/
      Handler: version.main
      Environment:
        Variables:
          LABEL: {label}
      Events:
        Get:
          Type: Api
          Properties: {{RestApiId: !Ref Api, Path: /version, Method: GET}}
  NeedsYamlFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: needs_yaml/
      Handler: handler.main
"""

VERSION = """\
import os

def main(event, context):
    return {{"statusCode": 200, "body": "{version} " + os.environ["LABEL"] + " " + str(os.getpid())}}
"""


def write_stack(folder, version="v1", label="first"):
    (folder / "version").mkdir(exist_ok=True)
    (folder / "needs_yaml").mkdir(exist_ok=True)
    (folder / "template.yaml").write_text(TEMPLATE.format(label=label))
    (folder / "version" / "version.py").write_text(VERSION.format(version=version))
    # yaml is in the project's venv, but not in this function's requirements: Lambda would not have it.
    (folder / "needs_yaml" / "requirements.txt").write_text("# forgot PyYAML\n")
    (folder / "needs_yaml" / "handler.py").write_text("import yaml\n\ndef main(event, context):\n"
                                                      "    return yaml.safe_load('a: 1')\n")
    return folder / "template.yaml"


def get_version(cloud):
    r = requests.get(cloud.api_url("Api") + "/version", timeout=10)
    return r.status_code, r.text


def wait_for(check, timeout=90):
    return _wait_until(check, timeout)


def is_gone(pid):
    """True once pid has exited (a zombie counts: it runs nothing and reads nothing)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return any(line.startswith("State:") and "Z" in line.split()[1] for line in f)
    except FileNotFoundError:
        return True


def test_a_missing_requirement_fails_locally_as_on_lambda(start_cloud, tmp_path, caplog):
    template = write_stack(tmp_path)
    caplog.set_level(logging.INFO)
    cloud = start_cloud(template=template, functions=["NeedsYamlFunction"])
    assert cloud.isolated
    with pytest.raises(InvocationError) as failure:
        cloud.invoke("NeedsYamlFunction", {})
    assert failure.value.error_type == "Runtime.ImportModuleError"
    assert "No module named 'yaml'" in str(failure.value)
    assert "No module named 'yaml'" in caplog.text and "REPORT NeedsYamlFunction" in caplog.text
    # The same code on the shared venv imports fine: only isolation shows the missing requirement.
    shared = start_cloud(template=template, functions=["NeedsYamlFunction"], isolated=False)
    assert shared.invoke("NeedsYamlFunction", {}) == {"a": 1}


def test_isolated_worker_sees_no_site_packages(start_cloud):
    cloud = start_cloud(template=FOUNDATION, functions=["ChaliceFunction"], env={"RECORD_DIR": "/nonexistent"})
    pool = cloud.runtime.pools["ChaliceFunction"]
    paths = pool.env["LOCAL_SYS_PATH"].split(os.pathsep)
    assert paths[0] == str(pool.fn.code_dir)
    assert not [p for p in paths if "site-packages" in p]
    assert any((Path(p) / "chalice").is_dir() for p in paths)   # from the function's requirements.txt
    assert any((Path(p) / "boto3").is_dir() for p in paths)     # the runtime's
    r = requests.get(cloud.api_url("Api") + "/items/7", timeout=10)
    assert r.status_code == 200


def test_a_worker_killed_while_idle_is_not_handed_a_request(start_cloud, tmp_path, caplog):
    cloud = start_cloud(template=write_stack(tmp_path), functions=["VersionFunction"])
    caplog.set_level(logging.INFO)
    status, text = get_version(cloud)
    assert status == 200 and text.startswith("v1 first")
    pid = int(text.split()[-1])
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: is_gone(pid))
    for _ in range(3):
        status, text = get_version(cloud)
        assert status == 200, text
    assert int(text.split()[-1]) != pid
    assert "idle execution environment died" in caplog.text


def test_idle_workers_are_retired(start_cloud, tmp_path):
    cloud = start_cloud(template=write_stack(tmp_path), functions=["VersionFunction"], idle_timeout=0.5)
    pool = cloud.runtime.pools["VersionFunction"]
    status, text = get_version(cloud)
    assert status == 200
    pid = int(text.split()[-1])
    wait_for(lambda: is_gone(pid) and not pool.idle)
    status, text = get_version(cloud)
    assert status == 200 and int(text.split()[-1]) != pid   # a new execution environment


def test_hot_reload_of_code_and_template(start_cloud, tmp_path, caplog):
    template = write_stack(tmp_path)
    caplog.set_level(logging.INFO)
    cloud = start_cloud(template=template, functions=["VersionFunction"], watch=True, watch_interval=0.1)
    assert get_version(cloud)[1].startswith("v1 first")
    time.sleep(0.05)  # a different mtime even on coarse file systems
    (tmp_path / "version" / "version.py").write_text(VERSION.format(version="v2"))
    wait_for(lambda: get_version(cloud)[1].startswith("v2 first"))
    assert "hot reload" in caplog.text and "VersionFunction runs the new code" in caplog.text

    # An environment change in the template is applied live; a new route needs a restart and says so.
    template.write_text(TEMPLATE.format(label="second").replace("Path: /version,", "Path: /v,"))
    wait_for(lambda: get_version(cloud)[1].startswith("v2 second"))
    wait_for(lambda: "restart the local cloud" in caplog.text)
    assert "APIs and routes" in caplog.text


def run_local(*args, stdin=None, env=None):
    return subprocess.run([sys.executable, "-m", "localcloud", *args], cwd=PACKAGE, input=stdin, capture_output=True,
                          text=True, timeout=90, env=dict(os.environ, PYTHONPATH=str(PACKAGE), **(env or {})))


def test_generate_event_and_invoke(aws_endpoint, tmp_path):
    event = run_local("generate-event", "apigw", "--method", "POST", "--path", "/echo/bob",
                      "--resource", "/echo/{name}", "--path-param", "name=bob", "--query", "x=1",
                      "--header", "Content-Type: text/plain", "--body", "hello")
    assert event.returncode == 0, event.stderr
    assert json.loads(event.stdout)["pathParameters"] == {"name": "bob"}
    done = run_local("invoke", "EchoFunction", "--template", str(FOUNDATION), "--event", "-", stdin=event.stdout)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["statusCode"] == 201
    body = json.loads(result["body"])
    assert body["params"] == {"name": "bob"} and body["query"] == {"x": ["1"]} and body["body"] == "hello"
    assert body["env"] == "hello"   # the template's Globals environment
    assert "REPORT EchoFunction trigger=invoke" in done.stderr

    sqs = run_local("generate-event", "sqs", "--body", "first", "--body", "second")
    records = tmp_path / "records"
    event_file = tmp_path / "sqs.json"
    event_file.write_text(sqs.stdout)
    done = run_local("invoke", "SqsFunction", "--template", str(FOUNDATION), "--event", str(event_file),
                     "--env", f"RECORD_DIR={records}")
    assert done.returncode == 0, done.stderr
    seen = sorted(json.loads(p.read_text())["payload"]["body"] for p in (records / "sqs").glob("*.json"))
    assert seen == ["first", "second"]

    failed = run_local("invoke", "CrashFunction", "--template", str(FOUNDATION))
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["errorType"] == "ValueError"
    assert "REPORT CrashFunction" in failed.stderr and "boom" in failed.stderr

    unknown = run_local("invoke", "NoSuchFunction", "--template", str(FOUNDATION))
    assert unknown.returncode == 2 and "EchoFunction" in unknown.stderr


@pytest.mark.parametrize("kind", ["schedule", "ws-connect", "ws-message"])
def test_generate_event_shapes(kind):
    done = run_local("generate-event", kind)
    assert done.returncode == 0, done.stderr
    event = json.loads(done.stdout)
    if kind == "schedule":
        assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    else:
        context = event["requestContext"]
        assert context["eventType"] == ("CONNECT" if kind == "ws-connect" else "MESSAGE")
        assert context["connectionId"]


SLOW_INIT_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  SlowInitFunction:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      Timeout: 60
      CodeUri: slow/
      Handler: slow.main
"""

SLOW_INIT = """\
import os
import time

with open(os.environ["PID_FILE"], "w") as f:
    f.write(str(os.getpid()))
time.sleep(float(os.environ["INIT_SECONDS"]))      # the init phase: module-level work before the handler


def main(event, context):
    return "served"
"""


@pytest.mark.parametrize("init_seconds, served", [(30, False), (0.1, True)])
def test_an_init_longer_than_the_limit_is_sandbox_timedout_and_killed(
        start_cloud, tmp_path, monkeypatch, init_seconds, served):
    """Lambda gives the init phase 10 s; the limit is lowered here (the runtime reads it per call) so the test
    does not wait 10 s: an init past it fails the invocation as Sandbox.Timedout and its process is killed."""
    import localcloud.runtime
    monkeypatch.setattr(localcloud.runtime, "INIT_TIMEOUT", 1.0)
    (tmp_path / "slow").mkdir()
    (tmp_path / "slow" / "slow.py").write_text(SLOW_INIT)
    (tmp_path / "template.yaml").write_text(SLOW_INIT_TEMPLATE)
    pid_file = tmp_path / "pid"
    cloud = start_cloud(template=tmp_path / "template.yaml", functions=["SlowInitFunction"],
                        env={"PID_FILE": str(pid_file), "INIT_SECONDS": str(init_seconds)})
    if served:
        assert cloud.invoke("SlowInitFunction", {}) == "served"
        return
    with pytest.raises(InvocationError) as failure:
        cloud.invoke("SlowInitFunction", {})
    assert failure.value.error_type == "Sandbox.Timedout"
    assert "Init timed out after 1.00 seconds" in str(failure.value)
    assert is_gone(int(pid_file.read_text()))


ROOT_LOGGER = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  LogsFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.11
"""


def test_the_root_logger_writes_as_on_lambda(start_cloud, tmp_path, caplog):
    # Lambda's runtime puts a handler on the root logger: a function that only raises the root level logs INFO lines.
    (tmp_path / "template.yaml").write_text(ROOT_LOGGER)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(
        "import logging\nlogger = logging.getLogger()\nlogger.setLevel(logging.INFO)\n\n\n"
        "def handler(event, context):\n    logger.info('payload of %d keys', len(event))\n    return 1\n")
    caplog.set_level(logging.INFO, logger="fn.LogsFunction")
    cloud = start_cloud(template=tmp_path)
    assert cloud.invoke("LogsFunction", {"a": 1, "b": 2}) == 1
    [line] = _wait_until(lambda: [r.getMessage() for r in caplog.records if "payload of" in r.getMessage()],
                         timeout=10)
    level, stamp, request_id, message = line.split("\t")
    assert level == "[INFO]" and stamp.endswith("Z") and message == "payload of 2 keys"
    assert request_id == next(r.request_id for r in caplog.records if "payload of" in r.getMessage())
