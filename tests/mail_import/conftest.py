"""mail_import fixtures: a throwaway Dovecot, IMAP helpers, and the function's environment for direct calls."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from functions.mail_import.chalicelib import settings
from functions.mail_import.chalicelib.engine import accounts, job_records, jobs
from functions.mail_import.chalicelib.web import account_form
from held_port import held_port_pair
from mail_import_support import LOCAL_CONF, Dovecot, LambdaContext, wait_for_port
from products import load_app

ROOT = Path(__file__).resolve().parents[2]

TEST_SECRET_KEY = "dGVzdC1vbmx5LWtleS1ub3QtYS1zZWNyZXQtMTIzNDU="  # the root conftest's test key


@pytest.fixture(scope="session")
def dovecot():
    """A throwaway Dovecot (infra/dovecot/start.sh) on free ports, stopped at the end of the session. Dovecot
    cannot bind port 0 and say which it got: its two ports stay held (tests/held_port.py) while it runs."""
    directory = tempfile.mkdtemp(prefix="mail-import-dovecot-")
    os.chmod(directory, 0o755)  # the imap processes run as uid 2000 and must reach the mail dirs
    Path(directory, "local.conf").write_text(LOCAL_CONF)
    held = held_port_pair(850)
    port = held[0].port
    server = Dovecot(directory, port)
    server.create_users()
    subprocess.run([str(ROOT / "infra" / "dovecot" / "start.sh"), directory, str(port)], check=True,
                   stdout=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield server
    finally:
        subprocess.run(["dovecot", "-c", f"{directory}/dovecot.conf", "stop"], check=False)
        time.sleep(0.2)
        for hold in held:
            hold.close()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def mail_env(pg_url, aws_endpoint):
    """The function's resources for calling its logic directly in this process (bucket, queues) and the
    environment that goes with them; own_queue sets it for each test that uses mail_env and restores it after
    (never process-wide for the session: a test elsewhere, in any order, sees the environment it had)."""
    name = f"mail-import-test-{uuid.uuid4().hex[:8]}"
    boto3.client("s3").create_bucket(Bucket=name)
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    index_queue = sqs.create_queue(QueueName=name + "-index")["QueueUrl"]
    environ = dict(SECRET_KEY=os.environ.get("SECRET_KEY") or TEST_SECRET_KEY, ATTACHMENTS_BUCKET=name,
                   MAIL_IMPORT_PUSH_INTERVAL="0.05", WS_PUBLIC_URL="ws://127.0.0.1:9/mail-import",
                   IMAP_ALLOWED_HOSTS="127.0.0.1",
                   # Every test account lives on one Dovecot (one IMAP host): the per-host cap would make
                   # direct calls wait on the leases other tests hold. Its own test sets it.
                   MAIL_IMPORT_HOST_SLOTS="1000")
    return {"bucket": name, "queue": queue, "arn": arn, "index_queue": index_queue, "environ": environ}


@pytest.fixture(scope="module", autouse=True)
def module_environment(request):
    """The function's environment for the module-scoped fixtures of a module whose tests use mail_env (they are
    set up before own_queue runs), restored when the module is done; a module that never uses it starts no
    server for it."""
    if not any("mail_env" in item.fixturenames for item in request.session.items if item.module is request.module):
        yield
        return
    mail_env = request.getfixturevalue("mail_env")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in dict(mail_env["environ"], MAIL_IMPORT_QUEUE_URL=mail_env["queue"],
                                MAIL_IMPORT_INDEX_QUEUE_URL=mail_env["index_queue"]).items():
            patch.setenv(name, value)
        settings.load.cache_clear()
        yield
    settings.load.cache_clear()


@pytest.fixture(autouse=True)
def own_queue(request, monkeypatch):
    """Every test that uses the function's queue gets a new, empty one: a chunk message one test leaves
    behind can never be consumed by the next (whose delivery counts must be exact), in any order. The
    function's environment is set for the test alone (monkeypatch restores it)."""
    if "mail_env" not in request.fixturenames:
        yield None
        return
    mail_env = request.getfixturevalue("mail_env")
    for name, value in mail_env["environ"].items():
        monkeypatch.setenv(name, value)
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=f"mail-import-test-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    index_url = sqs.create_queue(QueueName=f"mail-import-test-{uuid.uuid4().hex[:12]}-index")["QueueUrl"]
    session_queue = dict(mail_env)
    mail_env.update(queue=url, arn=arn, index_queue=index_url)
    monkeypatch.setenv("MAIL_IMPORT_QUEUE_URL", url)
    monkeypatch.setenv("MAIL_IMPORT_INDEX_QUEUE_URL", index_url)
    settings.load.cache_clear()
    yield url
    mail_env.update(session_queue)
    settings.load.cache_clear()
    sqs.delete_queue(QueueUrl=url)
    sqs.delete_queue(QueueUrl=index_url)


@pytest.fixture(autouse=True)
def cold_settings():
    """Settings are read once per cold start: every test starts cold, so the environment it sets applies."""
    for loader in (settings.load, settings.ws_public_url, settings.imap_allowed):
        loader.cache_clear()
    yield
    for loader in (settings.load, settings.ws_public_url, settings.imap_allowed):
        loader.cache_clear()


@pytest.fixture(autouse=True)
def no_attempts_on_record(request):
    """Every test creates its accounts from 127.0.0.1: earlier tests' must not count against its allowance."""
    if "pg_url" in request.fixturenames:
        from common import db
        with db.pg_transaction() as cur:
            cur.execute("DELETE FROM mail_import.sign_in_attempts")
    yield


@pytest.fixture(scope="session")
def app_module(mail_env):
    """functions/mail_import/app.py (tests/products.py: it shares the modules the tests import)."""
    return load_app("mail_import")


@dataclass
class Run:
    """What a directly driven import left behind: the job, how many deliveries it took, and the deliveries
    whose record the worker reported failed (to be delivered again)."""
    job: dict
    deliveries: int
    failures: list


@pytest.fixture(scope="session")
def run_import(app_module, mail_env):
    """run_import(account_id) -> Run: start an import and feed its queue messages to app.import_worker.

    A message the worker reports failed is made visible again at once, which is what SQS does when
    its backoff ends (so redelivery is tested without waiting).
    """
    sqs = boto3.client("sqs")

    def run(account_id, max_deliveries=100):
        queue = mail_env["queue"]          # this test's own queue (own_queue)
        job = jobs.start(account_id)
        deliveries, failures = 0, []
        while deliveries < max_deliveries:
            messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1, WaitTimeSeconds=0,
                                           AttributeNames=["All"]).get("Messages", [])
            if not messages:
                break
            message = messages[0]
            deliveries += 1
            event = {"Records": [{"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
                                  "body": message["Body"], "attributes": message["Attributes"],
                                  "messageAttributes": {}, "eventSource": "aws:sqs",
                                  "eventSourceARN": mail_env["arn"]}]}
            failed = app_module.import_worker(event, LambdaContext())["batchItemFailures"]
            if failed:
                failures.append(message["MessageId"])
                sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"],
                                              VisibilityTimeout=0)
            else:
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return Run(job_records.get_job(job["id"]), deliveries, failures)
    return run


@pytest.fixture(scope="session")
def run_indexer(app_module, mail_env):
    """run_indexer() -> [message bodies]: feed this test's indexing requests to app.index_worker until the
    queue is empty (what the index function does after an import), in batches of up to 10 like the template."""
    sqs = boto3.client("sqs")

    def run(max_deliveries=1000):
        queue, bodies = mail_env["index_queue"], []
        while len(bodies) < max_deliveries:
            messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                           AttributeNames=["All"]).get("Messages", [])
            if not messages:
                return bodies
            event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                                  "attributes": m["Attributes"], "messageAttributes": {}, "eventSource": "aws:sqs",
                                  "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:index"} for m in messages]}
            failed = {f["itemIdentifier"] for f in app_module.index_worker(event, LambdaContext())["batchItemFailures"]}
            assert not failed, failed
            for m in messages:
                bodies.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
        raise AssertionError(f"the index queue did not drain in {max_deliveries} requests")
    return run


@pytest.fixture(scope="session")
def new_account(mail_env):
    """new_account(mailbox, **fields) -> (account id, token), stored the way the API stores it."""
    def create(mailbox, **fields):
        return accounts.create(account_form.parse_account(mailbox.account_input(**fields)))
    return create


@pytest.fixture(scope="session")
def db(pg_url):
    """query(sql, *params) -> rows, on an autocommit connection to the test database."""
    import psycopg2
    conn = psycopg2.connect(pg_url)
    conn.autocommit = True

    def query(sql, *params):
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else None
    yield query
    conn.close()
