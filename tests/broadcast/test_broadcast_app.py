"""The broadcast app in process (chalice.test.Client): a missing setting is named at once, in a page."""
import pytest
from chalice.test import Client

from functions.broadcast.chalicelib import settings, worker
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


@pytest.mark.parametrize("key, named", [(None, "SECRET_KEY is not set"),
                                        ("not-a-key", "SECRET_KEY is not a Fernet key")])
def test_a_sender_without_its_secret_key_fails_at_once_naming_it(emulator, sql, monkeypatch, key, named):
    """Without a usable SECRET_KEY the sender fails before claiming anything: the recipient stays queued (not
    'unknown' after a claim it could not use), and the error names the setting."""
    from common.settings import SettingError
    from broadcast_helpers import environment, sqs_record, store_broadcast
    _bid, [rid] = store_broadcast("+79991234567", text="no key")
    for name, value in environment(emulator, {}).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PLATFORM_SECRETS", raising=False)
    if key is None:
        monkeypatch.delenv("SECRET_KEY")
    else:
        monkeypatch.setenv("SECRET_KEY", key)
    app_module = load_app("broadcast")
    caches = (settings.load, settings.chatapp, worker.chatapp)
    for cache in caches:
        cache.cache_clear()
    try:
        with pytest.raises(SettingError, match=named):
            app_module.send_messages({"Records": [sqs_record({"recipient": rid})]}, None)
    finally:
        for cache in caches:
            cache.cache_clear()
    row = sql("SELECT status, attempts FROM broadcast_recipients WHERE id = %s", rid)[0]
    assert row == {"status": "queued", "attempts": 0} and emulator.sends() == []
