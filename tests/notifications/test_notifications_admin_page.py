"""The admin page in headless Chromium: sign in, add clients (and see a refused one explained), schedule a
mailing and watch its progress change live without reloading; Russian by default, English on request."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import requests

from notifications_helpers import OPERATOR, PASSWORD, wait_until


def sign_in(page, base):
    page.goto(base + "/admin")
    page.fill("input[name=username]", OPERATOR)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action$='/admin/login'] button")
    page.wait_for_selector("#new-client")


def test_operator_manages_clients_and_watches_a_mailing_live(chromium, cloud, emulator, clean):
    base = cloud.api_url("NotificationsApi")
    emulator.configure(latency=1.0)                  # slow enough that the page first shows messages in progress
    context = chromium.new_context(locale="ru-RU")
    page = context.new_page()
    page.goto(base + "/admin")
    assert page.locator("h2").inner_text() == "Вход"
    page.fill("input[name=username]", OPERATOR)
    page.fill("input[name=password]", "wrong")
    page.click("form[action$='/admin/login'] button")
    assert "Неверное имя пользователя или пароль." in page.locator(".error").inner_text()
    sign_in(page, base)

    for phone, tag in (("79161234567", "vip"), ("79031234567", "vip"), ("79261234567", "new")):
        page.fill("#new-client input[name=phone]", phone)
        page.fill("#new-client input[name=tag]", tag)
        page.click("#new-client button")
        page.wait_for_selector(f"#clients td:text('{phone}')")
    page.fill("#new-client input[name=phone]", "79161234567")
    page.click("#new-client button")
    assert "клиент с телефоном 79161234567 уже есть" in page.locator(".error").inner_text()

    moscow = datetime.now(ZoneInfo("Europe/Moscow"))
    page.fill("#new-mailing input[name=start]", (moscow - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#new-mailing input[name=end]", (moscow + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#new-mailing textarea[name=text]", "Скидка для своих")
    page.fill("#new-mailing input[name=tags]", "vip")
    page.click("#new-mailing button")
    page.wait_for_selector("#progress")
    assert page.locator("h2").inner_text().startswith("Рассылка ")
    page.evaluate("window.__same_page = true")
    seen = set()

    def sent_shown():
        seen.add(page.locator("#sent").inner_text())
        return "2" in seen
    wait_until(sent_shown, timeout=60, what="the page shows 2 sent")
    assert "0" in seen or "1" in seen                            # it showed progress on the way
    assert page.evaluate("window.__same_page") is True          # updated by polling, not by a reload
    assert page.locator("#total").inner_text() == "2" and page.locator("#processing").inner_text() == "0"
    assert sorted(s["phone"] for s in emulator.sends()) == [79031234567, 79161234567]

    page.goto(base + "/admin")
    assert "Скидка для своих" in page.locator("#mailings").inner_text()
    page.click("form[action$='/admin/logout'] button")
    assert page.locator("h2").inner_text() == "Вход"
    context.close()


def test_english_when_the_browser_prefers_it_and_no_access_without_signing_in(chromium, cloud, clean):
    base = cloud.api_url("NotificationsApi")
    context = chromium.new_context(locale="en-US")
    page = context.new_page()
    page.goto(base + "/admin")
    assert page.locator("h2").inner_text() == "Sign in"
    sign_in(page, base)
    assert page.locator("h2").first.inner_text() == "Mailings"
    context.close()
    anonymous = requests.get(base + "/admin/mailings/1", timeout=10)
    assert anonymous.status_code == 401 and "Войдите, чтобы продолжить." in anonymous.text
    assert anonymous.headers["Content-Security-Policy"].find("frame-ancestors 'none'") >= 0
    foreign = requests.post(base + "/admin/clients", data={"phone": "79161234567", "timezone": "Europe/Moscow"},
                            headers={"Origin": "https://evil.example"}, timeout=10)
    assert foreign.status_code == 403
    cross_site = requests.post(base + "/admin/login", data={"username": OPERATOR, "password": PASSWORD},
                               headers={"Sec-Fetch-Site": "cross-site", "Origin": "null"}, timeout=10,
                               allow_redirects=False)
    assert cross_site.status_code == 403 and "Set-Cookie" not in cross_site.headers
    assert requests.get(base + "/admin/mailings/1/progress", timeout=10).status_code == 401
