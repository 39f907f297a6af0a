"""boto3 clients whose endpoints come from the environment, so one code path serves AWS, moto and LocalStack."""
import os
import threading

import boto3

_clients = {}
_lock = threading.Lock()


def client(service):
    """A cached boto3 client; boto3 itself honours AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>."""
    with _lock:
        if service not in _clients:
            _clients[service] = boto3.session.Session().client(service)
        return _clients[service]


def ws_client(endpoint=None):
    """The API Gateway Management API client for WebSocket pushes (endpoint: WS_MANAGEMENT_ENDPOINT)."""
    endpoint = endpoint or os.environ["WS_MANAGEMENT_ENDPOINT"]
    key = "apigatewaymanagementapi:" + endpoint
    with _lock:
        if key not in _clients:
            _clients[key] = boto3.session.Session().client("apigatewaymanagementapi", endpoint_url=endpoint)
        return _clients[key]


def push(connection_id, data, endpoint=None):
    """Send data (str/bytes) to a WebSocket connection; False if the connection is gone (410)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    api = ws_client(endpoint)
    try:
        api.post_to_connection(ConnectionId=connection_id, Data=data)
        return True
    except api.exceptions.GoneException:
        return False
