"""Mailbox REST API: adapters from HTTP to chalicelib (parse, call the logic, shape the answer)."""
from chalice import Chalice, Response

from chalicelib import auth, docs, letters, validation
from common import db, web
from common.web import AppError, json_errors, json_response

app = Chalice(app_name="mailbox")
# Chalice checks the Content-Type of every request against this, also for requests without a body.
BODY_TYPES = ["application/json"]


@app.middleware("http")
def framework_errors(event, get_response):
    """Chalice's own errors (405, 415, unhandled 500) get the same JSON error shape as ours."""
    return web.reshape_framework_error(get_response(event))


@app.route("/letters", methods=["POST"], content_types=BODY_TYPES)
@json_errors
def send_letter():
    request = app.current_request
    with db.pg_transaction() as cur:
        me = auth.authenticate(cur, request.headers)
        letter = validation.parse_new_letter(validation.parse_json_object(request.raw_body))
        return json_response(letters.send(cur, me, letter), status=201)


@app.route("/folders/{folder}", methods=["GET"])
@json_errors
def list_folder(folder):
    request = app.current_request
    with db.pg_transaction() as cur:
        me = auth.authenticate(cur, request.headers)
        folder = validation.parse_folder(folder)
        page = validation.parse_page_request(request.query_params)
        return json_response(letters.list_folder(cur, me.id, folder, page))


@app.route("/letters/{id}", methods=["GET"])
@json_errors
def get_letter(id):
    with db.pg_transaction() as cur:
        me = auth.authenticate(cur, app.current_request.headers)
        return json_response(letters.get(cur, me.id, validation.parse_letter_id(id)))


@app.route("/letters/{id}", methods=["PATCH"], content_types=BODY_TYPES)
@json_errors
def mark_letter(id):
    request = app.current_request
    with db.pg_transaction() as cur:
        me = auth.authenticate(cur, request.headers)
        copy_id = validation.parse_letter_id(id)
        read = validation.parse_read_flag(validation.parse_json_object(request.raw_body))
        return json_response(letters.set_read(cur, me.id, copy_id, read))


@app.route("/letters/{id}", methods=["DELETE"])
@json_errors
def delete_letter(id):
    with db.pg_transaction() as cur:
        me = auth.authenticate(cur, app.current_request.headers)
        letters.delete(cur, me.id, validation.parse_letter_id(id))
        return web.no_content()


@app.route("/me", methods=["GET"])
@json_errors
def who_am_i():
    with db.pg_transaction() as cur:
        me = auth.authenticate(cur, app.current_request.headers)
        return json_response({"address": me.address, "unread": letters.unread_count(cur, me.id, "inbox")})


@app.route("/api/openapi.json", methods=["GET"])
@json_errors
def openapi():
    return json_response(docs.spec(web.base_path(app.current_request) + "/"))


@app.route("/api/doc", methods=["GET"])
@json_errors
def swagger_ui():
    return web.html_response(docs.PAGE)


@app.route("/api/doc/{asset}", methods=["GET"])
@json_errors
def swagger_ui_asset(asset):
    try:
        found = docs.asset(asset)
    except docs.AssetsMissing as exc:
        raise AppError(503, f"{exc}; the API itself works, see /api/openapi.json") from None
    if found is None:
        raise AppError(404, "no such documentation file")
    text, content_type = found
    return Response(body=text, status_code=200,
                    headers={"Content-Type": content_type, "Cache-Control": "public, max-age=86400"})
