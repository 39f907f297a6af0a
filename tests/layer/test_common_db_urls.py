"""common.db's URLs come from the environment only: a missing one is an error naming it, never a local default."""
import pytest

from common import db
from common.settings import SettingError


@pytest.mark.parametrize("variable, read", [("DATABASE_URL", db.pg_url), ("MYSQL_URL", db.mysql_url)])
def test_a_missing_database_url_names_its_variable(monkeypatch, variable, read):
    monkeypatch.delenv(variable, raising=False)
    with pytest.raises(SettingError, match=variable):
        read()
    monkeypatch.setenv(variable, "")
    with pytest.raises(SettingError, match=variable):
        read()
    monkeypatch.setenv(variable, "scheme://user@db.internal:1/name")
    assert read() == "scheme://user@db.internal:1/name"


def test_connecting_without_a_url_fails_by_name_before_any_network(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("MYSQL_URL", raising=False)
    with pytest.raises(SettingError, match="DATABASE_URL"):
        db.pg_connect()
    with pytest.raises(SettingError, match="MYSQL_URL"):
        db.mysql_params()
