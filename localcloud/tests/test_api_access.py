"""API Gateway in front of routes (templates/api_access/): REST Lambda authorizers (TOKEN and REQUEST), an HTTP
API JWT authorizer checked against a JWKS served here, CORS on both kinds of API, BinaryMediaTypes with ~1."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

TEMPLATE = Path(__file__).resolve().parent / "templates" / "api_access"
pytestmark = pytest.mark.timeout(120)
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def issuer():
    """A small OpenID issuer: its discovery document and a JWKS with one RSA key (kid k1)."""
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    jwk.update(kid="k1", use="sig", alg="RS256")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            docs = {"/.well-known/openid-configuration": {"issuer": base, "jwks_uri": base + "/jwks.json"},
                    "/jwks.json": {"keys": [jwk]}}
            payload = json.dumps(docs.get(self.path, {})).encode()
            self.send_response(200 if self.path in docs else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def cloud(start_cloud, issuer):
    return start_cloud(template=TEMPLATE, parameters={"Issuer": issuer}, isolated=False)


def token(issuer, key=KEY, **claims):
    now = int(time.time())
    body = {"iss": issuer, "aud": "my-api", "sub": "u1", "iat": now, "exp": now + 300, "scope": "read"}
    body.update(claims)
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm="RS256",
                      headers={"kid": "k1"})


def get(cloud, api, path, **kwargs):
    stage = "" if api.startswith("Http") else "/prod"
    return requests.request(kwargs.pop("method", "GET"), cloud.api_url(api) + stage + path, timeout=20, **kwargs)


def test_token_authorizer_allows_denies_and_refuses_like_api_gateway(cloud):
    allowed = get(cloud, "Rest", "/private", headers={"Authorization": "Bearer allow"})
    assert allowed.status_code == 200
    context = allowed.json()["authorizer"]
    assert context["principalId"] == "alice" and context["user"] == "alice" and context["level"] == 3
    denied = get(cloud, "Rest", "/private", headers={"Authorization": "Bearer deny"})
    assert denied.status_code == 403 and denied.json() == {
        "Message": "User is not authorized to access this resource with an explicit deny"}
    elsewhere = get(cloud, "Rest", "/private", headers={"Authorization": "Bearer other"})
    assert elsewhere.status_code == 403 and elsewhere.json() == {
        "Message": "User is not authorized to access this resource"}
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer nobody"}):
        refused = get(cloud, "Rest", "/private", headers=headers)     # missing, not matching the regex, raised
        assert refused.status_code == 401 and refused.json() == {"message": "Unauthorized"}, headers
    assert get(cloud, "Rest", "/public").status_code == 200            # Auth: {Authorizer: NONE}


def test_request_authorizer_gets_headers_and_query_and_needs_every_identity_source(cloud):
    ok = get(cloud, "Rest", "/tenant/7?tenant=t1", headers={"X-Key": "k1"})
    assert ok.status_code == 200
    assert ok.json()["authorizer"]["type"] == "REQUEST" and ok.json()["authorizer"]["path"] == "/tenant/7"
    assert get(cloud, "Rest", "/tenant/7?tenant=t2", headers={"X-Key": "k1"}).status_code == 403
    missing = get(cloud, "Rest", "/tenant/7", headers={"X-Key": "k1"})
    assert missing.status_code == 401 and missing.json() == {"message": "Unauthorized"}


def test_jwt_authorizer_checks_signature_issuer_audience_expiry_and_scopes(cloud, issuer):
    ok = get(cloud, "Http", "/me", headers={"Authorization": "Bearer " + token(issuer)})
    assert ok.status_code == 200
    claims = ok.json()["authorizer"]["jwt"]["claims"]
    assert claims["sub"] == "u1" and claims["iss"] == issuer and claims["exp"].isdigit()
    bad = [token(issuer, aud="other-api"), token(issuer, iss="http://elsewhere"),
           token(issuer, exp=int(time.time()) - 60), token(issuer, key=OTHER_KEY), "not.a.jwt", token(issuer, aud=None)]
    for value in bad:
        refused = get(cloud, "Http", "/me", headers={"Authorization": "Bearer " + value})
        assert refused.status_code == 401 and refused.json() == {"message": "Unauthorized"}
    assert get(cloud, "Http", "/me").status_code == 401
    assert get(cloud, "Http", "/me", headers={"Authorization": token(issuer, aud=None, client_id="my-api")}
               ).status_code == 200                                      # client_id instead of aud, no Bearer
    forbidden = get(cloud, "Http", "/admin", headers={"Authorization": "Bearer " + token(issuer)})
    assert forbidden.status_code == 403 and forbidden.json() == {"message": "Forbidden"}
    admin = get(cloud, "Http", "/admin", headers={"Authorization": "Bearer " + token(issuer, scope="read admin")})
    assert admin.status_code == 200 and admin.json()["authorizer"]["jwt"]["scopes"] == ["admin"]
    assert get(cloud, "Http", "/open").status_code == 200


def test_rest_cors_answers_preflights_as_sams_options_method(cloud):
    preflight = get(cloud, "Rest", "/private", method="OPTIONS",
                    headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 200 and preflight.content == b""        # no authorizer on it (flag false)
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET,POST"
    assert preflight.headers["Access-Control-Allow-Headers"] == "Content-Type,Authorization"
    assert preflight.headers["Access-Control-Max-Age"] == "600"
    assert get(cloud, "Rest", "/nowhere", method="OPTIONS").status_code == 403   # no such path
    # A proxy integration's answer is the function's: API Gateway adds nothing to it.
    answer = get(cloud, "Rest", "/public", headers={"Origin": "https://app.example"})
    assert answer.headers["Access-Control-Allow-Origin"] == "https://function.example"
    # The default authorizer guards the preflight too unless AddDefaultAuthorizerToCorsPreflight is false.
    assert get(cloud, "Guarded", "/things", method="OPTIONS").status_code == 401
    guarded = get(cloud, "Guarded", "/things", method="OPTIONS", headers={"Authorization": "Bearer allow"})
    assert guarded.status_code == 200 and guarded.headers["Access-Control-Allow-Origin"] == "*"
    assert guarded.headers["Access-Control-Allow-Methods"] == "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT"


def test_http_cors_answers_preflights_and_sets_the_headers_on_responses(cloud, issuer):
    preflight = get(cloud, "Http", "/me", method="OPTIONS",
                    headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 204                                      # before the JWT authorizer
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    assert preflight.headers["access-control-allow-methods"] == "GET,POST"
    assert preflight.headers["access-control-allow-headers"] == "authorization,content-type"
    assert preflight.headers["access-control-max-age"] == "600"
    assert preflight.headers["access-control-allow-credentials"] == "true"
    stranger = get(cloud, "Http", "/me", method="OPTIONS", headers={"Origin": "https://evil.example"})
    assert stranger.status_code == 204 and "access-control-allow-origin" not in stranger.headers
    answer = get(cloud, "Http", "/open", headers={"Origin": "https://app.example"})
    assert answer.headers["access-control-allow-origin"] == "https://app.example"     # the function's replaced
    assert answer.headers["access-control-expose-headers"] == "x-total"
    assert "access-control-allow-origin" not in get(cloud, "Http", "/open").headers


def test_binary_media_types_with_tilde_one_are_media_types(cloud):
    for content_type, binary in (("image/png", True), ("application/vnd.api+json", True), ("text/plain", False)):
        r = get(cloud, "Rest", "/upload", method="POST", data=b"abc", headers={"Content-Type": content_type})
        assert r.status_code == 200 and r.json()["b64"] is binary, content_type
        assert r.json()["body"] == ("YWJj" if binary else "abc")


def test_only_what_is_not_applied_is_named(cloud):
    assert not [line for line in cloud.not_emulated if "Auth" in line or "Cors" in line or "authorizer" in line]


def test_http_api_lambda_authorizers_simple_and_policy_answers(cloud):
    ok = get(cloud, "HttpLambda", "/simple", headers={"X-Key": "k1"})
    assert ok.status_code == 200 and ok.json()["authorizer"] == {"lambda": {"key": "k1", "sources": ["k1"]}}
    no = get(cloud, "HttpLambda", "/simple", headers={"X-Key": "k2"})
    assert no.status_code == 403 and no.json() == {"message": "Forbidden"}
    missing = get(cloud, "HttpLambda", "/simple")
    assert missing.status_code == 401 and missing.json() == {"message": "Unauthorized"}
    policy = get(cloud, "HttpLambda", "/policy", headers={"X-Key": "k1"})
    assert policy.status_code == 200 and policy.json()["authorizer"] == {"key": "k1", "principalId": "k1-holder"}
    assert get(cloud, "HttpLambda", "/policy", headers={"X-Key": "k2"}).status_code == 403


class _Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _cached_access(ttl, allowed_path):
    """An Access whose REST TOKEN authorizer (ReauthorizeEvery: ttl) allows GET on allowed_path only; the calls it
    made in .calls, its clock in .clock."""
    from localcloud.api_access import Access
    from localcloud.model import Authorizer, RestApi

    calls = []

    def invoke(function_id, event, trigger):
        calls.append(event["authorizationToken"])
        arn = event["methodArn"].rsplit("/", 2)[0] + "/GET" + allowed_path
        return {"principalId": "p", "policyDocument": {"Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": arn}]}}
    api = RestApi("Api", "prod", [], authorizers={"Tok": Authorizer("Tok", "TOKEN", "Fn", [("header", "Authorization")],
                                                                    ttl=ttl)})
    api.payload_version = "1.0"
    clock = _Clock()
    access = Access(api, invoke, "us-east-1", "abc", clock=clock)
    access.calls, access.clock = calls, clock
    return access


def _authorize(access, path, token):
    from localcloud.api_access import Refused
    try:
        access.authorize("Tok", "GET", path, [("Authorization", token)], {}, {})
        return 200
    except Refused as refused:
        return refused.answer[0]


def test_authorizer_results_are_cached_per_identity_for_reauthorize_every_seconds():
    access = _cached_access(300, "/a")
    assert [_authorize(access, "/a", "t1") for _ in range(3)] == [200, 200, 200]
    assert access.calls == ["t1"]                     # one call while the result lives
    assert _authorize(access, "/a", "t2") == 200 and access.calls == ["t1", "t2"]   # another identity: its own
    # The cached policy decides for every method it is asked about: /b is not in it, without calling again.
    assert _authorize(access, "/b", "t1") == 403 and access.calls == ["t1", "t2"]
    access.clock.now += 299
    assert _authorize(access, "/a", "t1") == 200 and access.calls == ["t1", "t2"]
    access.clock.now += 2                             # past the TTL: called again
    assert _authorize(access, "/a", "t1") == 200 and access.calls == ["t1", "t2", "t1"]


def test_reauthorize_every_zero_calls_the_authorizer_every_time():
    access = _cached_access(0, "/a")
    assert [_authorize(access, "/a", "t1") for _ in range(3)] == [200, 200, 200]
    assert access.calls == ["t1", "t1", "t1"]


def test_api_key_required_takes_an_enabled_key_of_a_usage_plan_of_the_stage(cloud):
    def status(path, key=None):
        return get(cloud, "Keyed", path, headers={"x-api-key": key} if key else {}).status_code
    refused = get(cloud, "Keyed", "/k")
    assert refused.status_code == 403 and refused.json() == {"message": "Forbidden"}
    assert refused.headers["x-amzn-ErrorType"] == "ForbiddenException"
    assert status("/k", "planned-key-0123456789") == 200
    assert status("/k", "unplanned-key-0123456789") == 403        # a key, but no plan of this stage has it
    assert status("/open") == 200                                 # the event's ApiKeyRequired: false
