"""Reading a product's settings from the environment once per cold start, failing fast by name.

A product declares a frozen dataclass and builds it with a Reader:

    @dataclass(frozen=True)
    class Settings:
        database_url: str
        page_size: int

    @once
    def settings():
        env = Reader()
        return Settings(database_url=env.text("DATABASE_URL"), page_size=env.integer("PAGE_SIZE", 50, 1, 500))

There are no local defaults for anything that differs between machines (URLs, hosts, keys): the
template and the local cloud provide every value, so a missing one on AWS is an error, not localhost.
"""
import functools
import os
from urllib.parse import urlparse

MISSING = object()


class SettingError(RuntimeError):
    """A setting is missing or malformed; the message names it."""


def once(loader):
    """Cache a settings loader for the life of the execution environment (one read per cold start).
    `loader.cache_clear()` forgets it (tests that change the environment)."""
    return functools.lru_cache(maxsize=1)(loader)


class Reader:
    """Typed, checked access to environment variables; every error names the variable."""

    def __init__(self, environ=None):
        self.environ = os.environ if environ is None else environ

    def _raw(self, name, default):
        value = self.environ.get(name)
        if value is None or value == "":
            if default is MISSING:
                raise SettingError(f"{name} is not set")
            return default
        return value

    def text(self, name, default=MISSING, max_length=None):
        value = self._raw(name, default)
        if isinstance(value, str) and max_length is not None and len(value) > max_length:
            raise SettingError(f"{name} is longer than {max_length} characters")
        return value

    def integer(self, name, default=MISSING, minimum=None, maximum=None):
        value = self._raw(name, default)
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise SettingError(f"{name} must be a whole number, not {value!r}") from None
        return self._bounded(name, number, minimum, maximum)

    def number(self, name, default=MISSING, minimum=None, maximum=None):
        value = self._raw(name, default)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise SettingError(f"{name} must be a number, not {value!r}") from None
        return self._bounded(name, number, minimum, maximum)

    def flag(self, name, default=MISSING):
        value = self._raw(name, default)
        if isinstance(value, bool):
            return value
        lowered = str(value).strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise SettingError(f"{name} must be true or false, not {value!r}")

    def choice(self, name, choices, default=MISSING):
        value = self._raw(name, default)
        if value not in choices:
            raise SettingError(f"{name} must be one of {', '.join(sorted(choices))}, not {value!r}")
        return value

    def url(self, name, default=MISSING, schemes=("http", "https")):
        value = self._raw(name, default)
        if value is default and default is not MISSING:
            return value
        parts = urlparse(value)
        if parts.scheme not in schemes or not parts.netloc:
            raise SettingError(f"{name} must be a {'/'.join(schemes)} URL")
        return value.rstrip("/") if parts.scheme in ("http", "https") else value

    def items(self, name, default=MISSING, separator=","):
        """A comma-separated list, blanks dropped."""
        value = self._raw(name, default)
        if isinstance(value, (list, tuple)):
            return tuple(value)
        return tuple(part.strip() for part in str(value).split(separator) if part.strip())

    @staticmethod
    def _bounded(name, number, minimum, maximum):
        if minimum is not None and number < minimum:
            raise SettingError(f"{name} must be at least {minimum}, not {number}")
        if maximum is not None and number > maximum:
            raise SettingError(f"{name} must be at most {maximum}, not {number}")
        return number
