"""APIs written as CloudFormation resources, no SAM events (templates/raw_apis/): a REST API of RestApi, Resource and
Method (AWS_PROXY to a template function, {id}, {proxy+}, ANY, a Cognito authorizer, the Stage's name) and HTTP APIs
of ApiGatewayV2 Api, Route and Integration (and a quick-create Target), served like SAM's; the MOCK method named."""
from pathlib import Path

import boto3
import pytest
import requests

TEMPLATE = Path(__file__).resolve().parent / "templates" / "raw_apis"
pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def cloud(start_cloud):
    return start_cloud(template=TEMPLATE, isolated=False)


def get(cloud, api, path, method="GET", **kwargs):
    answer = requests.request(method, cloud.api_url(api) + path, timeout=20, **kwargs)
    return answer.status_code, (answer.json() if answer.content else None)


def test_rest_api_resources_and_methods_route_to_the_function(cloud):
    status, seen = get(cloud, "Raw", "/api/items")
    assert status == 200 and seen["resource"] == "/items" and seen["stage"] == "api"
    status, seen = get(cloud, "Raw", "/api/items/42", method="DELETE")          # ANY
    assert status == 200 and seen["resource"] == "/items/{id}" and seen["pathParameters"] == {"id": "42"}
    assert seen["httpMethod"] == "DELETE"
    status, seen = get(cloud, "Raw", "/api/deep/down/there", method="PUT")
    assert status == 200 and seen["resource"] == "/{proxy+}" and seen["pathParameters"] == {"proxy": "deep/down/there"}


def test_what_is_not_routed_is_named_and_answers_as_a_missing_route(cloud):
    assert get(cloud, "Raw", "/api/") == (403, {"message": "Missing Authentication Token"})   # the MOCK method
    assert cloud.not_emulated == ["method RootMock of Raw is not emulated locally: only AWS_PROXY integrations with "
                                  "a template function are routed (Type MOCK)"]


def test_rest_method_with_a_cognito_authorizer_resource(cloud):
    assert get(cloud, "Raw", "/api/private") == (401, {"message": "Unauthorized"})
    cognito = boto3.client("cognito-idp")
    pool = cloud.physical_id("Pool")
    cognito.admin_create_user(UserPoolId=pool, Username="cy", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool, Username="cy", Password="Corr3ct-horse!", Permanent=True)
    tokens = cognito.initiate_auth(ClientId=cloud.physical_id("PoolClient"), AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": "cy", "PASSWORD": "Corr3ct-horse!"})
    status, seen = get(cloud, "Raw", "/api/private", headers={"Authorization": tokens["AuthenticationResult"][
        "IdToken"]})
    assert status == 200 and seen["authorizer"]["claims"]["cognito:username"] == "cy"


def test_http_api_routes_and_integrations_route_to_the_function(cloud):
    status, seen = get(cloud, "RawHttp", "/items/7")
    assert status == 200 and seen["routeKey"] == "GET /items/{id}" and seen["pathParameters"] == {"id": "7"}
    status, seen = get(cloud, "RawHttp", "/anything", method="POST")
    assert status == 200 and seen["routeKey"] == "$default" and seen["rawPath"] == "/anything"
    status, seen = get(cloud, "Quick", "/x/y")                  # the Api's own Target: its $default route
    assert status == 200 and seen["routeKey"] == "$default"
