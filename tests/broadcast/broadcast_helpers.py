"""Helpers shared by the broadcast tests (credentials, polling, SQS records)."""
import base64
import json
import re
from html import unescape
from pathlib import Path

import requests

from waiting import wait_until as wait_for  # noqa: F401 - the broadcast tests import it from here

USER, PASSWORD, SECRET = "operator", "correct horse battery staple", "hook-secret-123"
UNUSED_QUEUE = "http://127.0.0.1:9/000000000000/not-used-by-this-test"
TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
TEST_SECRET_KEY = "dGVzdC1vbmx5LWtleS1ub3QtYS1zZWNyZXQtMTIzNDU="  # the root conftest's test key


def basic(user=USER, password=PASSWORD):
    """An Authorization header value for basic auth."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


CSRF_FIELD = re.compile(r'<input type="hidden" name="csrf" value="([^"]+)">')


def csrf(base):
    """The form token read from the form the site renders at base + "/", as a browser would submit it."""
    page = requests.get(base + "/", headers={"Authorization": basic()}, timeout=30)
    assert page.status_code == 200, page.text[:300]
    found = CSRF_FIELD.findall(page.text)
    assert len(found) == 1, "the form should carry exactly one csrf field"
    return unescape(found[0])


def sqs_record(body, message_id="m-1", receive_count=1):
    """One Records[] entry of an SQS event, as Lambda delivers it."""
    return {"messageId": message_id, "receiptHandle": f"rh-{message_id}-{receive_count}",
            "body": json.dumps(body) if not isinstance(body, str) else body,
            "attributes": {"ApproximateReceiveCount": str(receive_count)}, "messageAttributes": {},
            "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
            "awsRegion": "us-east-1"}


def store_broadcast(numbers, delays=None, text="Hello from the test"):
    """Store a broadcast directly (no queue message); numbers: phones.Number list or pasted text.
    Returns (broadcast id, recipient ids in list order)."""
    from common import db
    from functions.broadcast.chalicelib import broadcasts, phones
    if isinstance(numbers, str):
        numbers = phones.parse_list(numbers, "RU").numbers
    delays = delays if delays is not None else [5] * len(numbers)
    broadcast_id, _span = broadcasts.create(text, numbers, 0, delays)
    with db.mysql_transaction() as cur:
        cur.execute("SELECT id FROM broadcast_recipients WHERE broadcast_id = %s ORDER BY id", (broadcast_id,))
        return broadcast_id, [row["id"] for row in cur.fetchall()]


def environment(emulator, overrides):
    """The broadcast functions' environment for code called in process, against the ChatApp emulator."""
    env = {
        "BROADCAST_USER": USER, "BROADCAST_PASSWORD": PASSWORD, "BROADCAST_WEBHOOK_SECRET": SECRET,
        "BROADCAST_PUBLIC_URL": "http://127.0.0.1:9/prod", "BROADCAST_QUEUE_URL": UNUSED_QUEUE,
        "CHATAPP_BASE_URL": emulator.url, "CHATAPP_EMAIL": "operator@example.com",
        "CHATAPP_PASSWORD": "emulator-password", "CHATAPP_APP_ID": "app_emulator",
        "CHATAPP_LICENSE_ID": "100001", "SECRET_KEY": TEST_SECRET_KEY,
    }
    env.update({k.upper(): str(v) for k, v in overrides.items()})
    return env
