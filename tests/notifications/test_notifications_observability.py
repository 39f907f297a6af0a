"""Logs are JSON lines carrying mailing_id / message_id / client_id; metrics are CloudWatch EMF lines."""
import io
import json
from datetime import datetime, timedelta, timezone

from functions.notifications.chalicelib.sending import sender

from notifications_helpers import JWT, add_clients, add_mailing


def json_lines(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def test_a_send_logs_its_ids_and_emits_per_mailing_metrics(sql, clean, sender_settings, provider, emulator, capsys):
    now = datetime.now(timezone.utc)
    [client] = add_clients(sql, [("79161234567", "", "Europe/Moscow")])
    mailing = add_mailing(now - timedelta(minutes=1), now + timedelta(hours=1))
    message_id = sql("INSERT INTO notifications.messages (mailing_id, client_id) VALUES (%s, %s) RETURNING id",
                     mailing["id"], client)[0][0]
    capsys.readouterr()
    handler = sender.log.registered_handler
    buffer = io.StringIO()
    previous = handler.setStream(buffer)            # the logger keeps the stream it was created with
    try:
        assert sender.handle(sender_settings, provider, message_id, lambda: now) == "sent"
    finally:
        handler.setStream(previous)
    out = capsys.readouterr().out + buffer.getvalue()
    lines = json_lines(out)
    logs = [line for line in lines if "message" in line and "level" in line]
    sent = [line for line in logs if line["message"] == "sent"]
    assert sent and sent[0]["mailing_id"] == mailing["id"] and sent[0]["message_id"] == message_id
    assert sent[0]["client_id"] == client and sent[0]["logger"].endswith("notifications.chalicelib.sending.sender")
    metrics = [line for line in lines if "_aws" in line]
    names = {m["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"]: m for m in metrics}
    assert set(names) >= {"Sent", "SendLatency"}
    assert names["Sent"]["Sent"] == [1.0] or names["Sent"]["Sent"] == 1.0
    assert names["Sent"]["mailing_id"] == str(mailing["id"])
    assert names["Sent"]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Notifications"
    assert ["mailing_id"] in names["SendLatency"]["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
    assert JWT not in out
