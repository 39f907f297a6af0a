"""Notifications: scheduled text mailings through the provider's API. Adapters from HTTP, the schedules,
SQS and the daily cron to chalicelib (parse the event, call the logic, shape the answer)."""
import json
from datetime import datetime, timedelta, timezone

from chalice import Chalice

from chalicelib import config, observability
from chalicelib.admin import forms, messages, pages
from chalicelib.api import auth, docs
from chalicelib.clients import store as clients
from chalicelib.dispatch import dispatcher
from chalicelib.mailings import schedules, store as mailings
from chalicelib.sending import provider as provider_api, sender
from chalicelib.stats import reports
from common import aws, batch, db, i18n, swagger, validate, web

app = Chalice(app_name="notifications")
JSON = ["application/json"]
FORM = ["application/x-www-form-urlencoded"]
log = observability.logger


def now():
    return datetime.now(timezone.utc)


@app.middleware("http")
def framework_errors(event, get_response):
    """Chalice's own errors (405, 415, bad JSON) in the API's {"error"} shape."""
    return web.reshape_framework_error(get_response(event))


def _operator(cur):
    return auth.require(cur, app.current_request.headers, now())


MAX_BODY = 64 * 1024
MAX_PAGE = 1000


def _body():
    return validate.json_object(app.current_request.raw_body, MAX_BODY)


def _page():
    """(after_id, limit) from ?after=&limit= (keyset pagination by id)."""
    query = app.current_request.query_params
    return (validate.query_integer(query, "after", 0, 0, validate.MAX_ID),
            validate.query_integer(query, "limit", 100, 1, MAX_PAGE))


# ---- auth ---------------------------------------------------------------------------------------------

@app.route("/auth", methods=["POST"], content_types=JSON)
@web.json_errors
def sign_in():
    body = _body()
    validate.known_fields(body, ("username", "password"))
    for name in ("username", "password"):
        if not isinstance(body.get(name), str):
            raise web.bad_request("%(name)s is required (text)", field=name, name=name)
    token, expires = auth.sign_in(body["username"], body["password"], auth.client_address(app.current_request),
                                  now(), config.api().token_hours)
    return web.json_response({"token": token, "expires_at": expires.isoformat()}, headers=web.NO_STORE)


# ---- clients ------------------------------------------------------------------------------------------

@app.route("/clients", methods=["GET"])
@web.json_errors
def list_clients():
    after, limit = _page()
    with db.pg_transaction() as cur:
        _operator(cur)
        return web.json_response(clients.list_page(cur, after, limit))


@app.route("/clients", methods=["POST"], content_types=JSON)
@web.json_errors
def create_client():
    with db.pg_transaction() as cur:
        _operator(cur)
        return web.json_response(clients.create(cur, _body()), status=201)


@app.route("/clients/{id}", methods=["GET"])
@web.json_errors
def get_client(id):
    client_id = validate.identifier(id)
    with db.pg_transaction() as cur:
        _operator(cur)
        return web.json_response(clients.get(cur, client_id))


@app.route("/clients/{id}", methods=["PATCH"], content_types=JSON)
@web.json_errors
def update_client(id):
    client_id = validate.identifier(id)
    with db.pg_transaction() as cur:
        _operator(cur)
        return web.json_response(clients.update(cur, client_id, _body()))


@app.route("/clients/{id}", methods=["DELETE"])
@web.json_errors
def delete_client(id):
    client_id = validate.identifier(id)
    with db.pg_transaction() as cur:
        _operator(cur)
        clients.delete(cur, client_id)
    return web.no_content()


# ---- mailings -----------------------------------------------------------------------------------------

@app.route("/mailings", methods=["GET"])
@web.json_errors
def list_mailings():
    after, limit = _page()
    with db.pg_transaction() as cur:
        _operator(cur)
        items, next_after = mailings.list_page(cur, after, limit)
    return web.json_response({"items": [mailings.public(m) for m in items], "next_after": next_after})


@app.route("/mailings", methods=["POST"], content_types=JSON)
@web.json_errors
def create_mailing():
    with db.pg_transaction() as cur:
        _operator(cur)
        mailing = mailings.create(cur, _body())
    _arrange(mailing)
    return web.json_response(mailings.public(mailing), status=201)


@app.route("/mailings/{id}", methods=["GET"])
@web.json_errors
def get_mailing(id):
    mailing_id = validate.identifier(id)
    with db.pg_transaction() as cur:
        _operator(cur)
        return web.json_response(mailings.public(mailings.get(cur, mailing_id)))


@app.route("/mailings/{id}", methods=["PATCH"], content_types=JSON)
@web.json_errors
def update_mailing(id):
    mailing_id = validate.identifier(id)
    with db.pg_transaction() as cur:
        _operator(cur)
        before, mailing = mailings.update(cur, mailing_id, _body(), now())
    if before["start_at"] != mailing["start_at"] or before["end_at"] != mailing["end_at"]:
        _arrange(mailing)
    return web.json_response(mailings.public(mailing))


@app.route("/mailings/{id}", methods=["DELETE"])
@web.json_errors
def delete_mailing(id):
    mailing_id = validate.identifier(id)
    with db.pg_transaction() as cur:
        _operator(cur)
        mailings.delete(cur, mailing_id, now())
    _unschedule(mailing_id)
    return web.no_content()


def _arrange(mailing):
    """After the commit (a dispatcher must find the row): a failure here is logged, not fatal, because the
    minute sweep starts every due mailing anyway."""
    try:
        result = schedules.arrange(config.api(), mailing, now())
        log.info("mailing start arranged: %s", result, extra={"mailing_id": mailing["id"]})
    except Exception:  # noqa: BLE001 - the sweep is the backstop
        log.exception("could not arrange the mailing's start; the sweep will start it",
                      extra={"mailing_id": mailing["id"]})


def _unschedule(mailing_id):
    try:
        schedules.remove(config.api(), mailing_id)
    except Exception:  # noqa: BLE001 - a leftover schedule finds no mailing and does nothing
        log.exception("could not delete the mailing's schedule", extra={"mailing_id": mailing_id})


# ---- stats --------------------------------------------------------------------------------------------

@app.route("/stats", methods=["GET"])
@web.json_errors
def overall_stats():
    with db.pg_transaction() as cur:
        _operator(cur)
        return web.json_response({"mailings": reports.overall(cur)})


@app.route("/mailings/{id}/stats", methods=["GET"])
@web.json_errors
def mailing_stats(id):
    mailing_id = validate.identifier(id)
    after, limit = _page()
    with db.pg_transaction() as cur:
        _operator(cur)
        mailing = mailings.get(cur, mailing_id)
        messages, next_after = reports.messages_page(cur, mailing_id, after, limit)
        counts = reports.counts(cur, mailing_id)
    return web.json_response({"mailing": mailings.public(mailing), "counts": counts, "messages": messages,
                              "next_after": next_after})


# ---- documentation ------------------------------------------------------------------------------------

@app.route("/openapi.json", methods=["GET"])
@web.json_errors
def openapi():
    request = app.current_request
    return web.json_response(docs.spec(web.base_path(request) + "/"))


@app.route("/docs", methods=["GET"])
@web.json_errors
def swagger_ui():
    return web.html_response(swagger.page("Notifications API", spec_url="openapi.json", assets_url="docs"))


@app.route("/docs/{asset}", methods=["GET"])
@web.json_errors
def swagger_asset(asset):
    try:
        found = swagger.asset(asset)
    except swagger.AssetsMissing as exc:
        raise web.unavailable(f"{exc}; the API works, see /openapi.json") from None
    if found is None:
        raise web.not_found("no such documentation file")
    text, content_type = found
    return web.Response(body=text, status_code=200,
                        headers={"Content-Type": content_type, "Cache-Control": "public, max-age=86400"})


# ---- admin page ---------------------------------------------------------------------------------------

def _language():
    return i18n.request_language(app.current_request)


def _render(template, status=200, headers=None, **values):
    language = _language()
    gettext = pages.PAGES.gettext(language)
    values.setdefault("signed_in", True)
    text = pages.render(template, language, base=web.base_path(app.current_request),
                        states={k: gettext(v) for k, v in messages.STATES.items()},
                        statuses={k: gettext(v) for k, v in messages.STATUSES.items()}, **values)
    return web.html_response(text, status=status, headers=dict(web.NO_STORE, **(headers or {})))


def _error_page(error):
    signed_in = error.status not in (401, 429)
    return pages.render("error.html" if signed_in else "login.html", _language(),
                        base=web.base_path(app.current_request), signed_in=signed_in,
                        error=pages.error_text(error, _language()), states={}, statuses={})


def _admin_operator(cur):
    request = app.current_request
    _same_origin(request)
    found = auth.operator(cur, auth.cookie_token(request.headers), now())
    if found is None:
        raise web.AppError(401, messages.SIGN_IN)
    return found


def _same_origin(request):
    """Cookies are SameSite=Strict; a form posted from another site is refused as well. Browsers say where
    a request comes from in Sec-Fetch-Site; the pages' no-referrer policy makes their Origin "null", so
    Origin is only compared when it names a site."""
    if request.method != "POST":
        return
    fetch_site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    if fetch_site is not None:
        allowed = fetch_site in ("same-origin", "none")
    elif origin and origin != "null":
        allowed = origin.split("://", 1)[-1] == request.headers.get("host")
    else:
        allowed = True
    if not allowed:
        raise web.AppError(403, messages.FOREIGN_FORM)


def _back(path=""):
    return web.redirect(f"{web.base_path(app.current_request)}/admin{path}", headers=web.NO_STORE)


@app.route("/admin", methods=["GET"])
@web.html_errors(_error_page)
def admin_home():
    with db.pg_transaction() as cur:
        if auth.operator(cur, auth.cookie_token(app.current_request.headers), now()) is None:
            return _render("login.html", signed_in=False)
        return _dashboard(cur)


def _dashboard(cur, error=None, status=200):
    client_page = clients.list_page(cur, 0, 200)
    return _render("dashboard.html", status=status, error=error, mailings=reports.overall(cur),
                   clients=client_page["items"], more_clients=client_page["next_after"] is not None)


@app.route("/admin/login", methods=["POST"], content_types=FORM)
@web.html_errors(_error_page)
def admin_login():
    _same_origin(app.current_request)
    form = forms.fields(app.current_request.raw_body)
    try:
        token, expires = auth.sign_in(form.get("username", ""), form.get("password", ""),
                                      auth.client_address(app.current_request), now(), config.api().token_hours)
    except web.AppError as exc:
        if exc.status == 429:       # too many attempts: the page says when to come back
            raise
        raise web.AppError(401, messages.WRONG_CREDENTIALS) from None
    cookie = (f"{auth.COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; "
              f"Max-Age={int((expires - now()).total_seconds())}")
    # API Gateway always says https; the local gateway (plain http on 127.0.0.1) says nothing.
    if app.current_request.headers.get("x-forwarded-proto") == "https":
        cookie += "; Secure"
    return web.redirect(f"{web.base_path(app.current_request)}/admin",
                        headers=dict(web.NO_STORE, **{"Set-Cookie": cookie}))


@app.route("/admin/logout", methods=["POST"], content_types=FORM)
@web.html_errors(_error_page)
def admin_logout():
    _same_origin(app.current_request)
    with db.pg_transaction() as cur:
        auth.sign_out(cur, auth.cookie_token(app.current_request.headers))
    return web.redirect(f"{web.base_path(app.current_request)}/admin",
                        headers=dict(web.NO_STORE, **{"Set-Cookie": f"{auth.COOKIE}=; Path=/; Max-Age=0"}))


def _form_action(action):
    """Run a form's change; its error (bad field, conflict) is shown on the dashboard with the status."""
    with db.pg_transaction() as cur:
        _admin_operator(cur)
    try:
        with db.pg_transaction() as cur:
            return action(cur)
    except web.AppError as error:
        with db.pg_transaction() as cur:
            return _dashboard(cur, error=pages.error_text(error, _language()), status=error.status)


@app.route("/admin/clients", methods=["POST"], content_types=FORM)
@web.html_errors(_error_page)
def admin_create_client():
    form = forms.fields(app.current_request.raw_body)

    def create(cur):
        clients.create(cur, forms.client_body(form))
        return _back()
    return _form_action(create)


@app.route("/admin/clients/{id}/delete", methods=["POST"], content_types=FORM)
@web.html_errors(_error_page)
def admin_delete_client(id):
    client_id = validate.identifier(id)

    def delete(cur):
        clients.delete(cur, client_id)
        return _back()
    return _form_action(delete)


@app.route("/admin/mailings", methods=["POST"], content_types=FORM)
@web.html_errors(_error_page)
def admin_create_mailing():
    form = forms.fields(app.current_request.raw_body)
    created = {}

    def create(cur):
        created["mailing"] = mailings.create(cur, forms.mailing_body(form))
        return _back(f"/mailings/{created['mailing']['id']}")
    response = _form_action(create)
    if "mailing" in created and response.status_code == 303:
        _arrange(created["mailing"])
    return response


@app.route("/admin/mailings/{id}/delete", methods=["POST"], content_types=FORM)
@web.html_errors(_error_page)
def admin_delete_mailing(id):
    mailing_id = validate.identifier(id)

    def delete(cur):
        mailings.delete(cur, mailing_id, now())
        return _back()
    response = _form_action(delete)
    if response.status_code == 303:
        _unschedule(mailing_id)
    return response


@app.route("/admin/mailings/{id}", methods=["GET"])
@web.html_errors(_error_page)
def admin_mailing(id):
    mailing_id = validate.identifier(id)
    with db.pg_transaction() as cur:
        _admin_operator(cur)
        mailing = mailings.get(cur, mailing_id)
        messages, _next = reports.messages_page(cur, mailing_id, 0, 200)
        counts = reports.counts(cur, mailing_id)
    return _render("mailing.html", mailing=mailings.public(mailing), counts=counts, messages=messages)


@app.route("/admin/mailings/{id}/progress", methods=["GET"])
@web.json_errors
def admin_progress(id):
    mailing_id = validate.identifier(id)
    with db.pg_transaction() as cur:
        if auth.operator(cur, auth.cookie_token(app.current_request.headers), now()) is None:
            raise auth.unauthorized("sign in again")
        mailing = mailings.get(cur, mailing_id)
        counts = reports.counts(cur, mailing_id)
    return web.json_response({"state": mailings.state(mailing), "counts": counts}, headers=web.NO_STORE)


# ---- dispatch, sending, report ------------------------------------------------------------------------

@app.lambda_function(name="dispatch")
def dispatch(event, context):
    """A mailing's start: from its one-off schedule ({"mailing_id"}), the dispatch queue (immediate starts)
    or the minute sweep (anything else: every due mailing)."""
    settings = config.dispatch()
    moment = now()
    if isinstance(event, dict) and event.get("Records"):
        ids = [found for found in (_mailing_id_of(r.get("body")) for r in event["Records"]) if found]
    elif isinstance(event, dict) and "mailing_id" in event:
        ids = [int(event["mailing_id"])]
    else:
        ids = dispatcher.due_mailings(moment)
    return {"dispatched": {str(i): dispatcher.dispatch(settings, i, moment) for i in ids}}


def _mailing_id_of(body):
    try:
        return int(json.loads(body)["mailing_id"])
    except (ValueError, TypeError, KeyError):
        log.warning("unusable dispatch record dropped")
        return None


_provider = None


def _provider_client(settings):
    global _provider
    if _provider is None:
        _provider = provider_api.Provider(settings.provider_url, settings.provider_jwt, settings.connect_timeout,
                                          settings.read_timeout)
    return _provider


@app.lambda_function(name="send")
def send(event, context):
    """Queued messages, each on its own: a failure is retried with backoff without holding the others."""
    settings = config.sender()
    provider = _provider_client(settings)

    def one(record):
        message_id = sender.parse(record.get("body"))
        if message_id is None:
            log.warning("unusable send record dropped", extra={"sqs_message_id": record.get("messageId")})
            return
        sender.handle(settings, provider, message_id, now)
    # heartbeat: a sender that dies mid-batch has its records back within a minute, not the queue's timeout.
    return batch.process(event, one, context, heartbeat=True)


@app.lambda_function(name="daily_report")
def daily_report(event, context):
    """The daily statistics email to the operators (SES)."""
    settings = config.report()
    moment = now()
    with db.pg_transaction() as cur:
        text = reports.daily_text(reports.overall(cur), moment, moment - timedelta(days=1))
    if not settings.recipients:
        log.info("no report recipients configured")
        return {"sent": False}
    aws.client("ses").send_email(
        Source=settings.sender, Destination={"ToAddresses": list(settings.recipients)},
        Message={"Subject": {"Data": f"Notifications: daily statistics {moment:%Y-%m-%d}", "Charset": "UTF-8"},
                 "Body": {"Text": {"Data": text, "Charset": "UTF-8"}}})
    return {"sent": True}


# ---- blueprints (issue 23), then every route's errors mapped once ------------------------------------
from chalicelib import metrics_routes, oidc_routes  # noqa: E402
app.register_blueprint(metrics_routes.routes)
app.register_blueprint(oidc_routes.routes)
web.map_errors(app, render_page=_error_page, is_page=lambda path: path.startswith("/admin"))
