"""Cognito user pools: the template's AWS::Cognito::UserPool and UserPoolClient created in the AWS endpoint
(moto's cognito-idp), and the keys that check their tokens. moto signs every pool's tokens with one RSA key and
serves it at <endpoint>/<pool id>/.well-known/jwks.json; a token's issuer is
https://cognito-idp.<region>.amazonaws.com/<pool id>, as on AWS. So a REST API's Cognito authorizer, and an HTTP
API's JWT authorizer whose issuer is such a pool, verify locally what the endpoint's pools issued."""
import logging
import re
import threading

import botocore.session

log = logging.getLogger("localcloud.http")
KINDS = ("AWS::Cognito::UserPool", "AWS::Cognito::UserPoolClient")
ISSUER = re.compile(r"^https://cognito-idp\.([a-z0-9-]+)\.amazonaws\.com/([\w-]+)/?$")
JWKS_TIMEOUT = 5
# Properties CloudFormation names differently from the API, and ones the local pool never applies.
RENAMED = {"UserPoolName": "PoolName"}
NOT_APPLIED = {"AWS::Cognito::UserPool": ("LambdaConfig",)}   # moto would call its own Lambda, not ours
OPERATIONS = {"AWS::Cognito::UserPool": "CreateUserPool", "AWS::Cognito::UserPoolClient": "CreateUserPoolClient"}


def issuer_of(pool_arn):
    """The issuer of a pool's tokens, from its ARN (arn:aws:cognito-idp:<region>:<account>:userpool/<id>)."""
    parts = str(pool_arn).split(":")
    if len(parts) < 6 or not parts[5].startswith("userpool/"):
        return ""
    return f"https://cognito-idp.{parts[3]}.amazonaws.com/{parts[5].split('/', 1)[1]}"


def _input_shape(kind):
    model = botocore.session.get_session().get_service_model("cognito-idp")
    return model.operation_model(OPERATIONS[kind]).input_shape


def _arguments(shape, value):
    """value (resolved template properties) as the API's arguments of this shape: unknown members dropped,
    numbers and booleans that a parameter made text turned back into numbers and booleans."""
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        return {name: _arguments(shape.members[name], v) for name, v in value.items() if name in shape.members}
    if kind == "list" and isinstance(value, list):
        return [_arguments(shape.member, v) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {str(k): _arguments(shape.value, v) for k, v in value.items()}
    if kind in ("integer", "long"):
        return int(value)
    if kind == "boolean":
        return value.lower() == "true" if isinstance(value, str) else bool(value)
    return str(value) if kind == "string" else value


def _properties(kind, props):
    props = {RENAMED.get(k, k): v for k, v in props.items() if k not in NOT_APPLIED.get(kind, ())}
    return _arguments(_input_shape(kind), props)


def not_applied(stack):
    """Start-up lines for the pools' and clients' properties the local pool does not take."""
    lines = []
    for logical, res in stack._of_type(*KINDS):
        members = _input_shape(res["Type"]).members
        for prop in res.get("Properties") or {}:
            if RENAMED.get(prop, prop) not in members or prop in NOT_APPLIED.get(res["Type"], ()):
                lines.append(f"property {prop} of {logical} ({res['Type']}) is not applied locally")
    return lines


def placeholders(stack):
    """Ref and GetAtt of the pools and clients before the endpoint has them (create() puts the real ids)."""
    arn = f"arn:aws:cognito-idp:{stack.region}:{stack.account}:userpool/{stack.region}_local"
    for logical, _res in stack._of_type("AWS::Cognito::UserPool"):
        stack.resolver.refs[logical] = f"{stack.region}_local{logical}"
        stack.resolver.attrs[logical] = {"Arn": arn + logical, "UserPoolId": stack.resolver.refs[logical],
                                         "ProviderURL": issuer_of(arn + logical),
                                         "ProviderName": issuer_of(arn + logical).removeprefix("https://")}
    for logical, _res in stack._of_type("AWS::Cognito::UserPoolClient"):
        stack.resolver.refs[logical] = logical
        stack.resolver.attrs[logical] = {"ClientId": logical, "Name": logical}


def create(stack, client):
    """Create the template's user pools and their clients (a pool or client of that name is reused, so a restart
    against the same endpoint keeps its users); Ref and GetAtt give their ids."""
    resolver = stack.resolver
    if not stack._of_type(*KINDS):      # asks nothing of an endpoint without cognito-idp (LocalStack's free edition)
        return
    pools = {p["Name"]: p["Id"] for page in client.get_paginator("list_user_pools").paginate(MaxResults=60)
             for p in page["UserPools"]}
    for logical, res in stack._of_type("AWS::Cognito::UserPool"):
        args = _properties(res["Type"], resolver.resolve(res.get("Properties") or {}))
        args.setdefault("PoolName", f"{stack.stack_name}-{logical}")
        pool_id = pools.get(args["PoolName"]) or client.create_user_pool(**args)["UserPool"]["Id"]
        pool = client.describe_user_pool(UserPoolId=pool_id)["UserPool"]
        issuer = issuer_of(pool["Arn"])
        resolver.refs[logical] = pool_id
        resolver.attrs[logical] = {"Arn": pool["Arn"], "UserPoolId": pool_id, "ProviderURL": issuer,
                                   "ProviderName": issuer.removeprefix("https://")}
        log.info("user pool %s: %s", logical, pool_id)
    for logical, res in stack._of_type("AWS::Cognito::UserPoolClient"):
        args = _properties(res["Type"], resolver.resolve(res.get("Properties") or {}))
        args.setdefault("ClientName", f"{stack.stack_name}-{logical}")
        known = {c["ClientName"]: c["ClientId"] for c in client.list_user_pool_clients(
            UserPoolId=args["UserPoolId"], MaxResults=60)["UserPoolClients"]}
        client_id = known.get(args["ClientName"]) or client.create_user_pool_client(**args)["UserPoolClient"][
            "ClientId"]
        resolver.refs[logical] = client_id
        resolver.attrs[logical] = {"ClientId": client_id, "Name": args["ClientName"]}


class UserPools:
    """The endpoint's pools as token issuers: their keys (the endpoint's JWKS of the pool) and app clients."""

    def __init__(self, client, endpoint):
        self.client = client
        self.endpoint = endpoint.rstrip("/")
        self._keys = {}
        self._lock = threading.Lock()

    def keys(self, issuer):
        """A PyJWKClient for a Cognito issuer whose pool the endpoint has; None for any other issuer."""
        import jwt
        match = ISSUER.match(str(issuer))
        if not match:
            return None
        pool_id = match.group(2)
        with self._lock:
            if pool_id not in self._keys:
                try:
                    self.client.describe_user_pool(UserPoolId=pool_id)
                except self.client.exceptions.ResourceNotFoundException:
                    return None
                self._keys[pool_id] = jwt.PyJWKClient(f"{self.endpoint}/{pool_id}/.well-known/jwks.json",
                                                      timeout=JWKS_TIMEOUT)
            return self._keys[pool_id]

    def has_client(self, issuer, client_id):
        """True when client_id is an app client of the issuer's pool (asked of the endpoint each time: clients
        created at run time count)."""
        match = ISSUER.match(str(issuer))
        if not match or not client_id:
            return False
        try:
            self.client.describe_user_pool_client(UserPoolId=match.group(2), ClientId=str(client_id))
        except self.client.exceptions.ResourceNotFoundException:
            return False
        return True
