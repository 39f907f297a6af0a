"""The admin page manages everything (issue 23), in headless Chromium, Russian and English: search and filter
clients with paging, edit a client (a ported number's code), edit a mailing (what the rules allow after its
start), stop a running mailing (end = now, with a confirmation the server checks too)."""
from datetime import datetime, timedelta, timezone

import pytest
import requests

from notifications_helpers import OPERATOR, PASSWORD, add_clients, add_mailing, signed_in_page

UTC = timezone.utc


def listed_phones(page):
    return [row.inner_text() for row in page.locator("#clients tr td:nth-child(2)").all()]


@pytest.mark.parametrize("locale, texts", [("ru-RU", ("Клиенты", "Следующая страница", "Сохранить")),
                                           ("en-US", ("Clients", "Next page", "Save"))])
def test_clients_are_searched_paged_and_edited(chromium, cloud, clean, sql, locale, texts):
    base = cloud.api_url("NotificationsApi")
    add_clients(sql, [(f"7916{n:07d}", "vip" if n % 2 else "", "Europe/Moscow") for n in range(120)]
                + [("79031234567", "vip", "Asia/Vladivostok")])
    context, page = signed_in_page(chromium, base, locale)
    page.click("header nav a[href$='/admin/clients']")
    assert page.locator("h2").inner_text() == texts[0]
    page.fill("#client-search input[name=tag]", "vip")
    page.click("#client-search button")
    page.wait_for_selector("#next-page")
    first = listed_phones(page)
    assert len(first) == 50 and page.locator("#next-page").inner_text() == texts[1]
    page.click("#next-page")
    page.wait_for_selector("#clients")
    rest = listed_phones(page)
    assert len(rest) == 11 and rest[-1] == "79031234567" and not set(rest) & set(first)
    assert page.locator("#next-page").count() == 0

    page.goto(base + "/admin/clients?phone=7903&timezone=Asia/Vladivostok")
    assert listed_phones(page) == ["79031234567"]
    page.goto(base + "/admin/clients?operator_code=9x")
    assert " 3 " in page.locator(".error").inner_text()                    # "... 3 digits", translated
    page.goto(base + "/admin/clients?phone=7903")
    page.click("#clients a.button")
    assert page.locator("#edit-client button").inner_text() == texts[2]
    page.fill("#edit-client input[name=operator_code]", "916")            # ported to another operator
    page.fill("#edit-client input[name=tag]", "moved")
    page.click("#edit-client button")
    page.wait_for_selector("#client-search")
    assert sql("SELECT operator_code, tag FROM notifications.clients WHERE phone = '79031234567'") == [
        ("916", "moved")]
    page.goto(base + "/admin/clients?phone=7903")
    page.click("#clients a.button")
    page.fill("#edit-client input[name=phone]", "79160000001")             # another client's phone
    page.click("#edit-client button")
    assert "79160000001" in page.locator(".error").inner_text()
    context.close()


@pytest.mark.parametrize("locale, texts", [("ru-RU", ("Рассылка началась", "Остановить рассылку")),
                                           ("en-US", ("The mailing has started", "Stop the mailing"))])
def test_a_mailing_is_edited_within_the_rules_and_stopped_with_a_confirmation(
        chromium, cloud, clean, sql, locale, texts):
    base = cloud.api_url("NotificationsApi")
    now = datetime.now(UTC)
    running = add_mailing(now - timedelta(minutes=5), now + timedelta(hours=2), text="Old text")
    later = add_mailing(now + timedelta(days=1), now + timedelta(days=1, hours=2), text="Later")
    context, page = signed_in_page(chromium, base, locale)

    page.goto(f"{base}/admin/mailings/{running['id']}")
    assert page.locator("#edit-mailing .hint").inner_text().startswith(texts[0])
    assert page.locator("#edit-mailing input[name=start]").count() == 0     # fixed once started
    page.fill("#edit-mailing textarea[name=text]", "New text")
    page.click("#edit-mailing button")
    page.wait_for_selector("#stop-mailing")
    assert sql("SELECT text FROM notifications.mailings WHERE id = %s", running["id"]) == [("New text",)]
    assert page.locator("#stop-mailing h3").inner_text() == texts[1]
    page.check("#stop-mailing input[name=confirm]")
    page.click("#stop-mailing button")
    page.wait_for_selector("#edit-mailing")
    assert page.locator("#stop-mailing").count() == 0
    [(ended,)] = sql("SELECT end_at <= now() FROM notifications.mailings WHERE id = %s", running["id"])
    assert ended

    page.goto(f"{base}/admin/mailings/{later['id']}")
    assert page.locator("#stop-mailing").count() == 0                      # not running: nothing to stop
    page.fill("#edit-mailing input[name=tags]", "vip, new")
    page.click("#edit-mailing button")
    page.wait_for_selector("#edit-mailing")
    assert sql("SELECT tags FROM notifications.mailings WHERE id = %s", later["id"]) == [(["new", "vip"],)]
    context.close()


def test_stopping_needs_the_confirmation_and_a_running_mailing(cloud, clean, sql):
    base = cloud.api_url("NotificationsApi")
    now = datetime.now(UTC)
    running = add_mailing(now - timedelta(minutes=5), now + timedelta(hours=2))
    later = add_mailing(now + timedelta(days=1), now + timedelta(days=1, hours=2))
    session = requests.Session()
    session.headers["Accept-Language"] = "en"
    session.post(base + "/admin/login", data={"username": OPERATOR, "password": PASSWORD}, timeout=30)
    unconfirmed = session.post(f"{base}/admin/mailings/{running['id']}/stop", data={"x": "1"}, timeout=30)
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.text
    [(still_running,)] = sql("SELECT end_at > now() FROM notifications.mailings WHERE id = %s", running["id"])
    assert still_running
    not_running = session.post(f"{base}/admin/mailings/{later['id']}/stop", data={"confirm": "yes"}, timeout=30)
    assert not_running.status_code == 409
    anonymous = requests.post(f"{base}/admin/mailings/{running['id']}/stop", data={"confirm": "yes"}, timeout=30)
    assert anonymous.status_code == 401
