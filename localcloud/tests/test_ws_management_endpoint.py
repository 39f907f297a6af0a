"""A function's Management API endpoint built from its event at run time (https, as on AWS) reaches the local
WebSocket gateway, which speaks http: worker.py rewrites such requests. Removing that rewrite fails these tests."""
import json
from pathlib import Path

import pytest
from polling import wait_until
from websockets.sync.client import connect

TEMPLATE = Path(__file__).resolve().parent / "templates" / "ws_management"
pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize("shape", ["domain", "aws"])
def test_an_https_endpoint_built_from_the_event_reaches_the_local_gateway(start_cloud, shape):
    cloud = start_cloud(template=TEMPLATE)
    invocations = []
    cloud.runtime.observers.append(invocations.append)
    with connect(cloud.ws_url("Sockets"), open_timeout=20) as ws:
        ws.send(json.dumps({"shape": shape}))
        assert ws.recv(timeout=30) == f"via {shape}"
    [call] = wait_until(lambda: invocations, timeout=20)     # the push came before the invocation's end
    context = call["event"]["requestContext"]
    # What the function built the endpoint from: the gateway's own host:port, or the API's id (AWS's host)
    assert context["domainName"] == f"127.0.0.1:{cloud.ws['Sockets'].port}" and context["stage"] == "live"
    assert context["apiId"] == cloud.physical_id("Sockets")
