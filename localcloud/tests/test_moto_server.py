"""The in-process moto server keeps connections open between requests, and nothing a request leaves on the wire
reaches the next one."""
import socket
import socketserver

import boto3
import pytest
from botocore.config import Config

from localcloud.cloud import start_moto


@pytest.fixture
def moto():
    server, endpoint = start_moto()
    yield server, endpoint
    server.stop()


def _address(endpoint):
    host, port = endpoint.rsplit("/", 1)[-1].split(":")
    return host, int(port)


def _responses(sock, count):
    """The status lines and bodies of `count` responses read off sock (each with a Content-Length)."""
    data, answers = b"", []
    while len(answers) < count:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
        while b"\r\n\r\n" in data:
            head, rest = data.split(b"\r\n\r\n", 1)
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            if len(rest) < length:
                break
            answers.append((head.split(b"\r\n")[0], head, rest[:length]))
            data = rest[length:]
    return answers


def test_a_clients_calls_share_one_connection(moto, monkeypatch):
    _server, endpoint = moto
    accepted = []
    real = socketserver.BaseServer.finish_request
    monkeypatch.setattr(socketserver.BaseServer, "finish_request",
                        lambda self, request, address: accepted.append(address) or real(self, request, address))
    # No retries and a short read timeout: a request swallowed on a kept connection fails the test, soon.
    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="k",
                       aws_secret_access_key="s",
                       config=Config(read_timeout=5, connect_timeout=5, retries={"total_max_attempts": 1}))
    queue = sqs.create_queue(QueueName="kept")["QueueUrl"]
    for n in range(20):
        sqs.send_message(QueueUrl=queue, MessageBody=f"m{n}")
    got = [m["Body"] for _ in range(4) for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
           .get("Messages", [])]
    assert sorted(got) == sorted(f"m{n}" for n in range(20))
    assert len(accepted) == 1


def test_a_body_left_unread_and_a_request_sent_early_do_not_mix(moto):
    _server, endpoint = moto
    with socket.create_connection(_address(endpoint), timeout=10) as sock:
        # moto's page reads no body: the 5,000 bytes must not be taken for the next request line; and the second
        # request is sent before the first is answered (werkzeug's after-response drain would swallow it).
        body = b"x" * 5000
        sock.sendall(b"GET /moto-api/ HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
                     + b"GET /moto-api/data.json HTTP/1.1\r\nHost: a\r\n\r\n")
        first, second = _responses(sock, 2)
    assert first[0].endswith(b"200 OK") and b"<html" in first[2]
    assert second[0].endswith(b"200 OK") and second[2].startswith(b"{")
    assert b"connection: close" not in first[1].lower()


def test_a_body_of_unknown_length_closes_its_connection(moto):
    _server, endpoint = moto
    with socket.create_connection(_address(endpoint), timeout=10) as sock:
        sock.sendall(b"POST /moto-api/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
        (answer,) = _responses(sock, 1)
        assert b"connection: close" in answer[1].lower()
        assert sock.recv(100) == b""          # closed by the server


def test_a_stopped_server_ends_its_kept_connections(moto):
    server, endpoint = moto
    with socket.create_connection(_address(endpoint), timeout=10) as sock:
        sock.sendall(b"GET /moto-api/data.json HTTP/1.1\r\nHost: a\r\n\r\n")
        assert _responses(sock, 1)[0][0].endswith(b"200 OK")
        server.stop()
        try:
            sock.sendall(b"GET /moto-api/data.json HTTP/1.1\r\nHost: a\r\n\r\n")
            assert sock.recv(100) == b""
        except ConnectionError:
            pass
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(_address(endpoint), timeout=10).close()
