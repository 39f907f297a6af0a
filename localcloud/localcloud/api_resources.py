"""APIs written as CloudFormation resources instead of SAM events: a REST API of AWS::ApiGateway::RestApi, Resource
and Method (AWS_PROXY integrations with a template function; path parts, {param}, {proxy+}, ANY; NONE and Cognito
user pool authorization; ApiKeyRequired) and an HTTP API of AWS::ApiGatewayV2::Api, Route and Integration (AWS_PROXY
to a template function, or the Api's own Target; NONE and JWT authorization). Their routes join the gateway like
SAM's; what is not routed is named at start-up (not_routed)."""
from . import model, user_pools

REST_KINDS = ("AWS::ApiGateway::RestApi", "AWS::ApiGateway::Resource", "AWS::ApiGateway::Method",
              "AWS::ApiGateway::Authorizer", "AWS::ApiGatewayV2::Authorizer")
NOTHING_TO_EMULATE = ("AWS::ApiGateway::Deployment", "AWS::ApiGateway::Stage")   # a stage's name is read here
DEFINITIONS = ("Body", "BodyS3Location")      # OpenAPI definitions: not read


def add_routes(stack, apis):
    """Put the routes (and stage, authorizers) of the template's hand-written APIs into apis {logical: RestApi}."""
    for logical, api in apis.items():
        kind = stack.resources.get(logical, {}).get("Type")
        if kind == "AWS::ApiGateway::RestApi":
            api.stage, found = _rest_stage(stack, logical), _rest_methods(stack, logical)
        elif kind == "AWS::ApiGatewayV2::Api":
            api.stage, found = _http_stage(stack, logical), _http_routes(stack, logical)
        else:
            continue
        for _label, route, _why in found:
            if route:
                api.routes.append(route)
                _authorizer(stack, api, route)


def physical_ids(stack):
    """Ref of an AWS::ApiGateway::Stage or AWS::ApiGatewayV2::Stage is its name (a usage plan's ApiStages name it
    so, and templates build their WebSocket URL with it)."""
    for logical, res in stack._of_type("AWS::ApiGateway::Stage", "AWS::ApiGatewayV2::Stage"):
        stack.resolver.refs[logical] = str(stack.resolver.resolve((res.get("Properties") or {}).get("StageName")))


def not_routed(stack):
    """Start-up lines for the hand-written APIs' methods and routes the local gateway does not serve, and their
    authorizers that are not checked (Lambda ones, any of a WebSocket API)."""
    lines = []
    for logical, res in stack._of_type("AWS::ApiGateway::Authorizer", "AWS::ApiGatewayV2::Authorizer"):
        props = res.get("Properties") or {}
        kind = props.get("Type") or props.get("AuthorizerType")
        if kind not in ("COGNITO_USER_POOLS", "JWT"):
            lines.append(f"authorizer {logical} ({res['Type']}, {kind}) is not emulated locally: its routes are open")
    for logical, res in stack._of_type("AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api"):
        props = res.get("Properties") or {}
        for prop in DEFINITIONS:
            if prop in props:
                lines.append(f"property {prop} of {logical} ({res['Type']}) is not read locally: only its "
                             "Resource/Method (Route/Integration) resources are routed")
        if res["Type"] == "AWS::ApiGateway::RestApi":
            found = _rest_methods(stack, logical)
        elif props.get("ProtocolType") == "HTTP":
            found = _http_routes(stack, logical)
        else:
            continue
        lines += [f"{name} of {logical} is not emulated locally: {why}" for name, _route, why in found if why]
    return lines


def _functions(stack):
    return {v["Arn"]: k for k, v in stack.resolver.attrs.items() if ":function:" in v.get("Arn", "")}


def _function_of(stack, uri):
    """The template function an integration URI names (its ARN, or API Gateway's .../functions/<ARN>/invocations)."""
    uri = str(stack.resolver.resolve(uri or ""))
    return next((fn for arn, fn in _functions(stack).items() if uri == arn or f"/functions/{arn}/" in uri), None)


def _logical(stack, value, kind):
    """The logical id of a resource of this kind that a resolved Ref gives (its physical id or its name)."""
    for logical, _res in stack._of_type(kind):
        if value in (logical, stack.resolver.refs.get(logical)):
            return logical
    return None


def _rest_stage(stack, api):
    for kind in NOTHING_TO_EMULATE[::-1]:       # a Stage's name, else the Deployment's StageName
        for _name, res in stack._of_type(kind):
            props = res.get("Properties") or {}
            if _logical(stack, stack.resolver.resolve(props.get("RestApiId")), "AWS::ApiGateway::RestApi") == api \
                    and props.get("StageName"):
                return str(stack.resolver.resolve(props["StageName"]))
    return ""


def _http_stage(stack, api):
    for _name, res in stack._of_type("AWS::ApiGatewayV2::Stage"):
        props = res.get("Properties") or {}
        if _logical(stack, stack.resolver.resolve(props.get("ApiId")), "AWS::ApiGatewayV2::Api") == api:
            return str(stack.resolver.resolve(props.get("StageName", "$default")))
    return "$default"


def _rest_path(stack, resource, seen=()):
    """The path of an AWS::ApiGateway::Resource ("" for the root), following ParentId."""
    if resource in ("root", None) or resource in seen:
        return ""
    props = (stack.resources.get(resource) or {}).get("Properties") or {}
    parent = stack.resolver.resolve(props.get("ParentId"))
    parent = parent if parent == "root" else _logical(stack, parent, "AWS::ApiGateway::Resource")
    return _rest_path(stack, parent, seen + (resource,)) + "/" + str(stack.resolver.resolve(props.get("PathPart")))


def _rest_methods(stack, api):
    """[(label, Route or None, why not routed)] of every AWS::ApiGateway::Method of this REST API."""
    out = []
    for logical, res in stack._of_type("AWS::ApiGateway::Method"):
        props = stack.resolver.resolve(res.get("Properties") or {})
        if _logical(stack, props.get("RestApiId"), "AWS::ApiGateway::RestApi") != api:
            continue
        label = f"method {logical}"
        integration = props.get("Integration") or {}
        fn = _function_of(stack, integration.get("Uri"))
        resource = props.get("ResourceId")
        resource = "root" if resource == "root" else _logical(stack, resource, "AWS::ApiGateway::Resource")
        if integration.get("Type") != "AWS_PROXY" or not fn:
            out.append((label, None, f"only AWS_PROXY integrations with a template function are routed "
                                     f"(Type {integration.get('Type')})"))
            continue
        route = model.Route(_rest_path(stack, resource) or "/", str(props.get("HttpMethod", "ANY")).upper(), fn,
                            api_key_required=str(props.get("ApiKeyRequired", False)).lower() == "true")
        why = ""
        kind = str(props.get("AuthorizationType", "NONE")).upper()
        if kind == "COGNITO_USER_POOLS":
            route.authorizer = _logical(stack, props.get("AuthorizerId"), "AWS::ApiGateway::Authorizer")
            route.scopes = list(props.get("AuthorizationScopes") or [])
            if not route.authorizer:
                why = "its authorizer is not a template AWS::ApiGateway::Authorizer: the route is open"
        elif kind != "NONE":
            why = f"AuthorizationType {kind} is not applied locally: the route is open"
        out.append((label, route, why))
    return out


def _http_routes(stack, api):
    """[(label, Route or None, why not routed)] of this HTTP API's AWS::ApiGatewayV2::Routes (and its Target)."""
    out = []
    target = (stack.resources[api].get("Properties") or {}).get("Target")
    if target:
        fn = _function_of(stack, target)
        out.append((f"Target of {api}", model.Route("$default", "ANY", fn) if fn else None,
                    "" if fn else "its Target is not a template function"))
    for logical, res in stack._of_type("AWS::ApiGatewayV2::Route"):
        props = stack.resolver.resolve(res.get("Properties") or {})
        if _logical(stack, props.get("ApiId"), "AWS::ApiGatewayV2::Api") != api:
            continue
        label = f"route {logical}"
        integration = str(props.get("Target", "")).rsplit("/", 1)[-1]
        integration = _logical(stack, integration, "AWS::ApiGatewayV2::Integration")
        iprops = stack.resolver.resolve((stack.resources.get(integration) or {}).get("Properties") or {})
        fn = _function_of(stack, iprops.get("IntegrationUri"))
        if iprops.get("IntegrationType") != "AWS_PROXY" or not fn:
            out.append((label, None, "only AWS_PROXY integrations with a template function are routed"))
            continue
        key = str(props.get("RouteKey", "$default"))
        method, _space, path = key.partition(" ")
        route = model.Route("$default", "ANY", fn) if key == "$default" else model.Route(path, method.upper(), fn)
        why = ""
        if str(iprops.get("PayloadFormatVersion", "2.0")) != "2.0":
            why = "PayloadFormatVersion 1.0 is not applied locally: the function gets payload 2.0"
        kind = str(props.get("AuthorizationType", "NONE")).upper()
        if kind == "JWT":
            route.authorizer = _logical(stack, props.get("AuthorizerId"), "AWS::ApiGatewayV2::Authorizer")
            route.scopes = list(props.get("AuthorizationScopes") or [])
        elif kind != "NONE":
            why = f"AuthorizationType {kind} is not applied locally: the route is open"
        out.append((label, route, why))
    return out


def _authorizer(stack, api, route):
    """The API's model.Authorizer for the route's (Cognito or JWT) authorizer resource, added once."""
    if not route.authorizer or route.authorizer in api.authorizers:
        return
    props = stack.resolver.resolve(stack.resources[route.authorizer].get("Properties") or {})
    if stack.resources[route.authorizer]["Type"] == "AWS::ApiGateway::Authorizer":
        source = str(props.get("IdentitySource", "method.request.header.Authorization"))
        api.authorizers[route.authorizer] = model.Authorizer(
            route.authorizer, "COGNITO", identity=[("header", source.rsplit(".", 1)[-1])],
            issuers=[user_pools.issuer_of(arn) for arn in props.get("ProviderARNs") or []])
        return
    from .template import _identity_source
    config = props.get("JwtConfiguration") or {}
    sources = props.get("IdentitySource") or ["$request.header.Authorization"]
    api.authorizers[route.authorizer] = model.Authorizer(
        route.authorizer, "JWT", identity=[_identity_source(sources[0])],
        issuer=str(config.get("Issuer", "")), audience=list(config.get("Audience") or []))
