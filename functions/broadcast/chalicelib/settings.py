"""broadcast's settings, read from the environment the template sets, once per cold start.

Two parts, each loaded where it is used: `load()` for every function (the site, the queue, retries) and
`chatapp()` for the functions that call ChatApp (the web function gets no ChatApp credentials). A missing
or malformed value raises SettingError naming the variable; nothing defaults to a local address.
"""
from dataclasses import dataclass
from urllib.parse import quote

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


@dataclass(frozen=True)
class ChatAppSettings:
    base_url: str
    email: str
    password: str
    app_id: str
    license_id: str
    public_url: str           # BROADCAST_PUBLIC_URL: where ChatApp reaches our webhook ("" : not registered)
    webhook_secret: str

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


def read(environ=None):
    """The product's settings from a mapping (default os.environ), checked."""
    env = Reader(environ)
    return Settings(
        user=env.text("BROADCAST_USER", "admin"),
        password=env.text("BROADCAST_PASSWORD", ""),
        webhook_secret=env.text("BROADCAST_WEBHOOK_SECRET", ""),
        queue_url=env.text("BROADCAST_QUEUE_URL"),
        default_region=env.text("BROADCAST_DEFAULT_REGION", "RU").upper(),
        delay_range=parse_delay_range(env.text("BROADCAST_DELAY_RANGE", DEFAULT_DELAY_RANGE)),
        max_receives=env.integer("BROADCAST_MAX_RECEIVES", 5, minimum=1),
    )


def read_chatapp(environ=None):
    """The ChatApp client's settings from a mapping (default os.environ), checked."""
    env = Reader(environ)
    return ChatAppSettings(
        base_url=env.url("CHATAPP_BASE_URL"),
        email=env.text("CHATAPP_EMAIL"),
        password=env.text("CHATAPP_PASSWORD"),
        app_id=env.text("CHATAPP_APP_ID"),
        license_id=env.text("CHATAPP_LICENSE_ID"),
        public_url=env.url("BROADCAST_PUBLIC_URL", ""),
        webhook_secret=env.text("BROADCAST_WEBHOOK_SECRET", ""),
    )


load = once(read)
chatapp = once(read_chatapp)
