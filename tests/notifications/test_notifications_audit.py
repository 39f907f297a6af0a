"""The trail by id (issue 23): every API and admin change to a client or a mailing is one JSON log line with the
operator, the ids and what changed, found by client_id / mailing_id in the local console's log search; no
message text and no phone number in full."""
import logging
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
import requests

from functions.notifications.chalicelib import audit
from localcloud.console.observe import LogStore

from notifications_helpers import OPERATOR, PASSWORD, wait_until

TEXT = "Секретная скидка 42%"


@pytest.fixture
def console_logs():
    """The console's log store, fed every log record of this process (the functions' lines among them)."""
    store = LogStore(SimpleNamespace(bump=lambda: None))
    functions = logging.getLogger("fn")               # the runtime forwards each function's lines to fn.<Function>
    level = functions.level
    functions.setLevel(logging.INFO)
    logging.getLogger().addHandler(store)
    yield store
    logging.getLogger().removeHandler(store)
    functions.setLevel(level)


def trail(store, **fields):
    """The trail lines the console's search finds by these fields, oldest first."""
    found = store.search(fields={k: str(v) for k, v in fields.items()}, limit=100)
    return [entry for entry in reversed(found) if entry.get("audit") is True]


def test_every_api_change_is_on_the_trail_by_id(api, console_logs):
    client = api.post("/clients", {"phone": "79161234567", "tag": "vip", "timezone": "Europe/Moscow"}).json()
    api.patch(f"/clients/{client['id']}", {"phone": "79031234567", "tag": "new"})
    assert api.delete(f"/clients/{client['id']}").status_code == 204
    start = datetime.now(timezone.utc) + timedelta(days=1)
    mailing = api.post("/mailings", {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat(),
                                     "text": TEXT}).json()
    api.patch(f"/mailings/{mailing['id']}", {"text": TEXT + "!", "filter": {"tags": ["vip"]}})
    assert api.delete(f"/mailings/{mailing['id']}").status_code == 204

    wait_until(lambda: len(trail(console_logs, client_id=client["id"])) == 3, timeout=30, what="the client's trail")
    created, changed, deleted = trail(console_logs, client_id=client["id"])
    assert [line["action"] for line in (created, changed, deleted)] == [
        "client created", "client changed", "client deleted"]
    assert {line["operator"] for line in (created, changed, deleted)} == {OPERATOR}
    assert created["changed"]["phone"] == {"to": "7916*****67"} and created["changed"]["tag"] == {"to": "vip"}
    assert changed["changed"] == {"phone": {"from": "7916*****67", "to": "7903*****67"},
                                  "operator_code": {"from": "916", "to": "903"}, "tag": {"from": "vip", "to": "new"}}

    wait_until(lambda: len(trail(console_logs, mailing_id=mailing["id"])) == 3, timeout=30, what="the mailing's")
    created, changed, deleted = trail(console_logs, mailing_id=mailing["id"])
    assert [line["action"] for line in (created, changed, deleted)] == [
        "mailing created", "mailing changed", "mailing deleted"]
    assert changed["changed"]["text"] == {"from": {"length": len(TEXT)}, "to": {"length": len(TEXT) + 1}}
    assert changed["changed"]["filter"]["to"] == {"operator_codes": [], "tags": ["vip"]}
    assert "start" not in changed["changed"] and changed["operator"] == OPERATOR
    every = str(console_logs.search(limit=5000))
    assert "Секретная" not in every and "79161234567" not in every and "79031234567" not in every


@pytest.mark.parametrize("language", ["ru", "en"])
def test_admin_page_changes_are_on_the_trail_too(cloud, clean, console_logs, language):
    base = cloud.api_url("NotificationsApi")
    session = requests.Session()
    session.headers["Accept-Language"] = language
    session.post(base + "/admin/login", data={"username": OPERATOR, "password": PASSWORD}, timeout=30)
    page = session.post(base + "/admin/clients", data={"phone": "79261234567", "timezone": "Europe/Moscow"},
                        timeout=30)
    assert page.status_code == 200 and "79261234567" in page.text        # the page shows it, the trail masks it

    def created():
        return [line for line in trail(console_logs, action="client created")
                if line["changed"]["phone"]["to"] == "7926*****67"]
    wait_until(created, timeout=30, what="the admin page's change on the trail")
    client_id = created()[-1]["client_id"]
    assert session.post(f"{base}/admin/clients/{client_id}/delete", data={"go": "1"}, timeout=30).status_code == 200
    wait_until(lambda: [line["operator"] for line in trail(console_logs, client_id=client_id)] == [OPERATOR] * 2,
               timeout=30, what="the deletion on the trail")


def test_phone_masking_and_text_length_only():
    assert audit.mask_phone("79161234567") == "7916*****67"
    shown = audit.changes(audit.MAILING_FIELDS, {"text": "a"}, {"text": "bb"})
    assert shown == {"text": {"from": {"length": 1}, "to": {"length": 2}}}
