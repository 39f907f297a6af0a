"""Public Python SAM templates of API Gateway features (README.md here): Lambda authorizers, API keys, CORS and
WebSocket APIs, each started on the local cloud and called over real HTTP / WebSocket as its README (or the
project's own integration tests) says, with API Gateway's answers."""
from pathlib import Path

import boto3
import pytest
import requests
from polling import wait_until as wait_for
from websockets.sync.client import connect

HERE = Path(__file__).resolve().parent
AUTHORIZERS = HERE / "aws-sam-cli" / "lambda_authorizers"
PATTERNS = HERE / "serverless-patterns"
pytestmark = pytest.mark.timeout(120)
IDENTITY = {"headers": {"header": "myheader"}, "params": {"query": "myquery"}}


def run(start_cloud, template, **parameters):
    """(cloud, invocations): the template started on the project's interpreter with these parameters;
    invocations fills with every finished invocation (function, trigger, event, error_type)."""
    cloud = start_cloud(template=template, parameters=parameters, isolated=False)
    invocations = []
    cloud.runtime.observers.append(invocations.append)
    return cloud, invocations


def authorizer_calls(invocations):
    return [c for c in invocations if c["trigger"].startswith("authorizer:")]


# SAM CLI's own test (tests/integration/local/start_api/lambda_authorizers/test_sfn_props_lambda_authorizers.py)
# runs these five authorizers of its two templates; the answers here are API Gateway's.
ALLOWING = [("serverless-api-props.yaml", "Token"), ("serverless-api-props.yaml", "Request"),
            ("serverless-http-props.yaml", "RequestAuthorizerV2"),
            ("serverless-http-props.yaml", "RequestAuthorizerV2Simple"),
            ("serverless-http-props.yaml", "RequestAuthorizerV1")]


@pytest.mark.parametrize("template,authorizer", ALLOWING)
def test_lambda_authorizer_passes_its_context_and_refuses_without_identity(start_cloud, template, authorizer):
    cloud, invocations = run(start_cloud, AUTHORIZERS / template, AuthOverride=authorizer)
    api = "TestServerlessRestApi" if "api-props" in template else "TestServerlessHttpApi"
    url = cloud.api_url(api) + "/requestauthorizer"
    answer = requests.get(url, timeout=20, **IDENTITY)
    assert answer.status_code == 200 and answer.json() == {"message": "from authorizer"}
    [call] = authorizer_calls(invocations)
    assert call["error_type"] is None
    missing = requests.get(url, timeout=20)     # no identity source: API Gateway answers without calling
    assert missing.status_code == 401 and missing.json() == {"message": "Unauthorized"}
    assert len(authorizer_calls(invocations)) == 1
    # A REST authorizer's result is cached 300 s by its identity sources (ReauthorizeEvery's default); an HTTP
    # API's is not unless ReauthorizeEvery says so.
    assert requests.get(url, timeout=20, **IDENTITY).status_code == 200
    assert len(authorizer_calls(invocations)) == (1 if api == "TestServerlessRestApi" else 2)
    other = requests.get(url, timeout=20, headers={"header": "other"}, params={"query": "myquery"})
    assert other.status_code == 200
    assert len(authorizer_calls(invocations)) == (2 if api == "TestServerlessRestApi" else 3)


def call_with_identity(start_cloud, template, **parameters):
    """(REST or not, the answer, invocations) of GET /requestauthorizer with both identity sources, on one of the
    two authorizer templates started with these parameters."""
    cloud, invocations = run(start_cloud, AUTHORIZERS / template, **parameters)
    rest = "api-props" in template
    answer = requests.get(cloud.api_url("TestServerlessRestApi" if rest else "TestServerlessHttpApi")
                          + "/requestauthorizer", timeout=20, **IDENTITY)
    return rest, answer, invocations


DENYING = [("serverless-api-props.yaml", "Token", {"AuthHandler": "app.unauth"}),
           ("serverless-api-props.yaml", "Request", {"AuthHandler": "app.unauth"}),
           ("serverless-http-props.yaml", "RequestAuthorizerV1", {"AuthHandler": "app.unauth"}),
           ("serverless-http-props.yaml", "RequestAuthorizerV2Simple", {"AuthSimpleHandler": "app.unauthv2"})]


@pytest.mark.parametrize("template,authorizer,handlers", DENYING)
def test_lambda_authorizer_that_denies_gives_403(start_cloud, template, authorizer, handlers):
    rest, answer, invocations = call_with_identity(start_cloud, template, AuthOverride=authorizer, **handlers)
    assert answer.status_code == 403
    # app.unauth denies "<<restApiId>>/<<stage>>/*/*" (its placeholders never replaced): no statement names this
    # method, API Gateway's implicit deny.
    assert answer.json() == ({"Message": "User is not authorized to access this resource"} if rest
                             else {"message": "Forbidden"})
    assert not [c for c in invocations if c["function"] == "HelloWorldFunction"]


@pytest.mark.parametrize("template,authorizer,handlers", [
    ("serverless-api-props.yaml", "Token", {"AuthHandler": "app.throws_exception"}),
    ("serverless-http-props.yaml", "RequestAuthorizerV2Simple", {"AuthSimpleHandler": "app.throws_exception"})])
def test_lambda_authorizer_that_fails_gives_500(start_cloud, template, authorizer, handlers):
    rest, answer, _ = call_with_identity(start_cloud, template, AuthOverride=authorizer, **handlers)
    assert answer.status_code == 500
    assert answer.json() == ({"message": None} if rest else {"message": "Internal Server Error"})


def test_usage_plan_api_key_is_needed_and_checked(start_cloud):
    cloud, invocations = run(start_cloud, PATTERNS / "apigw-usage-plans")
    url = cloud.stack.outputs()["UsagePlanApi"]           # .../Prod/plantest, the stage by SAM's Ref <Api>ProdStage
    assert url.startswith("http://127.0.0.1:") and url.endswith("/Prod/plantest")
    # The README: the key's value from API Gateway (here the endpoint's), sent as x-api-key.
    key = boto3.client("apigateway").get_api_key(apiKey=cloud.physical_id("UsagePlanApiKey"), includeValue=True)
    assert key["enabled"] is True
    for method in ("GET", "POST"):
        answer = requests.request(method, url, headers={"x-api-key": key["value"]}, timeout=20)
        assert answer.status_code == 200 and answer.json() == {"message": "hello world"}
        for headers in ({}, {"x-api-key": "not-" + key["value"]}):
            refused = requests.request(method, url, headers=headers, timeout=20)
            assert refused.status_code == 403 and refused.json() == {"message": "Forbidden"}
    assert len(invocations) == 2
    assert "usage plan UsagePlan: Throttle, Quota, ApiStages.Throttle not enforced locally (its keys are checked)" \
        in cloud.not_emulated
    assert not [line for line in cloud.not_emulated if "ApiKey" in line and "UsagePlan" not in line]
    # A key disabled at run time is refused at once, as API Gateway refuses it.
    boto3.client("apigateway").update_api_key(apiKey=key["id"], patchOperations=[
        {"op": "replace", "path": "/enabled", "value": "false"}])
    assert requests.get(url, headers={"x-api-key": key["value"]}, timeout=20).status_code == 403


def test_http_api_cors_configuration_answers_preflights_for_its_origins_only(start_cloud):
    cloud, invocations = run(start_cloud, HERE / "aws-sam-cli" / "start_api_cors" / "template-cors.yaml")
    url = cloud.api_url("MyHttpApi") + "/foo/test"
    for origin in ("https://abc", "http://xyz:3000"):
        preflight = requests.options(url, headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
                                     timeout=20)
        assert preflight.status_code == 204 and preflight.content == b""    # API Gateway's, no function called
        assert preflight.headers["Access-Control-Allow-Origin"] == origin
        assert preflight.headers["Access-Control-Allow-Headers"] == "accept,my-custom-header"
        assert preflight.headers["Access-Control-Allow-Methods"] == "GET,POST,PUT,DELETE,PATCH,OPTIONS"
        assert preflight.headers["Access-Control-Allow-Credentials"] == "true"
        assert preflight.headers["Access-Control-Max-Age"] == "3600"
        # main.echo_base64_event_body reads event["headers"]["Content-Type"]: payload 2.0 headers are lower case,
        # so it fails, HTTP API's 500 answer, with the CORS headers all the same.
        answer = requests.post(url, headers={"Origin": origin}, data=b"hi", timeout=20)
        assert answer.status_code == 500 and answer.json() == {"message": "Internal Server Error"}
        assert answer.headers["Access-Control-Allow-Origin"] == origin
        assert answer.headers["Access-Control-Expose-Headers"] == "Content-Encoding,Another-Custom-Header"
        assert "Access-Control-Max-Age" not in answer.headers       # preflight-only headers stay on preflights
    assert [c["error_type"] for c in invocations] == ["KeyError", "KeyError"]      # only the two POSTs
    for response in (requests.options(url, headers={"Origin": "https://unknown"}, timeout=20),
                     requests.post(url, headers={"Origin": "https://unknown"}, timeout=20),
                     requests.options(url, timeout=20)):
        assert not [h for h in response.headers if h.lower().startswith("access-control-")]


def moto_signed(claims):
    """A token signed with the key moto signs every user pool's tokens with (kid "dummy"), claims chosen here."""
    import gzip
    import json

    import jwt
    import moto.cognitoidp
    key = json.loads(gzip.open(Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-private.json.gz").read())
    return jwt.encode(claims, jwt.algorithms.RSAAlgorithm.from_jwk(key), algorithm="RS256", headers={"kid": "dummy"})


def test_cognito_user_pool_authorizer_takes_an_id_token_of_the_templates_pool(start_cloud):
    cloud, invocations = run(start_cloud, PATTERNS / "amplify_cognito_apigateway_lambda_envvariables")
    cognito = boto3.client("cognito-idp")
    pool, client = cloud.physical_id("rUserPool"), cloud.physical_id("rAmplifyCognitoClient")
    described = cognito.describe_user_pool(UserPoolId=pool)["UserPool"]      # the template's pool, made in moto
    assert described["UsernameAttributes"] == ["email"]
    assert described["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    # The README: an administrator creates the user (AllowAdminCreateUserOnly), who signs in through the client.
    email = "ana@example.com"
    cognito.admin_create_user(UserPoolId=pool, Username=email, MessageAction="SUPPRESS", UserAttributes=[
        {"Name": "email", "Value": email}, {"Name": "given_name", "Value": "Ana"},
        {"Name": "family_name", "Value": "Lima"}])
    cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password="Corr3ct-horse!", Permanent=True)
    tokens = cognito.initiate_auth(ClientId=client, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={
        "USERNAME": email, "PASSWORD": "Corr3ct-horse!"})["AuthenticationResult"]
    url = cloud.api_url("myAPI") + "/dev/lambdaExample"
    answer = requests.get(url, headers={"Authorization": tokens["IdToken"]}, timeout=20)
    assert answer.status_code == 200 and answer.text == "OK"
    [call] = invocations
    claims = call["event"]["requestContext"]["authorizer"]["claims"]
    assert claims["email"] == email and claims["aud"] == client and claims["token_use"] == "id"
    assert claims["iss"] == f"https://cognito-idp.us-east-1.amazonaws.com/{pool}"
    assert claims["exp"].endswith(" UTC " + claims["exp"][-4:])            # "Tue Jul 07 14:23:33 UTC 2020"
    # Refused before the function: no token, the access token (no AuthorizationScopes: ID tokens only), a token of
    # another pool, an expired one and one for a client the pool does not have (both signed with moto's key).
    other = cognito.create_user_pool(PoolName="other")["UserPool"]["Id"]
    now = int(__import__("time").time())
    issuer = claims["iss"]
    refused = [None, tokens["AccessToken"], "not.a.jwt",
               moto_signed({"iss": issuer.replace(pool, other), "aud": client, "token_use": "id", "exp": now + 60}),
               moto_signed({"iss": issuer, "aud": client, "token_use": "id", "exp": now - 60}),
               moto_signed({"iss": issuer, "aud": "someoneelse", "token_use": "id", "exp": now + 60})]
    for token in refused:
        denied = requests.get(url, headers={"Authorization": token} if token else {}, timeout=20)
        assert denied.status_code == 401 and denied.json() == {"message": "Unauthorized"}, token
    assert len(invocations) == 1
    assert requests.get(url, headers={"Authorization": moto_signed(
        {"iss": issuer, "aud": client, "token_use": "id", "exp": now + 60})}, timeout=20).status_code == 200
    assert not [line for line in cloud.not_emulated if "authorizer" in line or "Cognito" in line]


def test_websocket_connect_is_acknowledged_through_the_management_api(start_cloud):
    # README: connect (wscat) to the WebSocketURL output. $connect's function invokes WebsocketPostToConnectionId
    # (InvocationType Event) with "https://" + domainName + "/" + stage of its event; that one gets the connection
    # through the Management API at that https URL (localcloud's worker sends it to the gateway over http) and posts
    # its greeting to the client. Closing runs $disconnect's function.
    folder = PATTERNS / "apigw-websocket-ack-connect-route"
    cloud, invocations = run(start_cloud, folder)
    url = cloud.stack.outputs()["WebSocketURL"]     # wss://${WebSocketApi}.execute-api...amazonaws.com/${Stage}
    assert url == cloud.ws_url("WebSocketApi") == f"ws://127.0.0.1:{cloud.ws['WebSocketApi'].port}/prod"
    with connect(url, open_timeout=20) as ws:
        assert ws.recv(timeout=30) == "Hello XXX, we are now connected!! "
        [connected] = [c for c in invocations if c["function"] == "OnConnectLambdaFunction"]
        connection_id = connected["event"]["requestContext"]["connectionId"]
        posted = wait_for(lambda: [c for c in invocations
                                   if c["function"] == "PostLambdaFunction" and c["error_type"] is None], timeout=20)
        assert posted[-1]["event"] == {"url": "https" + url[len("ws"):], "connectionId": connection_id}
    [closed] = wait_for(lambda: [c for c in invocations if c["function"] == "OnDisconnectLambdaFunction"], timeout=20)
    assert closed["error_type"] is None
    assert closed["event"]["requestContext"]["connectionId"] == connection_id
