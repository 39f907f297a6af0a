"""Mailbox REST API: adapters from HTTP to chalicelib (parse, call the logic, shape the answer).

Who may call what is access.py's (one middleware, one table of public routes); each call's transaction is
mail.py's; failures are mapped once, at the end (common.web.map_errors).
"""
from chalice import Chalice, Response

from chalicelib import access, docs, mail, pages, validation
from common import i18n, swagger, web

app = Chalice(app_name="mailbox")
# Chalice checks the Content-Type of every request against this, also for requests without a body.
BODY_TYPES = ["application/json"]
PAGE_PATHS = ("/",)


@app.middleware("http")
def framework_errors(event, get_response):
    """Chalice's own errors (405, 415, unhandled 500) get the same JSON error shape as ours."""
    return web.reshape_framework_error(get_response(event))


access.install(app)


def _me():
    return access.caller(app.current_request)


@app.route("/", methods=["GET"])
def index():
    request = app.current_request
    return web.html_response(pages.index(web.base_path(request), i18n.request_language(request)))


@app.route("/letters", methods=["POST"], content_types=BODY_TYPES)
def send_letter():
    letter = validation.parse_new_letter(validation.parse_json_object(app.current_request.raw_body))
    return web.json_response(mail.send(_me(), letter), status=201)


@app.route("/folders/{folder}", methods=["GET"])
def list_folder(folder):
    folder = validation.parse_folder(folder)
    page = validation.parse_page_request(app.current_request.query_params)
    return web.json_response(mail.folder_page(_me(), folder, page))


@app.route("/letters/{id}", methods=["GET"])
def get_letter(id):
    return web.json_response(mail.letter(_me(), validation.parse_letter_id(id)))


@app.route("/letters/{id}", methods=["PATCH"], content_types=BODY_TYPES)
def mark_letter(id):
    copy_id = validation.parse_letter_id(id)
    read = validation.parse_read_flag(validation.parse_json_object(app.current_request.raw_body))
    return web.json_response(mail.mark(_me(), copy_id, read))


@app.route("/letters/{id}", methods=["DELETE"])
def delete_letter(id):
    mail.delete(_me(), validation.parse_letter_id(id))
    return web.no_content()


@app.route("/me", methods=["GET"])
def who_am_i():
    return web.json_response(mail.profile(_me()))


@app.route("/api/openapi.json", methods=["GET"])
def openapi():
    return web.json_response(docs.spec(web.base_path(app.current_request) + "/"))


@app.route("/api/doc", methods=["GET"])
def swagger_ui():
    return web.html_response(swagger.page("Mailbox API", spec_url="openapi.json", assets_url="doc"))


@app.route("/api/doc/{asset}", methods=["GET"])
def swagger_ui_asset(asset):
    try:
        found = swagger.asset(asset)
    except swagger.AssetsMissing as exc:
        raise web.AppError(503, f"{exc}; the API itself works, see /api/openapi.json") from None
    if found is None:
        raise web.AppError(404, "no such documentation file")
    text, content_type = found
    return Response(body=text, status_code=200,
                    headers={"Content-Type": content_type, "Cache-Control": "public, max-age=86400"})


def _error_page(error):
    request = app.current_request
    return pages.error(web.base_path(request), i18n.request_language(request), error)


web.map_errors(app, render_page=_error_page, is_page=lambda path: path in PAGE_PATHS)
