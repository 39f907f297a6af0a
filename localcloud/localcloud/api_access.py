"""What API Gateway does in front of a route: Lambda authorizers (REST APIs, TOKEN and REQUEST), JWT
authorizers (HTTP APIs, checked against the issuer's JWKS) and CORS (SAM's OPTIONS answers on REST APIs; an
HTTP API's CorsConfiguration on preflights and on every response), with API Gateway's statuses and bodies.
"""
import fnmatch
import json
import logging
import re
import threading
import time
import urllib.request

from .events import ACCOUNT
from .model import InvocationError

log = logging.getLogger("localcloud.http")
JWKS_TIMEOUT = 5                     # seconds for the issuer's discovery document and its JWKS
JWT_ALGORITHMS = ["RS256", "RS384", "RS512"]    # API Gateway accepts RSA signatures only
ALL_METHODS = "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT"


class Refused(Exception):
    """The request stops at the gateway: (status, headers, payload) is API Gateway's answer."""

    def __init__(self, status, body, error_type=None, reason=""):
        super().__init__(reason or body)
        headers = [("Content-Type", "application/json")]
        if error_type:
            headers.append(("x-amzn-ErrorType", error_type))
        self.answer = (status, headers, json.dumps(body).encode())


def _unauthorized(rest, reason):
    return Refused(401, {"message": "Unauthorized"}, "UnauthorizedException" if rest else None, reason)


def _value(headers, query, source):
    where, name = source
    if where == "query":
        return query.get(name) or ""
    return next((v for k, v in headers if k.lower() == name.lower()), "")


class Access:
    """The authorizers and CORS settings of one API."""

    def __init__(self, api, invoke, region, api_id, clock=time.monotonic):
        self.api = api
        self.clock = clock
        self._results = {}          # (authorizer, identity values) -> (expires at, the authorizer's answer)
        self.invoke = invoke
        self.region = region
        self.api_id = api_id
        self.rest = api.payload_version != "2.0"
        self._jwks = {}
        self._lock = threading.Lock()

    # -- authorizers -----------------------------------------------------------------------------
    def authorize(self, name, method, path, headers, query, event, scopes=()):
        """The requestContext.authorizer of an allowed request; Refused otherwise."""
        authorizer = self.api.authorizers[name]
        values = [_value(headers, query, source) for source in authorizer.identity]
        if authorizer.kind == "JWT":
            return self._jwt(authorizer, values[0] if values else "", list(scopes))
        if not all(values):           # an identity source missing: API Gateway answers without calling
            raise _unauthorized(self.rest, f"{name}: identity source missing")
        if authorizer.kind == "LAMBDA":
            return self._http_lambda(authorizer, method, path, event, values)
        if authorizer.validation and not re.fullmatch(authorizer.validation, values[0]):
            raise _unauthorized(True, f"{name}: token does not match ValidationExpression")
        method_arn = f"arn:aws:execute-api:{self.region}:{ACCOUNT}:{self.api_id}/{self.api.stage}/{method}{path}"
        if authorizer.kind == "TOKEN":
            call = {"type": "TOKEN", "authorizationToken": values[0], "methodArn": method_arn}
        else:
            call = {k: v for k, v in event.items() if k not in ("body", "isBase64Encoded")}
            call.update(type="REQUEST", methodArn=method_arn)
        started = time.monotonic()
        try:
            result = self._answer(authorizer, values, call)
        except InvocationError as exc:
            if str(exc) == "Unauthorized":     # the authorizer's way of saying 401
                raise _unauthorized(True, f"{name}: the authorizer said Unauthorized") from None
            raise Refused(500, {"message": None}, "AuthorizerConfigurationException", f"{name} failed: {exc}") from None
        if not isinstance(result, dict) or "principalId" not in result or not isinstance(
                result.get("policyDocument"), dict):
            raise Refused(500, {"message": None}, "AuthorizerConfigurationException",
                          f"{name} returned no principalId and policyDocument")
        effect = _policy_effect(result["policyDocument"], method_arn)
        if effect == "Deny":
            raise Refused(403, {"Message": "User is not authorized to access this resource with an explicit deny"},
                          "AccessDeniedException", f"{name}: explicit deny")
        if effect != "Allow":
            raise Refused(403, {"Message": "User is not authorized to access this resource"},
                          "AccessDeniedException", f"{name}: no statement allows {method_arn}")
        context = {k: v for k, v in (result.get("context") or {}).items() if isinstance(v, (str, int, float, bool))}
        return dict(context, principalId=result["principalId"],
                    integrationLatency=int((time.monotonic() - started) * 1000))

    def _http_lambda(self, authorizer, method, path, event, values):
        """An HTTP API's Lambda authorizer: payload 2.0 (simple {"isAuthorized"} or IAM policy) or 1.0."""
        route_arn = f"arn:aws:execute-api:{self.region}:{ACCOUNT}:{self.api_id}/{self.api.stage}/{method}{path}"
        if authorizer.payload_version == "1.0":     # REST's REQUEST shape, the identity joined by commas
            call = {"version": "1.0", "type": "REQUEST", "methodArn": route_arn, "identitySource": ",".join(values),
                    "authorizationToken": ",".join(values), "resource": event["routeKey"].partition(" ")[2],
                    "path": path, "httpMethod": method, "headers": event["headers"],
                    "queryStringParameters": event.get("queryStringParameters"),
                    "pathParameters": event.get("pathParameters"), "stageVariables": None,
                    "requestContext": event["requestContext"]}
        else:
            call = {k: v for k, v in event.items() if k not in ("body", "isBase64Encoded")}
            call.update(type="REQUEST", routeArn=route_arn, identitySource=values)
        try:
            result = self._answer(authorizer, values, call)
        except InvocationError as exc:
            if str(exc) == "Unauthorized":
                raise _unauthorized(False, f"{authorizer.name}: the authorizer said Unauthorized") from None
            raise Refused(500, {"message": "Internal Server Error"}, None, f"{authorizer.name} failed: {exc}") from None
        if not isinstance(result, dict):
            raise Refused(500, {"message": "Internal Server Error"}, None, f"{authorizer.name}: malformed answer")
        if authorizer.simple_responses and authorizer.payload_version == "2.0":
            allowed = result.get("isAuthorized") is True
        else:
            allowed = isinstance(result.get("policyDocument"), dict) and _policy_effect(
                result["policyDocument"], route_arn) == "Allow"
        if not allowed:
            raise Refused(403, {"message": "Forbidden"}, None, f"{authorizer.name}: not authorized")
        context = result.get("context") or {}
        if authorizer.payload_version == "1.0":
            return dict(context, principalId=result.get("principalId"))
        return {"lambda": context}

    def _answer(self, authorizer, values, call):
        """The Lambda authorizer's answer for these identity values: cached for its ReauthorizeEvery seconds (keyed
        by the identity sources, as API Gateway caches it, then evaluated against each request's method), else
        invoked. A failed call is never cached."""
        key = (authorizer.name, tuple(values))
        with self._lock:
            cached = self._results.get(key)
            if cached and cached[0] > self.clock():
                return cached[1]
        result = self.invoke(authorizer.function_id, call, f"authorizer:{self.api.logical_id} {authorizer.name}")
        if authorizer.ttl > 0 and isinstance(result, dict):
            with self._lock:
                now = self.clock()
                self._results = {k: v for k, v in self._results.items() if v[0] > now}
                self._results[key] = (now + authorizer.ttl, result)
        return result

    def _jwt(self, authorizer, token, route_scopes):
        import jwt
        token = re.sub(r"(?i)^bearer\s+", "", token.strip())
        if not token:
            raise _unauthorized(False, f"{authorizer.name}: no token")
        try:
            key = self._jwks_client(authorizer.issuer).get_signing_key_from_jwt(token).key
            claims = jwt.decode(token, key, algorithms=JWT_ALGORITHMS, issuer=authorizer.issuer,
                                options={"verify_aud": False, "require": ["exp", "iss"]})
        except (jwt.PyJWTError, OSError, ValueError, KeyError) as exc:
            raise _unauthorized(False, f"{authorizer.name}: {type(exc).__name__}: {exc}") from None
        audiences = claims.get("aud", [])
        audiences = [audiences] if isinstance(audiences, str) else list(audiences)
        if not set(audiences + [claims.get("client_id")]) & set(authorizer.audience):
            raise _unauthorized(False, f"{authorizer.name}: audience {audiences} not accepted")
        granted = claims.get("scope", claims.get("scp", ""))
        granted = granted.split() if isinstance(granted, str) else list(granted)
        if route_scopes and not set(route_scopes) & set(granted):
            raise Refused(403, {"message": "Forbidden"}, None, f"{authorizer.name}: none of the scopes {route_scopes}")
        return {"jwt": {"claims": {k: _claim_text(v) for k, v in claims.items()},
                        "scopes": route_scopes or None}}

    def _jwks_client(self, issuer):
        """The issuer's keys (its discovery document names them), fetched once; unknown kids fetch them again."""
        import jwt
        with self._lock:
            if issuer not in self._jwks:
                url = issuer.rstrip("/") + "/.well-known/openid-configuration"
                with urllib.request.urlopen(url, timeout=JWKS_TIMEOUT) as answer:   # noqa: S310 - the template's
                    jwks_uri = json.load(answer)["jwks_uri"]
                self._jwks[issuer] = jwt.PyJWKClient(jwks_uri, timeout=JWKS_TIMEOUT)
            return self._jwks[issuer]

    # -- CORS ------------------------------------------------------------------------------------
    def preflight(self, method, path, headers, route_methods):
        """API Gateway's own answer to an OPTIONS request, or None when the request goes on to a route.
        route_methods: the methods the API's routes serve on this path (None: no route has it)."""
        if method != "OPTIONS" or not self.api.cors:
            return None
        if not self.rest:
            return 204, self._http_cors(headers, preflight=True), b""
        if route_methods is None or "OPTIONS" in route_methods:
            return None       # no such path (API Gateway's 403), or the template's own OPTIONS method
        answer = dict(self.api.cors)
        if "Access-Control-Allow-Methods" not in answer:
            answer["Access-Control-Allow-Methods"] = ALL_METHODS if "ANY" in route_methods else ",".join(
                sorted(route_methods | {"OPTIONS"}))
        return 200, [("Content-Type", "application/json")] + list(answer.items()), b""

    def response_headers(self, request_headers, headers):
        """An HTTP API's CORS headers in place of the function's own; a REST API's answer as the function gave."""
        if self.rest or not self.api.cors:
            return headers
        kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
        return kept + self._http_cors(request_headers, preflight=False)

    def _http_cors(self, request_headers, preflight):
        cors = self.api.cors
        origin = next((v for k, v in request_headers if k.lower() == "origin"), "")
        allowed = [str(o) for o in cors.get("AllowOrigins") or []]
        if not origin or not any(o == "*" or fnmatch.fnmatchcase(origin, o) for o in allowed):
            return []
        credentials = str(cors.get("AllowCredentials", "")).lower() == "true"
        out = [("access-control-allow-origin", "*" if "*" in allowed and not credentials else origin)]
        if credentials:
            out.append(("access-control-allow-credentials", "true"))
        if preflight:
            for prop, header in (("AllowMethods", "access-control-allow-methods"),
                                 ("AllowHeaders", "access-control-allow-headers")):
                if cors.get(prop):
                    out.append((header, ",".join(str(v) for v in cors[prop]).lower() if prop == "AllowHeaders"
                                else ",".join(str(v) for v in cors[prop])))
            if cors.get("MaxAge") is not None:
                out.append(("access-control-max-age", str(cors["MaxAge"])))
        elif cors.get("ExposeHeaders"):
            out.append(("access-control-expose-headers", ",".join(str(v) for v in cors["ExposeHeaders"])))
        return out


def _policy_effect(policy, method_arn):
    """Deny if any statement denies the method, else Allow if one allows it, else None (IAM's rule)."""
    statements = policy.get("Statement") or []
    statements = [statements] if isinstance(statements, dict) else statements
    effects = set()
    for statement in statements:
        actions = statement.get("Action") or []
        resources = statement.get("Resource") or []
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        if any(fnmatch.fnmatchcase("execute-api:Invoke", a) for a in actions) and any(
                fnmatch.fnmatchcase(method_arn, r) for r in resources):
            effects.add(statement.get("Effect"))
    return "Deny" if "Deny" in effects else "Allow" if "Allow" in effects else None


def _claim_text(value):
    """A JWT claim as an HTTP API passes it to the function: text, a list as "[a b]"."""
    if isinstance(value, list):
        return "[" + " ".join(str(v) for v in value) + "]"
    return value if isinstance(value, str) else str(value)
