"""notifications' settings, read from the environment the template sets, once per cold start.

One frozen dataclass for the four functions. Each function's template entry sets only what it uses, so
the values one function needs are checked where it starts (`load().need("send_queue_url", ...)`), and a
missing or malformed one raises SettingError naming the variable; nothing defaults to a local address.
PROVIDER_JWT comes from the platform's Secrets Manager secret (common.secrets), never the environment.
"""
from dataclasses import dataclass, field

from common import secrets
from common.settings import Reader, SettingError, once

# The variable behind each field that has one, for errors naming what is missing.
VARIABLES = {
    "dispatch_queue_url": "NOTIFICATIONS_DISPATCH_QUEUE_URL", "dispatcher_arn": "NOTIFICATIONS_DISPATCHER_ARN",
    "scheduler_role_arn": "NOTIFICATIONS_SCHEDULER_ROLE_ARN", "schedule_prefix": "NOTIFICATIONS_SCHEDULE_PREFIX",
    "send_queue_url": "NOTIFICATIONS_SEND_QUEUE_URL", "provider_url": "PROVIDER_BASE_URL",
    "provider_jwt": "PROVIDER_JWT", "report_sender": "NOTIFICATIONS_REPORT_SENDER",
}


@dataclass(frozen=True)
class Settings:
    token_hours: int = 12          # lifetime of a sign-in token
    # NOTIFICATIONS_OPERATOR_PASSWORD (a secret): the first operator's, created while there is none ("": never)
    first_operator_password: str = field(default="", repr=False)
    dispatch_queue_url: str = ""   # the API: immediate starts go to the dispatch queue
    dispatcher_arn: str = ""       # the API: a future start is a one-off schedule targeting the dispatcher
    scheduler_role_arn: str = ""
    schedule_group: str = "default"
    # Schedule names (64 characters at most, with "-mailing-<id>") are unique per account and group: the stack
    # name keeps two stacks apart.
    schedule_prefix: str = ""
    send_queue_url: str = ""       # the dispatcher and the sender
    lease_seconds: int = 300       # a dispatcher's lease on a mailing
    provider_url: str = ""         # the sender
    provider_jwt: str = field(default="", repr=False)
    connect_timeout: float = 3
    read_timeout: float = 10
    max_attempts: int = 5
    # Longer than the sender's whole call; a claim older than this was left by a sender that died.
    claim_seconds: int = 90
    report_sender: str = ""        # the daily report
    report_recipients: tuple = ()

    def need(self, *names):
        """self, once every named value is set; SettingError naming the first missing variable otherwise."""
        for name in names:
            if getattr(self, name) in ("", None):
                raise SettingError(f"{VARIABLES.get(name, name)} is not set")
        return self


def read(environ=None):
    """The settings from a mapping (default os.environ), checked."""
    env = Reader(environ)
    return Settings(
        token_hours=env.integer("NOTIFICATIONS_TOKEN_HOURS", 12, 1, 24 * 30),
        first_operator_password=secrets.get("NOTIFICATIONS_OPERATOR_PASSWORD", required=False,
                                            environ=env.environ) or "",
        dispatch_queue_url=env.url("NOTIFICATIONS_DISPATCH_QUEUE_URL", ""),
        dispatcher_arn=env.text("NOTIFICATIONS_DISPATCHER_ARN", ""),
        scheduler_role_arn=env.text("NOTIFICATIONS_SCHEDULER_ROLE_ARN", ""),
        schedule_group=env.text("NOTIFICATIONS_SCHEDULE_GROUP", "default"),
        schedule_prefix=env.text("NOTIFICATIONS_SCHEDULE_PREFIX", "", max_length=36),
        send_queue_url=env.url("NOTIFICATIONS_SEND_QUEUE_URL", ""),
        lease_seconds=env.integer("NOTIFICATIONS_DISPATCH_LEASE_SECONDS", 300, 10, 3600),
        provider_url=env.url("PROVIDER_BASE_URL", ""),
        provider_jwt=_secret(env.environ, "PROVIDER_JWT") if env.environ.get("PROVIDER_BASE_URL") else "",
        connect_timeout=env.number("PROVIDER_CONNECT_TIMEOUT", 3, 0.1, 30),
        read_timeout=env.number("PROVIDER_READ_TIMEOUT", 10, 0.1, 60),
        max_attempts=env.integer("NOTIFICATIONS_MAX_ATTEMPTS", 5, 1, 50),
        claim_seconds=env.integer("NOTIFICATIONS_CLAIM_SECONDS", 90, 5, 43200),
        report_sender=env.text("NOTIFICATIONS_REPORT_SENDER", ""),
        report_recipients=env.items("NOTIFICATIONS_REPORT_RECIPIENTS", ()))


def _secret(environ, name):
    """A secret setting, from the platform's Secrets Manager secret (never the function's environment)."""
    try:
        return secrets.get(name, environ=environ)
    except secrets.SecretMissing as exc:
        raise SettingError(str(exc)) from None


load = once(read)
