"""Imported mail made readable: format=flowed unwrapped (RFC 3676), the HTML part kept and shown sanitised in a
sandboxed frame (checked in headless Chromium against a hostile letter), inline cid: images from attachments."""
import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from functions.mail_import.chalicelib.mime import flowed
from functions.mail_import.chalicelib.mime.parser import parse_message
from functions.mail_import.chalicelib.web import html_view, message_view
from mail_import_support import FUNCTIONS

# ---- format=flowed ---------------------------------------------------------------------------------


def test_flowed_soft_breaks_join_and_hard_breaks_stay():
    text = "This is a long \nparagraph that was \nwrapped.\nSecond line.\n\nNew paragraph."
    assert flowed.unwrap(text) == "This is a long paragraph that was wrapped.\nSecond line.\n\nNew paragraph."


def test_flowed_space_stuffing_is_removed_and_delsp_drops_the_added_space():
    assert flowed.unwrap("  indented\n >not a quote\n From here") == " indented\n>not a quote\nFrom here"
    assert flowed.unwrap("Ein lan \ngesWort", del_sp=True) == "Ein langesWort"
    assert flowed.unwrap("Ein lan \ngesWort") == "Ein lan gesWort"


def test_flowed_quotes_join_within_their_depth_and_the_signature_separator_is_hard():
    text = "> quoted and \n> continued\n>> deeper \n>> still\n> back \nplain\n-- \nSignature"
    assert flowed.unwrap(text) == ("> quoted and continued\n>> deeper still\n> back \nplain\n-- \nSignature")


def test_a_flowed_message_is_unwrapped_at_import_and_a_fixed_one_is_not():
    def message(params):
        return (b"From: a@example.com\r\nSubject: flowed\r\nMIME-Version: 1.0\r\n"
                b"Content-Type: text/plain; charset=utf-8" + params + b"\r\n\r\n"
                + "Отчёт за квартал \r\nготов.\r\n".encode())
    assert parse_message(message(b'; format="flowed"; delsp=no')).text == "Отчёт за квартал готов.\n"
    assert parse_message(message(b"; format=flowed; DelSp=Yes")).text == "Отчёт за кварталготов.\n"
    assert parse_message(message(b"")).text == "Отчёт за квартал \nготов.\n"


# ---- sanitising --------------------------------------------------------------------------------------

HOSTILE = """<html><head><meta http-equiv="refresh" content="0;url={remote}/refresh">
<link rel="stylesheet" href="{remote}/css">
<style>@import url({remote}/import); body {{background:url({remote}/bg)}}</style>
<script>window.top.__pwned = 1; fetch("{remote}/script")</script><base href="{remote}/base/"></head>
<body onload="fetch('{remote}/onload')">
<p title="greeting" style="color:red;background-image:url({remote}/style)">Привет, это отчёт</p>
<img alt="tracker" src="{remote}/pixel.gif" onerror="fetch('{remote}/onerror')">
<img alt="logo" src="cid:logo@example.com">
<img src="x" onerror="window.top.__pwned = 2">
<a id="js" href="javascript:window.top.__pwned=3">click</a> <a id="ok" href="https://example.com/">site</a>
<form action="{remote}/form" method="post"><input name="card" value="1234"><button id="send">Send</button></form>
<svg><script>window.top.__pwned = 4</script><image href="{remote}/svg"/></svg>
<iframe src="{remote}/frame"></iframe><object data="{remote}/object"></object>
<video src="{remote}/video"></video>
</body></html>"""
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAAB"
                       "JRU5ErkJggg==")  # 1x1


def test_sanitiser_drops_scripts_handlers_forms_and_remote_images_and_rewrites_cid():
    safe = html_view.sanitize(HOSTILE.format(remote="http://tracker.example"),
                              {"logo@example.com": "data:image/png;base64,AA"})
    lowered = safe.html.lower()
    for banned in ("<script", "onerror", "onload", "<form", "<input", "<iframe", "<object", "<video", "<svg",
                   "<meta", "<link", "<base", "javascript:", "tracker.example", "@import"):
        assert banned not in lowered, banned
    assert 'src="data:image/png;base64,AA"' in safe.html and "Привет, это отчёт" in safe.html
    assert safe.blocked_images == 1 and 'href="https://example.com/"' in safe.html
    assert "color:red" in safe.html.replace(" ", "")
    allowed = html_view.sanitize('<img src="https://images.example/a.png">', allow_remote=True)
    assert 'src="https://images.example/a.png"' in allowed.html and allowed.blocked_images == 0


def test_only_images_with_a_content_id_become_inline_and_within_the_budget():
    stored = {"k1": PNG, "k2": b"x" * 10, "k3": b"y" * (message_view.MAX_INLINE_BYTES + 1)}
    attachments = [
        {"content_id": "<Logo@Example.com>", "content_type": "image/png", "size": len(PNG), "storage_key": "k1"},
        {"content_id": None, "content_type": "image/png", "size": 10, "storage_key": "k2"},
        {"content_id": "big@x", "content_type": "image/png", "size": len(stored["k3"]), "storage_key": "k3"},
        {"content_id": "doc@x", "content_type": "application/pdf", "size": 10, "storage_key": "k2"}]
    found = message_view.inline_images(attachments, fetch=stored.__getitem__)
    assert list(found) == ["logo@example.com"]
    assert found["logo@example.com"] == "data:image/png;base64," + base64.b64encode(PNG).decode()


# ---- in Chromium, through the local cloud ------------------------------------------------------------

class Recorder(BaseHTTPRequestHandler):
    """Any request that reaches it is a leak: the letter made the browser talk to the outside."""
    hits = []

    def _record(self):
        Recorder.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/gif")
        self.end_headers()

    do_GET = do_POST = _record

    def log_message(self, *args):
        pass


@pytest.fixture
def remote():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    Recorder.hits = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def hostile_message(remote):
    html = HOSTILE.format(remote=remote)
    return ("From: Attacker <evil@example.com>\r\nTo: me@example.com\r\nSubject: Hostile\r\n"
            "Message-ID: <hostile-1@example.com>\r\nDate: Mon, 2 Mar 2026 10:00:00 +0300\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/related; boundary="rel"\r\n\r\n'
            '--rel\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n'
            + base64.encodebytes(html.encode()).decode().replace("\n", "\r\n")
            + '--rel\r\nContent-Type: image/png\r\nContent-ID: <logo@example.com>\r\n'
            'Content-Transfer-Encoding: base64\r\n\r\n' + base64.b64encode(PNG).decode() + "\r\n--rel--\r\n").encode()


@pytest.fixture(scope="module")
def cloud(start_cloud):
    return start_cloud(functions=FUNCTIONS, env={"MAIL_IMPORT_BATCH": "10"})


def imported(cloud, dovecot, raw):
    api = cloud.api_url("MailImportApi")
    mailbox = dovecot.new_mailbox("html")
    mailbox.fill("INBOX", [raw])
    created = requests.post(f"{api}/api/accounts", json=mailbox.account_input(), timeout=30).json()
    auth = {"Authorization": f"Bearer {created['token']}"}
    requests.post(f"{api}/api/accounts/{created['id']}/import", headers=auth, timeout=30)
    for _ in range(300):
        listed = requests.get(f"{api}/api/accounts/{created['id']}/messages", headers=auth, timeout=30).json()
        if listed["messages"]:
            return api, created, listed["messages"][0]
        threading.Event().wait(0.2)
    raise AssertionError("the message was not imported")


def test_hostile_html_renders_inert_in_chromium(cloud, dovecot, remote, chromium):
    api, created, row = imported(cloud, dovecot, hostile_message(remote))
    assert row["has_html"] is True
    page_url = f"{api}/accounts/{created['id']}/messages/{row['id']}?token={created['token']}"
    dialogs = []
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(page_url)
        frame_element = page.wait_for_selector("iframe#body")
        assert "allow-scripts" not in frame_element.get_attribute("sandbox")
        frame = frame_element.content_frame()
        frame.wait_for_selector("p[title=greeting]")
        page.wait_for_timeout(1500)  # let anything that could fire (refresh, onerror, fetch) fire
        assert frame.inner_text("p[title=greeting]") == "Привет, это отчёт"
        logo = frame.query_selector("img[alt=logo]")
        assert logo.get_attribute("src").startswith("data:image/png;base64,")
        assert frame.evaluate("document.querySelector('img[alt=logo]').naturalWidth") == 1  # the cid: image
        assert frame.query_selector("form") is None and frame.query_selector("script") is None
        assert frame.query_selector("img[alt=tracker]").get_attribute("src") is None
        assert page.evaluate("window.__pwned") is None
        assert "images-blocked" in page.content()
        blocked_hits = list(Recorder.hits)
        page.click("#allow-images")  # the reader allows remote images: now, and only now, they load
        page.wait_for_selector("iframe#body")
        page.frame_locator("iframe#body").locator("p[title=greeting]").wait_for()
        page.wait_for_timeout(1000)
        allowed_hits = list(Recorder.hits)
    finally:
        context.close()
    assert dialogs == [] and blocked_hits == []
    assert allowed_hits == ["/pixel.gif"], allowed_hits  # nothing before allowing; then the image alone
