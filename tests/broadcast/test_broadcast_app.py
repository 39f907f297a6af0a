"""The broadcast app in process (chalice.test.Client): a missing setting is named at once, in a page."""
import pytest
from chalice.test import Client

from functions.broadcast.chalicelib import settings
from products import load_app

from broadcast_helpers import PASSWORD, USER, basic


@pytest.fixture
def cold(monkeypatch):
    """The site's environment minus its queue, read afresh (settings are read once per cold start)."""
    monkeypatch.setenv("BROADCAST_USER", USER)
    monkeypatch.setenv("BROADCAST_PASSWORD", PASSWORD)
    monkeypatch.delenv("BROADCAST_QUEUE_URL", raising=False)
    settings.load.cache_clear()
    yield
    settings.load.cache_clear()


def test_a_missing_setting_is_a_503_page_naming_it(cold):
    with Client(load_app("broadcast").app) as client:
        russian = client.http.get("/", headers={"Authorization": basic()})
        english = client.http.get("/", headers={"Authorization": basic(), "Accept-Language": "en"})
    assert russian.status_code == english.status_code == 503
    assert "Сайт настроен неверно: BROADCAST_QUEUE_URL is not set" in russian.body.decode()
    assert "The site is misconfigured: BROADCAST_QUEUE_URL is not set" in english.body.decode()
    assert b"Traceback" not in russian.body + english.body
