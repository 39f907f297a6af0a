"""What public templates nobody here wrote use, found by running them (issue 25): secrets CloudFormation
generates, a function's code given as a .zip, API definitions and layers the local cloud cannot read, named."""
import json
import textwrap
import uuid

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
