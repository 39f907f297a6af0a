"""WhatsApp broadcasts through ChatApp: adapters from HTTP, SQS and the schedule to chalicelib."""
from contextlib import contextmanager
from datetime import timedelta

from chalice import Chalice
from common import i18n, validate, web

from chalicelib import (access, auth, broadcasts, contact_lists, forms, pacing, pages, settings, tokens, webhooks,
                        worker)
from chalicelib.access import WEBHOOK_PATH
from chalicelib.clock import utcnow

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
    """A new broadcast to pasted numbers or to a contact list (list_id); action=preview only estimates it."""
    config = settings.load()
    fields = _form(config)
    list_id = _id(fields["list_id"], pages.NO_LIST) if fields.get("list_id") else None
    with _found(pages.NO_LIST):
        numbers = contact_lists.numbers_of(list_id) if list_id else None
    form = forms.validate(fields, config.default_region, list_numbers=numbers)
    preview = _estimate(config, form) if form.ok and fields.get("action") == "preview" else None
    if not form.ok or preview:
        status = form.status if not form.ok else 200
        page = _list_page(config, list_id, form=form, preview=preview) if list_id else _index_page(
            config, form=form, preview=preview)
        return web.html_response(page, status=status)
    broadcast_id = broadcasts.start(config, form.text, form.parsed.numbers, form.parsed.duplicates, mode=form.pacing,
                                    list_id=list_id)
    return web.redirect(f"{_base()}/broadcasts/{broadcast_id}")


@app.route("/broadcasts/{broadcast_id}", methods=["GET"])
def show_broadcast(broadcast_id):
    status = _param("status")
    if status and status not in broadcasts.STATUSES:
        raise web.not_found(pages.NO_BROADCAST)
    with _found(pages.NO_BROADCAST):
        broadcast, recipients = broadcasts.detail(_id(broadcast_id), _page_number(), status)
    config = settings.load()
    page = pages.render("broadcast.html", _language(), base=_base(), b=broadcast,
                        recipients=recipients, status=status, page=_page_number(), statuses=broadcasts.STATUSES,
                        refresh_seconds=REFRESH_SECONDS, delay_range=config.delay_range,
                        timedelta=timedelta, csrf=auth.csrf_token(config))
    return web.html_response(page)


@app.route("/broadcasts/{broadcast_id}/cancel", methods=["POST"], content_types=FORM_TYPES)
def cancel_broadcast(broadcast_id):
    _form(settings.load())
    with _found(pages.NO_BROADCAST):
        broadcasts.cancel(_id(broadcast_id))
    return web.redirect(f"{_base()}/broadcasts/{broadcast_id}")


@app.route("/broadcasts/{broadcast_id}/resend", methods=["POST"], content_types=FORM_TYPES)
def resend_broadcast(broadcast_id):
    config = settings.load()
    _form(config)
    with _found(pages.NO_BROADCAST):
        try:
            new_id = broadcasts.resend(config, _id(broadcast_id))
        except broadcasts.NothingToResend:
            raise web.AppError(409, pages.NOTHING_TO_RESEND) from None
    return web.redirect(f"{_base()}/broadcasts/{new_id}")


@app.route("/lists", methods=["GET"])
def show_lists():
    return web.html_response(_lists_page(settings.load()))


@app.route("/lists", methods=["POST"], content_types=FORM_TYPES)
def create_list():
    config = settings.load()
    name, form = forms.validate_list_name(_form(config))
    if name is not None:
        try:
            return web.redirect(f"{_base()}/lists/{contact_lists.create(name)}")
        except contact_lists.NameTaken:
            form.fail("name", pages.LIST_NAME_TAKEN)
    return web.html_response(_lists_page(config, form=form, name=name), status=400)


@app.route("/lists/{list_id}", methods=["GET"])
def show_list(list_id):
    added = _param("added")
    added = validate.integer(added, "added", 0, contact_lists.MAX_SIZE) if added is not None else None
    return web.html_response(_list_page(settings.load(), _id(list_id, pages.NO_LIST), added=added))


@app.route("/lists/{list_id}/numbers", methods=["POST"], content_types=FORM_TYPES)
def add_numbers(list_id):
    config = settings.load()
    list_id = _id(list_id, pages.NO_LIST)
    form = forms.validate_numbers(_form(config), config.default_region)
    if form.ok:
        with _found(pages.NO_LIST):
            try:
                added = contact_lists.add(list_id, form.parsed.numbers)
                return web.redirect(f"{_base()}/lists/{list_id}?added={added}")
            except contact_lists.TooLarge as full:
                form.fail("numbers", pages.LIST_FULL, size=full.size, limit=contact_lists.MAX_SIZE)
    return web.html_response(_list_page(config, list_id, numbers_form=form), status=form.status)


@app.route(WEBHOOK_PATH, methods=["POST"], content_types=WEBHOOK_TYPES)
def chatapp_webhook():
    if not webhooks.secret_ok(settings.load(), _param("secret")):
        raise web.AppError(403, "wrong or missing secret")
    return web.json_response(webhooks.apply(webhooks.parse(app.current_request.raw_body)))


@app.lambda_function()
def send_messages(event, context):
    """BroadcastSendQueue's records: fan-out jobs, pacing ticks and per-recipient sends."""
    return worker.send_messages(event)


@app.lambda_function()
def maintain(event, context):
    """On the template's BroadcastSweepSchedule: tokens, expiry, stranded recipients, old sign-in records."""
    return worker.maintain()


def _language():
    return i18n.request_language(app.current_request)


def _base():
    return web.base_path(app.current_request)


def _form(config):
    """The posted form's fields, refused (403 page) unless it came from one of this site's pages."""
    fields = forms.read(app.current_request.raw_body)
    if not auth.csrf_ok(config, fields.get("csrf")):
        raise web.AppError(403, pages.FORGED_FORM)
    return fields


def _estimate(config, form):
    """What the preview shows: how many, and when the last message should leave."""
    count = len(form.parsed.numbers)
    earliest, expected, latest = pacing.estimate(form.pacing, count, config.delay_range)
    return {"count": count, "finish": utcnow() + timedelta(seconds=expected), "duration": _duration(expected),
            "serial": form.pacing == pacing.SERIAL, "earliest": _duration(earliest), "latest": _duration(latest)}


def _duration(seconds):
    return str(timedelta(seconds=int(seconds)))


def _compose(config, form=None, preview=None):
    """What the new-broadcast form (templates/_compose.html) needs."""
    return dict(form=form, preview=preview, csrf=auth.csrf_token(config), max_text=forms.MAX_TEXT,
                region=config.default_region, max_invalid=forms.MAX_INVALID_SHOWN, delay_range=config.delay_range)


def _index_page(config, form=None, page=1, preview=None):
    rows, total = broadcasts.recent(page)
    return pages.render("index.html", _language(), base=_base(), broadcasts=rows, page=page,
                        pages=max(1, -(-total // broadcasts.LIST_PAGE)), statuses=broadcasts.STATUSES,
                        chatapp=tokens.status(), **_compose(config, form, preview))


def _lists_page(config, form=None, name=None):
    return pages.render("lists.html", _language(), base=_base(), lists=contact_lists.all_lists(), form=form,
                        list_name=name, csrf=auth.csrf_token(config), max_name=forms.MAX_LIST_NAME)


def _list_page(config, list_id, form=None, preview=None, numbers_form=None, added=None):
    with _found(pages.NO_LIST):
        found, numbers = contact_lists.get(list_id, _page_number())
    return pages.render("list.html", _language(), base=_base(), contact_list=found, numbers=numbers,
                        page=_page_number(), broadcasts=broadcasts.of_list(list_id), statuses=broadcasts.STATUSES,
                        numbers_form=numbers_form, added=added, **_compose(config, form, preview))


@contextmanager
def _found(message):
    """A broadcast or list that does not exist is a 404 page saying so."""
    try:
        yield
    except (broadcasts.NotFound, contact_lists.NotFound):
        raise web.not_found(message) from None


def _param(name):
    return (app.current_request.query_params or {}).get(name)


def _page_number():
    return validate.integer(_param("page") or "1", "page", 1, 100000)


def _id(text, missing=pages.NO_BROADCAST):
    """A path id; anything else names nothing (404)."""
    try:
        return validate.identifier(text, "id")
    except web.AppError:
        raise web.not_found(missing) from None


web.map_errors(app, render_page=lambda error: pages.message(error.status, _language(), error, base=_base()),
               is_page=lambda path: path != WEBHOOK_PATH)
