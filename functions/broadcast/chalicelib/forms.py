"""The new-broadcast form: decode the post, check text and numbers, say exactly what is wrong."""
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from common.i18n import N_, Message
from common.web import bad_request

from . import phones

MAX_TEXT = 4096            # characters; WhatsApp allows a little more, this keeps room for safety
MAX_RECIPIENTS = 10000     # per broadcast: one form post
MAX_LIST_CHARS = 400000    # 10,000 generously formatted numbers fit; bounds the parsing work per post
MAX_INVALID_SHOWN = 50


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
            raise bad_request(N_("The form is not UTF-8 encoded: send it again from the page.")) from None
    try:
        fields = parse_qs(raw_body or "", keep_blank_values=True, strict_parsing=False, errors="strict",
                          max_num_fields=20)
    except (ValueError, UnicodeDecodeError):
        raise bad_request(N_("The form cannot be read: send it again from the page.")) from None
    return {name: values[-1] for name, values in fields.items()}


def validate(fields, region):
    """Check the message text and parse the numbers; errors are sentences for the operator (i18n.Message)."""
    form = BroadcastForm(text=fields.get("text", "").replace("\r\n", "\n"),
                         numbers_text=fields.get("numbers", "").replace("\r\n", "\n"))
    if not form.text.strip():
        form.errors.append(Message(N_("The message text is empty.")))
    elif len(form.text) > MAX_TEXT:
        form.errors.append(Message(N_("The message text has %(length)s characters; the limit is %(limit)s."),
                                   length=f"{len(form.text):,}", limit=f"{MAX_TEXT:,}"))
    if len(form.numbers_text) > MAX_LIST_CHARS:
        form.parsed = phones.Parsed()
        form.errors.append(Message(N_("The list of numbers is too long (%(length)s characters); a broadcast takes "
                                      "at most %(limit)s numbers."),
                                   length=f"{len(form.numbers_text):,}", limit=f"{MAX_RECIPIENTS:,}"))
        return form
    form.parsed = phones.parse_list(form.numbers_text, region)
    form.invalid = form.parsed.invalid
    if form.invalid:
        count = len(form.invalid)
        one = N_("%(count)s of the numbers is not valid (listed below by line); fix or remove it and send again.")
        many = N_("%(count)s of the numbers are not valid (listed below by line); fix or remove them and send again.")
        form.errors.append(Message(one if count == 1 else many, count=count))
    elif not form.parsed.numbers:
        form.errors.append(Message(N_("Enter at least one phone number.")))
    if len(form.parsed.numbers) > MAX_RECIPIENTS:
        form.errors.append(Message(N_("%(count)s numbers is more than the %(limit)s allowed in one broadcast; "
                                      "split the list."),
                                   count=f"{len(form.parsed.numbers):,}", limit=f"{MAX_RECIPIENTS:,}"))
    return form
