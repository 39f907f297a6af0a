"""Registration and login. Login failures never say which part was wrong, and are throttled per
(account, client address) and per client address (common.throttle: reserved before argon2 runs)."""
import re
from datetime import datetime, timezone

from common import db, passwords, throttle, web
from common.i18n import N_

from .. import queries
from . import confirmation, sessions

EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
# A guesser gets 5 tries at one account from one address, then a lockout from 1 minute doubling to 15;
# one address gets 20 failures over any accounts. The owner elsewhere is subject to neither.
PER_ACCOUNT_AND_ADDRESS = throttle.Policy(free=5, base=60, cap=900, forget_after=3600)
PER_ADDRESS = throttle.Policy(free=20, base=60, cap=900, forget_after=3600)
LOGIN_FAILED = N_("Wrong e-mail or password.")
TOO_MANY_REGISTRATIONS = N_("Too many accounts were registered from your address. Try again in an hour.")
REGISTRATION_WINDOW = 3600


class FormErrors(Exception):
    """{field: msgid} of a form that must be shown again."""

    def __init__(self, errors):
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def validate(email, password):
    """The normalised e-mail, or FormErrors naming each bad field."""
    email = (email or "").strip()
    errors = {}
    if not email:
        errors["email"] = N_("Enter your e-mail address.")
    elif len(email) > 254 or not EMAIL.match(email):
        errors["email"] = N_("This is not an e-mail address (like name@example.com).")
    problem = password_problem(password)
    if problem:
        errors["password"] = problem
    if errors:
        raise FormErrors(errors)
    return email


def password_problem(password):
    """The msgid of what is wrong with a new password, or None."""
    if not password:
        return N_("Enter a password.")
    if len(password) < MIN_PASSWORD:
        return N_("The password is too short: use at least 10 characters.")
    if len(password) > MAX_PASSWORD:
        return N_("The password is too long.")
    if len(set(password)) < 4 or password.isdigit() or password.lower() in _COMMON:
        return N_("The password is too easy to guess: mix letters, digits and other characters.")
    return None


def check_password(password, field="password"):
    """FormErrors naming `field` unless the password may be used."""
    problem = password_problem(password)
    if problem:
        raise FormErrors({field: problem})


_COMMON = {"password12", "password123", "qwertyuiop", "1234567890", "qwerty1234", "1q2w3e4r5t", "iloveyou12",
           "passw0rd12", "adminadmin", "letmein123", "0987654321", "abcdefghij"}


def register(cur, email, password, address=None, per_hour=None, language=None):
    """The new user's id; FormErrors for bad input or an e-mail already registered (nothing stored); a 429
    AppError when `address` (the client's) registered `per_hour` accounts in the last hour. `language` ('ru',
    'en'): the report e-mails' (None: both)."""
    email = validate(email, password)
    if address and per_hour:
        cur.execute(queries.LOCK_REGISTRATIONS_FROM, (address,))
        cur.execute(queries.REGISTRATIONS_FROM, (address, REGISTRATION_WINDOW))
        if cur.fetchone()[0] >= per_hour:
            raise web.AppError(429, TOO_MANY_REGISTRATIONS, headers={"Retry-After": str(REGISTRATION_WINDOW)})
    cur.execute(queries.INSERT_USER, (email, passwords.hash_password(password), address, language))
    row = cur.fetchone()
    if row is None:
        raise FormErrors({"email": N_("This e-mail is already registered: log in instead.")})
    return row[0]


GATE = throttle.Gate(throttle.Statements(lock=(queries.SIGN_IN_LOCK,), save=queries.SIGN_IN_SAVE,
                                         forget=queries.SIGN_IN_FORGET, purge=queries.SIGN_IN_PURGE),
                     db.pg_transaction, lambda: datetime.now(timezone.utc), purge_after=PER_ADDRESS.forget_after)


def throttle_limits(email, address):
    address = address or "unknown"
    return [throttle.Limit(throttle.key("account+address", (email or "").strip().lower(), address),
                           PER_ACCOUNT_AND_ADDRESS, throttle.FORGET),
            throttle.Limit(throttle.key("address", address), PER_ADDRESS, throttle.RELEASE)]


def login(email, password, address):
    """(user id, None) for a correct e-mail and password, else (None, AppError): 401 with the same text
    for every mistake, 429 + Retry-After once this account from this address, or this address, has failed
    too often. The attempt is counted (in its own transaction) before the password is checked, so parallel
    guesses cannot outrun the count; a correct password gives it back."""
    try:
        reservation = GATE.reserve(throttle_limits(email, address))
    except throttle.Refused as refused:
        return None, refused
    with db.pg_transaction() as cur:
        cur.execute(queries.USER_BY_EMAIL, ((email or "").strip(),))
        row = cur.fetchone()
    # argon2 runs outside any transaction: no connection or row lock is held for its ~0.1 s.
    stored = row[2] if row else passwords.dummy_hash()
    if row is not None and password and passwords.verify_password(stored, password):
        reservation.succeeded()
        return row[0], None
    if row is None or not password:
        passwords.verify_password(stored, password or "-")
    return None, web.AppError(401, LOGIN_FAILED)


def sign_up(settings, email, password, address, language):
    """Register and sign in, in one transaction: (user id, the address to send a confirmation link to or None,
    the session's cookie token). FormErrors / a 429 AppError as register() (nothing stored)."""
    with db.pg_transaction() as cur:
        user_id = register(cur, email, password, address, settings.registrations_per_hour, language)
        confirm_to = confirmation.may_send(cur, user_id)
        token, _ = sessions.create(cur, user_id, settings.session_days)
    return user_id, confirm_to, token
