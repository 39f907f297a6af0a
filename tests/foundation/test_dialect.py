"""The products' one dialect, checked by machine (issue 24; the rules are dialect_rules.py, the prose
docs/conventions.md): routes and template Api events match both ways, no decorator wires a queue or a
schedule and every template Handler exists, no product re-implements what common provides, no app.py over 250
lines, every page extends common/base.html. Each check reports every offender at once; each is also run
on planted offenders below, so a check that stopped finding anything would fail."""
import textwrap
import types

import pytest
from chalice import Chalice

import dialect_rules as rules
from localcloud.template import load
from products import load_app

PRODUCTS = rules.products()


@pytest.fixture(scope="module")
def resources():
    return load(str(rules.ROOT / "template.yaml"))["Resources"]


def report(problems):
    return f"{len(problems)} offender(s):\n" + "\n".join(problems)


def test_the_five_products_are_checked():
    assert PRODUCTS == ["broadcast", "code_check", "mail_import", "mailbox", "notifications"]


# ---- the repository --------------------------------------------------------------------------------------

def test_every_route_has_its_api_event_and_every_api_event_its_route(resources):
    problems = [p for product in PRODUCTS for p in rules.unwired_routes(product, load_app(product).app, resources)]
    assert problems == [], report(problems)


def test_no_decorator_wires_a_queue_or_a_schedule():
    problems = rules.wiring_decorators(
        [path for product in PRODUCTS for path in rules.python_files(rules.FUNCTIONS / product)])
    assert problems == [], report(problems)


def test_every_template_handler_is_the_app_or_a_lambda_function_of_that_name(resources):
    problems = [p for product in PRODUCTS for p in rules.missing_handlers(product, load_app(product), resources)]
    assert problems == [], report(problems)


def test_no_product_defines_what_common_provides():
    problems = rules.own_copies([rules.FUNCTIONS / product for product in PRODUCTS])
    assert problems == [], report(problems)


def test_no_app_py_over_250_lines():
    problems = rules.fat_apps([rules.FUNCTIONS / product / "app.py" for product in PRODUCTS])
    assert problems == [], report(problems)


def test_every_page_extends_common_base_html():
    folders = rules.template_dirs()
    assert len(folders) >= 4
    problems = rules.pages_off_base(folders)
    assert problems == [], report(problems)


# ---- the checks themselves, on planted offenders ---------------------------------------------------------

def _api(path, method):
    return {"Type": "Api", "Properties": {"RestApiId": {"Ref": "FakeApi"}, "Path": path, "Method": method}}


def _function(handler, **events):
    return {"Type": "AWS::Serverless::Function",
            "Properties": {"CodeUri": "functions/fake/", "Handler": handler, "Events": events}}


def test_the_route_check_names_a_route_without_event_and_an_event_without_route():
    app = Chalice(app_name="fake")
    app.route("/both", methods=["GET", "POST"])(lambda: None)
    app.route("/only-in-code/{id}", methods=["DELETE"])(lambda id: None)
    resources = {
        "FakeWeb": _function("app.app", A=_api("/both", "GET"), B=_api("/both", "POST"),
                             C=_api("/only-in-template", "GET")),
        "FakeWorker": _function("app.work", D=_api("/both", "GET")),
        "Other": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "functions/other/",
                                                                      "Events": {"E": _api("/x", "GET")}}},
    }
    problems = rules.unwired_routes("fake", app, resources)
    assert len(problems) == 3, report(problems)
    assert "route DELETE /only-in-code/{id} has no Api event" in problems[1]
    assert "FakeWeb.C (GET /only-in-template) has no route" in problems[2]
    assert "FakeWorker.D" in problems[0] and "not the Chalice app" in problems[0]


def test_the_wiring_check_names_every_queue_and_schedule_decorator(tmp_path):
    app_py = tmp_path / "app.py"
    app_py.write_text(textwrap.dedent("""
        from chalice import Chalice
        app = Chalice(app_name="fake")

        @app.on_sqs_message(queue="FakeQueue", batch_size=10)
        def work(event):
            pass

        @app.schedule("rate(1 hour)")
        def tick(event):
            pass

        @app.lambda_function()
        def fine(event, context):
            pass
    """))
    problems = rules.wiring_decorators([app_py])
    assert len(problems) == 2, report(problems)
    assert "app.py:5: @app.on_sqs_message(...) on work" in problems[0]
    assert "app.py:9: @app.schedule(...) on tick" in problems[1]


def test_the_handler_check_names_missing_renamed_and_self_wired_handlers():
    app = Chalice(app_name="fake")

    @app.lambda_function()
    def work(event, context):
        pass

    @app.lambda_function(name="other_name")
    def renamed(event, context):
        pass

    @app.on_sqs_message(queue="q")
    def queued(event):
        pass

    module = types.SimpleNamespace(app=app, work=work, renamed=renamed, queued=queued)
    resources = {"Web": _function("app.app"), "Work": _function("app.work"), "Gone": _function("app.gone"),
                 "Renamed": _function("app.renamed"), "Queued": _function("app.queued"),
                 "Odd": _function("index.handler")}
    problems = rules.missing_handlers("fake", module, resources)
    assert len(problems) == 5, report(problems)
    text = report(problems)
    assert "registers a SQSEventConfig" in text and "Gone Handler app.gone: app.py has no" in text
    assert "Renamed Handler app.renamed is @app.lambda_function(name='other_name')" in text
    assert "Queued Handler app.queued" in text and "Odd Handler 'index.handler'" in text


def test_the_copies_check_names_each_thing_common_provides(tmp_path):
    product = tmp_path / "fake"
    (product / "chalicelib").mkdir(parents=True)
    (product / "chalicelib" / "config.py").write_text("VALUE = 1\n")
    (product / "app.py").write_text(textwrap.dedent('''
        """dict(zip(...)) in a docstring is no offender."""
        import logging
        import sys
        from http.cookies import SimpleCookie
        from aws_lambda_powertools import Logger
        from common import web

        log = logging.getLogger(__name__)
        sys.path.insert(0, "..")


        @web.json_errors
        def route(cur, sqs):
            sqs.send_message_batch(QueueUrl="q", Entries=[])
            return dict(zip([c[0] for c in cur.description], cur.fetchone()))  # dict(zip( in a comment neither
    '''))
    problems = rules.own_copies([product])
    text = report(problems)
    assert len(problems) == 8, text
    for expected in ("config.py: settings live in chalicelib/settings.py", "app.py:5: from http.cookies",
                     "app.py:6: a Powertools Logger", "app.py:9: logging.getLogger", "app.py:10: sys.path edited",
                     "app.py:13: web.json_errors", "app.py:15: an SQS batch sender", "app.py:16: dict(zip(...))"):
        assert expected in text, expected


def test_the_size_check_allows_250_lines_and_names_251(tmp_path):
    small, big = tmp_path / "small.py", tmp_path / "big.py"
    small.write_text("x = 1\n" * 250)
    big.write_text("x = 1\n" * 251)
    problems = rules.fat_apps([small, big])
    assert len(problems) == 1 and "big.py: 251 lines, over 250" in problems[0], report(problems)


def test_the_page_check_follows_extends_and_skips_partials_and_emails(tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    pages = {
        "good.html": '{% extends "common/base.html" %}',
        "layout.html": '{% extends "common/base.html" %}{% block main %}{% endblock %}',
        "through_layout.html": "{%- extends 'layout.html' %}",
        "own_base.html": "<!doctype html><html><body>{% block main %}{% endblock %}</body></html>",
        "on_own_base.html": '{% extends "own_base.html" %}',
        "nowhere.html": '{% extends "missing.html" %}',
        "_partial.html": "<p>a piece</p>",
        "email.html": "<!doctype html><html><body>a mail</body></html>",
    }
    for name, text in pages.items():
        (templates / name).write_text(text)
    problems = rules.pages_off_base([templates])
    text = report(problems)
    assert len(problems) == 3, text
    assert "nowhere.html: does not extend" in problems[0]
    assert "on_own_base.html: does not extend common/base.html (through own_base.html)" in problems[1]
    assert "own_base.html: does not extend" in problems[2]
