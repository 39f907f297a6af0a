"""The boto3 clients a cloud uses to create and drive its resources, made when first used.

A cloud used to make thirteen clients at start, one per service it might touch, each parsing its service's model
(JSON files of up to several MB) in a new boto3 session: most of a cloud's start, and most clouds use four or five of
them. Clients are now made on first use, and every cloud of this process shares one botocore loader, which keeps
the models it has parsed (they are read-only data; each session keeps its own credentials and region).
"""
import functools
import threading

import boto3
import botocore.loaders
import botocore.session


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
    """clients[service]: that service's client at the endpoint, made on first use (thread-safe)."""

    def __init__(self, boto_session, endpoint_url):
        self._session = boto_session
        self._endpoint_url = endpoint_url
        self._made = {}
        self._lock = threading.Lock()

    def __getitem__(self, service):
        client = self._made.get(service)
        if client is None:
            with self._lock:
                client = self._made.get(service)
                if client is None:
                    client = self._made[service] = self._session.client(service, endpoint_url=self._endpoint_url)
        return client
