"""The local cloud runs Python SAM templates that are not ours: the small templates in templates/ use what
public templates use (template.yml, unquoted dates, InlineCode, implicit APIs, other Python runtimes)."""
import json
import logging
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests

PACKAGE = Path(__file__).resolve().parents[1]    # localcloud/: what `pip install -e` puts on the path
TEMPLATES = Path(__file__).resolve().parent / "templates"
pytestmark = pytest.mark.timeout(120)


def test_a_folder_with_template_yml_an_unquoted_date_inline_code_and_implicit_api_ids(start_cloud):
    # The folder, not a file: its template.yml is found; its AWSTemplateFormatVersion is a bare YAML date.
    cloud = start_cloud(template=TEMPLATES / "yml_folder", isolated=False)
    rest_id, http_id = cloud.physical_id("ServerlessRestApi"), cloud.physical_id("ServerlessHttpApi")
    for api_id in (rest_id, http_id):
        assert re.fullmatch(r"[a-z0-9]{10}", api_id), api_id
    assert rest_id != http_id and "serverless" not in rest_id + http_id
    r = requests.get(cloud.api_url("ServerlessHttpApi") + "/http", timeout=10)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["http"] == http_id and body["rest"] == rest_id and body["context_api"] == http_id
    assert body["url"] == cloud.api_url("ServerlessHttpApi")          # execute-api URL made local
    assert Path(body["file"]).name == "index.py"                      # InlineCode written as Lambda does
    r = requests.get(cloud.api_url("ServerlessRestApi") + "/rest", timeout=10)
    assert r.status_code == 200 and r.json()["context_api"] == rest_id
    assert cloud.stack.outputs()["HttpApiUrl"] == cloud.api_url("ServerlessHttpApi") + "/"


def test_runtime_runs_on_the_python_it_names_or_the_nearest_with_a_warning(
        start_cloud, tmp_path, monkeypatch, caplog):
    # A python3.12 on PATH (this interpreter under that name); python3.9 is on no PATH here.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3.12").symlink_to(os.path.realpath(sys.executable))
    monkeypatch.setenv("PATH", str(bin_dir))
    caplog.set_level(logging.WARNING, logger="localcloud.runtime")
    cloud = start_cloud(template=TEMPLATES / "runtimes", isolated=True)
    assert cloud.invoke("Matched", {})["executable"] == str(bin_dir / "python3.12")
    assert cloud.invoke("Unmatched", {})["executable"] == sys.executable      # the nearest: this 3.11 (venv)
    warnings = [r.getMessage() for r in caplog.records
                if r.name == "localcloud.runtime" and r.levelno == logging.WARNING]
    assert warnings == [f"function Unmatched: Runtime python3.9: python3.9 is not installed, runs on the nearest, "
                        f"Python 3.{sys.version_info.minor}"]
    assert cloud.runtime_warnings.keys() == {"Unmatched"}


STATE_SCRIPT = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    import boto3
    from localcloud.cloud import Cloud
    template, state, stack, phase = sys.argv[1:5]
    cloud = Cloud(template, stack_name=stack, state_dir=Path(state)).start()
    s3 = boto3.client("s3", endpoint_url=cloud.aws_endpoint, region_name="us-east-1")
    sm = boto3.client("secretsmanager", endpoint_url=cloud.aws_endpoint, region_name="us-east-1")
    bucket = cloud.physical_id("Files")
    if phase == "fill":
        s3.put_object(Bucket=bucket, Key=stack, Body=stack.encode())
        sm.create_secret(Name=stack + "-secret", SecretString=stack)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))
    secrets = sorted(s["Name"] for s in sm.list_secrets()["SecretList"])
    cloud.stop()
    print(json.dumps({"keys": keys, "secrets": secrets}))
""")


def test_saved_state_belongs_to_one_stack_and_template(tmp_path):
    other_folder = tmp_path / "copy"
    other_folder.mkdir()
    source = TEMPLATES / "per_stack_state" / "template.yaml"
    (other_folder / "template.yaml").write_text(source.read_text())
    state = tmp_path / "state"

    def run(template, stack, phase="look"):
        done = subprocess.run([sys.executable, "-c", STATE_SCRIPT, str(template), str(state), stack, phase],
                              cwd=tmp_path, capture_output=True, text=True, timeout=90,
                              env={k: v for k, v in dict(os.environ, PYTHONPATH=str(PACKAGE)).items()
                                   if k != "AWS_ENDPOINT_URL"})   # its own embedded moto, as `make run`
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    assert run(source, "alpha", "fill") == {"keys": ["alpha"], "secrets": ["alpha-secret"]}
    assert run(source, "beta") == {"keys": [], "secrets": []}                 # another stack: nothing of alpha's
    assert run(other_folder / "template.yaml", "alpha") == {"keys": [], "secrets": []}   # another template
    assert run(source, "alpha") == {"keys": ["alpha"], "secrets": ["alpha-secret"]}      # its own: restored


def test_template_yml_beside_a_missing_template_yaml_and_a_folder_without_either(tmp_path):
    from localcloud.template import TemplateError, locate
    folder = TEMPLATES / "yml_folder"
    assert locate(folder / "template.yaml") == folder / "template.yml"
    assert locate(folder) == folder / "template.yml"
    with pytest.raises(TemplateError, match="no template.yaml or template.yml"):
        locate(tmp_path)


def test_resource_and_event_kinds_not_emulated_are_named_at_start_up(start_cloud, caplog):
    caplog.set_level(logging.WARNING, logger="localcloud.cloud")
    cloud = start_cloud(template=TEMPLATES / "not_emulated", isolated=False)
    expected = [
        "custom resource Seed (Custom::Seed) is not run locally",
        "resource kind AWS::Serverless::StateMachine is not emulated locally: Machine",
        "event source mapping StreamMapping is not emulated locally (only SQS queues, DynamoDB streams and Kinesis "
        "streams of this template into its functions are)",
        "property Auth.UsagePlan of Guarded (AWS::Serverless::Api) is not applied locally",
        "property EventInvokeConfig of Worker (AWS::Serverless::Function) is not applied locally",
        "event Logs (Type: CloudWatchLogs) of function Worker is not emulated locally: it never fires",
    ]
    assert cloud.not_emulated == expected
    assert [r.getMessage() for r in caplog.records if r.name == "localcloud.cloud" and r.levelno == logging.WARNING
            ] == expected
    assert "SQS Jobs -> Worker" in cloud.describe()                    # what is emulated still runs
    assert cloud.invoke("Worker", {"a": 1}) == {"a": 1}


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_conditions_decide_which_resources_exist_and_globals_reach_implicit_apis(start_cloud, env):
    cloud = start_cloud(template=TEMPLATES / "conditions_globals", parameters={"Env": env}, isolated=False)
    exists = env == "prod"
    assert ("ProdOnlyWorker" in cloud.runtime.pools) is exists
    assert ("ProdOnlyQueue" in [q.logical_id for q in cloud.stack.queues()]) is exists
    r = requests.post(cloud.api_url("ServerlessRestApi") + "/echo", data=b"\x00\x01",
                      headers={"Content-Type": "application/octet-stream"}, timeout=10)
    body = r.json()
    assert body["b64"] is True and body["memory"] == 256       # Globals.Api on the implicit API; Globals.Function
    assert (body["queue"] == cloud.physical_id("ProdOnlyQueue")) if exists else (body["queue"] == "none")
    r = requests.post(cloud.api_url("Explicit") + "/echo", data=b"\x00\x01",
                      headers={"Content-Type": "application/octet-stream"}, timeout=10)
    assert r.json()["b64"] is True                                # Globals.Api on an explicit API


def test_globals_of_an_implicit_api_that_are_not_applied_are_named(tmp_path):
    from localcloud.template import Stack
    (tmp_path / "template.yaml").write_text(textwrap.dedent("""
        Transform: AWS::Serverless-2016-10-31
        Globals:
          Api:
            Cors: "'*'"
            Domain: {DomainName: api.example.com, CertificateArn: arn:aws:acm:us-east-1:123456789012:certificate/x}
            Auth:
              UsagePlan: {CreateUsagePlan: SHARED}
              Authorizers:
                Pool: {UserPoolArn: arn:aws:cognito-idp:us-east-1:123456789012:userpool/x}
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              InlineCode: "def handler(event, context): return {}"
              Handler: index.handler
              Runtime: python3.11
              Events:
                Get: {Type: Api, Properties: {Path: /, Method: get}}
    """))
    assert Stack(tmp_path).not_emulated() == [
        "property Domain of ServerlessRestApi (Globals.Api) is not applied locally",
        "property Auth.UsagePlan of ServerlessRestApi (Globals.Api) is not applied locally"]   # Cognito: emulated


def test_implicit_apis_get_ports_no_other_api_names(tmp_path):
    from localcloud.template import api_ids, load
    (tmp_path / "template.yaml").write_text(textwrap.dedent("""
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Named:
            Type: AWS::Serverless::Api
            Properties: {StageName: v1}
            Metadata: {LocalPort: 3000}
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Events:
                Rest: {Type: Api, Properties: {Path: /, Method: get}}
                Http: {Type: HttpApi, Properties: {Path: /, Method: get}}
    """))
    ports = {logical: port for logical, (_id, port, _kind) in api_ids(load(tmp_path / "template.yaml")).items()}
    assert ports == {"Named": 3000, "ServerlessRestApi": 3001, "ServerlessHttpApi": 3002}


def test_ref_and_getatt_of_the_role_sam_generates_for_a_function(tmp_path):
    from localcloud.template import Stack
    (tmp_path / "template.yaml").write_text(textwrap.dedent("""
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              InlineCode: "def handler(event, context): return {}"
              Handler: index.handler
              Runtime: python3.11
              Environment:
                Variables:
                  ROLE_ARN: !GetAtt FnRole.Arn
                  ROLE_NAME: !Ref FnRole
    """))
    env = Stack(tmp_path, stack_name="demo").functions()["Fn"].environment
    assert env == {"ROLE_ARN": "arn:aws:iam::123456789012:role/demo-FnRole", "ROLE_NAME": "demo-FnRole"}
