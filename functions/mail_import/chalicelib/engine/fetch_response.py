"""The import's UID FETCH responses read into {uid: {item: value}}, as imapclient's parse_fetch_response reads them.

imapclient lexes every response character by character in Python: about a tenth of a fetch process's CPU in
a bulk import, for lines like `* 12 FETCH (UID 40 INTERNALDATE "..." BODY[] {5123}` whose only big part, the
literal, imaplib has already cut out. A response of exactly that shape (the items below, around one BODY[]
literal, in any order) is read here with one regular expression per line; every other response (a quoted or
NIL body, more literals, an item not listed below) goes through imapclient's parser, unchanged.
"""
import re

from imapclient.response_parser import _convert_INTERNALDATE, parse_fetch_response

# The items the import asks for (and the size some servers add): a number or a quoted date each.
_ITEMS = rb'(?:\s*(?:(?:UID|RFC822\.SIZE) \d+|INTERNALDATE "[^"\\]*"))*'
_HEAD = re.compile(rb'(\d+) \((' + _ITEMS + rb')\s*BODY\[\] \{(\d+)\}', re.I)
_TAIL = re.compile(rb'(' + _ITEMS + rb')\s*\)', re.I)
_ITEM = re.compile(rb'(UID|INTERNALDATE|RFC822\.SIZE) (\d+|"[^"]*")', re.I)


def parse(data, normalise_times=False):
    """{uid: {b"SEQ": n, b"UID": uid, b"INTERNALDATE": datetime, b"BODY[]": bytes, ...}} of imaplib's FETCH data."""
    out = {}
    for response in _responses(data):
        fast = _simple(response, normalise_times)
        if fast is None:
            for uid, items in parse_fetch_response(response, normalise_times, True).items():
                out.setdefault(uid, {}).update(items)
        else:
            uid, items = fast
            out.setdefault(uid, {}).update(items)
    return out


def _responses(data):
    """imaplib's data list cut into one list per FETCH response: (line, literal) pairs, then the line's end."""
    response = []
    for element in data:
        if element is None:
            continue
        response.append(element)
        if not isinstance(element, tuple):
            yield response
            response = []
    if response:
        yield response


def _simple(response, normalise_times):
    """(uid, items) of a response of the import's own shape, else None."""
    if len(response) != 2 or not isinstance(response[0], tuple) or not isinstance(response[1], bytes):
        return None
    (line, literal), tail = response
    head = _HEAD.fullmatch(line)
    end = _TAIL.fullmatch(tail)
    if head is None or end is None or int(head.group(3)) != len(literal):
        return None
    items = {b"SEQ": int(head.group(1)), b"BODY[]": literal}
    for name, value in _ITEM.findall(head.group(2) + b" " + end.group(1)):
        name = name.upper()
        if name == b"INTERNALDATE":   # imapclient's own conversion: None for a date it cannot read
            items[name] = _convert_INTERNALDATE(value[1:-1], normalise_times)
        else:
            items[name] = int(value)
    if b"UID" not in items:
        return None
    return items.pop(b"UID"), items
