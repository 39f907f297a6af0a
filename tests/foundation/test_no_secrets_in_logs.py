"""After a full end-to-end run through the local cloud (mailbox letters, a mail_import account with its page,
API and failing import, a broadcast sent through ChatApp with its status callbacks, a throttled sign-in), no
secret or token used anywhere appears in what the local cloud logged (its own lines and every function's)."""
import logging
import re
import time

import requests

from common import db
from fake_imap import LoginOnlyImapServer
from functions.broadcast.chalicelib import auth, settings as broadcast_settings
from functions.mailbox.chalicelib import mailboxes
from emulators.chatapp import ChatAppEmulator

USER, PASSWORD, WEBHOOK_SECRET = "operator", "site-password-4d1c", "hook-secret-9b7e"
IMAP_PASSWORD = "imap-password-77a0"
CHATAPP_PASSWORD = "chatapp-password-e5f3"
TEST_SECRET_KEY = "dGVzdC1vbmx5LWtleS1ub3QtYS1zZWNyZXQtMTIzNDU="  # the root conftest's test key


class Captured(logging.Handler):
    """Every record logged in this process (the cloud's workers' lines come through the runtime's loggers)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


def _wait(predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.3)


def test_no_secret_or_token_in_the_logs_of_an_end_to_end_run(start_cloud, pg_url, mysql_url):
    captured = Captured()
    captured.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    saved_level = root.level
    root.addHandler(captured)
    root.setLevel(logging.INFO)
    emulator = ChatAppEmulator(password=CHATAPP_PASSWORD, webhook_delays=(0.2,)).start()
    imap = LoginOnlyImapServer()
    secrets = {"site password": PASSWORD, "webhook secret": WEBHOOK_SECRET, "IMAP password": IMAP_PASSWORD,
               "ChatApp password": CHATAPP_PASSWORD, "secret key": TEST_SECRET_KEY}
    try:
        cloud = start_cloud(
            functions=["MailboxFunction", "MailImportWebFunction", "MailImportWorkerFunction",
                       "BroadcastWebFunction", "BroadcastSenderFunction"],
            parameters={"BroadcastUser": USER, "BroadcastPassword": PASSWORD, "BroadcastWebhookSecret": WEBHOOK_SECRET,
                        "ChatAppBaseUrl": emulator.url, "ChatAppPassword": CHATAPP_PASSWORD,
                        "BroadcastDelayRange": "0-1"})
        # mailbox: an API key used in headers
        conn = db.pg_connect(pg_url)
        with conn, conn.cursor() as cur:
            address, key = mailboxes.create(cur, f"logs.{time.time_ns()}@test.example")
        conn.close()
        secrets["mailbox API key"] = key
        mailbox = cloud.api_url("MailboxApi")
        sent = requests.post(mailbox + "/letters", json={"to": [address], "subject": "s", "body": "b"},
                             headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert sent.status_code == 201
        assert requests.get(mailbox + "/me", headers={"X-API-Key": key}, timeout=30).status_code == 200

        # mail_import: the account's token in a link (?token=), a cookie and a header; the login is checked when
        # the account is added, then the import fails (the server has no folders)
        mail = cloud.api_url("MailImportApi")
        created = requests.post(mail + "/api/accounts", timeout=30, json={
            "provider": "custom", "host": "127.0.0.1", "port": str(imap.port),
            "login": f"someone.{time.time_ns()}",     # an earlier test may have left this port's "someone" stored
            "password": IMAP_PASSWORD})
        assert created.status_code == 201, created.text
        account_id, token = created.json()["id"], created.json()["token"]
        secrets["mail_import token"] = token
        assert requests.get(f"{mail}/accounts/{account_id}?token={token}", timeout=30).status_code == 200
        _wait(lambda: (requests.get(f"{mail}/api/accounts/{account_id}", headers={"Authorization": f"Bearer {token}"},
                                    timeout=30).json()["job"] or {}).get("state") in ("done", "error"))

        # broadcast: basic auth, a form, sends with ChatApp tokens, callbacks with the secret in their URL
        site = cloud.api_url("BroadcastApi")
        csrf = auth.csrf_token(broadcast_settings.read({"BROADCAST_USER": USER, "BROADCAST_PASSWORD": PASSWORD,
                                                        "BROADCAST_QUEUE_URL": "unused"}))
        posted = requests.post(site + "/broadcasts", auth=(USER, PASSWORD), allow_redirects=False, timeout=60,
                               data={"text": "logs", "numbers": "+79991234567\n+79991234568", "csrf": csrf})
        assert posted.status_code == 303, posted.text[:300]
        # Statuses due together go out as one webhook (as ChatApp batches them): count the numbers they are for.
        _wait(lambda: len({e["chat"]["phone"] for w in list(emulator.webhooks) for e in w["payload"]["data"]}) >= 2)
        for _ in range(12):
            requests.get(site + "/", auth=(USER, PASSWORD + "-wrong"), timeout=30)
        chatapp_tokens = list(emulator.access_tokens) + list(emulator.refresh_tokens)
        assert chatapp_tokens
        secrets.update({f"ChatApp token {i}": t for i, t in enumerate(chatapp_tokens)})
    finally:
        root.removeHandler(captured)
        root.setLevel(saved_level)
        emulator.stop()
        imap.close()
        conn = db.mysql_connect(mysql_url, autocommit=True)
        with conn.cursor() as cur:     # the wrong sign-ins above must not lock out later tests
            cur.execute("DELETE FROM login_failures")
        conn.close()
    text = "\n".join(captured.lines)
    assert len(captured.lines) > 50 and "REPORT BroadcastSenderFunction" in text and "REPORT MailboxFunction" in text
    # The requests that carried secrets in their URLs were logged, without them.
    assert re.search(r"POST (/prod)?/webhooks/chatapp -> 200", text)
    assert re.search(rf"GET (/prod)?/accounts/{account_id} -> 303", text)
    found = {name for name, value in secrets.items() if value in text}
    print(f"\nLOGS: {len(captured.lines)} lines captured, {len(secrets)} secrets and tokens looked for, found: "
          f"{sorted(found) or 'none'}")
    assert found == set()
