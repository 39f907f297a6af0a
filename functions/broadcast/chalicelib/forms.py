"""The new-broadcast form: decode the post, check text and numbers, say exactly what is wrong."""
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from . import config, phones

MAX_INVALID_SHOWN = 50


class FormError(ValueError):
    """The body is not a form we can read at all."""


@dataclass
class BroadcastForm:
    text: str = ""
    numbers_text: str = ""
    parsed: phones.Parsed = None
    errors: list = field(default_factory=list)
    invalid: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.errors


def read(raw_body):
    """The fields of an application/x-www-form-urlencoded body (last value wins)."""
    if isinstance(raw_body, bytes):
        try:
            raw_body = raw_body.decode("utf-8")
        except UnicodeDecodeError:
            raise FormError("the form is not UTF-8 encoded") from None
    try:
        fields = parse_qs(raw_body or "", keep_blank_values=True, strict_parsing=False, errors="strict",
                          max_num_fields=20)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FormError(f"the form cannot be read ({exc})") from None
    return {name: values[-1] for name, values in fields.items()}


def validate(fields, region):
    """Check the message text and parse the numbers; errors are sentences for the operator."""
    form = BroadcastForm(text=fields.get("text", "").replace("\r\n", "\n"),
                         numbers_text=fields.get("numbers", "").replace("\r\n", "\n"))
    if not form.text.strip():
        form.errors.append("The message text is empty.")
    elif len(form.text) > config.MAX_TEXT:
        form.errors.append(f"The message text has {len(form.text):,} characters; the limit is {config.MAX_TEXT:,}.")
    if len(form.numbers_text) > config.MAX_LIST_CHARS:
        form.parsed = phones.Parsed()
        form.errors.append(f"The list of numbers is too long ({len(form.numbers_text):,} characters); a broadcast "
                           f"takes at most {config.MAX_RECIPIENTS:,} numbers.")
        return form
    form.parsed = phones.parse_list(form.numbers_text, region)
    form.invalid = form.parsed.invalid
    if form.invalid:
        count = len(form.invalid)
        form.errors.append(f"{count} of the numbers {'is' if count == 1 else 'are'} not valid (listed below by "
                           f"line); fix or remove {'it' if count == 1 else 'them'} and send again.")
    elif not form.parsed.numbers:
        form.errors.append("Enter at least one phone number.")
    if len(form.parsed.numbers) > config.MAX_RECIPIENTS:
        form.errors.append(f"{len(form.parsed.numbers):,} numbers is more than the {config.MAX_RECIPIENTS:,} "
                           "allowed in one broadcast; split the list.")
    return form
