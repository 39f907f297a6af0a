"""common.db's URLs: the environment variable when set (tools, migrations, tests), else the platform's secret
(functions on AWS); a missing one is an error naming it, never a local default."""
import json
import uuid

import boto3
import pytest

from common import db, secrets
from common.settings import SettingError


@pytest.mark.parametrize("variable, read", [("DATABASE_URL", db.pg_url), ("MYSQL_URL", db.mysql_url)])
def test_a_missing_database_url_names_its_variable(monkeypatch, variable, read):
    monkeypatch.delenv(variable, raising=False)
    monkeypatch.delenv("PLATFORM_SECRETS", raising=False)
    with pytest.raises(SettingError, match=variable):
        read()
    monkeypatch.setenv(variable, "")
    with pytest.raises(SettingError, match=variable):
        read()
    monkeypatch.setenv(variable, "scheme://user@db.internal:1/name")
    assert read() == "scheme://user@db.internal:1/name"


def test_connecting_without_a_url_fails_by_name_before_any_network(monkeypatch):
    monkeypatch.delenv("PLATFORM_SECRETS", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("MYSQL_URL", raising=False)
    with pytest.raises(SettingError, match="DATABASE_URL"):
        db.pg_connect()
    with pytest.raises(SettingError, match="MYSQL_URL"):
        db.mysql_params()


@pytest.fixture
def platform_secret(aws_endpoint, monkeypatch):
    """A platform secret holding both URLs, named in PLATFORM_SECRETS as the template does; no URL variables."""
    name = f"stack-{uuid.uuid4().hex[:6]}-secrets"
    sm = boto3.client("secretsmanager")
    sm.create_secret(Name=name, SecretString=json.dumps({"DATABASE_URL": "postgresql://u@pg.internal:5432/p",
                                                         "MYSQL_URL": "mysql://u@my.internal:3306/b"}))
    monkeypatch.setenv("PLATFORM_SECRETS", f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("MYSQL_URL", raising=False)
    secrets.forget()
    yield sm, name
    secrets.forget()


def test_functions_read_the_urls_from_the_platform_secret(platform_secret):
    assert db.pg_url() == "postgresql://u@pg.internal:5432/p"
    assert db.mysql_params()["host"] == "my.internal"


def test_a_url_variable_set_directly_wins_over_the_secret(platform_secret, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://tool@127.0.0.1:5432/x")
    assert db.pg_url() == "postgresql://tool@127.0.0.1:5432/x"


def test_a_url_missing_from_the_secret_names_it(platform_secret):
    sm, name = platform_secret
    sm.put_secret_value(SecretId=name, SecretString=json.dumps({"DATABASE_URL": ""}))
    secrets.forget()
    with pytest.raises(SettingError, match="DATABASE_URL is not set in the secret"):
        db.pg_url()
    with pytest.raises(SettingError, match="MYSQL_URL is not set in the secret"):
        db.mysql_url()


@pytest.mark.parametrize("url", ["mysql:///broadcast", "mysql://db.internal/broadcast", "postgresql://u@h/b",
                                 "mysql://@db.internal/b"])
def test_a_mysql_url_without_host_or_user_is_refused_not_defaulted(url):
    # No quiet 127.0.0.1 / root: on AWS that would point a function at nothing (or at the wrong server).
    with pytest.raises(SettingError, match="MYSQL_URL"):
        db.mysql_params(url)


def test_a_full_mysql_url_is_parsed():
    assert db.mysql_params("mysql://app:p%40ss@db.internal:3307/broadcast") == {
        "host": "db.internal", "port": 3307, "user": "app", "password": "p@ss", "database": "broadcast",
        "charset": "utf8mb4"}
