"""localcloud's own fixtures: a moto server and local clouds built from the test templates here.

They need no database. Run beside the project's tests (one pytest session over tests/ and localcloud/tests),
the session may already have a moto server from the project's fixtures: `aws_endpoint` is then that one, so
boto3 in the test process and the clouds started here always talk to the same server (the one the
environment names when the test runs).
"""
import os

import pytest

from localcloud.cloud import Cloud, start_moto
from localcloud.testing import Clouds

TEST_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_DEFAULT_REGION": "us-east-1"}


def _session_moto_running():
    return bool(os.environ.get("AWS_ENDPOINT_URL")) and all(os.environ.get(k) == v
                                                            for k, v in TEST_CREDENTIALS.items())


@pytest.fixture(scope="session")
def _moto():
    """A moto server for the session, unless one already is the environment's (then nothing to start)."""
    if _session_moto_running():
        yield
        return
    server, url = start_moto()
    saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", *TEST_CREDENTIALS)}
    os.environ.update(AWS_ENDPOINT_URL=url, **TEST_CREDENTIALS)
    yield
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def aws_endpoint(_moto):
    """The moto endpoint boto3 in this process uses now."""
    return os.environ["AWS_ENDPOINT_URL"]


@pytest.fixture(scope="session")
def start_cloud(_moto):
    """Factory: start_cloud(template, functions, parameters, rate_scale, env, queue_attributes, **cloud_options)
    -> a started Cloud. Functions run isolated like Lambda (their own requirements only) unless
    LOCAL_SHARED_VENV=1; cloud_options go to localcloud.cloud.Cloud (isolated, idle_timeout, watch, ...)."""
    def start(functions=None, parameters=None, template=None, rate_scale=1.0, env=None, queue_attributes=None,
              **cloud_options):
        assert template is not None, "localcloud's tests name their template"
        cloud = Cloud(str(template), parameters or {}, aws_endpoint=os.environ["AWS_ENDPOINT_URL"],
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
