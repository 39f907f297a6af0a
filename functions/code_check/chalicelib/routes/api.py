"""The partner API (an API token per call: access.py), its documentation and the public badges (adapters)."""
from chalice import Blueprint, Response

from common import validate, web

from .. import access, settings
from ..api import docs, payloads
from ..checks import options
from ..files import names, store
from ..web import badge, views
from .shared import JSON_TYPES, site_url, source_response

bp = Blueprint(__name__)


def _me():
    return access.caller(bp.current_request)


def _tagged(body, status=200):
    etag = payloads.etag_of(body)
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if payloads.not_modified(bp.current_request.headers, etag):
        return Response(body="", status_code=304, headers=headers)
    return web.json_response(body, status=status, headers=headers)


@bp.route("/badges/{badge_name}", methods=["GET"])
def file_badge(badge_name):
    key = validate.text(badge_name[:-4] if badge_name.endswith(".svg") else badge_name, "badge_name", 200)
    state, text = views.badge_of(key)
    return Response(body=badge.svg(state, text), status_code=200,
                    headers={"Content-Type": "image/svg+xml; charset=utf-8", "Cache-Control": "no-cache",
                             "X-Content-Type-Options": "nosniff"})


@bp.route("/api/files", methods=["GET"])
def api_list_files():
    files = store.files_of(_me()["id"])
    return _tagged({"files": [payloads.file_json(row, site_url(bp.current_request)) for row in files]})


@bp.route("/api/files", methods=["POST"], content_types=JSON_TYPES)
def api_upload():
    uploads = payloads.parse_upload(bp.current_request.raw_body)
    results = []
    for index, (name, outcome) in enumerate(store.upload_each(settings.load().bucket, _me()["id"], uploads)):
        if isinstance(outcome, names.Refused):
            results.append({"name": name, "status": "refused", "reason": str(outcome),
                            "field": f"files[{index}].{outcome.field}"})
        else:
            results.append({"name": outcome.name, "status": outcome.outcome, "file_id": outcome.file_id,
                            "version": outcome.version})
    return web.json_response({"results": results}, status=200)


@bp.route("/api/files/{file_id}", methods=["GET"])
def api_get_file(file_id):
    found = store.file_of(_me()["id"], payloads.parse_id(file_id, "file_id"))
    body = payloads.file_json(found, site_url(bp.current_request))
    body["versions"] = [{"version": v["number"], "size": v["size"], "lines": v["line_count"], "sha256": v["sha256"],
                         "uploaded_at": v["uploaded_at"], "checked": v["checked_at"] is not None}
                        for v in found["versions"]]
    return _tagged(body)


@bp.route("/api/files/{file_id}", methods=["PUT"], content_types=JSON_TYPES)
def api_replace(file_id):
    data = payloads.parse_replace(bp.current_request.raw_body)
    try:
        stored = store.replace_own(settings.load().bucket, _me()["id"], payloads.parse_id(file_id, "file_id"), data)
    except names.Refused as exc:
        raise web.AppError(422, str(exc), field="content") from None
    return web.json_response({"name": stored.name, "status": stored.outcome, "file_id": stored.file_id,
                              "version": stored.version})


@bp.route("/api/files/{file_id}", methods=["DELETE"])
def api_delete(file_id):
    store.delete_own(_me()["id"], payloads.parse_id(file_id, "file_id"))
    return web.no_content()


@bp.route("/api/files/{file_id}/versions/{version}", methods=["GET"])
def api_version(file_id, version):
    found, found_report = store.version_with_report(_me()["id"], payloads.parse_id(file_id, "file_id"),
                                                    payloads.parse_id(version, "version"))
    return _tagged(payloads.version_json(found, found_report))


@bp.route("/api/files/{file_id}/versions/{version}/source", methods=["GET"])
def api_source(file_id, version):
    found = store.version_of(_me()["id"], payloads.parse_id(file_id, "file_id"), payloads.parse_id(version, "version"))
    return source_response(settings.load(), found)


@bp.route("/api/options", methods=["GET"])
def api_options():
    return web.json_response({"flake8": options.FLAKE8_OPTIONS, "command_line": options.command_line()})


@bp.route("/api/openapi.json", methods=["GET"])
def api_spec():
    return web.json_response(docs.spec(web.base_path(bp.current_request) or "/"))


@bp.route("/api/doc", methods=["GET"])
def api_doc():
    return web.html_response(docs.page())


@bp.route("/api/doc/{asset}", methods=["GET"])
def api_doc_asset(asset):
    found = docs.asset(asset)
    if found is None:
        raise web.not_found("No such documentation file")
    text, content_type = found
    return Response(body=text, status_code=200,
                    headers={"Content-Type": content_type, "Cache-Control": "public, max-age=86400"})
