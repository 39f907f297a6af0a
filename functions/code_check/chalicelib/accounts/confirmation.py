"""Proof that an account's owner reads its e-mail address: a signed, expiring, single-use link
(common.signed_links) sent at registration and again on request. Until it is opened, the account
works (uploads, reports on the page) but no report is e-mailed (reports/notifier.py).
"""
from common import aws, db, signed_links
from common.i18n import N_
from common.log import get_logger

from .. import queries

log = get_logger("code_check.confirmation")
PURPOSE = "code_check.confirm-email"
TTL_SECONDS = 3 * 24 * 3600
# Another link on request: not more often than this, and not more links than that per account.
RESEND_AFTER = 10 * 60
MAX_SENT = 5

USED = "used"
REASONS = {
    signed_links.INVALID: N_("This confirmation link is not valid. Log in and ask for a new one."),
    signed_links.EXPIRED: N_("This confirmation link has expired. Log in and ask for a new one."),
    USED: N_("This confirmation link was already used."),
}


class Unusable(signed_links.Unusable):
    """A link that confirms nothing; reason is a key of REASONS."""
    REASONS = REASONS


def _subject(user_id, email):
    # The address is part of what is signed: a link for an address the account no longer has is void.
    return f"{user_id}:{email.lower()}"


def make_link(site_url, user_id, email):
    """site_url: the site's URL up to the stage. The web function takes it from the request API Gateway
    forwards (its Host is the API's own domain): its own API's URL in its environment would be a circular
    dependency in the template."""
    token = signed_links.make(PURPOSE, _subject(user_id, email), TTL_SECONDS)
    return f"{site_url}/confirm?token={token}"


def address_of(token):
    """(user id, e-mail) the token is for; Unusable if it is forged or expired (use is not checked here)."""
    try:
        subject = signed_links.read(token, PURPOSE)
    except signed_links.LinkError as exc:
        raise Unusable(exc.reason) from None
    user_id, _, email = subject.partition(":")
    return int(user_id), email


def confirm(cur, token):
    """Confirm the address a link is for and use the link up; returns the address. Unusable otherwise."""
    user_id, email = address_of(token)
    cur.execute(queries.USE_LINK, (signed_links.digest(token),))
    if cur.fetchone() is None:
        raise Unusable(USED)
    cur.execute(queries.CONFIRM_USER, (user_id, email))
    row = cur.fetchone()
    if row is None:                # the account is gone or has another address now
        raise Unusable(signed_links.INVALID)
    return row[0]


def may_send(cur, user_id):
    """The address to send another link to, counted as sent; None while the last one is recent, after
    MAX_SENT links, or when the address is confirmed."""
    cur.execute(queries.CONFIRMATION_SENT, (user_id, RESEND_AFTER, MAX_SENT))
    row = cur.fetchone()
    return row and row[0]


def send(settings, site_url, user_id, email, ses=None):
    """E-mail the link (the platform's words only; both languages). False if SES refused: the page offers
    to send it again."""
    link = make_link(site_url, user_id, email)
    text = (f"Confirm your e-mail address for code_check / Подтвердите адрес для code_check:\n\n{link}\n\n"
            "The link works once, for 3 days. If you did not register, ignore this message.\n"
            "Ссылка действует один раз в течение 3 дней. Если вы не регистрировались, не отвечайте на письмо.\n")
    try:
        (ses or aws.client("ses")).send_email(
            Source=settings.sender, Destination={"ToAddresses": [email]},
            Message={"Subject": {"Data": "code_check: confirm your e-mail address / подтвердите адрес",
                                 "Charset": "UTF-8"},
                     "Body": {"Text": {"Data": text, "Charset": "UTF-8"}}})
    except Exception:  # noqa: BLE001 - the account exists either way; the page offers another link
        log.exception("could not send the confirmation link", user_id=user_id)
        return False
    return True


def use(token):
    """(the confirmed address, None) or (None, Unusable): confirm() in its own transaction; a link found
    unusable after it was marked used stays used."""
    with db.pg_transaction() as cur:
        try:
            return confirm(cur, token), None
        except Unusable as exc:
            return None, exc


def resend(settings, site_url, user_id):
    """Send another link if one may be sent now; True if it went out."""
    with db.pg_transaction() as cur:
        address = may_send(cur, user_id)
    return bool(address) and send(settings, site_url, user_id, address)
