"""Shared fixtures: migrated test databases, a moto server, and local clouds built from a template."""
import os
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import pytest

from infra import migrate
from localcloud.cloud import Cloud, start_moto
from localcloud.testing import Clouds

import long_first
import quick_tier
import skip_guard

ROOT = Path(__file__).resolve().parent.parent

# Under pytest-xdist (`-n N`) every worker gets its own pair of databases, so tests that empty or count a
# product's tables in one worker never see another worker's rows.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_SUFFIX = f"_{_WORKER}" if _WORKER else ""
PG_TEST_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/platform_test") + _SUFFIX
MYSQL_TEST_URL = os.environ.get("TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/broadcast_test") + _SUFFIX
TEST_SECRET_KEY = "dGVzdC1vbmx5LWtleS1ub3QtYS1zZWNyZXQtMTIzNDU="  # 32 bytes of test text, never a real key


def pytest_addoption(parser):
    quick_tier.add_option(parser)


def pytest_configure(config):
    skip_guard.register(config)
    quick_tier.register(config)


def pytest_xdist_make_scheduler(config, log):
    """`-n N` (xdist's default `--dist load`): the long tests first, spread over the workers (tests/long_first.py)."""
    if config.getvalue("dist") == "load":
        return long_first.make_scheduler(config, log)
    return None


@pytest.fixture(scope="session")
def pg_url():
    """The migrated PostgreSQL test database."""
    migrate.migrate_postgres(PG_TEST_URL)
    os.environ["DATABASE_URL"] = PG_TEST_URL
    return PG_TEST_URL


@pytest.fixture(scope="session")
def mysql_url():
    """The migrated MySQL test database."""
    migrate.migrate_mysql(MYSQL_TEST_URL)
    os.environ["MYSQL_URL"] = MYSQL_TEST_URL
    return MYSQL_TEST_URL


@pytest.fixture(scope="session")
def aws_endpoint():
    """A moto server for the whole session; boto3 in this process is pointed at it."""
    server, url = start_moto()
    saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                            "AWS_DEFAULT_REGION")}
    os.environ.update(AWS_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                      AWS_DEFAULT_REGION="us-east-1")
    yield url
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def secret_key(monkeypatch):
    """SECRET_KEY for logic that signs links or encrypts in this process (the clouds are given the same key)."""
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET_KEY)
    return TEST_SECRET_KEY


@pytest.fixture(scope="session")
def start_cloud(aws_endpoint, pg_url, mysql_url):
    """Factory: start_cloud(functions, parameters, template, rate_scale, env, queue_attributes, **cloud_options)
    -> a started Cloud. Functions run isolated like Lambda (their own requirements only) unless
    LOCAL_SHARED_VENV=1; cloud_options go to localcloud.cloud.Cloud (isolated, idle_timeout, watch, ...)."""
    os.environ.setdefault("SECRET_KEY", TEST_SECRET_KEY)

    def start(functions=None, parameters=None, template=None, rate_scale=1.0, env=None, queue_attributes=None,
              **cloud_options):
        # The tests' Dovecot listens on 127.0.0.1, which mail_import refuses unless the operator allows it.
        params = {"DatabaseUrl": pg_url, "MysqlUrl": mysql_url, "SecretKey": TEST_SECRET_KEY,
                  "ImapAllowedHosts": "127.0.0.1"}
        params.update(parameters or {})
        template = str(template or ROOT / "template.yaml")
        known = _parameter_names(template)
        cloud = Cloud(template, {k: v for k, v in params.items() if k in known}, aws_endpoint=aws_endpoint,
                      functions=functions, rate_scale=rate_scale, env=env, queue_attributes=queue_attributes,
                      **cloud_options)
        return _CLOUDS.started(cloud).start()

    start.stop = _CLOUDS.stop   # start_cloud.stop([cloud]): a module's cloud stopped at the module's end
    start.for_session = _CLOUDS.for_session   # start_cloud.for_session(cloud): a session fixture's cloud, kept
    yield start
    _CLOUDS.stop_all()


_CLOUDS = Clouds()    # what start_cloud started and nothing stopped yet


# A cloud stops when whatever started it ends (a test, a module); session fixtures' clouds are kept.
_stop_the_modules_own_clouds, _stop_the_tests_own_clouds = _CLOUDS.fixtures()


def _parameter_names(template):
    from localcloud.template import load
    return set(load(template).get("Parameters", {}))


@pytest.fixture(scope="session")
def conn(pg_url):
    """One autocommit-off PostgreSQL connection for logic tests; each test uses tx() for its transactions."""
    connection = psycopg2.connect(pg_url)
    yield connection
    connection.close()


@pytest.fixture
def tx(conn):
    """tx() -> a cursor in a transaction that commits on success and rolls back on error."""
    @contextmanager
    def transaction():
        with conn, conn.cursor() as cur:
            yield cur
    return transaction


CHROMIUM = "/usr/bin/chromium"  # Debian's (infra/system.sh installs it); Playwright's own download is never used
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def chromium_browser():
    """Headless Chromium driven by Playwright, one per test process (a start costs its driver and the browser about
    2 s of CPU). Tests take it through `chromium`. A missing browser fails, never skips."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def chromium(chromium_browser):
    """The browser for one test module. Every page opens in a context of its own (new_page() makes one), and the
    contexts a module opened are closed at its end: no page of a finished module keeps running (a live page
    would go on reconnecting to a stopped cloud), and no cookie passes to the next module."""
    before = set(chromium_browser.contexts)
    yield chromium_browser
    for context in chromium_browser.contexts:
        if context not in before:
            context.close()


def pytest_sessionstart(session):
    """The random order's seed at the top of every run, `-q` (make test) and `-n N` included, where the plugin's own
    header is not shown: a failing order reproduces with the seed printed here (xdist workers use the same)."""
    from random_order.config import Config as RandomOrder
    order = RandomOrder(session.config)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if order.is_enabled and reporter is not None and not hasattr(session.config, "workerinput"):
        reporter.write_line(f"random order: bucket {order.bucket_type}, reproduce with "
                            f"--random-order-seed={order.seed}")
