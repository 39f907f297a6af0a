"""Provider presets and validation of the "add a mailbox" form/API input."""
import json
import re
from dataclasses import dataclass, field

from common.i18n import N_
from common import validate
from common.web import AppError, bad_request

# (host, port, SSL) of each preset; "custom" takes them from the form.
PRESETS = {
    "gmail.com": ("imap.gmail.com", 993, True),
    "yandex.ru": ("imap.yandex.ru", 993, True),
    "mail.ru": ("imap.mail.ru", 993, True),
}
CUSTOM = "custom"
# Bounds of every field: generous for real mailboxes, small enough that no request stores megabytes.
MAX_PROVIDER_CHARS = 20
MAX_LOGIN_CHARS = 320          # an address: 64 + @ + 255
MAX_PASSWORD_CHARS = 1000
MAX_HOST_CHARS = 253
MAX_FOLDERS = 20
MAX_FOLDER_CHARS = 255
MAX_BODY_BYTES = 64 * 1024     # a form or JSON object holding all of the above
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
    """Folder names from a JSON array of strings, or from text with one name per line (the form). Text that
    is a list literal is read as a JSON array, so "['a', 'b']" is refused instead of stored as a name."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = validate.clean_text(value, "folders")
        stripped = value.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            try:
                value = json.loads(stripped)
            except ValueError:
                raise validate.refuse(validate.NOT_LIST, "folders", max=MAX_FOLDERS) from None
        else:
            value = [line for line in stripped.splitlines() if line.strip()]
    return validate.text_list(value, "folders", MAX_FOLDERS, MAX_FOLDER_CHARS)


def _text(data, name, max_chars):
    value = data.get(name)
    return validate.text(value if value is not None else "", name, max_chars, required=False, single_line=True,
                         strip=True)


def parse_account(data):
    """An AccountInput from form or JSON fields; AppError(400) naming the field to fix otherwise."""
    provider = _text(data, "provider", MAX_PROVIDER_CHARS).lower()
    login = _text(data, "login", MAX_LOGIN_CHARS)
    password = data.get("password")
    password = validate.text(password if password is not None else "", "password", MAX_PASSWORD_CHARS,
                             required=False)
    if not login:
        raise bad_request(N_("Enter the mailbox login."), field="login")
    if not password:
        raise bad_request(N_("Enter the mailbox password."), field="password")
    if provider in PRESETS:
        host, port, use_ssl = PRESETS[provider]
    elif provider == CUSTOM:
        host = _text(data, "host", MAX_HOST_CHARS)
        if not _HOST.match(host):
            raise bad_request(N_("Enter the IMAP server's host name."), field="host")
        port = data.get("port")
        if isinstance(port, str) and not port.strip().lstrip("+-").isdigit():
            raise bad_request(N_("The port must be a number."), field="port")
        port = validate.integer(port, "port", 1, 65535)
        use_ssl = _flag(data.get("ssl", False))
    else:
        raise bad_request(N_("Choose a provider: %(choices)s."), field="provider",
                          choices=", ".join(list(PRESETS) + [CUSTOM]))
    folders = _folders(data.get("folders"))
    return AccountInput(provider, host, port, use_ssl, login, password, folders)


MAX_SYNC_MINUTES = 10080   # a week
MAX_PASSWORD = 1000


def sync_minutes(data):
    """The sync interval from {"minutes": N | null | "off"}: minutes, or None for off."""
    value = data.get("minutes")
    if value is None or str(value).strip().lower() in ("", "off", "0"):
        return None
    try:
        return validate.integer(value, "minutes", 1, MAX_SYNC_MINUTES)
    except AppError:
        raise bad_request(N_("The sync interval must be a number of minutes from 1 to %(max)s, or off."),
                          field="minutes", max=MAX_SYNC_MINUTES) from None


def new_password(data):
    """The replacement password, checked like the form's."""
    password = data.get("password")
    if not isinstance(password, str) or not password:
        raise bad_request(N_("Enter the mailbox password."), field="password")
    if len(password) > MAX_PASSWORD or "\x00" in password:
        raise bad_request(N_("The password is too long."), field="password")
    return password
