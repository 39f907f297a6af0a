"""The events AWS sends to Lambda, built from plain values: used by the gateways, the SQS poller,
the scheduler, and `localcloud generate-event`, so all of them produce the same shapes."""
import base64
import fnmatch
import hashlib
import os
import time
import uuid
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlsplit

ACCOUNT = "123456789012"


# ---- SQS ------------------------------------------------------------------------------------------

def sqs_record(message, queue_arn, region):
    """One Records[] entry of the AWS SQS event, from a ReceiveMessage message."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {name: message_attribute(value)
                              for name, value in message.get("MessageAttributes", {}).items()},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def message_attribute(value):
    """A ReceiveMessage MessageAttributeValue in Lambda's camelCase form; binary values base64-encoded."""
    out = {}
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        out["binaryValue"] = b64(value["BinaryValue"])
    out["stringListValues"] = list(value.get("StringListValues", []))
    out["binaryListValues"] = [b64(b) for b in value.get("BinaryListValues", [])]
    out["dataType"] = value.get("DataType", "String")
    return out


def received_message(body, receive_count=1, attributes=None):
    """What ReceiveMessage returns for a message with this body (for events built without a queue)."""
    now = str(int(time.time() * 1000))
    return {
        "MessageId": str(uuid.uuid4()), "ReceiptHandle": b64(os.urandom(48)), "Body": body,
        "MD5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "Attributes": {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": now,
                       "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": now},
        "MessageAttributes": {name: {"StringValue": v, "DataType": "String"} for name, v in (attributes or {}).items()},
    }


def b64(data):
    """Base64 text of bytes (or of a string's UTF-8)."""
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode("ascii")


# ---- EventBridge schedules ---------------------------------------------------------------------

def scheduled_event(rule_arn, when, account=ACCOUNT, region="us-east-1"):
    """The "Scheduled Event" EventBridge delivers for one fire of a rule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


# ---- API Gateway REST (payload 1.0) and HTTP (payload 2.0) ------------------------------------

def encode_body(body, content_type, binary_media_types):
    """(text, isBase64Encoded) as API Gateway passes a request body."""
    if not body:
        return None, False
    ctype = (content_type or "").split(";")[0].strip().lower()
    binary = any(fnmatch.fnmatchcase(ctype, pattern.lower()) for pattern in binary_media_types)   # image/*, */*
    if not binary:
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def _http_context(api_id, stage, domain):
    now = datetime.now(timezone.utc)
    return {
        "accountId": ACCOUNT, "apiId": api_id, "stage": stage,
        "requestId": str(uuid.uuid4()), "domainName": domain, "domainPrefix": "local",
        "requestTimeEpoch": int(now.timestamp() * 1000), "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "extendedRequestId": str(uuid.uuid4()),
    }


def http_event_v1(method, path, query, headers, body, resource, params, stage="prod", api_id="local",
                  domain="127.0.0.1", source_ip="127.0.0.1", binary_media_types=()):
    """A REST API proxy event (payload 1.0, what Chalice expects). headers: [(name, value)], body: bytes."""
    if not _get(headers, "X-Forwarded-Proto"):   # API Gateway always says how the client came in
        headers = list(headers) + [("X-Forwarded-Proto", "http")]
    single, multi = {}, {}
    for name, value in headers:
        single[name] = value
        multi.setdefault(name, []).append(value)
    qs, mqs = {}, {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        qs[name] = value
        mqs.setdefault(name, []).append(value)
    text, is_b64 = encode_body(body, _get(headers, "Content-Type"), binary_media_types)
    context = _http_context(api_id, stage, domain)
    context.update({
        "resourceId": "local", "resourcePath": resource, "httpMethod": method, "protocol": "HTTP/1.1",
        "path": f"/{stage}{path}",
        "identity": {"sourceIp": source_ip, "userAgent": _get(headers, "User-Agent"),
                     "cognitoIdentityPoolId": None, "accountId": None, "caller": None, "user": None,
                     "apiKey": None, "accessKey": None, "userArn": None, "cognitoIdentityId": None},
    })
    return {
        "resource": resource, "path": path, "httpMethod": method,
        "headers": single or None, "multiValueHeaders": multi or None,
        "queryStringParameters": qs or None, "multiValueQueryStringParameters": mqs or None,
        "pathParameters": params or None, "stageVariables": None,
        "requestContext": context, "body": text, "isBase64Encoded": is_b64,
    }


def http_event_v2(method, path, query, headers, body, route_key, params, stage="$default", api_id="local",
                  domain="127.0.0.1", source_ip="127.0.0.1", binary_media_types=()):
    """An HTTP API event (payload 2.0). route_key: "GET /items/{id}" or "$default"."""
    lowered = {}
    for name, value in headers:
        key = name.lower()
        lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
    cookies = [c.strip() for c in lowered.pop("cookie", "").split(";") if c.strip()]
    qs = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        qs[name] = f"{qs[name]},{value}" if name in qs else value
    text, is_b64 = encode_body(body, _get(headers, "Content-Type"), binary_media_types)
    context = _http_context(api_id, stage, domain)
    context.update({
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip,
                 "userAgent": _get(headers, "User-Agent")},
        "routeKey": route_key, "time": context.pop("requestTime"), "timeEpoch": context.pop("requestTimeEpoch"),
    })
    event = {
        "version": "2.0", "routeKey": route_key, "rawPath": path, "rawQueryString": query,
        "headers": lowered, "requestContext": context, "isBase64Encoded": is_b64,
    }
    for key, value in (("cookies", cookies), ("queryStringParameters", qs), ("pathParameters", params)):
        if value:
            event[key] = value
    if text is not None:
        event["body"] = text
    return event


def _get(headers, name):
    for key, value in headers:
        if key.lower() == name.lower():
            return value
    return ""


# ---- API Gateway WebSocket -----------------------------------------------------------------------

def aws_id():
    """A 16-character id shaped like API Gateway's connection/request ids, e.g. 'Lw1JpdTkoAMCJAQ='."""
    return base64.b64encode(os.urandom(11)).decode().translate(str.maketrans("+/", "Az"))


def trace_id():
    """An X-Amzn-Trace-Id value."""
    return f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"


def multi(pairs):
    """{name: [values]} of (name, value) pairs."""
    result = {}
    for key, value in pairs:
        result.setdefault(key, []).append(value)
    return result


def ws_request_context(route, event_type, connection_id, connected_at, stage="prod", api_id="local",
                       domain="127.0.0.1", source_ip="127.0.0.1", user_agent=""):
    """The requestContext of a WebSocket event."""
    now = time.time()
    request_id = aws_id()
    return {
        "routeKey": route,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "messageDirection": "IN",
        "stage": stage,
        "connectedAt": int(connected_at * 1000),
        "requestTimeEpoch": int(now * 1000),
        "identity": {"sourceIp": source_ip, "userAgent": user_agent},
        "requestId": request_id,
        "domainName": domain,
        "connectionId": connection_id,
        "apiId": api_id,
    }


def ws_connect_event(context, headers, request_path, source_ip="127.0.0.1", port=443):
    """The $connect event: the upgrade request's headers and query string."""
    headers = list(headers) + [
        ("X-Amzn-Trace-Id", trace_id()),
        ("X-Forwarded-For", source_ip),
        ("X-Forwarded-Port", str(port)),
        ("X-Forwarded-Proto", "http"),
    ]
    query = parse_qsl(urlsplit(request_path).query, keep_blank_values=True)
    return {
        "headers": dict(headers),
        "multiValueHeaders": multi(headers),
        "queryStringParameters": dict(query) or None,
        "multiValueQueryStringParameters": multi(query) or None,
        "requestContext": context,
        "isBase64Encoded": False,
    }


def ws_message_event(context, body, is_base64, request_id):
    """A message event for a route ($default or a route key)."""
    context = dict(context, messageId=aws_id(), requestId=request_id, extendedRequestId=request_id)
    return {"requestContext": context, "body": body, "isBase64Encoded": is_base64}
