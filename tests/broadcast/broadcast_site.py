"""Reading the broadcast pages the way a person would: statuses per number, counts, form errors."""
import re
from html import unescape

STATUS = re.compile(r'<tr data-phone="(\d+)" data-status="(\w+)">')
LOCATION = re.compile(r"/broadcasts/(\d+)$")


def statuses(page_html):
    """{phone digits: status} of the recipients table."""
    return dict(STATUS.findall(page_html))


def broadcast_id(response):
    """The id a 303 after a form post points at."""
    assert response.status_code == 303, response.text[:500]
    return int(LOCATION.search(response.headers["Location"]).group(1))


def text_of(page_html):
    """The visible text, tags dropped, whitespace collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", page_html)).split())
