"""Public Python SAM templates of API Gateway features (README.md here): Lambda authorizers, API keys, CORS and
WebSocket APIs, each started on the local cloud and called over real HTTP / WebSocket as its README (or the
project's own integration tests) says, with API Gateway's answers."""
from pathlib import Path

import boto3
import pytest
import requests

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
