"""code_check's settings, read and checked once per cold start (the template gives every value)."""
from dataclasses import dataclass

from common.settings import Reader, SettingError, once


@dataclass(frozen=True)
class Settings:
    bucket: str
    queue_url: str
    sender: str
    public_url: str
    batch_size: int
    flake8_jobs: int
    session_days: int
    claim_seconds: int
    # Report e-mails per account and day (a platform-written report still carries the user's text).
    daily_emails: int = 50
    # Accounts registered from one client address per hour.
    registrations_per_hour: int = 5
    # SES calls for one report before its e-mail is given up (counted in checks.email_attempts, not SQS receives).
    email_attempts: int = 5
    # The account deletions' queue (accounts/deletion.py): the web function sends, the checker re-sends.
    deletions_queue_url: str = None


def read(environ=None):
    """The settings in `environ` (the process environment by default); SettingError names a bad one."""
    env = Reader(environ)
    return Settings(
        bucket=env.text("CODE_CHECK_BUCKET"),
        queue_url=env.url("CODE_CHECK_QUEUE_URL"),
        sender=env.text("CODE_CHECK_SENDER"),
        # The notifier's links. The web function has none (its API's id in its own environment is a circular
        # dependency on AWS): it answers with the base URL each request came in through (routes.shared.site_url).
        public_url=env.url("CODE_CHECK_PUBLIC_URL", None),
        batch_size=env.integer("CODE_CHECK_BATCH_SIZE", 200, 1, 5000),
        flake8_jobs=env.integer("CODE_CHECK_FLAKE8_JOBS", 2, 1, 64),
        session_days=env.integer("CODE_CHECK_SESSION_DAYS", 14, 1, 365),
        # Longer than the notifier's timeout: an older claim belongs to an invocation that is over.
        claim_seconds=env.integer("CODE_CHECK_EMAIL_CLAIM_SECONDS", 120, 5, 3600),
        daily_emails=env.integer("CODE_CHECK_DAILY_EMAILS", 50, 1, 100000),
        registrations_per_hour=env.integer("CODE_CHECK_REGISTRATIONS_PER_HOUR", 5, 1, 100000),
        email_attempts=env.integer("CODE_CHECK_EMAIL_ATTEMPTS", 5, 1, 50),
        deletions_queue_url=env.url("CODE_CHECK_DELETIONS_QUEUE_URL", None),
    )


@once
def load():
    """The process's settings, read once per cold start (load.cache_clear() forgets them)."""
    return read()


def for_notifier():
    """load() for the notifier, whose e-mails link to the site: CODE_CHECK_PUBLIC_URL must be set."""
    found = load()
    if not found.public_url:
        raise SettingError("CODE_CHECK_PUBLIC_URL is not set: the report e-mails link to the site")
    return found
