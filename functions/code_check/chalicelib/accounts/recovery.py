"""Forgotten passwords: a reset link by e-mail (common.signed_links, single use, 1 hour).

Asking for a link answers the same whether or not the address has an account, and is throttled the same
(per e-mail address and per client address, counted before anything is looked up). The link is signed for
the account, its address and a digest of its current password hash: a link made before the password changed
(by another reset or on the account page) or before the address changed is void. Setting the new password
ends every session of the account.
"""
import hashlib

from common import aws, db, passwords, signed_links, throttle
from common.i18n import N_
from common.log import get_logger

from .. import queries
from . import users

log = get_logger("code_check.recovery")
PURPOSE = "code_check.reset-password"
TTL_SECONDS = 3600
# Links asked for one e-mail address, and from one client address, before a wait (KEEP: every request counts).
PER_EMAIL = throttle.Policy(free=3, base=600, cap=3600, forget_after=3600)
PER_ADDRESS = throttle.Policy(free=10, base=600, cap=3600, forget_after=3600)

USED = "used"
REASONS = {
    signed_links.INVALID: N_("This password reset link is not valid. Ask for a new one."),
    signed_links.EXPIRED: N_("This password reset link has expired. Ask for a new one."),
    USED: N_("This password reset link was already used."),
}
SUBJECTS = {"en": "code_check: reset your password", "ru": "code_check: сброс пароля"}
TEXTS = {
    "en": ("Someone (hopefully you) asked to reset the password of your code_check account.\n\n"
           "Set a new password here: {link}\n\n"
           "The link works once, for 1 hour. If you did not ask, ignore this message: your password stays.\n"),
    "ru": ("Кто-то (надеемся, вы) попросил сбросить пароль вашей учётной записи code_check.\n\n"
           "Задайте новый пароль здесь: {link}\n\n"
           "Ссылка действует один раз в течение часа. Если вы не просили, не обращайте внимания: пароль "
           "останется прежним.\n"),
}


class Unusable(signed_links.Unusable):
    """A link that resets nothing; reason is a key of REASONS."""
    REASONS = REASONS


def _subject(user_id, email, password_hash):
    fingerprint = hashlib.sha256(password_hash.encode("utf-8")).hexdigest()[:16]
    return f"{user_id}:{email.lower()}:{fingerprint}"


def limits(email, address):
    return [throttle.Limit(throttle.key("reset:email", email.lower()), PER_EMAIL, throttle.KEEP),
            throttle.Limit(throttle.key("reset:address", address or "unknown"), PER_ADDRESS, throttle.KEEP)]


def request(settings, site_url, email, address, language):
    """E-mail a reset link if `email` is an account's address; returns nothing either way. FormErrors for a
    value that is not an address; throttle.Refused (429) when this address or this client asked too often."""
    email = (email or "").strip()
    if not email or len(email) > 254 or not users.EMAIL.match(email):
        raise users.FormErrors({"email": N_("This is not an e-mail address (like name@example.com).")})
    users.GATE.reserve(limits(email, address))
    with db.pg_transaction() as cur:
        cur.execute(queries.USER_BY_EMAIL, (email,))
        row = cur.fetchone()
    if row is None:
        log.info("reset asked for an unknown address")
        return
    user_id, stored_email, password_hash = row
    token = signed_links.make(PURPOSE, _subject(user_id, stored_email, password_hash), TTL_SECONDS)
    _send(settings, stored_email, f"{site_url}/password/reset?token={token}", language, user_id)


def _send(settings, email, link, language, user_id):
    language = language if language in SUBJECTS else "ru"
    try:
        aws.client("ses").send_email(
            Source=settings.sender, Destination={"ToAddresses": [email]},
            Message={"Subject": {"Data": SUBJECTS[language], "Charset": "UTF-8"},
                     "Body": {"Text": {"Data": TEXTS[language].format(link=link), "Charset": "UTF-8"}}})
    except Exception:  # noqa: BLE001 - the answer is the same either way; the person may ask again
        log.exception("could not send a reset link", user_id=user_id)


def check(token):
    """The account id a link is for; Unusable if it is forged or expired (use is checked when it is used)."""
    try:
        subject = signed_links.read(token, PURPOSE)
    except signed_links.LinkError as exc:
        raise Unusable(exc.reason) from None
    return int(subject.partition(":")[0])


def reset(token, password):
    """Set a new password through a link and end every session of the account; returns the account's address.
    FormErrors for an unacceptable password (the link stays usable), Unusable for a link that is not."""
    user_id = check(token)
    users.check_password(password)
    password_hash = passwords.hash_password(password)
    with db.pg_transaction() as cur:
        cur.execute(queries.USE_LINK, (signed_links.digest(token),))
        if cur.fetchone() is None:
            raise Unusable(USED)
        cur.execute(queries.USER_FOR_UPDATE, (user_id,))
        row = cur.fetchone()
        if row is None or signed_links.read(token, PURPOSE) != _subject(user_id, row[1], row[2]):
            raise Unusable(signed_links.INVALID)     # another password or address since: the link is void
        cur.execute(queries.SET_PASSWORD, (password_hash, user_id))
        cur.execute(queries.END_SESSIONS, (user_id, ""))
    log.info("password reset", user_id=user_id)
    return row[1]
