"""broadcast's settings, read from the environment the template sets, once per cold start.

Two parts, each loaded where it is used: `load()` for every function (the site, the queue, retries) and
`chatapp()` for the functions that call ChatApp (the web function gets no ChatApp credentials). A missing
or malformed value raises SettingError naming the variable; nothing defaults to a local address.
The secret ones (BROADCAST_PASSWORD, BROADCAST_WEBHOOK_SECRET, CHATAPP_PASSWORD) come from the platform's
Secrets Manager secret (common.secrets), never from the function's environment.
"""
from dataclasses import dataclass, field
from urllib.parse import quote

from common import secretbox, secrets
from common.settings import Reader, SettingError, once

DEFAULT_DELAY_RANGE = "5-50"


@dataclass(frozen=True)
class Settings:
    user: str                 # BROADCAST_USER / BROADCAST_PASSWORD: the site's basic auth
    password: str             # empty: nobody can sign in (the page says which parameter to set)
    webhook_secret: str       # BROADCAST_WEBHOOK_SECRET: ?secret= of ChatApp's status callbacks
    queue_url: str            # BROADCAST_QUEUE_URL
    default_region: str       # numbers without a country code are read as this region
    delay_range: tuple        # (low, high) seconds of random delay per message
    max_receives: int         # the queue's maxReceiveCount: the last receive records "not sent"
    stranded_after: int       # BROADCAST_STRANDED_AFTER_MINUTES: unqueued recipients this old are queued again
    # BROADCAST_MESSAGE_RETENTION_SECONDS = the send queue's MessageRetentionPeriod: a recipient still queued this
    # long after its message was sent has no message left to arrive (expiry.py); at least twice the retry span.
    message_retention: int


@dataclass(frozen=True)
class ChatAppSettings:
    base_url: str
    email: str
    password: str
    app_id: str
    license_id: str
    public_url: str           # BROADCAST_PUBLIC_URL: where ChatApp reaches our webhook ("" : not registered)
    webhook_secret: str
    # SECRET_KEY (the template's SecretKey): the tokens are stored encrypted with it. Checked here, at cold start:
    # found missing only when the first token is read, it failed after a recipient was claimed (-> 'unknown').
    secret_key: str = field(repr=False, default="")

    @property
    def callback_url(self):
        """Where ChatApp posts messageStatus events (the secret travels in the query string)."""
        return f"{self.public_url.rstrip('/')}/webhooks/chatapp?secret={quote(self.webhook_secret, safe='')}"


def parse_delay_range(text, name="BROADCAST_DELAY_RANGE"):
    """'5-50' -> (5, 50); SQS allows 0-900 seconds."""
    try:
        low, high = (int(part) for part in str(text).replace(" ", "").split("-", 1))
    except ValueError:
        raise SettingError(f"{name} must look like 5-50, not {text!r}") from None
    if not 0 <= low <= high <= 900:
        raise SettingError(f"{name} must satisfy 0 <= low <= high <= 900, not {text!r}")
    return low, high


def _secret(environ, name, required=False):
    try:
        return secrets.get(name, required=required, environ=environ) or ""
    except secrets.SecretMissing as exc:
        raise SettingError(str(exc)) from None


def read(environ=None):
    """The product's settings from a mapping (default os.environ), checked."""
    env = Reader(environ)
    return Settings(
        user=env.text("BROADCAST_USER", "admin"),
        password=_secret(env.environ, "BROADCAST_PASSWORD"),
        webhook_secret=_secret(env.environ, "BROADCAST_WEBHOOK_SECRET"),
        queue_url=env.text("BROADCAST_QUEUE_URL"),
        default_region=env.text("BROADCAST_DEFAULT_REGION", "RU").upper(),
        delay_range=parse_delay_range(env.text("BROADCAST_DELAY_RANGE", DEFAULT_DELAY_RANGE)),
        max_receives=env.integer("BROADCAST_MAX_RECEIVES", 5, minimum=1),
        stranded_after=env.integer("BROADCAST_STRANDED_AFTER_MINUTES", 30, minimum=1, maximum=10080),
        message_retention=env.integer("BROADCAST_MESSAGE_RETENTION_SECONDS", 14400, minimum=60, maximum=1209600),
    )


def read_chatapp(environ=None):
    """The ChatApp client's settings from a mapping (default os.environ), checked."""
    env = Reader(environ)
    return ChatAppSettings(
        base_url=env.url("CHATAPP_BASE_URL"),
        email=env.text("CHATAPP_EMAIL"),
        password=_secret(env.environ, "CHATAPP_PASSWORD", required=True),
        app_id=env.text("CHATAPP_APP_ID"),
        license_id=env.text("CHATAPP_LICENSE_ID"),
        public_url=env.url("BROADCAST_PUBLIC_URL", ""),
        webhook_secret=_secret(env.environ, "BROADCAST_WEBHOOK_SECRET"),
        secret_key=_secret_key(env.environ),
    )


def _secret_key(environ):
    key = _secret(environ, "SECRET_KEY", required=True)
    if not secretbox.valid_key(key):
        raise SettingError("SECRET_KEY is not a Fernet key (32 url-safe base64-encoded bytes; the template's "
                           "SecretKey parameter)")
    return key


@once
def load():
    """The product's settings, read and checked once per cold start."""
    return read()


@once
def chatapp():
    """The ChatApp client's settings, read and checked once per cold start (only where ChatApp is called)."""
    return read_chatapp()
