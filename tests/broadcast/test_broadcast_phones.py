"""Parsing pasted phone lists: separators of any kind, E.164 digits, invalid ones by line, duplicates dropped."""
import pytest

from functions.broadcast.chalicelib import forms, phones


def test_one_number_per_line_in_many_spellings():
    text = "+7 999 123-45-67\n8 (999) 123-45-68\n79991234569\n+79991234570\n9991234571"
    parsed = phones.parse_list(text, "RU")
    assert [n.phone for n in parsed.numbers] == ["79991234567", "79991234568", "79991234569", "79991234570",
                                                 "79991234571"]
    assert [n.line for n in parsed.numbers] == [1, 2, 3, 4, 5]
    assert parsed.invalid == [] and parsed.duplicates == 0


def test_commas_semicolons_tabs_and_spaces_between_numbers():
    text = "+79991234567, +79991234568;+79991234569\t+79991234570 | 89991234571\r\n+7 999 123 45 72 +7 999 123 45 73"
    parsed = phones.parse_list(text, "RU")
    assert [n.phone for n in parsed.numbers] == [
        "79991234567", "79991234568", "79991234569", "79991234570", "79991234571", "79991234572", "79991234573"]
    assert [n.line for n in parsed.numbers] == [1, 1, 1, 1, 1, 2, 2]
    assert parsed.numbers[5].raw == "+7 999 123 45 72"


def test_plain_digit_numbers_separated_by_spaces():
    parsed = phones.parse_list("79991234567 79991234568   79991234569", "RU")
    assert [n.phone for n in parsed.numbers] == ["79991234567", "79991234568", "79991234569"]


def test_other_countries_and_default_region():
    parsed = phones.parse_list("+1 650 253 0000\n+44 20 7946 0958\n030 901820", "DE")
    assert [n.phone for n in parsed.numbers] == ["16502530000", "442079460958", "4930901820"]


def test_invalid_numbers_reported_by_line_with_original_text():
    text = "+79991234567\n\nhello\n+7 999 12\n  \n12345, +79991234568"
    parsed = phones.parse_list(text, "RU")
    assert [n.phone for n in parsed.numbers] == ["79991234567", "79991234568"]
    assert [(bad.line, bad.raw) for bad in parsed.invalid] == [(3, "hello"), (4, "+7 999 12"), (6, "12345")]
    assert parsed.invalid[0].reason == "not a phone number"
    assert parsed.invalid[1].reason == "not a valid phone number"


def test_junk_between_numbers_on_one_line_is_reported_and_numbers_kept():
    parsed = phones.parse_list("+79991234567 oops +79991234568", "RU")
    assert [n.phone for n in parsed.numbers] == ["79991234567", "79991234568"]
    assert [(bad.line, bad.raw) for bad in parsed.invalid] == [(1, "oops")]


def test_duplicates_dropped_after_normalisation_and_counted():
    parsed = phones.parse_list("+79991234567\n8 999 123 45 67\n79991234567, +7 (999) 123-45-67\n+79991234568", "RU")
    assert [n.phone for n in parsed.numbers] == ["79991234567", "79991234568"]
    assert parsed.numbers[0].line == 1
    assert parsed.duplicates == 3


def texts(form):
    """The form's errors as the English text a page shows (they are i18n.Messages, translated per reader)."""
    return [str(error) for error in form.errors]


def test_form_errors_empty_text_too_long_text_no_numbers():
    assert texts(forms.validate({"text": "  ", "numbers": "+79991234567"}, "RU")) == ["The message text is empty."]
    long = forms.validate({"text": "x" * 4097, "numbers": "+79991234567"}, "RU")
    assert texts(long) == ["The message text has 4,097 characters; the limit is 4,096."]
    assert forms.validate({"text": "x" * 4096, "numbers": "+79991234567"}, "RU").ok
    assert texts(forms.validate({"text": "hi", "numbers": " \n, ;"}, "RU")) == ["Enter at least one phone number."]


def test_form_with_invalid_numbers_is_rejected_with_the_list():
    form = forms.validate({"text": "hi", "numbers": "+79991234567\nabc\n+7 999"}, "RU")
    assert not form.ok
    assert "2 of the numbers are not valid" in texts(form)[0]
    assert [(bad.line, bad.raw) for bad in form.invalid] == [(2, "abc"), (3, "+7 999")]


def test_form_read_decodes_urlencoded_and_crlf():
    fields = forms.read(b"text=Hello%2C+world%0D%0Aline+2&numbers=%2B79991234567&csrf=t")
    form = forms.validate(fields, "RU")
    assert form.text == "Hello, world\nline 2" and form.ok


@pytest.mark.timeout(60)  # a second or two; a quadratic split would not finish
def test_ten_thousand_numbers_on_one_line_separated_by_spaces_parse_quickly():
    text = " ".join(f"+7999{n:07d}" for n in range(10000))
    parsed = phones.parse_list(text, "RU")
    assert len(parsed.numbers) == 10000 and not parsed.invalid


def test_an_oversized_list_is_refused_without_parsing():
    form = forms.validate({"text": "hi", "numbers": "1 " * 250000}, "RU")
    assert texts(form) == ["The list of numbers is too long (500,000 characters); a broadcast takes at most "
                           "10,000 numbers."]


def test_more_than_ten_thousand_numbers_are_refused():
    numbers = "\n".join(f"+7999{n:07d}" for n in range(10001))
    form = forms.validate({"text": "hi", "numbers": numbers}, "RU")
    assert texts(form) == ["10,001 numbers is more than the 10,000 allowed in one broadcast; split the list."]
