"""Secret settings (keys, passwords, tokens) read from the platform's Secrets Manager secret.

On AWS the template keeps every secret in one Secrets Manager secret (a JSON object) and gives
functions only its id in PLATFORM_SECRETS, so no secret sits in a function's environment, where the
console, `get-function-configuration` and crash dumps show it. It is fetched once per cold start.
Without PLATFORM_SECRETS (direct calls in tests, scripts) the same names are read from the environment.
"""
import functools
import json
import os

from . import aws


class SecretMissing(RuntimeError):
    """A secret setting is not configured; the message names it (never its value)."""


@functools.lru_cache(maxsize=4)
def _load(secret_id):
    text = aws.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    values = json.loads(text)
    if not isinstance(values, dict):
        raise SecretMissing(f"the secret {secret_id} must hold a JSON object")
    return values


def get(name, required=True, environ=None):
    """The secret setting `name` ("" or None values count as missing). `environ` (default os.environ) names the
    secret in PLATFORM_SECRETS, or holds the value itself when it names none."""
    environ = os.environ if environ is None else environ
    secret_id = environ.get("PLATFORM_SECRETS")
    value = _load(secret_id).get(name) if secret_id else environ.get(name)
    if value in (None, "") and required:
        where = f"the secret {secret_id}" if secret_id else "the environment"
        raise SecretMissing(f"{name} is not set in {where}")
    return value or None


def forget():
    """Drop the cached secret (tests; a rotated secret on the next cold start anyway)."""
    _load.cache_clear()
