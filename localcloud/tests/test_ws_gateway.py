"""WebSocketGateway against a real websockets client and a real boto3 apigatewaymanagementapi client."""
import contextlib
import json
import threading
import time
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK, InvalidStatus
from websockets.sync.client import connect

from localcloud.model import InvocationError, WsApi
from localcloud.ws_gateway import WebSocketGateway

ROUTES = {"$connect": "ConnectFn", "$disconnect": "DisconnectFn", "$default": "DefaultFn",
          "echo": "EchoFn", "push": "PushFn", "slow": "SlowFn", "fail": "FailFn"}
WAIT = 10


def management_client(endpoint):
    """A plain boto3 Management API client, as a Lambda would build one."""
    return boto3.client("apigatewaymanagementapi", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="x", aws_secret_access_key="x",
                        config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1}))


class FakeLambdas:
    """Stands in for the Lambda runtime: records every invocation and acts on the body's action."""

    def __init__(self):
        self.calls = []
        self.cond = threading.Condition()
        self.connect_result = {"statusCode": 200}
        self.endpoint = None
        self.release_slow = threading.Event()  # the slow handler runs until the test lets it finish

    def __call__(self, function_id, event, trigger):
        with self.cond:
            self.calls.append((function_id, trigger, event))
            self.cond.notify_all()
        if trigger == "ws:$connect":
            if isinstance(self.connect_result, Exception):
                raise self.connect_result
            return self.connect_result
        if trigger == "ws:$disconnect":
            return {"statusCode": 200}
        return self._message(trigger, event)

    def _message(self, trigger, event):
        body = json.loads(event["body"]) if not event["isBase64Encoded"] else {}
        own_id = event["requestContext"]["connectionId"]
        if trigger == "ws:echo":
            return {"statusCode": 200, "body": json.dumps({"echo": body.get("text"), "me": own_id})}
        if trigger == "ws:push":
            client = management_client(self.endpoint)
            client.post_to_connection(ConnectionId=body.get("to", own_id), Data=body["data"].encode())
            return {"statusCode": 200}
        if trigger == "ws:slow":
            self.release_slow.wait(timeout=WAIT)
            return {"statusCode": 200, "body": "slow done"}
        if trigger == "ws:fail":
            raise InvocationError("boom", "RuntimeError")
        return {"statusCode": 200}

    def calls_with(self, trigger):
        with self.cond:
            return sum(1 for _, t, _ in self.calls if t == trigger)

    def wait_for(self, trigger, count=1, timeout=WAIT):
        """Block until `count` invocations with `trigger` happened; returns their events."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                events = [event for _, t, event in self.calls if t == trigger]
                if len(events) >= count:
                    return events
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"timed out waiting for {count} x {trigger}: {self.triggers()}"
                self.cond.wait(remaining)

    def triggers(self):
        with self.cond:
            return [t for _, t, _ in self.calls]


@pytest.fixture
def lambdas():
    return FakeLambdas()


@pytest.fixture
def make_gateway(lambdas):
    started = []

    def make(routes=ROUTES, expression="$request.body.action", host="127.0.0.1"):
        api = WsApi(logical_id="ChatApi", name="chat", route_selection_expression=expression,
                    stage="prod", routes=dict(routes))
        gateway = WebSocketGateway(api, lambdas, host=host)
        gateway.start()
        started.append(gateway)
        lambdas.endpoint = gateway.management_endpoint
        return gateway

    yield make
    for gateway in started:
        gateway.stop()


@pytest.fixture
def gateway(make_gateway):
    return make_gateway()


@pytest.fixture
def mgmt(gateway):
    return management_client(gateway.management_endpoint)


@contextlib.contextmanager
def open_client(gateway, lambdas, suffix="", **kwargs):
    """Connect; yields (websocket, connectionId taken from the $connect event)."""
    before = len(lambdas.triggers())
    with connect(gateway.url + suffix, open_timeout=5, close_timeout=5, **kwargs) as ws:
        with lambdas.cond:
            event = [e for _, t, e in lambdas.calls[before:] if t == "ws:$connect"][-1]
        yield ws, event["requestContext"]["connectionId"]


@pytest.mark.timeout(30)
def test_connect_event_carries_query_string_headers_and_context(gateway, lambdas):
    with open_client(gateway, lambdas, "?token=abc&tag=a&tag=b",
                     additional_headers={"X-Client": "tests"}) as (_, connection_id):
        event = lambdas.wait_for("ws:$connect")[0]
        assert event["queryStringParameters"] == {"token": "abc", "tag": "b"}
        assert event["multiValueQueryStringParameters"] == {"token": ["abc"], "tag": ["a", "b"]}
        assert event["headers"]["X-Client"] == "tests"
        assert event["multiValueHeaders"]["X-Client"] == ["tests"]
        context = event["requestContext"]
        assert context["routeKey"] == "$connect"
        assert context["eventType"] == "CONNECT"
        assert context["stage"] == "prod"
        assert context["domainName"] == f"127.0.0.1:{gateway.port}"
        assert context["identity"]["sourceIp"] == "127.0.0.1"
        assert context["connectionId"] == connection_id and len(connection_id) == 16
        assert event["isBase64Encoded"] is False
    assert lambdas.wait_for("ws:$disconnect")[0]["requestContext"]["connectionId"] == connection_id


@pytest.mark.timeout(30)
def test_connect_without_query_string_has_none(gateway, lambdas):
    with open_client(gateway, lambdas):
        event = lambdas.wait_for("ws:$connect")[0]
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None


@pytest.mark.timeout(30)
def test_connect_rejected_with_handler_status(gateway, lambdas, mgmt):
    lambdas.connect_result = {"statusCode": 403, "body": "nope"}
    with pytest.raises(InvalidStatus) as rejected:
        connect(gateway.url, open_timeout=5)
    assert rejected.value.response.status_code == 403
    connection_id = lambdas.wait_for("ws:$connect")[0]["requestContext"]["connectionId"]
    with pytest.raises(mgmt.exceptions.GoneException):
        mgmt.post_to_connection(ConnectionId=connection_id, Data=b"x")
    assert "ws:$disconnect" not in lambdas.triggers()


@pytest.mark.timeout(30)
def test_connect_rejected_with_500_when_handler_fails(gateway, lambdas):
    lambdas.connect_result = InvocationError("crash", "KeyError")
    with pytest.raises(InvalidStatus) as rejected:
        connect(gateway.url, open_timeout=5)
    assert rejected.value.response.status_code == 500


@pytest.mark.timeout(30)
def test_action_selects_custom_route_and_reply_body_comes_back(gateway, lambdas):
    with open_client(gateway, lambdas) as (ws, connection_id):
        ws.send(json.dumps({"action": "echo", "text": "hi"}))
        assert json.loads(ws.recv(timeout=WAIT)) == {"echo": "hi", "me": connection_id}
    event = lambdas.wait_for("ws:echo")[0]
    context = event["requestContext"]
    assert (context["routeKey"], context["eventType"]) == ("echo", "MESSAGE")
    assert context["connectionId"] == connection_id and context["messageId"]
    assert json.loads(event["body"]) == {"action": "echo", "text": "hi"}


@pytest.mark.timeout(30)
def test_unknown_action_and_non_json_go_to_default(gateway, lambdas):
    with open_client(gateway, lambdas) as (ws, _):
        ws.send(json.dumps({"action": "nosuchroute"}))
        ws.send("plain text, not JSON")
        events = lambdas.wait_for("ws:$default", count=2)
    assert [e["requestContext"]["routeKey"] for e in events] == ["$default", "$default"]
    assert events[1]["body"] == "plain text, not JSON"
    assert [f for f, t, _ in lambdas.calls if t == "ws:$default"] == ["DefaultFn", "DefaultFn"]


@pytest.mark.timeout(30)
def test_nested_selection_expression(make_gateway, lambdas):
    gateway = make_gateway(expression="$request.body.meta.kind")
    with open_client(gateway, lambdas) as (ws, _):
        ws.send(json.dumps({"meta": {"kind": "echo"}, "text": "deep"}))
        assert json.loads(ws.recv(timeout=WAIT))["echo"] == "deep"


@pytest.mark.timeout(30)
def test_no_matching_route_and_no_default_sends_forbidden_frame(make_gateway, lambdas):
    gateway = make_gateway(routes={"echo": "EchoFn"})
    with connect(gateway.url, open_timeout=5) as ws:     # no $connect route: accepted as is
        ws.send(json.dumps({"action": "other"}))
        error = json.loads(ws.recv(timeout=WAIT))
        assert error["message"] == "Forbidden"
        assert error["connectionId"] and error["requestId"]
        ws.send(json.dumps({"action": "echo", "text": "still open"}))
        assert json.loads(ws.recv(timeout=WAIT))["echo"] == "still open"
    assert lambdas.triggers() == ["ws:echo"]


@pytest.mark.timeout(30)
def test_failing_route_handler_sends_internal_server_error_frame(gateway, lambdas):
    with open_client(gateway, lambdas) as (ws, connection_id):
        ws.send(json.dumps({"action": "fail"}))
        error = json.loads(ws.recv(timeout=WAIT))
    assert error["message"] == "Internal server error"
    assert error["connectionId"] == connection_id


@pytest.mark.timeout(30)
def test_binary_frame_is_base64_encoded(gateway, lambdas):
    with open_client(gateway, lambdas) as (ws, _):
        ws.send(b"\x00\xffbin")
        event = lambdas.wait_for("ws:$default")[0]
    assert event["isBase64Encoded"] is True
    assert event["body"] == "AP9iaW4="


@pytest.mark.timeout(30)
def test_messages_in_order_per_connection_without_blocking_others(gateway, lambdas):
    with open_client(gateway, lambdas) as (slow_ws, _), open_client(gateway, lambdas) as (fast_ws, _):
        slow_ws.send(json.dumps({"action": "slow"}))
        slow_ws.send(json.dumps({"action": "echo", "text": "after slow"}))
        lambdas.wait_for("ws:slow")
        for n in range(5):
            fast_ws.send(json.dumps({"action": "echo", "text": n}))
        # The slow handler is still running (it waits for release_slow): these answers can only arrive if
        # it does not block the other connection.
        assert [json.loads(fast_ws.recv(timeout=WAIT))["echo"] for _ in range(5)] == list(range(5))
        assert lambdas.calls_with("ws:echo") == 5  # and "after slow" waits its turn behind the slow one
        lambdas.release_slow.set()
        assert slow_ws.recv(timeout=WAIT) == "slow done"
        assert json.loads(slow_ws.recv(timeout=WAIT))["echo"] == "after slow"


@pytest.mark.timeout(30)
def test_push_from_lambda_reaches_client(gateway, lambdas):
    with open_client(gateway, lambdas) as (ws, _):
        ws.send(json.dumps({"action": "push", "data": "pushed to myself"}))
        assert ws.recv(timeout=WAIT) == "pushed to myself"


@pytest.mark.timeout(30)
def test_push_text_binary_and_many_in_order(gateway, lambdas, mgmt):
    with open_client(gateway, lambdas) as (ws, connection_id):
        mgmt.post_to_connection(ConnectionId=connection_id, Data="héllo".encode())
        assert ws.recv(timeout=WAIT) == "héllo"
        mgmt.post_to_connection(ConnectionId=connection_id, Data=b"\xff\x00")
        assert ws.recv(timeout=WAIT) == b"\xff\x00"
        for n in range(200):
            mgmt.post_to_connection(ConnectionId=connection_id, Data=str(n).encode())
        assert [ws.recv(timeout=WAIT) for _ in range(200)] == [str(n) for n in range(200)]


@pytest.mark.timeout(30)
def test_two_clients_push_to_each_other(gateway, lambdas):
    with open_client(gateway, lambdas) as (alice, alice_id), open_client(gateway, lambdas) as (bob, bob_id):
        assert alice_id != bob_id
        alice.send(json.dumps({"action": "push", "to": bob_id, "data": "hi bob"}))
        bob.send(json.dumps({"action": "push", "to": alice_id, "data": "hi alice"}))
        assert bob.recv(timeout=WAIT) == "hi bob"
        assert alice.recv(timeout=WAIT) == "hi alice"


@pytest.mark.timeout(30)
def test_get_connection_info(gateway, lambdas, mgmt):
    with open_client(gateway, lambdas, user_agent_header="test-agent/1.0") as (ws, connection_id):
        info = mgmt.get_connection(ConnectionId=connection_id)
    assert info["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "test-agent/1.0"}
    assert info["ConnectedAt"].timestamp() == pytest.approx(time.time(), abs=30)
    assert info["LastActiveAt"] >= info["ConnectedAt"]


@pytest.mark.timeout(30)
def test_delete_closes_connection_and_triggers_disconnect(gateway, lambdas, mgmt):
    with open_client(gateway, lambdas) as (ws, connection_id):
        response = mgmt.delete_connection(ConnectionId=connection_id)
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
        with pytest.raises(ConnectionClosedOK):
            ws.recv(timeout=WAIT)
    event = lambdas.wait_for("ws:$disconnect")[0]
    assert event["requestContext"]["connectionId"] == connection_id
    assert event["requestContext"]["eventType"] == "DISCONNECT"
    with pytest.raises(mgmt.exceptions.GoneException):
        mgmt.get_connection(ConnectionId=connection_id)


@pytest.mark.timeout(30)
def test_push_after_client_disconnected_is_gone(gateway, lambdas, mgmt):
    with open_client(gateway, lambdas) as (_, connection_id):
        pass
    event = lambdas.wait_for("ws:$disconnect")[0]
    assert event["requestContext"]["disconnectStatusCode"] == 1000
    with pytest.raises(mgmt.exceptions.GoneException):
        mgmt.post_to_connection(ConnectionId=connection_id, Data=b"too late")


@pytest.mark.timeout(30)
def test_unknown_connection_is_gone(gateway, mgmt):
    for connection_id in ("NoSuchConn0000=", "weird/+?=id"):
        with pytest.raises(mgmt.exceptions.GoneException):
            mgmt.post_to_connection(ConnectionId=connection_id, Data=b"x")
        with pytest.raises(mgmt.exceptions.GoneException):
            mgmt.delete_connection(ConnectionId=connection_id)


@pytest.mark.timeout(30)
def test_management_paths_without_stage_and_unknown_paths(gateway, lambdas):
    with open_client(gateway, lambdas) as (ws, connection_id):
        stageless = management_client(f"http://127.0.0.1:{gateway.port}")
        stageless.post_to_connection(ConnectionId=connection_id, Data=b"no stage")
        assert ws.recv(timeout=WAIT) == "no stage"
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"http://127.0.0.1:{gateway.port}/prod/elsewhere", timeout=5)
    assert missing.value.code == 404
    assert "message" in json.loads(missing.value.read())


@pytest.mark.timeout(30)
def test_stop_closes_clients_going_away_and_runs_disconnect(make_gateway, lambdas):
    gateway = make_gateway()
    with open_client(gateway, lambdas) as (ws, connection_id):
        gateway.stop()
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=WAIT)
    assert closed.value.rcvd.code == 1001
    assert lambdas.wait_for("ws:$disconnect")[0]["requestContext"]["connectionId"] == connection_id
    with pytest.raises(OSError):
        connect(gateway.url, open_timeout=2)


def _raw_management(gateway, head):
    import socket
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(head)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk


@pytest.mark.timeout(30)
@pytest.mark.parametrize("length, status", [(b"abc", b"400"), (b"-1", b"400"), (b"1e14", b"400"),
                                            (b"99999999999", b"413")])
def test_management_api_bounds_what_it_reads(gateway, length, status):
    answer = _raw_management(gateway, b"POST /prod/@connections/x HTTP/1.1\r\nHost: h\r\nContent-Length: " +
                             length + b"\r\n\r\n")
    assert answer.split(b" ")[1] == status


def _own_non_loopback_address():
    """This machine's first non-loopback IPv4 address (SIOCGIFADDR on each interface)."""
    import fcntl
    import ipaddress
    import socket
    import struct
    for _index, name in socket.if_nameindex():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                packed = fcntl.ioctl(sock.fileno(), 0x8915, struct.pack("256s", name.encode()[:15]))
            except OSError:
                continue
        address = socket.inet_ntoa(packed[20:24])
        if not ipaddress.ip_address(address).is_loopback:
            return address
    raise AssertionError("this test needs a network interface with a non-loopback address")


def _management_request(address, port, method, path, headers=(), body=b"", source=None):
    """(status, body) of one plain HTTP request, from `source` (an address of this machine) if given."""
    import http.client
    conn = http.client.HTTPConnection(address, port, timeout=10, source_address=(source, 0) if source else None)
    try:
        conn.request(method, path, body=body, headers=dict(headers))
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("browser_header", [("Origin", "https://evil.example"), ("Origin", "null"),
                                            ("Sec-Fetch-Site", "cross-site")])
def test_management_api_refuses_what_a_browser_sends(gateway, lambdas, browser_header):
    # A page on any site can send a "simple" cross-site POST (text/plain) or a DELETE through fetch: the
    # browser adds Origin / Sec-Fetch-Site, which no Lambda's boto3 client sends.
    with open_client(gateway, lambdas) as (ws, connection_id):
        path = f"/prod/@connections/{connection_id}"
        status, body = _management_request("127.0.0.1", gateway.port, "POST", path, [browser_header,
                                           ("Content-Type", "text/plain")], b"forged message")
        assert status == 403 and b"Forbidden" in body
        status, _ = _management_request("127.0.0.1", gateway.port, "DELETE", path, [browser_header])
        assert status == 403
        status, _ = _management_request("127.0.0.1", gateway.port, "POST", path, body=b"from a function")
        assert status == 200
        assert ws.recv(timeout=WAIT) == "from a function"       # the forged message never arrived
    assert [c for c in gateway.connections() if c["id"] == connection_id] == []


@pytest.mark.timeout(30)
def test_management_api_bound_to_every_interface_serves_only_this_machine(make_gateway, lambdas):
    own = _own_non_loopback_address()
    gateway = make_gateway(host="0.0.0.0")
    with open_client(gateway, lambdas) as (ws, connection_id):
        path = f"/prod/@connections/{connection_id}"
        status, body = _management_request(own, gateway.port, "POST", path, body=b"from elsewhere", source=own)
        assert status == 403 and b"this machine" in body
        status, _ = _management_request(own, gateway.port, "DELETE", path, source=own)
        assert status == 403
        mgmt = management_client(gateway.management_endpoint)
        mgmt.post_to_connection(ConnectionId=connection_id, Data=b"from loopback")
        assert ws.recv(timeout=WAIT) == "from loopback"


def _echo_message(size):
    """An echo action of exactly `size` bytes."""
    empty = json.dumps({"action": "echo", "text": ""})
    return json.dumps({"action": "echo", "text": "x" * (size - len(empty))})


@pytest.mark.timeout(30)
def test_a_client_frame_over_128_kb_closes_the_connection_unread(gateway, lambdas):
    """API Gateway's WebSocket frame limit: a message of 128 KB reaches its route, one byte more closes the
    connection with 1009 (message too big) and never reaches a function."""
    from localcloud.ws_gateway import MAX_MESSAGE_BYTES
    assert MAX_MESSAGE_BYTES == 128 * 1024
    with open_client(gateway, lambdas) as (ws, connection_id):
        ws.send(_echo_message(MAX_MESSAGE_BYTES))
        assert len(json.loads(ws.recv(timeout=WAIT))["echo"]) == MAX_MESSAGE_BYTES - len(_echo_message(0))
        ws.send(_echo_message(MAX_MESSAGE_BYTES + 1))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=WAIT)
    assert closed.value.rcvd.code == 1009
    assert lambdas.calls_with("ws:echo") == 1
    assert lambdas.wait_for("ws:$disconnect")[0]["requestContext"]["connectionId"] == connection_id


@pytest.mark.timeout(30)
def test_a_post_to_connection_over_128_kb_is_refused(gateway, lambdas, mgmt):
    with open_client(gateway, lambdas) as (ws, connection_id):
        mgmt.post_to_connection(ConnectionId=connection_id, Data=b"y" * (128 * 1024))
        assert ws.recv(timeout=WAIT) == "y" * (128 * 1024)
        with pytest.raises(ClientError) as refused:
            mgmt.post_to_connection(ConnectionId=connection_id, Data=b"y" * (128 * 1024 + 1))
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
