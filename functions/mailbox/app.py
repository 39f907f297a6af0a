"""Mailbox REST API: adapters from HTTP to chalicelib (parse, call the logic, shape the answer)."""
from chalice import Chalice, Response

from chalicelib import auth, docs, letters, validation
from chalicelib.errors import ApiError
from chalicelib.responses import handled, no_content, ok, reshape_framework_error
from common import db

app = Chalice(app_name="mailbox")
# Chalice checks the Content-Type of every request against this, also for requests without a body.
BODY_TYPES = ["application/json"]


@app.middleware("http")
def json_errors(event, get_response):
    """Chalice's own errors (405, 415, unhandled 500) get the same JSON error shape as ours."""
    return reshape_framework_error(get_response(event))


@app.route("/letters", methods=["POST"], content_types=BODY_TYPES)
@handled
def send_letter():
    request = app.current_request
    with db.pg_transaction() as cur:
        me = auth.authenticate(cur, request.headers)
        letter = validation.parse_new_letter(validation.parse_json_object(request.raw_body))
        return ok(letters.send(cur, me, letter), status=201)


@app.route("/folders/{folder}", methods=["GET"])
@handled
def list_folder(folder):
    request = app.current_request
    with db.pg_transaction() as cur:
        me = auth.authenticate(cur, request.headers)
        folder = validation.parse_folder(folder)
        page = validation.parse_page_request(request.query_params)
        return ok(letters.list_folder(cur, me.id, folder, page))


@app.route("/letters/{id}", methods=["GET"])
@handled
def get_letter(id):
    with db.pg_transaction() as cur:
        me = auth.authenticate(cur, app.current_request.headers)
        return ok(letters.get(cur, me.id, validation.parse_letter_id(id)))


@app.route("/letters/{id}", methods=["PATCH"], content_types=BODY_TYPES)
@handled
def mark_letter(id):
    request = app.current_request
    with db.pg_transaction() as cur:
        me = auth.authenticate(cur, request.headers)
        copy_id = validation.parse_letter_id(id)
        read = validation.parse_read_flag(validation.parse_json_object(request.raw_body))
        return ok(letters.set_read(cur, me.id, copy_id, read))


@app.route("/letters/{id}", methods=["DELETE"])
@handled
def delete_letter(id):
    with db.pg_transaction() as cur:
        me = auth.authenticate(cur, app.current_request.headers)
        letters.delete(cur, me.id, validation.parse_letter_id(id))
        return no_content()


@app.route("/me", methods=["GET"])
@handled
def who_am_i():
    with db.pg_transaction() as cur:
        me = auth.authenticate(cur, app.current_request.headers)
        return ok({"address": me.address, "unread": letters.unread_count(cur, me.id, "inbox")})


@app.route("/api/openapi.json", methods=["GET"])
@handled
def openapi():
    return ok(docs.spec(_base_url(app.current_request)))


@app.route("/api/doc", methods=["GET"])
@handled
def swagger_ui():
    return Response(body=docs.PAGE, status_code=200, headers={"Content-Type": "text/html; charset=utf-8"})


@app.route("/api/doc/{asset}", methods=["GET"])
@handled
def swagger_ui_asset(asset):
    try:
        found = docs.asset(asset)
    except docs.AssetsMissing as exc:
        raise ApiError(503, f"{exc}; the API itself works, see /api/openapi.json") from None
    if found is None:
        raise ApiError(404, "no such documentation file")
    text, content_type = found
    return Response(body=text, status_code=200,
                    headers={"Content-Type": content_type, "Cache-Control": "public, max-age=86400"})


def _base_url(request):
    """Where the API is mounted as seen by the caller, e.g. "/" or "/prod/" behind a stage prefix."""
    full_path = (request.context or {}).get("path") or request.path
    prefix = full_path[:-len(request.path)] if full_path.endswith(request.path) else ""
    return prefix + "/"
