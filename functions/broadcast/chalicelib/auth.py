"""HTTP basic auth for the whole site and a per-deployment token against cross-site form posts."""
import base64
import binascii
import hashlib
import hmac

from common.passwords import same


def basic_ok(settings, header):
    """True if the Authorization header carries the configured user and password (constant time)."""
    if not settings.password or not header or not header[:6].lower() == "basic ":
        return False
    try:
        user, sep, password = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    # Both comparisons always run, so the time taken does not tell which part was wrong.
    user_ok = same(user, settings.user)
    password_ok = same(password, settings.password)
    return bool(sep) and user_ok and password_ok


def csrf_token(settings):
    """A token only pages of this site can know: browsers send basic-auth credentials cross-site too."""
    key = settings.password.encode("utf-8")
    return hmac.new(key, f"broadcast-form|{settings.user}".encode("utf-8"), hashlib.sha256).hexdigest()


def csrf_ok(settings, given):
    """True if a posted form carries this site's token."""
    return bool(settings.password) and same(given or "", csrf_token(settings))
