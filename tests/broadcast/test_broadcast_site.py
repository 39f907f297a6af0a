"""The site through the local cloud over HTTP: basic auth everywhere but the webhook, the form, the pages."""
import json
import re
import time

import pytest
import requests

from functions.broadcast.chalicelib import sender

from broadcast_helpers import PASSWORD, SECRET, USER, basic, csrf
from broadcast_site import broadcast_id, statuses, text_of

# What the right credentials get: the page, "no such broadcast" for an id no test creates, and the
# form's own refusal (no CSRF token) for an empty post: exactly these, so a 5xx cannot pass.
MISSING = 2_000_000_000
PAGES = [("GET", "/", 200), ("GET", "/prod/", 200), ("GET", f"/broadcasts/{MISSING}", 404),
         ("GET", f"/prod/broadcasts/{MISSING}", 404), ("POST", "/broadcasts", 403), ("POST", "/prod/broadcasts", 403)]
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _post(http, site, text, numbers, token=None):
    data = {"text": text, "numbers": numbers, "csrf": csrf(site) if token is None else token}
    return http.post(site + "/prod/broadcasts", data=data, allow_redirects=False, timeout=60)


@pytest.mark.parametrize("method,path,status", PAGES)
def test_every_page_needs_the_right_credentials(site, emulator, method, path, status):
    for auth in (None, basic(USER, "wrong"), basic("intruder", PASSWORD), basic(USER, ""), "Bearer abc",
                 "Basic !!notbase64", "Basic " + "dXNlcm5hbWU="):
        headers = dict(FORM, **({"Authorization": auth} if auth else {}))
        resp = requests.request(method, site + path, headers=headers, data="text=x&numbers=1", timeout=30)
        assert resp.status_code == 401, (auth, resp.text[:200])
        assert resp.headers["WWW-Authenticate"] == 'Basic realm="broadcast", charset="UTF-8"'
        assert "Traceback" not in resp.text
    # As a browser sends them: a form post has a form body type, a GET no body type at all.
    headers = dict(FORM if method == "POST" else {}, Authorization=basic())
    ok = requests.request(method, site + path, headers=headers, data="", timeout=30)
    assert ok.status_code == status, ok.text[:300]
    assert "WWW-Authenticate" not in ok.headers


def test_the_webhook_needs_no_basic_auth_but_its_secret(site, emulator):
    hook = site + "/prod/webhooks/chatapp"
    body = json.dumps({"data": [{"id": "UNKNOWN", "type": "delivered", "time": int(time.time())}],
                       "meta": {"type": "messageStatus"}})
    json_type = {"Content-Type": "application/json"}
    assert requests.post(hook, data=body, headers=json_type, timeout=30).status_code == 403
    assert requests.post(hook + "?secret=nope", data=body, headers=json_type, timeout=30).status_code == 403
    assert requests.post(hook + "?secret=" + SECRET, data="{oops", headers=json_type, timeout=30).status_code == 400
    ok = requests.post(hook + "?secret=" + SECRET, data=body, timeout=30,
                       headers={"Content-Type": "application/json; charset=utf-8"})
    assert ok.status_code == 200 and ok.json() == {"updated": 0, "ignored": 1}
    assert "WWW-Authenticate" not in ok.headers


def test_bulk_list_with_any_separators_and_duplicates(site, emulator, http, sql):
    numbers = ("+7 999 123-45-67, +7 (999) 123-45-68; 89991234569\n"
               "79991234570 79991234571\n\n8 999 123 45 67\n+79991234568")
    resp = _post(http, site, "Big sale today", numbers)
    bid = broadcast_id(resp)
    assert resp.headers["Location"] == f"/prod/broadcasts/{bid}"
    page = http.get(site + resp.headers["Location"], timeout=30)
    assert page.status_code == 200
    assert set(statuses(page.text)) == {"79991234567", "79991234568", "79991234569", "79991234570", "79991234571"}
    assert "5 recipients · 2 duplicate numbers dropped" in text_of(page.text)
    rows = sql("SELECT phone, line_no, delay_seconds FROM broadcast_recipients WHERE broadcast_id = %s ORDER BY id",
               bid)
    assert [(r["phone"], r["line_no"]) for r in rows] == [
        ("79991234567", 1), ("79991234568", 1), ("79991234569", 1), ("79991234570", 2), ("79991234571", 2)]
    assert all(1 <= r["delay_seconds"] <= 2 for r in rows)      # this cloud runs with BroadcastDelayRange=1-2
    assert sql("SELECT text FROM broadcasts WHERE id = %s", bid)[0]["text"] == "Big sale today"


def test_a_single_number(site, emulator, http):
    bid = broadcast_id(_post(http, site, "Hi", "9991234567"))
    page = http.get(f"{site}/broadcasts/{bid}", timeout=30)
    assert list(statuses(page.text)) == ["79991234567"]
    assert "1 recipient" in text_of(page.text)


def test_invalid_numbers_are_listed_by_line_and_the_input_is_kept(site, emulator, http, sql):
    numbers = "+79991234567\nnot a number\n+7 999 12\n\n<b>bold</b>, +79991234568"
    resp = _post(http, site, "Keep <this> text", numbers)
    assert resp.status_code == 400 and 'data-field="numbers"' in resp.text
    text = text_of(resp.text)
    assert "Nothing was sent." in text and "3 of the numbers are not valid" in text
    assert "2 not a number not a phone number" in text
    assert "3 +7 999 12 not a valid phone number" in text
    assert "5 <b>bold</b> not a phone number" in text            # shown as text, not markup
    assert "<b>bold</b>" not in resp.text
    assert "Keep &lt;this&gt; text</textarea>" in resp.text
    assert "+79991234567\nnot a number\n+7 999 12\n\n&lt;b&gt;bold&lt;/b&gt;, +79991234568</textarea>" in resp.text
    assert sql("SELECT COUNT(*) AS n FROM broadcasts")[0]["n"] == 0


@pytest.mark.parametrize("text,numbers,message", [
    ("", "+79991234567", "The message text is empty."),
    ("   \n ", "+79991234567", "The message text is empty."),
    ("x" * 4097, "+79991234567", "The message text has 4,097 characters; the limit is 4,096."),
    ("hello", "", "Enter at least one phone number."),
])
def test_empty_or_too_long_text_and_no_numbers_are_refused(site, emulator, http, sql, text, numbers, message):
    resp = _post(http, site, text, numbers)
    assert resp.status_code == 400 and message in text_of(resp.text)
    assert sql("SELECT COUNT(*) AS n FROM broadcasts")[0]["n"] == 0


def test_a_form_without_this_sites_token_is_refused(site, emulator, http, sql):
    resp = _post(http, site, "hi", "+79991234567", token="forged")
    assert resp.status_code == 403 and "reload the page" in resp.text
    assert sql("SELECT COUNT(*) AS n FROM broadcasts")[0]["n"] == 0


def test_unknown_broadcasts_and_bad_filters_are_404(site, emulator, http):
    for path in ("/broadcasts/999999", "/broadcasts/abc", "/broadcasts/1?status=bogus"):
        resp = http.get(site + path, timeout=30)
        assert resp.status_code == 404 and "Traceback" not in resp.text


def test_the_list_is_newest_first_with_counts_per_status(site, emulator, http, sql):
    first = broadcast_id(_post(http, site, "first", "+79991234567\n+79991234568"))
    second = broadcast_id(_post(http, site, "second", "+79991234569"))
    sql("UPDATE broadcast_recipients SET status = 'read' WHERE broadcast_id = %s AND phone = '79991234567'", first)
    sql("UPDATE broadcast_recipients SET status = 'not_sent' WHERE broadcast_id = %s AND phone = '79991234568'",
        first)
    page = http.get(site + "/", timeout=30)
    text = text_of(page.text)
    # The rows' links, in page order (searching the text for "2 " would also find counts once ids are small).
    listed = [int(found) for found in re.findall(r'<a href="[^"]*/broadcasts/(\d+)">', page.text)]
    assert second in listed and first in listed and listed.index(second) < listed.index(first)
    assert "first 2 not sent 1 , read 1" in text


def test_the_page_refreshes_itself_only_while_something_is_pending(site, emulator, http, sql):
    bid = broadcast_id(_post(http, site, "hi", "+79991234567"))
    sql("UPDATE broadcast_recipients SET status = 'queued' WHERE broadcast_id = %s", bid)
    assert '<meta http-equiv="refresh"' in http.get(f"{site}/broadcasts/{bid}", timeout=30).text
    sql("UPDATE broadcast_recipients SET status = 'read' WHERE broadcast_id = %s", bid)
    assert '<meta http-equiv="refresh"' not in http.get(f"{site}/broadcasts/{bid}", timeout=30).text


def test_a_database_outage_is_a_plain_503_page_not_a_traceback(start_cloud, emulator):
    broken = start_cloud(functions=["BroadcastWebFunction"], parameters={
        "BroadcastUser": USER, "BroadcastPassword": PASSWORD, "BroadcastWebhookSecret": SECRET,
        "MysqlUrl": "mysql://root@127.0.0.1:1/nowhere"})
    url = broken.api_url("BroadcastApi")
    page = requests.get(url + "/", auth=(USER, PASSWORD), headers={"Accept-Language": "en"}, timeout=60)
    assert page.status_code == 503 and "Temporarily unavailable" in page.text and "Traceback" not in page.text
    russian = requests.get(url + "/", auth=(USER, PASSWORD), timeout=60)
    assert russian.status_code == 503 and "Временно недоступно" in russian.text and "Traceback" not in russian.text
    hook = requests.post(url + "/webhooks/chatapp?secret=" + SECRET, json={"data": [{"id": "x", "type": "sent"}]},
                         timeout=60)
    assert hook.status_code == 503 and hook.json() == {"error": "Database unavailable, retry later"}
    assert hook.headers["Retry-After"] == "1"
    # Sign-ins are throttled through the database: without it no page is served (fails closed), not even a 404.
    assert requests.get(url + "/broadcasts/²", auth=(USER, PASSWORD), timeout=60).status_code == 503


def test_pages_are_russian_by_default_and_english_on_request(site, emulator, sql):
    bid = broadcast_id(_post(requests_with(basic()), site, "hi", "+79991234567\n+79991234567"))
    for path in ("/", f"/broadcasts/{bid}"):
        russian = requests.get(site + path, headers={"Authorization": basic()}, timeout=30)
        english = requests.get(site + path, headers={"Authorization": basic(), "Accept-Language": "en-US,en;q=0.9"},
                               timeout=30)
        assert '<html lang="ru">' in russian.text and '<html lang="en">' in english.text
        assert "Рассылки" in russian.text and "Broadcasts" in english.text and "Рассылки" not in english.text
    assert "1 получатель · 1 повторный номер убран" in text_of(russian.text)
    assert "1 recipient · 1 duplicate number dropped" in text_of(english.text)
    sql("UPDATE broadcast_recipients SET status = 'unknown', error_code = %s, error_message = %s "
        "WHERE broadcast_id = %s", sender.INTERRUPTED, sender.EXPLANATIONS[sender.INTERRUPTED], bid)
    russian = requests.get(f"{site}/broadcasts/{bid}", headers={"Authorization": basic()}, timeout=30)
    english = requests.get(f"{site}/broadcasts/{bid}", headers={"Authorization": basic(), "Accept-Language": "en"},
                           timeout=30)
    assert "Interrupted: предыдущая попытка прервалась" in text_of(russian.text)
    assert "неизвестно" in text_of(russian.text) and "unknown" in text_of(english.text)
    assert "Interrupted: an earlier attempt stopped while calling ChatApp; not resent" in text_of(english.text)
    refused = requests.post(site + "/broadcasts", headers=dict(FORM, Authorization=basic()), timeout=30,
                            data={"text": "", "numbers": "+79991234567", "csrf": csrf(site)})
    assert refused.status_code == 400 and "Текст сообщения пуст." in text_of(refused.text)
    invalid = requests.post(site + "/broadcasts", headers=dict(FORM, Authorization=basic()), timeout=30,
                            data={"text": "hi", "numbers": "+79991234567\nabc", "csrf": csrf(site)})
    assert "Недействительных номеров: 1" in text_of(invalid.text) and "это не номер телефона" in text_of(invalid.text)
    locked = requests.get(site + "/", timeout=30)
    assert locked.status_code == 401 and "Войдите с именем пользователя и паролем рассылок." in locked.text
    assert locked.headers["Content-Security-Policy"].startswith("default-src 'self'")


def requests_with(authorization):
    session = requests.Session()
    session.headers["Authorization"] = authorization
    return session
