"""broadcast's secret settings live in the platform's Secrets Manager secret, never in a function's environment."""
import json

from localcloud.template import load

from broadcast_helpers import PASSWORD, SECRET

SECRET_NAMES = ("BROADCAST_PASSWORD", "BROADCAST_WEBHOOK_SECRET", "CHATAPP_PASSWORD")
BROADCAST_FUNCTIONS = ("BroadcastWebFunction", "BroadcastSenderFunction", "BroadcastMaintenanceFunction")


def test_no_broadcast_function_gets_a_secret_in_its_environment(cloud):
    values = {PASSWORD, SECRET, "emulator-password"}
    functions = cloud.stack.functions()
    for logical in BROADCAST_FUNCTIONS:
        environment = functions[logical].environment
        assert not set(SECRET_NAMES) & set(environment), logical
        assert not values & set(environment.values()), logical
        assert environment["PLATFORM_SECRETS"]


def test_the_platform_secret_holds_them_and_every_reader_may_read_it(cloud):
    [(name, text, _generated)] = cloud.stack.secrets()
    stored = json.loads(cloud.clients["secretsmanager"].get_secret_value(SecretId=name)["SecretString"])
    assert (stored["BROADCAST_PASSWORD"], stored["BROADCAST_WEBHOOK_SECRET"]) == (PASSWORD, SECRET)
    assert stored["CHATAPP_PASSWORD"] == "emulator-password"
    resources = load("template.yaml")["Resources"]
    for logical in BROADCAST_FUNCTIONS:
        policies = resources[logical]["Properties"]["Policies"]
        assert {"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"Ref": "PlatformSecrets"}}} in policies
