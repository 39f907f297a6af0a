"""Notifications fixtures: clean tables, the provider emulator over HTTP, settings, a queue, the cloud."""
import json
import uuid

import boto3
import psycopg2
import pytest

from common import db
from functions.notifications.chalicelib import settings
from functions.notifications.chalicelib.api import auth
from functions.notifications.chalicelib.sending.provider import Provider
from emulators.provider import ProviderEmulator

from notifications_helpers import FIRST_PASSWORD, JWT, OPERATOR, PASSWORD, TABLES, Api

FUNCTIONS = ["NotificationsApiFunction", "NotificationsDispatchFunction", "NotificationsSenderFunction",
             "NotificationsDailyReportFunction"]


@pytest.fixture(scope="session")
def pg(pg_url):
    conn = psycopg2.connect(pg_url)
    conn.autocommit = True
    yield conn
    conn.close()


@pytest.fixture
def sql(pg):
    """sql(statement, *params) -> rows (autocommit)."""
    def run(statement, *params):
        with pg.cursor() as cur:
            cur.execute(statement, params or None)
            return cur.fetchall() if cur.description else cur.rowcount
    return run


@pytest.fixture
def clean(sql):
    sql(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
    with db.pg_transaction() as cur:
        auth.create_operator(cur, OPERATOR, PASSWORD)


@pytest.fixture(scope="session")
def emulator_server():
    emulator = ProviderEmulator(token=JWT).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def emulator(emulator_server, clean):
    emulator_server.reset()
    emulator_server.configure(latency=0, failure_rate=0, hang_rate=0, hang_seconds=30, fail_status=500, seed=1)
    return emulator_server


@pytest.fixture
def queue(aws_endpoint):
    sqs = boto3.client("sqs", endpoint_url=aws_endpoint, region_name="us-east-1")
    url = sqs.create_queue(QueueName=f"nt-{uuid.uuid4().hex[:10]}", Attributes={"VisibilityTimeout": "360"})["QueueUrl"]
    yield url
    sqs.delete_queue(QueueUrl=url)


@pytest.fixture
def drain(aws_endpoint):
    """drain(queue_url) -> every message body now visible (as dicts), deleted."""
    sqs = boto3.client("sqs", endpoint_url=aws_endpoint, region_name="us-east-1")

    def run(url):
        found = []
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                      AttributeNames=["All"]).get("Messages", [])
            if not got:
                return found
            for message in got:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return run


@pytest.fixture
def sender_settings(queue, emulator):
    return settings.Settings(send_queue_url=queue, provider_url=emulator.url, provider_jwt=JWT,
                             connect_timeout=1, read_timeout=1, max_attempts=3, claim_seconds=60)


@pytest.fixture
def provider(sender_settings):
    return Provider(sender_settings.provider_url, sender_settings.provider_jwt, sender_settings.connect_timeout,
                    sender_settings.read_timeout)


@pytest.fixture
def dispatch_settings(queue):
    return settings.Settings(send_queue_url=queue, lease_seconds=300)


@pytest.fixture(scope="session")
def cloud(start_cloud, emulator_server):
    """Every notifications function in the local cloud; the sweep every 3 s (rate_scale), the emulator's JWT."""
    return start_cloud.for_session(start_cloud(functions=FUNCTIONS, rate_scale=0.05, parameters={
        "NotificationsProviderBaseUrl": emulator_server.url, "NotificationsProviderJwt": JWT,
        "NotificationsOperatorPassword": FIRST_PASSWORD}))


@pytest.fixture
def api(cloud, clean):
    """An Api signed in as the operator."""
    base = cloud.api_url("NotificationsApi")
    answer = Api(base).post("/auth", {"username": OPERATOR, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return Api(base, answer.json()["token"])
