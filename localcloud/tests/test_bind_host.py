"""The bind host a container needs (`--host` / LOCAL_BIND_HOST): loopback by default; bound to every interface,
the gateways serve there and still name loopback in their URLs."""
from pathlib import Path

import pytest
import requests

from localcloud.__main__ import parse_args
from localcloud.cloud import Cloud

TEMPLATE = Path(__file__).resolve().parent / "template.yaml"


def test_bind_host_defaults_to_loopback_and_follows_the_environment(monkeypatch):
    monkeypatch.delenv("LOCAL_BIND_HOST", raising=False)
    assert parse_args(["run"]).host == "127.0.0.1"
    monkeypatch.setenv("LOCAL_BIND_HOST", "0.0.0.0")
    assert parse_args(["run"]).host == "0.0.0.0"
    assert parse_args(["run", "--host", "127.0.0.2"]).host == "127.0.0.2"


@pytest.mark.timeout(60)
def test_cloud_bound_to_every_interface_serves_and_names_loopback(aws_endpoint):
    cloud = Cloud(str(TEMPLATE), {"Greeting": "hi"},
                  aws_endpoint=aws_endpoint, host="0.0.0.0", functions=["EchoFunction"])
    with cloud:
        gateway = cloud.http["Api"]
        assert gateway.server.server_address[0] == "0.0.0.0"
        assert cloud.api_url("Api").startswith("http://127.0.0.1:")
        r = requests.post(cloud.api_url("Api") + "/echo/bob", data=b"x", timeout=10)
        assert r.status_code == 201 and r.json()["path"] == "/echo/bob"
