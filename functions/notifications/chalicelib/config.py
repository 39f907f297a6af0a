"""Settings of each notifications function, read and checked once per cold start (names in errors)."""
from dataclasses import dataclass

from common import secrets
from common.settings import Reader, SettingError, once


@dataclass(frozen=True)
class ApiSettings:
    dispatch_queue_url: str
    dispatcher_arn: str
    scheduler_role_arn: str
    schedule_group: str
    schedule_prefix: str
    token_hours: int


@dataclass(frozen=True)
class DispatchSettings:
    send_queue_url: str
    lease_seconds: int


@dataclass(frozen=True)
class SenderSettings:
    send_queue_url: str
    provider_url: str
    provider_jwt: str
    connect_timeout: float
    read_timeout: float
    max_attempts: int
    claim_seconds: int


@dataclass(frozen=True)
class ReportSettings:
    sender: str
    recipients: tuple


@once
def api():
    env = Reader()
    return ApiSettings(
        dispatch_queue_url=env.url("NOTIFICATIONS_DISPATCH_QUEUE_URL"),
        dispatcher_arn=env.text("NOTIFICATIONS_DISPATCHER_ARN"),
        scheduler_role_arn=env.text("NOTIFICATIONS_SCHEDULER_ROLE_ARN"),
        schedule_group=env.text("NOTIFICATIONS_SCHEDULE_GROUP", "default"),
        # Schedule names (64 characters at most, with "-mailing-<id>") are unique per account and group:
        # the stack name keeps two stacks apart.
        schedule_prefix=env.text("NOTIFICATIONS_SCHEDULE_PREFIX", max_length=36),
        token_hours=env.integer("NOTIFICATIONS_TOKEN_HOURS", 12, 1, 24 * 30))


@once
def dispatch():
    env = Reader()
    return DispatchSettings(send_queue_url=env.url("NOTIFICATIONS_SEND_QUEUE_URL"),
                            lease_seconds=env.integer("NOTIFICATIONS_DISPATCH_LEASE_SECONDS", 300, 10, 3600))


@once
def sender():
    env = Reader()
    return SenderSettings(
        send_queue_url=env.url("NOTIFICATIONS_SEND_QUEUE_URL"),
        provider_url=env.url("PROVIDER_BASE_URL"),
        provider_jwt=_secret("PROVIDER_JWT"),
        connect_timeout=env.number("PROVIDER_CONNECT_TIMEOUT", 3, 0.1, 30),
        read_timeout=env.number("PROVIDER_READ_TIMEOUT", 10, 0.1, 60),
        max_attempts=env.integer("NOTIFICATIONS_MAX_ATTEMPTS", 5, 1, 50),
        # Longer than the sender's whole call; a claim older than this was left by a sender that died.
        claim_seconds=env.integer("NOTIFICATIONS_CLAIM_SECONDS", 90, 5, 43200))


@once
def report():
    env = Reader()
    return ReportSettings(sender=env.text("NOTIFICATIONS_REPORT_SENDER"),
                          recipients=env.items("NOTIFICATIONS_REPORT_RECIPIENTS"))


def _secret(name):
    """A secret setting, from the platform's Secrets Manager secret (never the function's environment)."""
    try:
        return secrets.get(name)
    except secrets.SecretMissing as exc:
        raise SettingError(str(exc)) from None
