"""code_check fixtures: the running product in a local cloud, users with sessions and API tokens, SES mail."""
import uuid

import pytest

from code_check_helpers import FUNCTIONS, PASSWORD, Browser
from functions.code_check.chalicelib.accounts import tokens


@pytest.fixture(scope="session")
def cc_cloud(start_cloud):
    """The three code_check functions; the minute schedule slowed down so that tests tick by hand."""
    return start_cloud.for_session(start_cloud(functions=FUNCTIONS, rate_scale=10000, queue_attributes={
        "CodeCheckReportsQueue": {"VisibilityTimeout": "20"}}))


@pytest.fixture(scope="session")
def base_url(cc_cloud):
    return cc_cloud.api_url("CodeCheckApi")


@pytest.fixture
def browser(base_url, tx):
    """browser() -> a signed-in Browser of a new account whose address is confirmed (as if its link was
    opened; tests of the confirmation itself pass confirmed=False)."""
    def make(register=True, confirmed=True):
        b = Browser(base_url)
        if register:
            b.register()
            if confirmed:
                with tx() as cur:
                    cur.execute("UPDATE code_check.users SET confirmed_at = now() WHERE email = %s", (b.email,))
        return b
    return make


@pytest.fixture
def api_token(tx):
    """api_token(browser) -> a Bearer token of that browser's user (made the way the tokens page makes them)."""
    def make(browser):
        with tx() as cur:
            cur.execute("SELECT id FROM code_check.users WHERE email = %s", (browser.email,))
            token, _ = tokens.create(cur, cur.fetchone()[0], "test")
        return token
    return make


@pytest.fixture(scope="session")
def cc_settings(aws_endpoint, pg_url):
    """Settings for the logic tests: a versioned bucket, a queue and a verified sender in the session's moto."""
    import boto3

    from functions.code_check.chalicelib import settings
    name = f"cc-logic-{uuid.uuid4().hex[:8]}"
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    queue_url = boto3.client("sqs").create_queue(QueueName=name)["QueueUrl"]
    deletions_url = boto3.client("sqs").create_queue(QueueName=name + "-deletions")["QueueUrl"]
    boto3.client("ses").verify_email_identity(EmailAddress="logic-sender@example.com")
    return settings.Settings(bucket=name, queue_url=queue_url, sender="logic-sender@example.com",
                             public_url="https://code-check.example.com/prod", batch_size=500, flake8_jobs=2,
                             session_days=14, claim_seconds=60, deletions_queue_url=deletions_url)


@pytest.fixture
def make_user(tx):
    """make_user() -> user id of a fresh registered user (its address confirmed unless confirmed=False)."""
    from functions.code_check.chalicelib.accounts import users

    def make(confirmed=True):
        with tx() as cur:
            user_id = users.register(cur, f"u{uuid.uuid4().hex[:10]}@test.example", PASSWORD)
            if confirmed:
                cur.execute("UPDATE code_check.users SET confirmed_at = now() WHERE id = %s", (user_id,))
            return user_id
    return make


@pytest.fixture(autouse=True)
def quiet_schedule(conn):
    """Every code_check test ticks by hand: versions left unchecked by earlier tests (whose bytes may be in
    another test's bucket) are marked checked first, so a test's tick sees only its own uploads."""
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE code_check.versions SET checked_at = now() WHERE checked_at IS NULL")
        # Every HTTP test logs in from 127.0.0.1: earlier tests' failures must not throttle this one.
        cur.execute("DELETE FROM code_check.sign_in_attempts")
        # Every HTTP test registers from 127.0.0.1 too: earlier tests' accounts must not count against it.
        cur.execute("UPDATE code_check.users SET registered_from = NULL WHERE registered_from = '127.0.0.1'")
