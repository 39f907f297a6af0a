"""GET /metrics over HTTP in the local cloud: Prometheus text (parsed by prometheus-client's own parser) whose
message counts equal /stats, sends and retries from the attempts, the queue lag, and the metrics token."""
import importlib
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from notifications_helpers import OPERATOR, PASSWORD, Api, add_clients, add_mailing

ROOT = Path(__file__).resolve().parents[2]
METRICS_TOKEN = "test-metrics-token-0123456789"


def text_string_to_metric_families(text):
    """prometheus-client's parser: from the test environment, or else from the site folder the local cloud
    installed from functions/notifications/requirements.txt (the library the function itself ships)."""
    try:
        parser = importlib.import_module("prometheus_client.parser")
    except ImportError:
        from localcloud import sites
        sys.path.append(str(sites.function_site(ROOT / "functions" / "notifications",
                                                [ROOT / "layers" / "common" / "python"])))
        parser = importlib.import_module("prometheus_client.parser")
    return parser.text_string_to_metric_families(text)


@pytest.fixture(scope="module")
def metrics_cloud(start_cloud):
    return start_cloud(functions=["NotificationsApiFunction"],
                       parameters={"NotificationsMetricsToken": METRICS_TOKEN})


@pytest.fixture
def base(metrics_cloud, clean):
    return metrics_cloud.api_url("NotificationsApi")


def scrape(base, token=METRICS_TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.get(base + "/metrics", headers=headers, timeout=30)


def samples(text):
    """{(sample name, frozenset of labels): value}."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def test_metrics_counts_equal_stats(base, sql):
    now = datetime.now(timezone.utc)
    running = add_mailing(now - timedelta(minutes=5), now + timedelta(hours=1))
    finished = add_mailing(now - timedelta(hours=3), now - timedelta(hours=2))
    add_mailing(now + timedelta(hours=1), now + timedelta(hours=2))    # no messages yet: zeros
    # dispatched already (the messages below stand for it): no sweep of another cloud on this database adds any
    sql("UPDATE notifications.mailings SET dispatch_state = 'done' WHERE id IN (%s, %s)", running["id"], finished["id"])
    clients = add_clients(sql, [(f"7900000000{i}", "t", "UTC") for i in range(6)])
    rows = [(running["id"], clients[0], "sent", 1), (running["id"], clients[1], "sent", 3),
            (running["id"], clients[2], "processing", 2), (running["id"], clients[3], "error", 5),
            (finished["id"], clients[0], "expired", 0), (finished["id"], clients[1], "sent", 2)]
    for mailing_id, client_id, status, attempts in rows:
        sql("INSERT INTO notifications.messages (mailing_id, client_id, status, attempts, created_at) "
            "VALUES (%s, %s, %s, %s, now() - interval '90 seconds')", mailing_id, client_id, status, attempts)

    answer = scrape(base)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/plain")
    found = samples(answer.text)

    token = Api(base).post("/auth", {"username": OPERATOR, "password": PASSWORD}).json()["token"]
    stats = Api(base, token).get("/stats").json()["mailings"]
    assert len(stats) == 3
    for mailing in stats:
        for status in ("processing", "sent", "error", "expired"):
            key = ("notifications_messages", frozenset({"mailing_id": str(mailing["id"]), "status": status}.items()))
            assert found[key] == mailing["counts"][status], (mailing["id"], status)
    for status, total in {"processing": 1, "sent": 3, "error": 1, "expired": 1}.items():
        assert found[("notifications_messages_by_status", frozenset({"status": status}.items()))] == total

    # sends: every attempt; retries: the attempts after each message's first
    assert found[("notifications_sends_total", frozenset({"mailing_id": str(running["id"])}.items()))] == 11
    assert found[("notifications_retries_total", frozenset({"mailing_id": str(running["id"])}.items()))] == 7
    assert found[("notifications_sends_total", frozenset({"mailing_id": str(finished["id"])}.items()))] == 2
    assert found[("notifications_retries_total", frozenset({"mailing_id": str(finished["id"])}.items()))] == 1
    assert found[("notifications_mailings", frozenset({"state": "pending"}.items()))] == 1
    assert found[("notifications_mailings", frozenset({"state": "done"}.items()))] == 2
    # one message of the running mailing still waits, created 90 s ago
    assert found[("notifications_queue_waiting_messages", frozenset())] == 1
    assert found[("notifications_queue_lag_seconds", frozenset())] >= 90


def test_metrics_empty_database(base):
    found = samples(scrape(base).text)
    assert found[("notifications_queue_lag_seconds", frozenset())] == 0
    assert found[("notifications_queue_waiting_messages", frozenset())] == 0
    assert not [key for key in found if key[0] == "notifications_messages"]


@pytest.mark.parametrize("token", [None, "wrong-token", METRICS_TOKEN[:-1], METRICS_TOKEN + "x"])
def test_metrics_refused_without_the_token(base, token):
    answer = scrape(base, token)
    assert answer.status_code == 401
    assert "Bearer" in answer.headers["WWW-Authenticate"]
    assert "notifications_messages" not in answer.text


def test_operator_token_does_not_open_metrics(base):
    token = Api(base).post("/auth", {"username": OPERATOR, "password": PASSWORD}).json()["token"]
    assert scrape(base, token).status_code == 401


def test_metrics_off_without_a_configured_token(start_cloud, clean):
    cloud = start_cloud(functions=["NotificationsApiFunction"], parameters={"NotificationsMetricsToken": ""})
    answer = scrape(cloud.api_url("NotificationsApi"), "")
    assert answer.status_code == 404
    assert "NOTIFICATIONS_METRICS_TOKEN" in answer.json()["error"]
