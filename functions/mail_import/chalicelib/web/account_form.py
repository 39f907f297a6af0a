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
