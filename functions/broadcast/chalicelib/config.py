"""Settings of the broadcast product, read from the environment the template sets."""
import os
from dataclasses import dataclass

MAX_TEXT = 4096            # characters; WhatsApp allows a little more, this keeps room for safety
MAX_RECIPIENTS = 10000     # per broadcast: one form post
MAX_LIST_CHARS = 400000    # 10,000 generously formatted numbers fit; bounds the parsing work per post
DEFAULT_DELAY_RANGE = "5-50"


class ConfigError(ValueError):
    """A setting has a value we cannot use."""


@dataclass(frozen=True)
class Settings:
    user: str
    password: str
    webhook_secret: str
    public_url: str
    queue_url: str
    default_region: str
    delay_range: tuple
    max_receives: int
    chatapp_base_url: str
    chatapp_email: str
    chatapp_password: str
    chatapp_app_id: str
    chatapp_license_id: str

    @property
    def callback_url(self):
        """Where ChatApp posts messageStatus events (the secret travels in the query string)."""
        from urllib.parse import quote
        return f"{self.public_url.rstrip('/')}/webhooks/chatapp?secret={quote(self.webhook_secret, safe='')}"


def parse_delay_range(text):
    """'5-50' -> (5, 50); SQS allows 0-900 seconds."""
    try:
        low, high = (int(part) for part in str(text).replace(" ", "").split("-", 1))
    except ValueError:
        raise ConfigError(f"delay range must look like 5-50, got {text!r}") from None
    if not 0 <= low <= high <= 900:
        raise ConfigError(f"delay range must satisfy 0 <= low <= high <= 900, got {text!r}")
    return low, high


def load(env=None):
    """The settings from env (default os.environ)."""
    env = os.environ if env is None else env
    return Settings(
        user=env.get("BROADCAST_USER", "admin"),
        password=env.get("BROADCAST_PASSWORD", ""),
        webhook_secret=env.get("BROADCAST_WEBHOOK_SECRET", ""),
        public_url=env.get("BROADCAST_PUBLIC_URL", ""),
        queue_url=env.get("BROADCAST_QUEUE_URL", ""),
        default_region=(env.get("BROADCAST_DEFAULT_REGION") or "RU").upper(),
        delay_range=parse_delay_range(env.get("BROADCAST_DELAY_RANGE") or DEFAULT_DELAY_RANGE),
        max_receives=_positive_int(env.get("BROADCAST_MAX_RECEIVES") or "5", "BROADCAST_MAX_RECEIVES"),
        chatapp_base_url=(env.get("CHATAPP_BASE_URL") or "http://127.0.0.1:4001").rstrip("/"),
        chatapp_email=env.get("CHATAPP_EMAIL", ""),
        chatapp_password=env.get("CHATAPP_PASSWORD", ""),
        chatapp_app_id=env.get("CHATAPP_APP_ID", ""),
        chatapp_license_id=env.get("CHATAPP_LICENSE_ID", ""),
    )


def _positive_int(text, name):
    if not str(text).isdigit() or int(text) < 1:
        raise ConfigError(f"{name} must be a positive whole number, got {text!r}")
    return int(text)
