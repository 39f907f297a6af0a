"""WhatsApp broadcasts through ChatApp: adapters from HTTP, SQS and the schedule to chalicelib."""
from datetime import timedelta

from chalice import Chalice
from common import i18n, validate, web

from chalicelib import access, auth, broadcasts, forms, pages, settings, tokens, webhooks, worker
from chalicelib.access import WEBHOOK_PATH

app = Chalice(app_name="broadcast")
app.register_middleware(access.guard, "http")
FORM_TYPES = ["application/x-www-form-urlencoded"]
WEBHOOK_TYPES = ["application/json", "text/plain"]
REFRESH_SECONDS = 5


@app.route("/", methods=["GET"])
def index():
    return web.html_response(_index_page(settings.load(), page=_page_number()))


@app.route("/broadcasts", methods=["POST"], content_types=FORM_TYPES)
def create_broadcast():
    config = settings.load()
    fields = forms.read(app.current_request.raw_body)
    if not auth.csrf_ok(config, fields.get("csrf")):
        raise web.AppError(403, pages.FORGED_FORM)
    form = forms.validate(fields, config.default_region)
    if not form.ok:
        return web.html_response(_index_page(config, form=form), status=form.status)
    broadcast_id = broadcasts.start(config, form.text, form.parsed.numbers, form.parsed.duplicates)
    return web.redirect(f"{_base()}/broadcasts/{broadcast_id}")


@app.route("/broadcasts/{broadcast_id}", methods=["GET"])
def show_broadcast(broadcast_id):
    status = _param("status")
    if status and status not in broadcasts.STATUSES:
        raise web.not_found(pages.NO_BROADCAST)
    try:
        broadcast, recipients = broadcasts.detail(_id(broadcast_id), _page_number(), status)
    except broadcasts.NotFound:
        raise web.not_found(pages.NO_BROADCAST) from None
    page = pages.render("broadcast.html", _language(), base=_base(), b=broadcast,
                        recipients=recipients, status=status, page=_page_number(), statuses=broadcasts.STATUSES,
                        refresh_seconds=REFRESH_SECONDS, delay_range=settings.load().delay_range,
                        timedelta=timedelta)
    return web.html_response(page)


@app.route(WEBHOOK_PATH, methods=["POST"], content_types=WEBHOOK_TYPES)
def chatapp_webhook():
    if not webhooks.secret_ok(settings.load(), _param("secret")):
        raise web.AppError(403, "wrong or missing secret")
    return web.json_response(webhooks.apply(webhooks.parse(app.current_request.raw_body)))


@app.lambda_function()
def send_messages(event, context):
    """BroadcastSendQueue's records: fan-out jobs and per-recipient sends."""
    return worker.send_messages(event)


@app.lambda_function()
def maintain(event, context):
    """On the template's BroadcastSweepSchedule: tokens, expiry, stranded recipients, old sign-in records."""
    return worker.maintain()


def _language():
    return i18n.request_language(app.current_request)


def _base():
    return web.base_path(app.current_request)


def _index_page(config, form=None, page=1):
    rows, total = broadcasts.recent(page)
    return pages.render("index.html", _language(), base=_base(), form=form,
                        broadcasts=rows, page=page, pages=max(1, -(-total // broadcasts.LIST_PAGE)),
                        statuses=broadcasts.STATUSES, csrf=auth.csrf_token(config), max_text=forms.MAX_TEXT,
                        region=config.default_region, max_invalid=forms.MAX_INVALID_SHOWN, chatapp=tokens.status())


def _param(name):
    return (app.current_request.query_params or {}).get(name)


def _page_number():
    return validate.integer(_param("page") or "1", "page", 1, 100000)


def _id(text):
    """A path id; anything else names no broadcast (404)."""
    try:
        return validate.identifier(text, "broadcast_id")
    except web.AppError:
        raise web.not_found(pages.NO_BROADCAST) from None


web.map_errors(app, render_page=lambda error: pages.message(error.status, _language(), error, base=_base()),
               is_page=lambda path: path != WEBHOOK_PATH)
