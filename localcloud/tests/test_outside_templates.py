"""What public templates nobody here wrote use, found by running them (issue 25): secrets CloudFormation
generates, a function's code given as a .zip, API definitions and layers the local cloud cannot read, named."""
import json
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
