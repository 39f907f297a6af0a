"""common.secrets: secret settings come from the platform's Secrets Manager secret, read once."""
import json
import uuid

import boto3
import pytest

from cryptography.fernet import Fernet

from common import secretbox, secrets


@pytest.fixture
def platform_secret(aws_endpoint, monkeypatch):
    name = f"stack-{uuid.uuid4().hex[:6]}-secrets"
    sm = boto3.client("secretsmanager")
    sm.create_secret(Name=name, SecretString=json.dumps({"SECRET_KEY": Fernet.generate_key().decode(), "EMPTY": ""}))
    monkeypatch.setenv("PLATFORM_SECRETS", f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}")
    monkeypatch.setenv("SECRET_KEY", "not-this-one")  # the environment is not consulted once the secret is named
    secrets.forget()
    yield sm, name
    secrets.forget()


def test_values_come_from_the_secret_not_the_environment(platform_secret):
    sm, name = platform_secret
    stored = json.loads(sm.get_secret_value(SecretId=name)["SecretString"])["SECRET_KEY"]
    assert secrets.get("SECRET_KEY") == stored
    token = secretbox.encrypt("imap password")
    assert secretbox.decrypt(token, stored) == "imap password"


def test_missing_or_empty_secret_settings_are_named_without_values(platform_secret):
    with pytest.raises(secrets.SecretMissing, match="CHATAPP_PASSWORD is not set in the secret"):
        secrets.get("CHATAPP_PASSWORD")
    with pytest.raises(secrets.SecretMissing, match="EMPTY"):
        secrets.get("EMPTY")
    assert secrets.get("EMPTY", required=False) is None


def test_the_secret_is_fetched_once_per_cold_start(platform_secret):
    sm, name = platform_secret
    first = secrets.get("SECRET_KEY")
    sm.put_secret_value(SecretId=name, SecretString=json.dumps({"SECRET_KEY": "rotated"}))
    assert secrets.get("SECRET_KEY") == first
    secrets.forget()
    assert secrets.get("SECRET_KEY") == "rotated"


def test_without_a_platform_secret_the_environment_is_used(monkeypatch):
    monkeypatch.delenv("PLATFORM_SECRETS", raising=False)
    monkeypatch.setenv("SOME_TOKEN", "from-env")
    assert secrets.get("SOME_TOKEN") == "from-env"
    monkeypatch.delenv("SOME_TOKEN")
    with pytest.raises(secrets.SecretMissing, match="SOME_TOKEN is not set in the environment"):
        secrets.get("SOME_TOKEN")


def test_a_secret_key_is_checked_for_shape():
    assert secretbox.valid_key(secretbox.new_key())
    assert not secretbox.valid_key("not-a-key") and not secretbox.valid_key("") and not secretbox.valid_key(None)
