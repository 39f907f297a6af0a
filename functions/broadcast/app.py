"""WhatsApp broadcasts through ChatApp: adapters from HTTP, SQS and the schedule to chalicelib."""
from datetime import timedelta

from chalice import Chalice
from common import batch, heartbeat, i18n, validate, web
from common.i18n import Message
from common.log import get_logger
from common.settings import SettingError, once

from chalicelib import (auth, broadcasts, expiry, fanout, forms, login_throttle, pages, queue_messages, sender,
                        settings, sqs, tokens, webhooks)
from chalicelib.chatapp import ChatApp, ChatAppError
from chalicelib.clock import utcnow

app = Chalice(app_name="broadcast")
log = get_logger("broadcast")
WEBHOOK_PATH = "/webhooks/chatapp"
FORM_TYPES = ["application/x-www-form-urlencoded"]
WEBHOOK_TYPES = ["application/json", "text/plain"]
REFRESH_SECONDS = 5


def _language():
    return i18n.request_language(app.current_request)


def _page(status, text, headers=None):
    return web.html_response(pages.message(status, _language(), text), status=status, headers=headers)


page_errors = web.html_errors(lambda error: pages.message(error.status, _language(), error))


@app.middleware("http")
def guard(event, get_response):
    """Basic auth on everything but the webhook (which has its own secret), throttled per client address
    after failures; a page naming a bad setting."""
    try:
        config = settings.load()
    except SettingError as exc:
        log.error("bad configuration: %s", exc)
        return _page(503, Message(pages.MISCONFIGURED, problem=str(exc)))
    if event.path != WEBHOOK_PATH:
        try:
            refused = _sign_in(config, event)
        except Exception as exc:  # noqa: BLE001 - a lost database is a 503 page, never a traceback
            error = web.classify(exc)
            return _page(error.status, error, headers=error.headers)
        if refused is not None:
            return refused
    return get_response(event)


def _sign_in(config, event):
    """None if the request may go on; else the 401 or 429 page. While a client is locked out nothing it sends
    is checked (a right password then would tell a guesser it was right)."""
    client = login_throttle.client_of(event.context)
    wait, known = login_throttle.check(client)
    if wait:
        return _locked_out(wait)
    header = event.headers.get("authorization")
    if auth.basic_ok(config, header):
        if known:
            login_throttle.succeeded(client)
        return None
    if header and config.password:     # a browser's first request carries no credentials: not a failure
        wait = login_throttle.failed(client)
        if wait:
            log.warning("sign-in locked for %s s after repeated failures", wait)
            return _locked_out(wait)
    return _page(401, pages.SIGN_IN if config.password else pages.NO_PASSWORD,
                 headers={"WWW-Authenticate": 'Basic realm="broadcast", charset="UTF-8"'})


def _locked_out(seconds):
    until = (utcnow() + timedelta(seconds=seconds)).strftime("%H:%M:%S")
    return _page(429, Message(pages.LOCKED_OUT, seconds=seconds, time=until),
                 headers={"Retry-After": str(seconds), "Cache-Control": "no-store"})


@app.route("/", methods=["GET"])
@page_errors
def index():
    return web.html_response(_index_page(settings.load(), page=_page_number()))


@app.route("/broadcasts", methods=["POST"], content_types=FORM_TYPES)
@page_errors
def create_broadcast():
    config = settings.load()
    fields = forms.read(app.current_request.raw_body)
    if not auth.csrf_ok(config, fields.get("csrf")):
        return _page(403, pages.FORGED_FORM)
    form = forms.validate(fields, config.default_region)
    if not form.ok:
        return web.html_response(_index_page(config, form=form), status=form.status)
    numbers = form.parsed.numbers
    delays = sqs.choose_delays(len(numbers), config.delay_range)
    broadcast_id, (low, high) = broadcasts.create(form.text, numbers, form.parsed.duplicates, delays)
    fanout.enqueue_jobs(config, broadcast_id, low, high)
    return web.redirect(f"{web.base_path(app.current_request)}/broadcasts/{broadcast_id}")


@app.route("/broadcasts/{broadcast_id}", methods=["GET"])
@page_errors
def show_broadcast(broadcast_id):
    status = _param("status")
    if not _is_number(broadcast_id) or (status and status not in broadcasts.STATUSES):
        raise web.not_found(pages.NO_BROADCAST)
    try:
        broadcast, recipients = broadcasts.detail(int(broadcast_id), _page_number(), status)
    except broadcasts.NotFound:
        raise web.not_found(pages.NO_BROADCAST) from None
    page = pages.render("broadcast.html", _language(), base=web.base_path(app.current_request), b=broadcast,
                        recipients=recipients, status=status, page=_page_number(), statuses=broadcasts.STATUSES,
                        refresh_seconds=REFRESH_SECONDS, delay_range=settings.load().delay_range,
                        timedelta=timedelta)
    return web.html_response(page)


@app.route(WEBHOOK_PATH, methods=["POST"], content_types=WEBHOOK_TYPES)
@web.json_errors
def chatapp_webhook():
    if not webhooks.secret_ok(settings.load(), _param("secret")):
        raise web.AppError(403, "wrong or missing secret")
    return web.json_response(webhooks.apply(webhooks.parse(app.current_request.raw_body)))


@app.on_sqs_message(queue="BroadcastSendQueue", batch_size=10)
def send_messages(event):
    """Fan-out jobs and per-recipient sends; a record that should come back raises (common.batch). The sends
    of a batch go out together (sender.send_batch: one claim and one outcome transaction per batch)."""
    records = (event.to_dict() if hasattr(event, "to_dict") else event)["Records"]
    # The heartbeat covers the sends too: a sender killed mid-batch has its records back within a minute, not
    # after the queue's 180 s.
    with heartbeat.Heartbeat(records) as beating:
        outcomes = _send_together(records)
        return batch.process(event, lambda record: _handle_record(record, outcomes), heartbeat=beating)


def _send_together(records):
    """{recipient id: outcome} of the batch's Send records; {recipient id: the error} if the batch failed
    before any record had an outcome (the database was down at the claim: nothing was sent)."""
    deliveries = []
    for record in records:
        message = queue_messages.parse(record["body"])
        if isinstance(message, queue_messages.Send):
            deliveries.append((message.recipient_id, batch.attempt_of(record)))
    if not deliveries:
        return {}
    # Not caught: a bad setting (SECRET_KEY, ChatApp's) fails the invocation, naming it, before any claim.
    client, max_receives = _chatapp(), settings.load().max_receives
    try:
        return sender.send_batch(client, deliveries, max_receives)
    except Exception as exc:  # noqa: BLE001 - logged once here; every record of it is delivered again
        log.exception("sending a batch of %d failed", len(deliveries))
        return {recipient_id: exc for recipient_id, _count in deliveries}


# The template's BroadcastSweepSchedule parameter sets how often this runs (hourly by default).
@app.schedule("rate(1 hour)")
def maintain(event):
    """On the sweep schedule: renew tokens well before they end (encrypting any stored in plaintext); queue
    again recipients whose fan-out job was lost, after making final the recipients no queue message can reach any
    more."""
    result = {"tokens_renewed": False, "requeued": 0}
    client = _chatapp()           # its settings checked first: a missing SECRET_KEY is named, not met halfway
    tokens.encrypt_plaintext()
    try:
        result["tokens_renewed"] = client.keep_fresh()
    except ChatAppError as exc:
        log.error("keeping ChatApp tokens fresh failed: %s", exc)
    # Given up first: a recipient past the queue's retention is made final, not queued again to be sent hours late.
    result.update(expiry.sweep(settings.load()))
    result["requeued"] = fanout.requeue_stranded(settings.load())
    result["login_records_purged"] = login_throttle.purge()
    return result


def _handle_record(record, outcomes):
    """Done when it returns (sent, final, left to the delivery sending it, or unusable and dropped); batch.Retry
    to have it delivered again.
    outcomes: what _send_together did with the batch's sends."""
    message = queue_messages.parse(record["body"])
    if isinstance(message, queue_messages.FanoutJob):
        failed = fanout.expand(settings.load(), message.broadcast_id, message.low, message.high)
        if failed:
            raise batch.Retry(f"{len(failed)} recipients of broadcast {message.broadcast_id} not queued")
    elif isinstance(message, queue_messages.Send):
        outcome = outcomes[message.recipient_id]
        if isinstance(outcome, Exception):
            raise batch.Retry(f"recipient {message.recipient_id}: the batch failed ({outcome.__class__.__name__})")
        if outcome == sender.RETRY:
            raise batch.Retry(f"recipient {message.recipient_id}: sending failed, retrying")
        if outcome == sender.WAIT:   # back when that delivery must have ended: sent, or died and 'unknown' then
            raise batch.Retry(f"recipient {message.recipient_id} is being sent by another delivery",
                              delay=getattr(outcome, "seconds", sender.STALE_AFTER.total_seconds()))
    else:
        log.error("dropping an SQS message we cannot read: %.200s", record.get("body"))


@once
def _chatapp():
    """The ChatApp client of this execution environment (its settings read once)."""
    return ChatApp(settings.chatapp())


def _index_page(config, form=None, page=1):
    rows, total = broadcasts.recent(page)
    return pages.render("index.html", _language(), base=web.base_path(app.current_request), form=form,
                        broadcasts=rows, page=page, pages=max(1, -(-total // broadcasts.LIST_PAGE)),
                        statuses=broadcasts.STATUSES, csrf=auth.csrf_token(config), max_text=forms.MAX_TEXT,
                        region=config.default_region, max_invalid=forms.MAX_INVALID_SHOWN, chatapp=tokens.status())


def _param(name):
    return (app.current_request.query_params or {}).get(name)


def _page_number():
    return validate.integer(_param("page") or "1", "page", 1, 100000)


def _is_number(text):
    return text.isascii() and text.isdigit() and len(text) < 19
