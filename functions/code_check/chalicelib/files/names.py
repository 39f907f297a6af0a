"""What an uploaded file must be: a .py name (a name, not a path), 1 byte to 1 MB, decodable Python source."""
import io
import posixpath
import tokenize
import unicodedata

from common.i18n import N_

MAX_BYTES = 1024 * 1024
# Linux (and S3 keys, mail headers) count a name in bytes: 200 Cyrillic letters are 400 of them.
MAX_NAME_BYTES = 255
# Files in one upload request, the form's and the API's alike.
MAX_FILES = 20


class Refused(Exception):
    """A file that is not accepted; message is a catalog msgid with %(name)s etc.; field is the part of the
    upload it is about ("name" or "content")."""

    def __init__(self, message, field="content", **params):
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params
        self.field = field


def clean_name(raw):
    """The base name of an uploaded file name, or Refused. Browsers and clients may send a path
    ("C:\\x\\a.py", "../a.py"); only the last part is kept. Control characters are refused."""
    name = (raw or "").replace("\\", "/")
    name = posixpath.basename(name).strip()
    if not name or name in (".", ".."):
        raise Refused(N_("A file without a name was refused: give it a name ending in .py."), field="name")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs") for ch in name):
        raise Refused(N_("%(name)s: the name contains control characters; rename the file."), field="name",
                      name=ascii(name)[1:-1])
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise Refused(N_("%(name)s: the name is longer than 255 bytes in UTF-8 (a letter outside English takes "
                         "2 to 4); rename the file."), field="name", name=name[:40] + "...")
    if not name.lower().endswith(".py") or name.lower() == ".py":
        raise Refused(N_("%(name)s: only Python files (names ending in .py) are accepted."), field="name",
                      name=name)
    return name


def check_content(name, data):
    """Refused unless data is 1 byte .. 1 MB of Python source in UTF-8 or its declared coding.
    Returns the number of lines."""
    if not data:
        raise Refused(N_("%(name)s: the file is empty."), name=name)
    if len(data) > MAX_BYTES:
        raise Refused(N_("%(name)s: the file is larger than 1 MB."), name=name)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        if "unknown encoding" in str(exc):
            raise Refused(N_("%(name)s: its coding line names an unknown encoding."), name=name) from None
        encoding = "utf-8"
    else:
        encoding = encoding.removesuffix("-sig")
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        raise Refused(N_("%(name)s: the file is not text in %(encoding)s; save it as UTF-8."),
                      name=name, encoding=encoding) from None
    return len(text.splitlines()) or 1


def accept(raw_name, data):
    """(clean name, line count) or Refused."""
    name = clean_name(raw_name)
    return name, check_content(name, data)
