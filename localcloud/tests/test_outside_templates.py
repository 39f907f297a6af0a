"""What public templates nobody here wrote use, found by running them (issue 25): secrets CloudFormation
generates, a function's code given as a .zip, API definitions and layers the local cloud cannot read, named."""
import json
import sys
import textwrap
import uuid
import zipfile

import boto3
import pytest

pytestmark = pytest.mark.timeout(120)


def write(folder, text):
    (folder / "template.yaml").write_text(textwrap.dedent(text))
    return folder


def test_generated_secrets_are_made_as_cloudformation_makes_them_and_kept(start_cloud, tmp_path):
    prefix = uuid.uuid4().hex[:8]
    write(tmp_path, f"""
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Plain:
            Type: AWS::SecretsManager::Secret
            Properties:
              Name: {prefix}/plain
              GenerateSecretString: {{PasswordLength: 30, ExcludeCharacters: '"@/\\\\'}}
          Keyed:
            Type: AWS::SecretsManager::Secret
            Properties:
              Name: {prefix}/keyed
              GenerateSecretString: {{GenerateStringKey: UserName, PasswordLength: 12, ExcludePunctuation: true}}
          Templated:
            Type: AWS::SecretsManager::Secret
            Properties:
              Name: {prefix}/templated
              GenerateSecretString:
                SecretStringTemplate: '{{"username": "admin"}}'
                GenerateStringKey: password
                ExcludeNumbers: "true"
    """)
    start_cloud(template=tmp_path, isolated=False)
    sm = boto3.client("secretsmanager")

    def value(name):
        return sm.get_secret_value(SecretId=f"{prefix}/{name}")["SecretString"]
    plain = value("plain")
    assert len(plain) == 30 and not set(plain) & set('"@/\\')
    keyed = json.loads(value("keyed"))
    assert list(keyed) == ["UserName"] and len(keyed["UserName"]) == 12 and keyed["UserName"].isalnum()
    templated = json.loads(value("templated"))
    assert templated["username"] == "admin" and not any(c.isdigit() for c in templated["password"])
    start_cloud(template=tmp_path, isolated=False)       # the same stack again: generated once, kept
    assert value("plain") == plain and json.loads(value("keyed")) == keyed


def test_a_function_whose_code_uri_is_a_zip_runs_the_archives_code(start_cloud, tmp_path):
    with zipfile.ZipFile(tmp_path / "index.zip", "w") as zipped:
        zipped.writestr("index.py", "import os\ndef handler(event, context):\n"
                                    "    return {'got': event, 'file': os.path.basename(__file__)}\n")
        zipped.writestr("__MACOSX/._index.py", b"\x00\x05\x16\x07")      # as the published archive has it
    write(tmp_path, """
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Zipped:
            Type: AWS::Serverless::Function
            Properties: {CodeUri: index.zip, Handler: index.handler, Runtime: python3.11}
    """)
    cloud = start_cloud(template=tmp_path, isolated=False)
    assert cloud.invoke("Zipped", {"a": 1}) == {"got": {"a": 1}, "file": "index.py"}


def test_openapi_definitions_durable_functions_and_layers_by_arn_are_named(start_cloud, tmp_path, caplog):
    (tmp_path / "own" / "python").mkdir(parents=True)
    (tmp_path / "own" / "python" / "shared.py").write_text("WORD = 'from the layer'\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("import shared\ndef handler(event, context):\n    return shared.WORD\n")
    write(tmp_path, """
        Transform: AWS::Serverless-2016-10-31
        Parameters:
          PowertoolsLayer: {Type: String, Default: "arn:aws:lambda:us-east-1:017000801446:layer:Powertools:7"}
        Resources:
          Own:
            Type: AWS::Serverless::LayerVersion
            Properties: {ContentUri: own/}
          Queue:
            Type: AWS::SQS::Queue
          Http:
            Type: AWS::Serverless::HttpApi
            Properties:
              DefinitionBody:
                openapi: "3.0.1"
                paths:
                  /submit:
                    post:
                      x-amazon-apigateway-integration:
                        type: aws_proxy
                        integrationSubtype: SQS-SendMessage
                        requestParameters: {MessageBody: $request.body, QueueUrl: !Ref Queue}
          Rest:
            Type: AWS::Serverless::Api
            Properties: {StageName: prod, DefinitionUri: api.yaml}
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: src/
              Handler: app.handler
              Runtime: python3.11
              DurableConfig: {ExecutionTimeout: 900}
              Layers:
                - !Ref Own
                - !Ref PowertoolsLayer
                - !Sub arn:aws:lambda:${AWS::Region}:177933569100:layer:AWS-Parameters-and-Secrets-Lambda-Extension:2
    """)
    caplog.set_level("WARNING", logger="localcloud.cloud")
    cloud = start_cloud(template=tmp_path, isolated=False)
    missing = ("is not available locally (only the template's own layers with a local ContentUri are): its code is "
               "missing")
    assert cloud.not_emulated == [
        "property DefinitionBody of Http (AWS::Serverless::HttpApi) is not applied locally",
        "property DefinitionUri of Rest (AWS::Serverless::Api) is not applied locally",
        "property DurableConfig of Fn (AWS::Serverless::Function) is not applied locally",
        f"layer arn:aws:lambda:us-east-1:017000801446:layer:Powertools:7 of function Fn {missing}",
        "layer arn:aws:lambda:us-east-1:177933569100:layer:AWS-Parameters-and-Secrets-Lambda-Extension:2 of function "
        f"Fn {missing}"]
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == cloud.not_emulated
    assert cloud.invoke("Fn", {}) == "from the layer"          # the template's own layer still runs


def test_a_python_on_path_that_does_not_run_is_not_chosen(start_cloud, tmp_path, monkeypatch, caplog):
    # As a pyenv shim of a version that is not selected: python3.12 is on PATH and exits 127.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "python3.12"
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.12: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("import sys\ndef handler(event, context):\n    return sys.executable\n")
    write(tmp_path, """
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties: {CodeUri: src/, Handler: app.handler, Runtime: python3.12}
    """)
    caplog.set_level("WARNING", logger="localcloud.runtime")
    cloud = start_cloud(template=tmp_path, isolated=True)
    assert cloud.runtime_warnings == {"Fn": f"Runtime python3.12: python3.12 is not installed, runs on the nearest, "
                                            f"Python 3.{sys.version_info.minor}"}
    assert cloud.invoke("Fn", {}) == sys.executable       # not the shim: it would exit 127 at every cold start
