"""The HTTP and WebSocket adapters in process (chalice.test.Client): failures never reach people as 500s."""
import psycopg2
from chalice.test import Client


def broken(*_args, **_kwargs):
    raise psycopg2.OperationalError("could not connect to server: Connection refused")


def test_an_unexpected_failure_is_a_short_503_without_details(app_module, monkeypatch):
    monkeypatch.setattr(app_module.accounts, "authorized", broken)
    with Client(app_module.app) as client:
        page = client.http.get("/accounts/1?token=abc")
        api = client.http.get("/api/accounts/1", headers={"Authorization": "Bearer abc"})

    assert page.status_code == 503 and b"temporarily unavailable" in page.body
    assert api.status_code == 503 and b"temporarily unavailable" in api.body
    for body in (page.body, api.body):
        assert b"Traceback" not in body and b"OperationalError" not in body and b"Connection refused" not in body


def test_a_websocket_route_failure_answers_500_without_details(app_module, monkeypatch):
    monkeypatch.setattr(app_module.ws, "connect", broken)
    event = {"requestContext": {"routeKey": "$connect", "connectionId": "c1"},
             "queryStringParameters": {"account": "1", "token": "abc"}}

    assert app_module.ws_handler(event, None) == {"statusCode": 500, "body": "Internal error"}


def test_unknown_websocket_actions_get_a_hint(app_module):
    event = {"requestContext": {"routeKey": "$default", "connectionId": "c2"}, "body": '{"action": "dance"}'}

    reply = app_module.ws_handler(event, None)

    assert reply["statusCode"] == 200 and "subscribe" in reply["body"]
