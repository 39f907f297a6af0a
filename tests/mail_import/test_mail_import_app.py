"""The HTTP and WebSocket adapters in process (chalice.test.Client): short failure answers, the reader's language."""
import psycopg2
import pytest
from chalice.test import Client

from common.settings import SettingError
from functions.mail_import.chalicelib import settings
from functions.mail_import.chalicelib.engine import accounts
from functions.mail_import.chalicelib.web import websocket


def broken(*_args, **_kwargs):
    raise psycopg2.OperationalError("could not connect to server: Connection refused")


def test_a_lost_database_is_a_short_503_without_details(app_module, monkeypatch):
    monkeypatch.setattr(accounts, "authorized", broken)
    with Client(app_module.app) as client:
        page = client.http.get("/accounts/1?token=abc")
        english = client.http.get("/accounts/1?token=abc", headers={"Accept-Language": "en"})
        api = client.http.get("/api/accounts/1", headers={"Authorization": "Bearer abc"})

    assert page.status_code == 503 and "База данных временно недоступна" in page.body.decode()
    assert english.status_code == 503 and b"Database unavailable, retry later" in english.body
    assert api.status_code == 503 and api.json_body == {"error": "Database unavailable, retry later"}
    assert page.headers["Retry-After"] == api.headers["Retry-After"] == "1"
    for body in (page.body, english.body, api.body):
        assert b"Traceback" not in body and b"OperationalError" not in body and b"Connection refused" not in body


def test_a_bug_is_a_short_500_page_in_the_readers_language(app_module, monkeypatch):
    def bug(*_args, **_kwargs):
        raise KeyError("secret detail")
    monkeypatch.setattr(accounts, "authorized", bug)
    with Client(app_module.app) as client:
        page = client.http.get("/accounts/1?token=abc")
        api = client.http.get("/api/accounts/1", headers={"Authorization": "Bearer abc"})

    assert page.status_code == 500 and "Внутренняя ошибка" in page.body.decode()
    assert api.status_code == 500 and api.json_body == {"error": "Internal error"}
    assert b"secret detail" not in page.body + api.body and b"Traceback" not in page.body + api.body


def test_pages_are_russian_by_default_and_english_on_request(app_module, mail_env):
    with Client(app_module.app) as client:
        russian = client.http.get("/")
        english = client.http.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,ru;q=0.5"})
        rejected = client.http.post("/accounts", body="provider=custom&login=a&password=p&host=&port=993",
                                    headers={"Content-Type": "application/x-www-form-urlencoded",
                                             "Accept-Language": "en"})
        rejected_ru = client.http.post("/accounts", body="provider=custom&login=a&password=p&host=&port=993",
                                       headers={"Content-Type": "application/x-www-form-urlencoded"})
        missing = client.http.get("/accounts/12345?token=nope")

    assert '<html lang="ru">' in russian.body.decode() and "Подключить почтовый ящик" in russian.body.decode()
    assert '<html lang="en">' in english.body.decode() and "Connect a mailbox" in english.body.decode()
    assert "Подключить" not in english.body.decode()
    assert rejected.status_code == 400 and "Enter the IMAP server&#39;s host name." in rejected.body.decode()
    assert rejected_ru.status_code == 400 and "Введите имя IMAP-сервера." in rejected_ru.body.decode()
    assert missing.status_code == 404 and "Такой страницы нет или ссылка устарела." in missing.body.decode()
    for page in (russian, english, rejected, missing):
        assert page.headers["Content-Security-Policy"].endswith("form-action 'self'")
        assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_a_websocket_route_failure_answers_500_without_details(app_module, monkeypatch):
    monkeypatch.setattr(websocket, "connect", broken)
    event = {"requestContext": {"routeKey": "$connect", "connectionId": "c1"},
             "queryStringParameters": {"account": "1", "token": "abc"}}

    assert app_module.ws_handler(event, None) == {"statusCode": 500, "body": "Internal error"}


def test_unknown_websocket_actions_get_a_hint(app_module):
    event = {"requestContext": {"routeKey": "$default", "connectionId": "c2"}, "body": '{"action": "dance"}'}

    reply = app_module.ws_handler(event, None)

    assert reply["statusCode"] == 200 and "subscribe" in reply["body"]


def test_settings_are_checked_and_a_missing_one_is_named(monkeypatch):
    monkeypatch.setenv("ATTACHMENTS_BUCKET", "bucket")
    monkeypatch.delenv("MAIL_IMPORT_QUEUE_URL", raising=False)
    with pytest.raises(SettingError, match="MAIL_IMPORT_QUEUE_URL is not set"):
        settings.load()
    monkeypatch.setenv("MAIL_IMPORT_QUEUE_URL", "https://sqs.example/1/q")
    monkeypatch.setenv("MAIL_IMPORT_INDEX_QUEUE_URL", "https://sqs.example/1/index")  # not another test's leftover
    monkeypatch.setenv("MAIL_IMPORT_BATCH", "0")
    with pytest.raises(SettingError, match="MAIL_IMPORT_BATCH must be at least 1"):
        settings.load()
    monkeypatch.setenv("MAIL_IMPORT_BATCH", "25")
    assert settings.load().batch == 25 and settings.load() is settings.load()      # read once
    monkeypatch.setenv("WS_PUBLIC_URL", "http://not-a-websocket")
    with pytest.raises(SettingError, match="WS_PUBLIC_URL"):
        settings.ws_public_url()
