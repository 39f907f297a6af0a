"""An echo function and two Lambda authorizers."""
import json


def echo(event, context):
    """What the function saw: the authorizer's context, the body as it came, and a CORS header of its own."""
    body = {"authorizer": event["requestContext"].get("authorizer"), "body": event.get("body"),
            "b64": event.get("isBase64Encoded")}
    return {"statusCode": 200, "headers": {"Content-Type": "application/json", "x-total": "3",
                                           "Access-Control-Allow-Origin": "https://function.example"},
            "body": json.dumps(body)}


def _policy(effect, resource, principal, context=None):
    return {"principalId": principal, "context": context or {},
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]}}


def token_authorizer(event, context):
    """Bearer allow: allowed (user alice); Bearer deny: denied; Bearer other: allowed elsewhere only;
    anything else: Unauthorized."""
    token = event["authorizationToken"].removeprefix("Bearer ")
    if token == "allow":
        return _policy("Allow", event["methodArn"], "alice", {"user": "alice", "level": 3})
    if token == "deny":
        return _policy("Deny", event["methodArn"], "mallory")
    if token == "other":
        return _policy("Allow", event["methodArn"].rsplit("/", 2)[0] + "/POST/elsewhere", "bob")
    raise Exception("Unauthorized")


def request_authorizer(event, context):
    """Allows the key k1 for tenant t1 (a header and a query string)."""
    allowed = event["headers"].get("X-Key") == "k1" and event["queryStringParameters"].get("tenant") == "t1"
    return _policy("Allow" if allowed else "Deny", event["methodArn"], "tenant-t1",
                   {"path": event["path"], "type": event["type"]})


def http_authorizer(event, context):
    """An HTTP API's Lambda authorizer: the key k1 passes; a simple answer for payload 2.0, a policy for 1.0."""
    key = {k.lower(): v for k, v in (event.get("headers") or {}).items()}.get("x-key")
    if event.get("version") == "2.0":
        return {"isAuthorized": key == "k1", "context": {"key": key, "sources": event["identitySource"]}}
    return _policy("Allow" if key == "k1" else "Deny", event["methodArn"], "k1-holder", {"key": key})
