"""Importing clients from a CSV file on the admin page (issue 23), Russian and English: a preview with per-row
errors before anything is stored, then the valid new rows stored at once; and 100,000 rows in one go."""
import pytest

from functions.notifications.chalicelib.clients import importer

from notifications_helpers import OPERATOR, add_clients, signed_in_page

CSV = """phone,timezone,tag,operator_code
79161234567,Europe/Moscow,vip,
79031234567,Asia/Vladivostok,,916
89161234567,Europe/Moscow,,
79261234567,Mars/Olympus,,
79161234567,Europe/Moscow,again,
79991234567,Europe/Moscow,old,
79261111111,Asia/Yekaterinburg,new,
"""


@pytest.mark.parametrize("locale, texts", [
    ("ru-RU", ("Строк: 7; новых клиентов: 3; строк с ошибками: 4.", "телефон повторяется в файле (строка 2)",
               "клиент с этим телефоном уже есть", "Добавлено клиентов: 3.")),
    ("en-US", ("Rows: 7; new clients: 3; rows with errors: 4.", "the phone is repeated in the file (row 2)",
               "a client with this phone already exists", "Clients added: 3."))])
def test_a_csv_is_previewed_with_its_errors_then_stored(chromium, cloud, clean, sql, locale, texts):
    base = cloud.api_url("NotificationsApi")
    add_clients(sql, [("79991234567", "", "Europe/Moscow")])
    context, page = signed_in_page(chromium, base, locale)
    page.click("header nav a[href$='/admin/import']")
    page.fill("#import textarea[name=csv]", CSV)
    page.click("#import button[value=preview]")
    page.wait_for_selector("#preview")
    assert texts[0] in page.locator("#preview").inner_text()
    errors = [row.inner_text() for row in page.locator("#import-errors tr").all()[1:]]
    assert [line.split("\t")[0] for line in errors] == ["4", "5", "6", "7"]
    assert texts[1] in errors[2] and texts[2] in errors[3]
    assert sql("SELECT count(*) FROM notifications.clients") == [(1,)]          # nothing stored by the preview
    page.click("#store")
    page.wait_for_selector("#imported")
    assert page.locator("#imported").inner_text() == texts[3]
    assert sorted(sql("SELECT phone, operator_code, tag FROM notifications.clients")) == [
        ("79031234567", "916", ""), ("79161234567", "916", "vip"), ("79261111111", "926", "new"),
        ("79991234567", "999", "")]
    context.close()


def test_a_hundred_thousand_rows_are_checked_and_stored_in_one_go(clean, sql):
    text = "phone,timezone,tag\n" + "".join(f"79{n:09d},Europe/Moscow,t{n % 7}\n" for n in range(100_000))
    found = importer.preview(text)
    assert found == {"rows": 100_000, "new": 100_000, "errors": 0, "shown": []}
    assert importer.store(text, {"id": 1, "username": OPERATOR}) == 100_000
    assert sql("SELECT count(*), count(DISTINCT tag) FROM notifications.clients") == [(100_000, 7)]
    again = importer.preview(text)
    assert again["new"] == 0 and again["errors"] == 100_000 and len(again["shown"]) == importer.SHOWN_ERRORS


def test_a_csv_without_the_columns_is_refused_naming_them():
    with pytest.raises(importer.AppError) as refused:
        importer.read("name,tz\nx,y\n")
    assert refused.value.status == 400 and "phone, timezone" in refused.value.text
