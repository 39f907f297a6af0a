"""Handlers of the console's test stack. They keep their state in PostgreSQL (schema console_test),
so the tests can check what the console shows against the database."""
import os

import boto3
import psycopg2

from common.log import get_logger

log = get_logger("console_test")


def _db():
    conn = psycopg2.connect(os.environ["DATABASE_URL"], connect_timeout=5)
    conn.autocommit = True
    return conn


def on_job(event, context):
    """Stores each job; fails while console_test.switch says so (the message then goes to the DLQ)."""
    with _db() as conn, conn.cursor() as cur:
        cur.execute("SELECT failing FROM console_test.switch")
        failing = cur.fetchone()[0]
        for record in event["Records"]:
            log.info("job received", job=record["body"], failing=failing)
            if failing:
                raise RuntimeError(f"job {record['body']} failed on purpose")
            cur.execute("INSERT INTO console_test.jobs (body, request_id) VALUES (%s, %s)",
                        (record["body"], context.aws_request_id))


def always_fails(event, context):
    """The alarms' function: every job fails (its message goes to AlarmDlq)."""
    raise RuntimeError(f"{len(event['Records'])} job(s) failed on purpose")


def on_schedule(event, context):
    """Records each fire."""
    with _db() as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO console_test.fires (rule) VALUES (%s)", (event["resources"][0],))
    log.info("schedule fired", rule=event["resources"][0])


def send_mail(event, context):
    """Sends one email through SES."""
    ses = boto3.client("ses")
    resp = ses.send_email(Source=os.environ["SENDER"], Destination={"ToAddresses": [event["to"]]},
                          Message={"Subject": {"Data": event["subject"]},
                                   "Body": {"Text": {"Data": event["text"]}, "Html": {"Data": event["html"]}}})
    log.info("mail sent", message_id=resp["MessageId"], to=event["to"])
    return resp["MessageId"]


def ws_connect(event, context):
    """Accepts every connection."""
    return {"statusCode": 200}
