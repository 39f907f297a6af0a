"""History survives deletion (issue 23): a deleted client or mailing keeps its messages and counts, shown as
"deleted client" / "deleted mailing" in the statistics and on the admin page (Russian and English)."""
from datetime import datetime, timedelta, timezone

import pytest
import requests

from functions.notifications.chalicelib.clients import actions as clients
from functions.notifications.chalicelib.clients.store import CLIENT_DELETED
from functions.notifications.chalicelib.mailings import actions as mailings
from functions.notifications.chalicelib.sending import sender
from functions.notifications.chalicelib.stats import reports

from notifications_helpers import OPERATOR, PASSWORD, add_clients, add_mailing

UTC = timezone.utc
WHO = {"id": 1, "username": "operator"}


@pytest.fixture
def history(sql, clean):
    """Two clients with one message each in a mailing that has ended: one sent, one still processing."""
    now = datetime.now(UTC)
    sent_to, waiting = add_clients(sql, [("79161234567", "vip", "Europe/Moscow"), ("79031234567", "", "Europe/Moscow")])
    mailing = add_mailing(now - timedelta(hours=2), now + timedelta(hours=1))
    ids = {}
    for client, status in ((sent_to, "sent"), (waiting, "processing")):
        ids[client] = sql("INSERT INTO notifications.messages (mailing_id, client_id, status) VALUES (%s, %s, %s) "
                          "RETURNING id", mailing["id"], client, status)[0][0]
    return mailing, sent_to, waiting, ids


def _counts(mailing_id):
    [found] = [m for m in reports.overall_stats() if m["id"] == mailing_id]
    return found


def test_a_deleted_client_keeps_its_messages_and_counts(sql, history):
    mailing, sent_to, waiting, ids = history
    clients.delete(sent_to, WHO)
    clients.delete(waiting, WHO)
    assert _counts(mailing["id"])["counts"] == {"processing": 0, "sent": 1, "error": 0, "expired": 1, "total": 2}
    stats = reports.mailing_stats(mailing["id"], 0, 10)
    assert [(m["client_id"], m["status"], m["client_deleted"]) for m in stats["messages"]] == [
        (sent_to, "sent", True), (waiting, "expired", True)]
    assert stats["messages"][1]["last_error"] == CLIENT_DELETED       # what it was still to get, not sent
    assert clients.list_page(0, 10)["items"] == []                    # gone from the client base
    assert clients.create({"phone": "79161234567", "timezone": "Europe/Moscow"}, WHO)["id"] not in (sent_to, waiting)


def test_a_message_released_after_its_client_was_deleted_is_not_sent(sql, history, sender_settings, provider):
    mailing, sent_to, waiting, ids = history
    sql("UPDATE notifications.messages SET claimed_at = now(), claim_id = gen_random_uuid() WHERE id = %s",
        ids[waiting])                                                 # a send in flight while the client goes
    clients.delete(waiting, WHO)
    sql("UPDATE notifications.messages SET claimed_at = NULL, claim_id = NULL WHERE id = %s", ids[waiting])
    assert sender.handle(sender_settings, provider, ids[waiting], lambda: datetime.now(UTC)) == "expired"
    assert sql("SELECT status, last_error FROM notifications.messages WHERE id = %s", ids[waiting])[0] == (
        "expired", CLIENT_DELETED)


def test_a_deleted_mailing_keeps_its_messages_and_counts(sql, history):
    mailing, sent_to, waiting, ids = history
    sql("UPDATE notifications.mailings SET end_at = now() - interval '1 minute' WHERE id = %s", mailing["id"])
    mailings.delete(mailing["id"], datetime.now(UTC), WHO)
    found = _counts(mailing["id"])
    assert found["deleted"] is True and found["counts"]["sent"] == 1 and found["counts"]["total"] == 2
    assert reports.mailing_stats(mailing["id"], 0, 10, deleted_too=True)["mailing"]["deleted"] is True
    with pytest.raises(Exception, match="no such mailing"):
        reports.mailing_stats(mailing["id"], 0, 10)                  # the API: a deleted resource is gone
    assert mailings.list_page(0, 10)["items"] == []
    with pytest.raises(Exception, match="no such mailing"):
        mailings.get(mailing["id"])


@pytest.mark.parametrize("language, texts", [("ru", ("удалённый клиент", "удалённая рассылка")),
                                             ("en", ("deleted client", "deleted mailing"))])
def test_the_admin_page_shows_deleted_clients_and_mailings(sql, cloud, history, language, texts):
    mailing, sent_to, waiting, ids = history
    base = cloud.api_url("NotificationsApi")
    session = requests.Session()
    session.headers["Accept-Language"] = language
    signed_in = session.post(base + "/admin/login", data={"username": OPERATOR, "password": PASSWORD}, timeout=30)
    assert signed_in.status_code == 200
    clients.delete(sent_to, WHO)
    page = session.get(f"{base}/admin/mailings/{mailing['id']}", timeout=30).text
    assert texts[0] in page
    sql("UPDATE notifications.mailings SET end_at = now() - interval '1 minute' WHERE id = %s", mailing["id"])
    mailings.delete(mailing["id"], datetime.now(UTC), WHO)
    assert texts[1] in session.get(f"{base}/admin", timeout=30).text
    assert texts[1] in session.get(f"{base}/admin/mailings/{mailing['id']}", timeout=30).text
