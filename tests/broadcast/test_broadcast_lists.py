"""Contact lists through the site: named lists, numbers saved one by one or pasted in bulk (the broadcast form's
validation and de-duplication), a broadcast sent to a list, the list's history."""
import re

import requests

from functions.broadcast.chalicelib import contact_lists, phones

from broadcast_helpers import basic, csrf
from broadcast_site import broadcast_id, statuses, text_of

LIST_LOCATION = re.compile(r"/lists/(\d+)$")


def _post(http, site, path, **fields):
    return http.post(site + path, data={"csrf": csrf(site), **fields}, allow_redirects=False, timeout=60)


def _create(http, site, name):
    created = _post(http, site, "/lists", name=name)
    assert created.status_code == 303, created.text[:300]
    return int(LIST_LOCATION.search(created.headers["Location"]).group(1))


def _numbers(sql, list_id):
    return [r["phone"] for r in sql("SELECT phone FROM contact_list_numbers WHERE list_id = %s ORDER BY id", list_id)]


def test_lists_are_named_once(site, emulator, http, sql):
    list_id = _create(http, site, "  VIP   clients ")
    assert sql("SELECT name FROM contact_lists WHERE id = %s", list_id)[0]["name"] == "VIP clients"
    taken = _post(http, site, "/lists", name="VIP clients")
    assert taken.status_code == 400 and "A contact list with this name exists already." in text_of(taken.text)
    empty = _post(http, site, "/lists", name="   ")
    assert empty.status_code == 400 and 'data-field="name"' in empty.text
    assert _post(http, site, "/lists", name="x" * 101).status_code == 400
    page = http.get(site + "/lists", timeout=30).text
    assert f'data-list="{list_id}"' in page and "VIP clients" in page
    assert "Списки контактов" in requests.get(site + "/lists", headers={"Authorization": basic()}, timeout=30).text
    assert requests.post(site + "/lists", data={"name": "forged"}, headers={"Authorization": basic()},
                         timeout=30).status_code == 403


def test_numbers_are_saved_one_by_one_or_in_bulk_validated_and_deduplicated(site, emulator, http, sql):
    list_id = _create(http, site, "Bulk")
    refused = _post(http, site, f"/lists/{list_id}/numbers", numbers="+79991234567\nnot a number")
    assert refused.status_code == 400 and "Nothing was saved." in text_of(refused.text)
    assert "2 not a number not a phone number" in text_of(refused.text) and _numbers(sql, list_id) == []
    added = _post(http, site, f"/lists/{list_id}/numbers",
                  numbers="+7 999 123-45-67, 8 (999) 123-45-68; 79991234567\n+79991234569")
    assert added.status_code == 303 and added.headers["Location"].endswith(f"/lists/{list_id}?added=3")
    one = _post(http, site, f"/lists/{list_id}/numbers", numbers="9991234570")
    assert one.headers["Location"].endswith("?added=1")
    again = _post(http, site, f"/lists/{list_id}/numbers", numbers="+79991234567")
    assert again.headers["Location"].endswith("?added=0")           # already in the list: kept once
    assert _numbers(sql, list_id) == ["79991234567", "79991234568", "79991234569", "79991234570"]
    page = http.get(site + again.headers["Location"].split("/prod", 1)[-1], timeout=30).text
    assert "4 numbers" in text_of(page) and "0 new numbers saved" in text_of(page)
    assert http.get(f"{site}/lists/2000000000", timeout=30).status_code == 404
    assert _post(http, site, "/lists/2000000000/numbers", numbers="+79991234567").status_code == 404


def test_a_list_never_grows_past_what_one_broadcast_takes(emulator, sql, monkeypatch):
    monkeypatch.setattr(contact_lists, "MAX_SIZE", 3)
    list_id = contact_lists.create("Small")
    numbers = phones.parse_list("+79991234567 +79991234568", "RU").numbers
    assert contact_lists.add(list_id, numbers) == 2
    more = phones.parse_list("+79991234568 +79991234569 +79991234570", "RU").numbers
    try:
        contact_lists.add(list_id, more)
        raise AssertionError("the list grew past its limit")
    except contact_lists.TooLarge as full:
        assert full.size == 2
    assert _numbers(sql, list_id) == ["79991234567", "79991234568"]     # nothing of the refused batch saved


def test_a_broadcast_to_a_list_and_the_lists_history(site, emulator, http, sql):
    list_id = _create(http, site, "Customers")
    _post(http, site, f"/lists/{list_id}/numbers", numbers="+79991234567\n+79991234568")
    empty_id = _create(http, site, "Empty")
    empty = _post(http, site, "/broadcasts", text="hi", list_id=str(empty_id))
    assert empty.status_code == 400 and "The contact list has no numbers yet." in text_of(empty.text)
    preview = _post(http, site, "/broadcasts", text="Sale", list_id=str(list_id), action="preview")
    assert preview.status_code == 200 and "2 recipients: the last message is expected" in text_of(preview.text)
    assert sql("SELECT COUNT(*) AS n FROM broadcasts")[0]["n"] == 0
    bid = broadcast_id(_post(http, site, "/broadcasts", text="Sale", list_id=str(list_id), pacing="serial"))
    [row] = sql("SELECT list_id, pacing FROM broadcasts WHERE id = %s", bid)
    assert row == {"list_id": list_id, "pacing": "serial"}
    assert sorted(statuses(http.get(f"{site}/broadcasts/{bid}", timeout=30).text)) == ["79991234567", "79991234568"]
    history = http.get(f"{site}/lists/{list_id}", timeout=30).text
    assert f'/broadcasts/{bid}">{bid}</a>' in history
    assert f'/broadcasts/{bid}">' not in http.get(f"{site}/lists/{empty_id}", timeout=30).text
    assert _post(http, site, "/broadcasts", text="hi", list_id="2000000000").status_code == 404
    russian = requests.get(f"{site}/lists/{list_id}", headers={"Authorization": basic()}, timeout=30)
    assert "Отправить рассылку этому списку" in russian.text and "2 номера" in text_of(russian.text)
