"""mail_import fixtures: a throwaway Dovecot, IMAP helpers, and the function's environment for direct calls."""
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FUNCTION = ROOT / "functions" / "mail_import"
for path in (FUNCTION, HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from mail_import_support import LOCAL_CONF, Dovecot, LambdaContext, free_port_pair, wait_for_port  # noqa: E402

TEST_SECRET_KEY = "dGVzdC1vbmx5LWtleS1ub3QtYS1zZWNyZXQtMTIzNDU="  # the root conftest's test key


@pytest.fixture(scope="session")
def dovecot():
    """A throwaway Dovecot (infra/dovecot/start.sh) on free ports, stopped at the end of the session."""
    directory = tempfile.mkdtemp(prefix="mail-import-dovecot-")
    os.chmod(directory, 0o755)  # the imap processes run as uid 2000 and must reach the mail dirs
    Path(directory, "local.conf").write_text(LOCAL_CONF)
    port = free_port_pair()
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
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def mail_env(pg_url, aws_endpoint):
    """The function's environment in this process (bucket, queue, key), for calling its logic directly."""
    name = f"mail-import-test-{uuid.uuid4().hex[:8]}"
    boto3.client("s3").create_bucket(Bucket=name)
    queue = boto3.client("sqs").create_queue(QueueName=name)["QueueUrl"]
    os.environ.update(SECRET_KEY=os.environ.get("SECRET_KEY") or TEST_SECRET_KEY, ATTACHMENTS_BUCKET=name,
                      MAIL_IMPORT_QUEUE_URL=queue, MAIL_IMPORT_PUSH_INTERVAL="0.05")
    return {"bucket": name, "queue": queue}


@pytest.fixture(scope="session")
def app_module(mail_env):
    """functions/mail_import/app.py, loaded under a name of its own (other products have an app.py too)."""
    spec = importlib.util.spec_from_file_location("mail_import_app", FUNCTION / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Run:
    """What a directly driven import left behind."""
    job: dict
    deliveries: int
    crashes: list


@pytest.fixture(scope="session")
def run_import(app_module, mail_env):
    """run_import(account_id) -> Run: start an import and feed its queue messages to app.import_worker.

    A message whose invocation raised or was handed back is made visible again at once, which is
    what SQS does when the visibility timeout ends (so redelivery is tested without waiting).
    """
    from chalicelib import jobs, state
    sqs = boto3.client("sqs")
    queue = mail_env["queue"]

    def run(account_id, max_deliveries=100):
        job = jobs.start(account_id)
        deliveries, crashes = 0, []
        while deliveries < max_deliveries:
            messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1, WaitTimeSeconds=0,
                                           AttributeNames=["All"]).get("Messages", [])
            if not messages:
                break
            message = messages[0]
            deliveries += 1
            event = {"Records": [{"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
                                  "body": message["Body"], "attributes": message["Attributes"],
                                  "messageAttributes": {}, "eventSource": "aws:sqs"}]}
            try:
                failed = app_module.import_worker(event, LambdaContext())["batchItemFailures"]
            except Exception as exc:  # the runtime would report it; SQS delivers the message again
                crashes.append(exc)
                failed = True
            if failed:
                sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"],
                                              VisibilityTimeout=0)
            else:
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return Run(state.get_job(job["id"]), deliveries, crashes)
    return run


@pytest.fixture(scope="session")
def new_account(mail_env):
    """new_account(mailbox, **fields) -> (account id, token), stored the way the API stores it."""
    from chalicelib import accounts, providers

    def create(mailbox, **fields):
        return accounts.create(providers.parse_account(mailbox.account_input(**fields)))
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
