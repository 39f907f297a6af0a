"""The site's forms (a new broadcast, a contact list, numbers added to one): decode the post, check each field,
say exactly what is wrong."""
from dataclasses import dataclass, field

from common import validate as checks
from common.validate import BAD_CHARACTER
from common.i18n import N_, Message

from . import pacing, phones

MAX_TEXT = 4096            # characters; WhatsApp allows a little more, this keeps room for safety
MAX_RECIPIENTS = 10000     # per broadcast: one form post
MAX_LIST_CHARS = 400000    # 10,000 generously formatted numbers fit; bounds the parsing work per post
MAX_INVALID_SHOWN = 50
MAX_FORM_BYTES = 3 * MAX_LIST_CHARS     # percent-escaped: the list's own limit (413 naming it) is met first
MAX_FORM_FIELDS = 20
MAX_LIST_NAME = 100


@dataclass
class BroadcastForm:
    text: str = ""
    numbers_text: str = ""
    pacing: str = pacing.SPREAD
    parsed: phones.Parsed = None
    errors: list = field(default_factory=list)
    invalid: list = field(default_factory=list)

    status: int = 400          # of the page that shows the errors: 413 when the list is over its size

    @property
    def ok(self):
        return not self.errors

    def fail(self, name, msgid, **params):
        """Record an error about the field `name` (the page marks the field it names)."""
        error = Message(msgid, **params)
        error.field = name
        self.errors.append(error)


def read(raw_body):
    """The fields of an application/x-www-form-urlencoded body (last value wins); validate() checks each."""
    return checks.form_fields(raw_body, MAX_FORM_BYTES, max_fields=MAX_FORM_FIELDS, field="form", clean=False)


def validate(fields, region, list_numbers=None):
    """Check the message text and the pacing, and parse the numbers (or take a contact list's, list_numbers: a
    phones.Parsed); errors are sentences for the operator (i18n.Message)."""
    form = BroadcastForm(text=fields.get("text", "").replace("\r\n", "\n"),
                         numbers_text=fields.get("numbers", "").replace("\r\n", "\n"),
                         pacing=fields.get("pacing") or pacing.SPREAD)
    if not form.text.strip():
        form.fail("text", N_("The message text is empty."))
    elif len(form.text) > MAX_TEXT:
        form.fail("text", N_("The message text has %(length)s characters; the limit is %(limit)s."),
                  length=f"{len(form.text):,}", limit=f"{MAX_TEXT:,}")
    elif "\x00" in form.text:
        form.fail("text", BAD_CHARACTER, field="text")
    if form.pacing not in pacing.MODES:
        form.pacing = pacing.SPREAD
        form.fail("pacing", N_("Choose how the messages are paced: spread over the delay range or one at a time."))
    if list_numbers is None:
        return _parse_numbers(form, region)
    form.parsed = list_numbers
    if not list_numbers.numbers:
        form.fail("numbers", N_("The contact list has no numbers yet."))
    return form


def validate_numbers(fields, region):
    """Numbers to add to a contact list: the same parsing, validation and de-duplication as a broadcast's."""
    return _parse_numbers(BroadcastForm(numbers_text=fields.get("numbers", "").replace("\r\n", "\n")), region)


def validate_list_name(fields):
    """A contact list's name: (the name, or None with form.errors set)."""
    form = BroadcastForm()
    name = " ".join((fields.get("name") or "").split())
    if not name:
        form.fail("name", N_("Give the list a name."))
    elif len(name) > MAX_LIST_NAME or "\x00" in name:
        form.fail("name", N_("A list name has at most %(limit)s characters."), limit=MAX_LIST_NAME)
    return (name if form.ok else None), form


def _parse_numbers(form, region):
    if len(form.numbers_text) > MAX_LIST_CHARS:
        form.parsed = phones.Parsed()
        form.status = 413
        form.fail("numbers", N_("The list of numbers is too long (%(length)s characters); a broadcast takes "
                                "at most %(limit)s numbers."),
                  length=f"{len(form.numbers_text):,}", limit=f"{MAX_RECIPIENTS:,}")
        return form
    form.parsed = phones.parse_list(form.numbers_text, region)
    form.invalid = form.parsed.invalid
    if form.invalid:
        count = len(form.invalid)
        one = N_("%(count)s of the numbers is not valid (listed below by line); fix or remove it and send again.")
        many = N_("%(count)s of the numbers are not valid (listed below by line); fix or remove them and send again.")
        form.fail("numbers", one if count == 1 else many, count=count)
    elif not form.parsed.numbers:
        form.fail("numbers", N_("Enter at least one phone number."))
    if len(form.parsed.numbers) > MAX_RECIPIENTS:
        form.fail("numbers", N_("%(count)s numbers is more than the %(limit)s allowed in one broadcast; "
                                "split the list."),
                  count=f"{len(form.parsed.numbers):,}", limit=f"{MAX_RECIPIENTS:,}")
    return form
