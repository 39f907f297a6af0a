"""Credentials out of what the console shows: a query-string value whose name looks like a credential
(mail_import's WebSocket URL carries the account's access token, ?token=, ?secret=, ?api_key= ...) is
replaced by MASK wherever a path or URL appears, in connection lists, log lines and invocation errors."""
import re
from urllib.parse import unquote_plus

MASK = "***"
# Parts of parameter names that mark a credential; matched anywhere in the lower-cased name (access_token,
# X-Amz-Signature, apiKey, client_secret, passwd ...). Masking a harmless value by mistake costs nothing.
CREDENTIAL_WORDS = ("token", "key", "secret", "passw", "pwd", "auth", "signature", "sig", "access", "credential",
                    "session", "jwt", "cookie", "otp", "code")
# name=value after "?" or "&" (or ";"), up to the next separator, fragment or whitespace; quotes end a value too,
# as a URL inside a repr or JSON text ends there.
_PARAMETER = re.compile(r"(?P<lead>[?&;])(?P<name>[^=&#\s?;\"'<>]+)=(?P<value>[^&#\s;\"'<>]*)")


def is_credential(name):
    name = unquote_plus(name).lower()
    return any(word in name for word in CREDENTIAL_WORDS)


def mask_query(text):
    """text with the value of every credential-looking query parameter replaced by MASK."""
    if not isinstance(text, str) or "=" not in text:
        return text

    def one(match):
        if match["value"] and is_credential(match["name"]):
            return f"{match['lead']}{match['name']}={MASK}"
        return match.group(0)
    return _PARAMETER.sub(one, text)


def mask_values(value):
    """mask_query applied to every string inside value (dicts and lists are copied, other values kept)."""
    if isinstance(value, str):
        return mask_query(value)
    if isinstance(value, dict):
        return {k: mask_values(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_values(v) for v in value]
    return value
