"""The boto3 clients a cloud uses to create and drive its resources, made when first used.

A cloud used to make thirteen clients at start, one per service it might touch, each parsing its service's model
(JSON files of up to several MB) in a new boto3 session: most of a cloud's start, and most clouds use four or five of
them. Clients are now made on first use, and every cloud of this process shares one botocore loader, which keeps
the models it has parsed (they are read-only data; each session keeps its own credentials and region).

Even with the models parsed, making a client costs several milliseconds of CPU (most of it copying the session's
event handlers into the client), and a test run starts a hundred clouds in each process. A client holds nothing of
the cloud that made it (its endpoint, region and credentials only), so the clouds of a process that share those
share their clients too.
"""
import functools
import threading

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config

# The clients of every cloud on one endpoint: their pollers, deliveries and gateways may call at once.
POOL = Config(max_pool_connections=64)
_made = {}                  # (endpoint, region, access key, secret key, service) -> client
_making = threading.Lock()


@functools.cache
def shared_loader():
    """The process's botocore loader (its parsed models are cached on it)."""
    return botocore.loaders.create_loader()


def session(region, access_key, secret_key):
    """A boto3 session of its own (credentials, region) whose model parsing is shared."""
    core = botocore.session.Session()
    core.register_component("data_loader", shared_loader())
    return boto3.session.Session(botocore_session=core, region_name=region, aws_access_key_id=access_key,
                                 aws_secret_access_key=secret_key)


class Clients:
    """clients[service]: that service's client at the endpoint, made on first use (thread-safe) and shared with
    every other Clients of this process on the same endpoint, region and credentials."""

    def __init__(self, boto_session, endpoint_url):
        self._session = boto_session
        self._endpoint_url = endpoint_url
        credentials = boto_session.get_credentials()
        self._key = (endpoint_url, boto_session.region_name, credentials and credentials.access_key,
                     credentials and credentials.secret_key)

    def __getitem__(self, service):
        key = (*self._key, service)
        client = _made.get(key)
        if client is None:
            with _making:
                client = _made.get(key)
                if client is None:
                    client = _made[key] = self._session.client(service, endpoint_url=self._endpoint_url, config=POOL)
        return client
