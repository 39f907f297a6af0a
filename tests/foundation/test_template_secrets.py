"""No NoEcho parameter (database URLs, keys, passwords) reaches a function's environment, where
`lambda:GetFunctionConfiguration` shows it: secrets go into the PlatformSecrets secret, read at cold start."""
import json
from pathlib import Path

import pytest

from localcloud.template import SUB_VAR, Stack, load, with_globals

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


def referenced_parameters(value, parameters):
    """The parameters an (unresolved) template value mentions, in every branch of !If, through !Ref, !Sub
    (short and long form, variables map included) and anything nested (!Join, !Select, ...)."""
    found = set()
    if isinstance(value, list):
        for item in value:
            found |= referenced_parameters(item, parameters)
    elif isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str) and arg in parameters:
                found.add(arg)
            elif key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1] if len(arg) > 1 else {})
                found |= {name for name in SUB_VAR.findall(text)
                          if name in parameters and name not in variables and not name.startswith("!")}
                found |= referenced_parameters(variables, parameters)
            else:
                found |= referenced_parameters(arg, parameters)
    return found


def no_echo(template):
    return {name for name, spec in template.get("Parameters", {}).items() if spec.get("NoEcho")}


def function_environments(template):
    merged = with_globals(template)
    return {logical: res["Properties"].get("Environment", {}).get("Variables", {})
            for logical, res in merged["Resources"].items() if res.get("Type") == "AWS::Serverless::Function"}


def test_the_checker_sees_every_way_a_parameter_reaches_a_value():
    params = {"DatabaseUrl", "Plain"}
    assert referenced_parameters({"Ref": "DatabaseUrl"}, params) == {"DatabaseUrl"}
    assert referenced_parameters({"Fn::Sub": "x${DatabaseUrl}y"}, params) == {"DatabaseUrl"}
    assert referenced_parameters({"Fn::Sub": ["${Url}", {"Url": {"Ref": "DatabaseUrl"}}]}, params) == {"DatabaseUrl"}
    assert referenced_parameters({"Fn::Join": ["", ["a", {"Ref": "DatabaseUrl"}]]}, params) == {"DatabaseUrl"}
    assert referenced_parameters({"Fn::If": ["C", "x", {"Ref": "DatabaseUrl"}]}, params) == {"DatabaseUrl"}
    assert referenced_parameters({"Fn::Sub": "${!DatabaseUrl} ${Plain}"}, params) == {"Plain"}
    assert referenced_parameters({"Ref": "SomeQueue"}, params) == set()


def test_no_noecho_parameter_in_any_function_environment():
    template = load(TEMPLATE)
    secret = no_echo(template)
    assert {"DatabaseUrl", "MysqlUrl", "SecretKey"} <= secret
    leaks = {logical: sorted(referenced_parameters(env, secret))
             for logical, env in function_environments(template).items()}
    assert {k: v for k, v in leaks.items() if v} == {}


def test_resolved_environments_hold_no_secret_value_and_the_secret_holds_them():
    # The same, as the local cloud resolves the template: a distinct value per NoEcho parameter, looked for in
    # every function's resolved environment, and found in the platform's secret instead.
    template = load(TEMPLATE)
    values = {name: f"sentinel-{name}-value" for name in no_echo(template)}
    stack = Stack(TEMPLATE, parameters=values)
    functions = stack.functions()
    assert functions
    for logical, fn in functions.items():
        shown = json.dumps(fn.environment)
        assert not [name for name, value in values.items() if value in shown], logical
        assert fn.environment["PLATFORM_SECRETS"].startswith("arn:aws:secretsmanager:")
    (_name, text, _generated), = stack.secrets()
    stored = json.loads(text)
    assert stored["DATABASE_URL"] == values["DatabaseUrl"] and stored["MYSQL_URL"] == values["MysqlUrl"]


@pytest.mark.parametrize("logical", sorted(function_environments(load(TEMPLATE))))
def test_every_function_may_read_the_secret_it_is_given(logical):
    # Every function opens a database, whose URL is only in the secret: each needs GetSecretValue on it.
    props = with_globals(load(TEMPLATE))["Resources"][logical]["Properties"]
    assert props["Environment"]["Variables"]["PLATFORM_SECRETS"] == {"Ref": "PlatformSecrets"}
    assert {"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"Ref": "PlatformSecrets"}}} in \
        props.get("Policies", [])
