"""Provider presets and validation of the "add a mailbox" form/API input."""
import re
from dataclasses import dataclass, field

from common.i18n import N_
from common.web import bad_request

# (host, port, SSL) of each preset; "custom" takes them from the form.
PRESETS = {
    "gmail.com": ("imap.gmail.com", 993, True),
    "yandex.ru": ("imap.yandex.ru", 993, True),
    "mail.ru": ("imap.mail.ru", 993, True),
}
CUSTOM = "custom"
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")


@dataclass
class AccountInput:
    """A validated account, password still in clear (encrypted before it is stored)."""
    provider: str
    host: str
    port: int
    use_ssl: bool
    login: str
    password: str = field(repr=False)
    folders: list


def _flag(value):
    return str(value).strip().lower() in ("1", "true", "on", "yes")


def _folders(value):
    """A list of folder names from a list or from text with one name per line or comma-separated."""
    if isinstance(value, list):
        names = [str(v) for v in value]
    else:
        names = re.split(r"[\n,]", str(value or ""))
    return [n.strip() for n in names if n.strip()]


def parse_account(data):
    """An AccountInput from form or JSON fields; AppError(400) naming the field to fix otherwise."""
    provider = str(data.get("provider") or "").strip().lower()
    login = str(data.get("login") or "").strip()
    password = str(data.get("password") or "")
    if not login:
        raise bad_request(N_("Enter the mailbox login."), field="login")
    if not password:
        raise bad_request(N_("Enter the mailbox password."), field="password")
    if provider in PRESETS:
        host, port, use_ssl = PRESETS[provider]
    elif provider == CUSTOM:
        host = str(data.get("host") or "").strip()
        if not _HOST.match(host):
            raise bad_request(N_("Enter the IMAP server's host name."), field="host")
        try:
            port = int(str(data.get("port") or "").strip())
        except ValueError:
            raise bad_request(N_("The port must be a number."), field="port") from None
        if not 1 <= port <= 65535:
            raise bad_request(N_("The port must be between 1 and 65535."), field="port")
        use_ssl = _flag(data.get("ssl", False))
    else:
        raise bad_request(N_("Choose a provider: %(choices)s."), field="provider",
                          choices=", ".join(list(PRESETS) + [CUSTOM]))
    folders = _folders(data.get("folders"))
    if len(folders) > 20:
        raise bad_request(N_("At most 20 folders."), field="folders")
    return AccountInput(provider, host, port, use_ssl, login, password, folders)


MAX_SYNC_MINUTES = 10080   # a week
MAX_PASSWORD = 1000


def sync_minutes(data):
    """The sync interval from {"minutes": N | null | "off"}: minutes, or None for off."""
    value = data.get("minutes")
    if value is None or str(value).strip().lower() in ("", "off", "0"):
        return None
    text = str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_SYNC_MINUTES:
        raise bad_request(N_("The sync interval must be a number of minutes from 1 to %(max)s, or off."),
                          field="minutes", max=MAX_SYNC_MINUTES)
    return int(text)


def new_password(data):
    """The replacement password, checked like the form's."""
    password = data.get("password")
    if not isinstance(password, str) or not password:
        raise bad_request(N_("Enter the mailbox password."), field="password")
    if len(password) > MAX_PASSWORD or "\x00" in password:
        raise bad_request(N_("The password is too long."), field="password")
    return password
