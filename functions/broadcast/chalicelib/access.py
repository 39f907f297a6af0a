"""Who may call which route, decided once for the whole site (the app's one HTTP middleware): HTTP basic auth on
every route but the public ones (the ChatApp webhook, which checks its own secret), throttled per client address
after failures; a bad setting is a page naming it. Routes never check credentials themselves."""
from datetime import timedelta

from common import i18n, throttle, web
from common.i18n import Message
from common.log import get_logger
from common.settings import SettingError

from . import auth, login_throttle, pages, settings
from .clock import utcnow

log = get_logger(__name__)
WEBHOOK_PATH = "/webhooks/chatapp"
PUBLIC = frozenset({WEBHOOK_PATH})        # routes anyone may call (they check their own secret)


def guard(event, get_response):
    """The middleware: the request goes on, or the 401 / 429 / 503 page."""
    try:
        config = settings.load()
    except SettingError as exc:
        log.error("bad configuration", problem=str(exc))
        return _page(event, 503, Message(pages.MISCONFIGURED, problem=str(exc)))
    if event.path not in PUBLIC:
        try:
            refused = sign_in(config, event)
        except Exception as exc:  # noqa: BLE001 - a lost database is a 503 page, never a traceback
            error = web.classify(exc)
            return _page(event, error.status, error, headers=error.headers)
        if refused is not None:
            return refused
    return get_response(event)


def sign_in(config, event):
    """None if the request may go on; else the 401 or 429 page. Each request with credentials reserves an
    attempt before they are compared; while a client is locked out nothing it sends is checked (a right
    password then would tell a guesser it was right)."""
    header = event.headers.get("authorization")
    if header and config.password:     # a browser's first request carries no credentials: not an attempt
        try:
            reservation = login_throttle.reserve(login_throttle.client_of(event.context))
        except throttle.Refused as refused:       # logged by common.throttle
            return _locked_out(event, refused.seconds)
        if auth.basic_ok(config, header):
            reservation.succeeded()
            return None
    return _page(event, 401, pages.SIGN_IN if config.password else pages.NO_PASSWORD,
                 headers={"WWW-Authenticate": 'Basic realm="broadcast", charset="UTF-8"'})


def _locked_out(event, seconds):
    until = (utcnow() + timedelta(seconds=seconds)).strftime("%H:%M:%S")
    return _page(event, 429, Message(pages.LOCKED_OUT, seconds=seconds, time=until),
                 headers={"Retry-After": str(seconds), "Cache-Control": "no-store"})


def _page(request, status, text, headers=None):
    body = pages.message(status, i18n.request_language(request), text, base=web.base_path(request))
    return web.html_response(body, status=status, headers=headers)
