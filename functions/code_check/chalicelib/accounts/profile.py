"""The account page's changes: the password (the current one proves it is the owner; every other session
ends) and the e-mail address (the new one gets a signed, single-use link and is used only once it is opened;
until then reports keep going to the old confirmed address).

The current password is checked the way a login is (users.login: throttled per account and client address).
"""
from psycopg2.errors import UniqueViolation

from common import aws, db, passwords, signed_links
from common.i18n import N_
from common.log import get_logger

from .. import queries
from . import sessions, users

log = get_logger("code_check.profile")
EMAIL_PURPOSE = "code_check.change-email"
EMAIL_TTL_SECONDS = 3 * 24 * 3600
WRONG_PASSWORD = N_("The current password is wrong.")
TAKEN = N_("This e-mail is already registered.")
SAME = N_("This is already your address.")
USED = "used"
REASONS = {
    signed_links.INVALID: N_("This link is not valid. Ask for the change again on your account page."),
    signed_links.EXPIRED: N_("This link has expired. Ask for the change again on your account page."),
    USED: N_("This link was already used."),
}
SUBJECTS = {"en": "code_check: confirm your new e-mail address", "ru": "code_check: подтвердите новый адрес"}
TEXTS = {
    "en": ("Confirm that code_check may use {email} for your account from now on:\n\n{link}\n\n"
           "The link works once, for 3 days. Until it is opened, reports go to your current address.\n"),
    "ru": ("Подтвердите, что code_check может использовать адрес {email} для вашей учётной записи:\n\n{link}\n\n"
           "Ссылка действует один раз в течение 3 дней. Пока она не открыта, отчёты приходят на прежний адрес.\n"),
}


class Unusable(signed_links.Unusable):
    """A link that changes nothing; reason is a key of REASONS."""
    REASONS = REASONS


def check_current_password(me, password, address):
    """FormErrors / the login's 429 unless `password` is the account's."""
    user_id, error = users.login(me["email"], password, address)
    if user_id == me["id"]:
        return
    if error is not None and error.status == 429:
        raise error
    raise users.FormErrors({"current": WRONG_PASSWORD})


def change_password(me, current, new, session_token, address):
    """Set a new password; every session but this one (`session_token`) ends."""
    users.check_password(new, field="new")
    check_current_password(me, current, address)
    password_hash = passwords.hash_password(new)
    with db.pg_transaction() as cur:
        cur.execute(queries.SET_PASSWORD, (password_hash, me["id"]))
        cur.execute(queries.END_SESSIONS, (me["id"], sessions.digest(session_token)))
    log.info("password changed", user_id=me["id"])


def _subject(user_id, old, new):
    return f"{user_id}:{old.lower()}:{new}"


def request_email_change(settings, site_url, me, new_email, current, address, language):
    """Remember the new address as pending and e-mail it a link; FormErrors for a bad or taken address or a
    wrong password."""
    new_email = (new_email or "").strip()
    if not new_email or len(new_email) > 254 or not users.EMAIL.match(new_email):
        raise users.FormErrors({"email": N_("This is not an e-mail address (like name@example.com).")})
    if new_email.lower() == me["email"].lower():
        raise users.FormErrors({"email": SAME})
    check_current_password(me, current, address)
    with db.pg_transaction() as cur:
        cur.execute(queries.USER_BY_EMAIL, (new_email,))
        if cur.fetchone() is not None:
            raise users.FormErrors({"email": TAKEN})
        cur.execute(queries.SET_PENDING_EMAIL, (new_email, me["id"]))
    token = signed_links.make(EMAIL_PURPOSE, _subject(me["id"], me["email"], new_email), EMAIL_TTL_SECONDS)
    language = language if language in SUBJECTS else "ru"
    link = f"{site_url}/account/email/confirm?token={token}"
    try:
        aws.client("ses").send_email(
            Source=settings.sender, Destination={"ToAddresses": [new_email]},
            Message={"Subject": {"Data": SUBJECTS[language], "Charset": "UTF-8"},
                     "Body": {"Text": {"Data": TEXTS[language].format(email=new_email, link=link),
                                       "Charset": "UTF-8"}}})
    except Exception:  # noqa: BLE001 - the page says so; the change can be asked again
        log.exception("could not send the new address's link", user_id=me["id"])
        return False
    return True


def pending_of(user_id):
    """The address waiting for its link, or None."""
    with db.pg_transaction() as cur:
        cur.execute(queries.PENDING_EMAIL, (user_id,))
        row = cur.fetchone()
    return row and row[0]


def pending_email(token):
    """The new address a link is for; Unusable if it is forged or expired."""
    try:
        subject = signed_links.read(token, EMAIL_PURPOSE)
    except signed_links.LinkError as exc:
        raise Unusable(exc.reason) from None
    return subject.split(":", 2)[2]


def confirm_email(token):
    """(the new address, now the account's, None) or (None, Unusable). The address becomes the account's only
    if it is still the pending one and the account still has the address the link was made for."""
    try:
        new_email = pending_email(token)
    except Unusable as exc:
        return None, exc
    user_id, old, _ = signed_links.read(token, EMAIL_PURPOSE).split(":", 2)
    try:
        with db.pg_transaction() as cur:
            cur.execute(queries.USE_LINK, (signed_links.digest(token),))
            if cur.fetchone() is None:
                return None, Unusable(USED)
            cur.execute(queries.APPLY_PENDING_EMAIL, (int(user_id), old, new_email, new_email))
            row = cur.fetchone()
            if row is None:        # another change since, or the address was registered meanwhile
                raise Unusable(signed_links.INVALID)
    except Unusable as exc:
        return None, exc
    except UniqueViolation:        # registered in the same instant
        return None, Unusable(signed_links.INVALID)
    log.info("e-mail address changed", user_id=int(user_id))
    return row[0], None
