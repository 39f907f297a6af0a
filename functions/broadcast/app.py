"""WhatsApp broadcasts through ChatApp: adapters from HTTP, SQS and the schedule to chalicelib."""
import json
from datetime import timedelta

from chalice import Chalice, Response

from chalicelib import auth, broadcasts, config, fanout, forms, pages, sender, sqs, tokens, webhooks
from chalicelib.chatapp import ChatAppError
from common.http import html, redirect
from common.log import get_logger

app = Chalice(app_name="broadcast")
log = get_logger("broadcast")
WEBHOOK_PATH = "/webhooks/chatapp"
FORM_TYPES = ["application/x-www-form-urlencoded"]
WEBHOOK_TYPES = ["application/json", "text/plain"]
REFRESH_SECONDS = 5


@app.middleware("http")
def guard(event, get_response):
    """Basic auth on everything but the webhook (which has its own secret); a page instead of any 500."""
    try:
        settings = config.load()
    except config.ConfigError as exc:
        log.error("bad configuration: %s", exc)
        return _message(503, "Not configured", f"The site is misconfigured: {exc}")
    if event.path != WEBHOOK_PATH and not auth.basic_ok(settings, event.headers.get("authorization")):
        return _challenge(settings)
    response = get_response(event)
    if response.status_code >= 500:
        # Chalice has logged the traceback already; the visitor gets a plain answer.
        if event.path == WEBHOOK_PATH:
            return Response(json.dumps({"error": "temporarily unavailable, retry later"}), status_code=503,
                            headers={"Content-Type": "application/json"})
        return _message(503, "Temporarily unavailable",
                        "Something failed on our side (it is logged). Please try again in a minute.")
    return response


@app.route("/", methods=["GET"])
def index():
    return html(_index_page(config.load(), page=_page(app.current_request)))


@app.route("/broadcasts", methods=["POST"], content_types=FORM_TYPES)
def create_broadcast():
    settings = config.load()
    try:
        fields = forms.read(app.current_request.raw_body)
    except forms.FormError as exc:
        return _message(400, "Bad form", f"The form could not be read: {exc}.")
    if not auth.csrf_ok(settings, fields.get("csrf")):
        return _forbidden_form()
    form = forms.validate(fields, settings.default_region)
    if not form.ok:
        return html(_index_page(settings, form=form), status=422)
    numbers = form.parsed.numbers
    delays = sqs.choose_delays(len(numbers), settings.delay_range)
    broadcast_id, (low, high) = broadcasts.create(form.text, numbers, form.parsed.duplicates, delays)
    fanout.enqueue_jobs(settings, broadcast_id, low, high)
    return redirect(f"{_base()}/broadcasts/{broadcast_id}")


@app.route("/broadcasts/{broadcast_id}", methods=["GET"])
def show_broadcast(broadcast_id):
    request = app.current_request
    status = _param(request, "status")
    if not _is_number(broadcast_id) or (status and status not in broadcasts.STATUSES):
        return _message(404, "Not found", "There is no such broadcast.")
    try:
        broadcast, recipients = broadcasts.detail(int(broadcast_id), _page(request), status)
    except broadcasts.NotFound:
        return _message(404, "Not found", f"There is no broadcast {broadcast_id}.")
    settings = config.load()
    return html(pages.render("broadcast.html", base=_base(), b=broadcast, recipients=recipients, status=status,
                             page=_page(request), statuses=broadcasts.STATUSES, refresh_seconds=REFRESH_SECONDS,
                             delay_range=settings.delay_range, timedelta=timedelta))


@app.route(WEBHOOK_PATH, methods=["POST"], content_types=WEBHOOK_TYPES)
def chatapp_webhook():
    request = app.current_request
    if not webhooks.secret_ok(config.load(), _param(request, "secret")):
        return _json(403, {"error": "wrong or missing secret"})
    try:
        events = webhooks.parse(request.raw_body)
    except webhooks.BadPayload as exc:
        return _json(400, {"error": str(exc)})
    return _json(200, webhooks.apply(events))


@app.on_sqs_message(queue="BroadcastSendQueue", batch_size=10)
def send_messages(event):
    """Fan-out jobs and per-recipient sends; failed records go back to SQS (ReportBatchItemFailures)."""
    settings = config.load()
    failures = []
    for record in event:
        raw = record.to_dict()
        try:
            done = _handle_record(settings, raw)
        except Exception:
            log.exception("record %s failed; SQS will deliver it again", raw.get("messageId"))
            done = False
        if not done:
            failures.append({"itemIdentifier": raw["messageId"]})
    return {"batchItemFailures": failures}


@app.schedule("rate(1 hour)")
def maintain(event):
    """Hourly: renew tokens well before they end; queue again recipients whose fan-out job was lost."""
    settings = config.load()
    result = {"tokens_renewed": False, "requeued": 0}
    try:
        result["tokens_renewed"] = tokens.keep_fresh(settings)
    except ChatAppError as exc:
        log.error("keeping ChatApp tokens fresh failed: %s", exc)
    result["requeued"] = fanout.requeue_stranded(settings)
    return result


def _handle_record(settings, raw):
    """True when the record is finished with (sent, final, or unusable); False to have it redelivered."""
    try:
        body = json.loads(raw["body"])
    except ValueError:
        body = None
    receive_count = int(raw.get("attributes", {}).get("ApproximateReceiveCount") or 1)
    if isinstance(body, dict) and isinstance(body.get("broadcast"), int) and _id_range(body.get("ids")):
        return not fanout.expand(settings, body["broadcast"], *body["ids"])
    if isinstance(body, dict) and isinstance(body.get("recipient"), int):
        return sender.send(settings, body["recipient"], receive_count) != sender.RETRY
    log.error("dropping an SQS message we cannot read: %.200s", raw.get("body"))
    return True


def _id_range(value):
    return isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value)


def _index_page(settings, form=None, page=1):
    rows, total = broadcasts.recent(page)
    return pages.render("index.html", base=_base(), form=form, broadcasts=rows, page=page,
                        pages=max(1, -(-total // broadcasts.LIST_PAGE)), statuses=broadcasts.STATUSES,
                        csrf=auth.csrf_token(settings), max_text=config.MAX_TEXT, region=settings.default_region,
                        max_invalid=forms.MAX_INVALID_SHOWN, chatapp=tokens.status())


def _base():
    """The stage prefix ('/prod') when the request came through it, so links keep working behind it."""
    context = app.current_request.context
    stage, path = context.get("stage") or "", context.get("path") or ""
    prefix = f"/{stage}"
    return prefix if stage and (path == prefix or path.startswith(prefix + "/")) else ""


def _param(request, name):
    return (request.query_params or {}).get(name)


def _page(request):
    value = _param(request, "page") or "1"
    return min(int(value), 100000) if _is_number(value) and int(value) > 0 else 1


def _is_number(text):
    return text.isascii() and text.isdigit() and len(text) < 19


def _challenge(settings):
    text = ("Sign in with the broadcast user name and password." if settings.password else
            "The site password is not configured (template parameter BroadcastPassword); nobody can sign in.")
    return Response(pages.render("message.html", base="", title="Sign in required", message=text), status_code=401,
                    headers={"Content-Type": "text/html; charset=utf-8",
                             "WWW-Authenticate": 'Basic realm="broadcast", charset="UTF-8"'})


def _forbidden_form():
    return _message(403, "Form expired", "The form did not come from this site or has expired: reload the page "
                                         "and submit it again.")


def _message(status, title, message):
    return html(pages.render("message.html", base="", title=title, message=message), status=status)


def _json(status, body):
    return Response(json.dumps(body), status_code=status, headers={"Content-Type": "application/json"})
