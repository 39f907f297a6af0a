"""common.web: one error model mapped to JSON and HTML, the stage prefix, Chalice's own errors reshaped."""
import json
from types import SimpleNamespace

import psycopg2
import pymysql
from chalice import Response

from common import web


def body(response):
    return json.loads(response.body)


def test_app_error_becomes_its_status_with_fields_and_headers():
    @web.json_errors
    def view():
        raise web.AppError(409, "email %(email)s is taken", params={"email": "a@b.c"}, headers={"X-A": "1"},
                           field="email")
    response = view()
    assert response.status_code == 409
    assert body(response) == {"error": "email a@b.c is taken", "field": "email"}
    assert response.headers["X-A"] == "1" and response.headers["Content-Type"] == "application/json"


def test_lost_database_is_503_with_retry_after_for_both_drivers():
    for error in (psycopg2.OperationalError("server closed the connection"),
                  pymysql.err.OperationalError(2003, "Can't connect")):
        @web.json_errors
        def view():
            raise error
        response = view()
        assert response.status_code == 503, error
        assert response.headers["Retry-After"] == "1"
        assert "closed" not in response.body and "connect" not in body(response)["error"].lower()


def test_a_bug_is_a_bare_500_without_details():
    @web.json_errors
    def view():
        raise KeyError("secret internals")
    response = view()
    assert response.status_code == 500
    assert body(response) == {"error": "Internal error"}


def test_success_passes_through_untouched():
    @web.json_errors
    def view():
        return web.json_response({"name": "Пётр"}, status=201)
    response = view()
    assert response.status_code == 201 and body(response) == {"name": "Пётр"}
    assert "Пётр" in response.body  # readable UTF-8, not \\u escapes


def test_html_errors_render_the_error_page_with_security_headers():
    @web.html_errors(lambda error: f"<p>{error.status}: {error.text}</p>")
    def view():
        raise web.not_found("No such file")
    response = view()
    assert response.status_code == 404
    assert response.body == "<p>404: No such file</p>"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_bad_request_names_the_field():
    error = web.bad_request("limit must be between %(low)s and %(high)s", field="limit", low=1, high=100)
    assert error.status == 400 and error.text == "limit must be between 1 and 100"
    assert error.fields == {"field": "limit"}


def test_base_path_only_when_the_request_came_through_the_stage():
    def request(stage, path):
        return SimpleNamespace(context={"stage": stage, "path": path})
    assert web.base_path(request("prod", "/prod/files/1")) == "/prod"
    assert web.base_path(request("prod", "/prod")) == "/prod"
    assert web.base_path(request("prod", "/files/1")) == ""
    assert web.base_path(request("prod", "/production/x")) == ""
    assert web.base_path(SimpleNamespace(context=None)) == ""


def test_framework_errors_reshaped_and_others_untouched():
    chalice_error = Response(body={"Code": "UnsupportedMediaType", "Message": "Unsupported media type: text/x"},
                             status_code=415, headers={"Content-Type": "application/json", "X-Keep": "1"})
    reshaped = web.reshape_framework_error(chalice_error)
    assert reshaped.status_code == 415 and body(reshaped) == {"error": "Unsupported media type: text/x"}
    assert reshaped.headers["X-Keep"] == "1"
    fine = web.json_response({"ok": True})
    assert web.reshape_framework_error(fine) is fine
