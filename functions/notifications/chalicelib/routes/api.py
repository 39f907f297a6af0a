"""The REST API: sign-in, clients, mailings, statistics, and its documentation (OpenAPI, Swagger UI)."""
from chalice import Blueprint

from common import swagger, validate, web

from .. import access, settings
from ..api import auth, docs
from ..clients import actions as clients
from ..clock import now
from ..mailings import actions as mailings
from ..stats import reports

bp = Blueprint(__name__)
JSON = ["application/json"]
MAX_BODY = 64 * 1024
MAX_PAGE = 1000


def _body():
    return validate.json_object(bp.current_request.raw_body, MAX_BODY)


def _operator():
    return access.caller(bp.current_request)


def _page():
    """(after_id, limit) from ?after=&limit= (keyset pagination by id)."""
    query = bp.current_request.query_params
    return (validate.query_integer(query, "after", 0, 0, validate.MAX_ID),
            validate.query_integer(query, "limit", 100, 1, MAX_PAGE))


# ---- auth ---------------------------------------------------------------------------------------------

@bp.route("/auth", methods=["POST"], content_types=JSON)
def sign_in():
    body = _body()
    validate.known_fields(body, ("username", "password"))
    for name in ("username", "password"):
        if not isinstance(body.get(name), str):
            raise web.bad_request("%(name)s is required (text)", field=name, name=name)
    config = settings.load()
    token, expires = auth.sign_in(body["username"], body["password"], auth.client_address(bp.current_request),
                                  now(), config.token_hours, config.first_operator_password)
    return web.json_response({"token": token, "expires_at": expires.isoformat()}, headers=web.NO_STORE)


# ---- clients ------------------------------------------------------------------------------------------

@bp.route("/clients", methods=["GET"])
def list_clients():
    after, limit = _page()
    return web.json_response(clients.list_page(after, limit))


@bp.route("/clients", methods=["POST"], content_types=JSON)
def create_client():
    return web.json_response(clients.create(_body(), _operator()), status=201)


@bp.route("/clients/{id}", methods=["GET"])
def get_client(id):
    return web.json_response(clients.get(validate.identifier(id)))


@bp.route("/clients/{id}", methods=["PATCH"], content_types=JSON)
def update_client(id):
    client_id = validate.identifier(id)
    return web.json_response(clients.update(client_id, _body(), _operator()))


@bp.route("/clients/{id}", methods=["DELETE"])
def delete_client(id):
    clients.delete(validate.identifier(id), _operator())
    return web.no_content()


# ---- mailings -----------------------------------------------------------------------------------------

@bp.route("/mailings", methods=["GET"])
def list_mailings():
    after, limit = _page()
    return web.json_response(mailings.list_page(after, limit))


@bp.route("/mailings", methods=["POST"], content_types=JSON)
def create_mailing():
    return web.json_response(mailings.create(_body(), now(), _operator()), status=201)


@bp.route("/mailings/{id}", methods=["GET"])
def get_mailing(id):
    return web.json_response(mailings.get(validate.identifier(id)))


@bp.route("/mailings/{id}", methods=["PATCH"], content_types=JSON)
def update_mailing(id):
    mailing_id = validate.identifier(id)
    return web.json_response(mailings.update(mailing_id, _body(), now(), _operator()))


@bp.route("/mailings/{id}", methods=["DELETE"])
def delete_mailing(id):
    mailings.delete(validate.identifier(id), now(), _operator())
    return web.no_content()


# ---- stats --------------------------------------------------------------------------------------------

@bp.route("/stats", methods=["GET"])
def overall_stats():
    return web.json_response({"mailings": reports.overall_stats()})


@bp.route("/mailings/{id}/stats", methods=["GET"])
def mailing_stats(id):
    mailing_id = validate.identifier(id)
    after, limit = _page()
    return web.json_response(reports.mailing_stats(mailing_id, after, limit))


# ---- documentation ------------------------------------------------------------------------------------

@bp.route("/openapi.json", methods=["GET"])
def openapi():
    return web.json_response(docs.spec(web.base_path(bp.current_request) + "/"))


@bp.route("/docs", methods=["GET"])
def swagger_ui():
    return web.html_response(swagger.page("Notifications API", spec_url="openapi.json", assets_url="docs"))


@bp.route("/docs/{asset}", methods=["GET"])
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
