"""Cognito user pools of the template (templates/cognito/): created in the endpoint (moto), their tokens checked by a
REST API's Cognito authorizer and by an HTTP API's JWT authorizer whose issuer is the pool, against the endpoint's
keys of the pool (no internet)."""
from pathlib import Path

import boto3
import pytest
import requests

TEMPLATE = Path(__file__).resolve().parent / "templates" / "cognito"
pytestmark = pytest.mark.timeout(120)
PASSWORD = "Corr3ct-horse!"


@pytest.fixture(scope="module")
def cloud(start_cloud):
    return start_cloud(template=TEMPLATE, isolated=False)


@pytest.fixture(scope="module")
def tokens(cloud):
    """The id and access tokens of a user of the template's pool, signed in through the template's client."""
    cognito = boto3.client("cognito-idp")
    pool = cloud.physical_id("Pool")
    cognito.admin_create_user(UserPoolId=pool, Username="bea", MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": "bea@example.com"}])
    cognito.admin_set_user_password(UserPoolId=pool, Username="bea", Password=PASSWORD, Permanent=True)
    return cognito.initiate_auth(ClientId=cloud.physical_id("Client"), AuthFlow="USER_PASSWORD_AUTH",
                                 AuthParameters={"USERNAME": "bea", "PASSWORD": PASSWORD})["AuthenticationResult"]


def get(cloud, api, path, token=None):
    headers = {"Authorization": token} if token else {}
    return requests.get(cloud.api_url(api) + path, headers=headers, timeout=20)


def test_the_templates_pool_and_client_are_made_in_the_endpoint(cloud):
    cognito = boto3.client("cognito-idp")
    pool = cognito.describe_user_pool(UserPoolId=cloud.physical_id("Pool"))["UserPool"]
    assert pool["Name"] == f"{cloud.stack_name}-users" and pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 8
    client = cognito.describe_user_pool_client(UserPoolId=pool["Id"], ClientId=cloud.physical_id("Client"))
    assert client["UserPoolClient"]["AccessTokenValidity"] == 1          # "1" in the template: the API's integer
    env = cloud.stack.functions()["Echo"].environment
    assert env["POOL_ID"] == pool["Id"] and env["CLIENT_ID"] == cloud.physical_id("Client")
    assert not [line for line in cloud.not_emulated if "Users" in line or "Cognito" in line]


def test_rest_cognito_authorizer_takes_id_tokens_and_passes_the_claims(cloud, tokens):
    answer = get(cloud, "Rest", "/v1/me", tokens["IdToken"])
    assert answer.status_code == 200
    claims = answer.json()["authorizer"]["claims"]
    assert claims["cognito:username"] == "bea" and claims["iss"].endswith("/" + cloud.physical_id("Pool"))
    assert claims["token_use"] == "id" and claims["aud"] == cloud.physical_id("Client")
    for token in (None, tokens["AccessToken"], tokens["IdToken"] + "x", "Bearer"):
        refused = get(cloud, "Rest", "/v1/me", token)
        assert refused.status_code == 401 and refused.json() == {"message": "Unauthorized"}
        assert refused.headers["x-amzn-ErrorType"] == "UnauthorizedException"


def test_rest_cognito_authorizer_with_scopes_takes_access_tokens_granting_one(cloud, tokens):
    answer = get(cloud, "Rest", "/v1/admin", tokens["AccessToken"])
    assert answer.status_code == 200
    assert answer.json()["authorizer"]["claims"]["scope"] == "aws.cognito.signin.user.admin"
    assert get(cloud, "Rest", "/v1/admin", tokens["IdToken"]).status_code == 401


def test_http_jwt_authorizer_with_the_pool_as_issuer_uses_the_endpoints_keys(cloud, tokens):
    for token in (tokens["IdToken"], "Bearer " + tokens["AccessToken"]):
        answer = get(cloud, "Http", "/me", token)
        assert answer.status_code == 200
        assert answer.json()["authorizer"]["jwt"]["claims"]["sub"]
    for token in (None, tokens["IdToken"][:-2]):
        refused = get(cloud, "Http", "/me", token)
        assert refused.status_code == 401 and refused.json() == {"message": "Unauthorized"}
