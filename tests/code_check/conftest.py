"""code_check fixtures: the running product in a local cloud, users with sessions and API tokens, SES mail."""
import re
import uuid
from contextlib import contextmanager

import psycopg2
import pytest
import requests

from functions.code_check.chalicelib.accounts import tokens

FUNCTIONS = ["CodeCheckWebFunction", "CodeCheckCheckerFunction", "CodeCheckNotifierFunction"]
PASSWORD = "correct horse battery 9"


@pytest.fixture(scope="session")
def cc_cloud(start_cloud):
    """The three code_check functions; the minute schedule slowed down so that tests tick by hand."""
    return start_cloud(functions=FUNCTIONS, rate_scale=10000,
                       queue_attributes={"CodeCheckReportsQueue": {"VisibilityTimeout": "20"}})


@pytest.fixture(scope="session")
def base_url(cc_cloud):
    return cc_cloud.api_url("CodeCheckApi")


@pytest.fixture(scope="session")
def conn(pg_url):
    connection = psycopg2.connect(pg_url)
    yield connection
    connection.close()


@pytest.fixture
def tx(conn):
    @contextmanager
    def transaction():
        with conn, conn.cursor() as cur:
            yield cur
    return transaction


def tick(cloud):
    """One run of the checker, as the schedule runs it."""
    return cloud.invoke("CodeCheckCheckerFunction", {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-11-30T00:00:00Z", "region": "us-east-1", "resources": [],
        "detail": {}})


def csrf_of(html):
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


class Browser:
    """A signed-in (or not) HTTP client of the pages."""

    def __init__(self, base):
        self.base = base
        self.http = requests.Session()
        self.email = None

    def get(self, path, **kwargs):
        return self.http.get(self.base + path, allow_redirects=False, timeout=30, **kwargs)

    def post(self, path, data=None, files=None, csrf=True, **kwargs):
        data = dict(data or {})
        if csrf and "csrf" not in data:
            data["csrf"] = self.csrf(path)
        return self.http.post(self.base + path, data=data, files=files, allow_redirects=False, timeout=60, **kwargs)

    def csrf(self, path):
        page = "/login" if path == "/login" else "/register" if path == "/register" else "/"
        if path.startswith("/tokens"):
            page = "/tokens"
        return csrf_of(self.get(page).text)

    def register(self, email=None, password=PASSWORD):
        self.email = email or f"u{uuid.uuid4().hex[:10]}@test.example"
        answer = self.post("/register", {"email": self.email, "password": password})
        assert answer.status_code == 303, answer.text[:500]
        return self

    def upload(self, *files):
        """files: (name, bytes) pairs -> the response."""
        return self.post("/files", files=[("files", (name, data, "text/x-python")) for name, data in files])

    def file_id(self, name):
        cur_html = self.get("/").text
        found = re.search(r'<tr data-file="' + re.escape(name) + r'">\s*<td><a href="[^"]*/files/(\d+)"', cur_html)
        assert found, f"{name} not in the list"
        return int(found.group(1))


@pytest.fixture
def browser(base_url):
    def make(register=True):
        b = Browser(base_url)
        return b.register() if register else b
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


def sent_mail(endpoint):
    """Every e-mail moto's SES accepted: [{"to", "subject", "body"...}]."""
    data = requests.get(endpoint + "/moto-api/data.json", timeout=10).json()
    out = []
    for message in data.get("ses", {}).get("Message", []):
        out.append(message)
    return out


@pytest.fixture(scope="session")
def cc_settings(aws_endpoint, pg_url):
    """Settings for the logic tests: a versioned bucket, a queue and a verified sender in the session's moto."""
    import boto3

    from functions.code_check.chalicelib import config
    name = f"cc-logic-{uuid.uuid4().hex[:8]}"
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    queue_url = boto3.client("sqs").create_queue(QueueName=name)["QueueUrl"]
    boto3.client("ses").verify_email_identity(EmailAddress="logic-sender@example.com")
    return config.Settings(bucket=name, queue_url=queue_url, sender="logic-sender@example.com",
                           public_url="https://code-check.example.com/prod", batch_size=500, flake8_jobs=2,
                           session_days=14, claim_seconds=60)


@pytest.fixture
def make_user(tx):
    """make_user() -> user id of a fresh registered user."""
    from functions.code_check.chalicelib.accounts import users

    def make():
        with tx() as cur:
            return users.register(cur, f"u{uuid.uuid4().hex[:10]}@test.example", PASSWORD)
    return make


@pytest.fixture(autouse=True)
def quiet_schedule(conn):
    """Every code_check test ticks by hand: versions left unchecked by earlier tests (whose bytes may be in
    another test's bucket) are marked checked first, so a test's tick sees only its own uploads."""
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE code_check.versions SET checked_at = now() WHERE checked_at IS NULL")
        # Every HTTP test logs in from 127.0.0.1: earlier tests' failures must not throttle this one.
        cur.execute("DELETE FROM code_check.login_failures WHERE key = 'address:127.0.0.1'")
