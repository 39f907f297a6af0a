"""Broadcast fixtures: clean MySQL tables, the ChatApp emulator, settings, a moto queue, the running cloud."""
import os

import pymysql
import pymysql.cursors
import pytest
import requests

from common import db
from functions.broadcast.chalicelib import settings
from functions.broadcast.chalicelib.chatapp import ChatApp
from emulators.chatapp import ChatAppEmulator

from broadcast_helpers import PASSWORD, SECRET, TEST_SECRET_KEY, USER, basic, environment

TABLES = ("broadcast_recipients", "broadcasts", "contact_list_numbers", "contact_lists")


@pytest.fixture(scope="session", autouse=True)
def secret_key():
    """The key the ChatApp tokens are encrypted with, for the product code these tests call directly."""
    os.environ.setdefault("SECRET_KEY", TEST_SECRET_KEY)
    return os.environ["SECRET_KEY"]


@pytest.fixture(scope="session")
def mysql(mysql_url):
    """An autocommit connection to the migrated test database, for arranging and asserting."""
    conn = db.mysql_connect(mysql_url, autocommit=True, cursorclass=pymysql.cursors.DictCursor)
    yield conn
    conn.close()


@pytest.fixture
def sql(mysql):
    """sql(statement, *params) -> list of dict rows (committed at once)."""
    def run(statement, *params):
        with mysql.cursor() as cur:
            cur.execute(statement, params or None)
            return cur.fetchall()
    return run


@pytest.fixture
def clean_db(sql):
    """Empty broadcast tables and no ChatApp tokens, so each test starts from nothing."""
    for table in TABLES:
        sql(f"DELETE FROM {table}")
    sql("DELETE FROM login_failures")
    sql("DELETE FROM chatapp_tokens")
    sql("INSERT INTO chatapp_tokens (id) VALUES (1)")


@pytest.fixture(scope="session")
def emulator_server():
    """One ChatApp emulator for the session (reset by the `emulator` fixture for each test)."""
    emu = ChatAppEmulator(webhook_delays=(0.2, 0.4, 0.6)).start()
    yield emu
    emu.stop()


@pytest.fixture
def emulator(emulator_server, clean_db):
    """The emulator with no tokens, failures, messages or logged requests; default lifetimes."""
    emulator_server.reset()
    emulator_server.configure(access_ttl=24 * 3600, refresh_ttl=14 * 24 * 3600, webhook_delays=(0.2, 0.4, 0.6))
    return emulator_server


@pytest.fixture
def make_settings(emulator, aws_endpoint):
    """make_settings(**env overrides) -> settings.Settings (a queue if given)."""
    def make(**overrides):
        return settings.read(environment(emulator, overrides))
    return make


@pytest.fixture
def make_chatapp(emulator):
    """make_chatapp(**env overrides) -> a ChatApp client of the emulator."""
    def make(**overrides):
        return ChatApp(settings.read_chatapp(environment(emulator, overrides)))
    return make


@pytest.fixture
def queue(aws_endpoint):
    """A fresh moto queue URL (with the production visibility timeout)."""
    import uuid

    import boto3
    sqs = boto3.client("sqs", endpoint_url=aws_endpoint, region_name="us-east-1")
    url = sqs.create_queue(QueueName=f"bc-{uuid.uuid4().hex[:10]}", Attributes={"VisibilityTimeout": "180"})["QueueUrl"]
    yield url
    sqs.delete_queue(QueueUrl=url)


@pytest.fixture
def http():
    """A requests session with the site's credentials, reading the pages in English (Russian is the default:
    test_broadcast_site checks both)."""
    session = requests.Session()
    session.headers["Authorization"] = basic()
    session.headers["Accept-Language"] = "en"
    yield session
    session.close()


CLOUD_PARAMETERS = {"BroadcastUser": USER, "BroadcastPassword": PASSWORD, "BroadcastWebhookSecret": SECRET,
                    "BroadcastDelayRange": "1-2"}


@pytest.fixture(scope="session")
def cloud(start_cloud, emulator_server):
    """All broadcast functions in the local cloud, using the session's emulator; delays narrowed to 1-2 s.
    (The hourly schedule first fires an hour after start: tests invoke the maintenance function themselves.)"""
    functions = ["BroadcastWebFunction", "BroadcastSenderFunction", "BroadcastMaintenanceFunction"]
    return start_cloud.for_session(start_cloud(functions=functions, parameters=dict(
        CLOUD_PARAMETERS, ChatAppBaseUrl=emulator_server.url)))


@pytest.fixture(scope="session")
def live_site(cloud):
    """Base URL of BroadcastApi of the cloud that also sends."""
    return cloud.api_url("BroadcastApi")


@pytest.fixture(scope="session")
def site(start_cloud, emulator_server):
    """Base URL of BroadcastApi of a cloud running only the web function: posting never sends anything,
    so no send from one test can reach into the next (whose emulator counts must be exact)."""
    web = start_cloud.for_session(start_cloud(functions=["BroadcastWebFunction"],
                                              parameters=dict(CLOUD_PARAMETERS, ChatAppBaseUrl=emulator_server.url)))
    return web.api_url("BroadcastApi")
