"""Header-level decoding: header blocks, RFC 2047 words, RFC 2231 parameters, addresses, dates.

Header values are kept as latin-1 str (one char per raw byte) so that ASCII work is plain str work
and raw 8-bit bytes can be recovered exactly with .encode('latin-1') when they need detection.
"""
import binascii
import re
from datetime import datetime, timedelta, timezone
from email.utils import getaddresses, parsedate_tz
from typing import Callable, Optional
from urllib.parse import unquote_to_bytes

import pybase64

from .charsets import decode_bytes

RawDecoder = Callable[[bytes], str]

# A header field with its folded continuation lines; the value keeps the line breaks until unfolded.
_HEADER = re.compile(rb'([!-9;-~]+)[ \t]*:([^\n]*(?:\n[ \t][^\n]*)*)\n?')
_WORD = re.compile(r'=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=')
_SPACE_ONLY = re.compile(r'[ \t\r\n]*$')
_CONTROL = re.compile(r'[\x00-\x08\x0a-\x1f\x7f]')
_B64_JUNK = re.compile(rb'[^A-Za-z0-9+/]')
_PADDING = re.compile(rb'=+')


def split_head(data: bytes, start: int = 0, end: Optional[int] = None) -> tuple:
    """(headers, body start) of the entity in data[start:end]; headers: lower-case name -> latin-1 values.

    Works on offsets, not slices: a part's body (often a large base64 attachment) is never copied here.
    One regex match per header, folded lines included (a per-line Python loop cost twice as much).
    """
    headers = {}
    pos, end = start, len(data) if end is None else end
    if data.startswith(b'From ', pos, end):  # mbox separator line left in front of the message
        pos = _next_line(data, pos, end)
    while pos < end and data[pos] in b' \t':  # continuation lines with nothing to continue
        pos = _next_line(data, pos, end)
    while pos < end:
        match = _HEADER.match(data, pos, end)
        if match is None:
            if data.startswith(b'\n', pos, end) or data.startswith(b'\r\n', pos, end):
                return headers, _next_line(data, pos, end)  # the blank line that ends the headers
            return headers, pos  # not a header: the blank line is missing, the body starts here
        name, value = match.groups()
        if b'\n' in value:
            value = value.replace(b'\r\n', b'').replace(b'\n', b'')
        headers.setdefault(name.decode('ascii').lower(), []).append(value.rstrip(b'\r').decode('latin-1'))
        pos = match.end()
    return headers, end


def _next_line(data: bytes, pos: int, end: int) -> int:
    nl = data.find(b'\n', pos, end)
    return end if nl < 0 else nl + 1


def header(headers: dict, name: str) -> Optional[str]:
    """First value of a header, unfolded whitespace kept, ends stripped; None if absent."""
    values = headers.get(name)
    return values[0].strip() if values else None


def decode_text(value: str, raw: RawDecoder) -> str:
    """Decode an unstructured latin-1 header value: RFC 2047 words (lenient) and raw 8-bit bytes."""
    if '=?' not in value:
        return _raw_text(value, raw)
    out = []
    pending = []  # [label, [bytes...]] of adjacent encoded words: decoded together (split characters)
    pos = 0
    for match in _WORD.finditer(value):
        gap = value[pos:match.start()]
        if gap and not (pending and _SPACE_ONLY.match(gap)):
            _flush(pending, out, raw)
            out.append(_raw_text(gap, raw))
        label = match.group(1).split('*', 1)[0]  # RFC 2231 language suffix: utf-8*ru
        data = _word_bytes(match.group(2), match.group(3))
        if pending and pending[-1][0].lower() == label.lower():
            pending[-1][1].append(data)
        else:
            pending.append([label, [data]])
        pos = match.end()
    _flush(pending, out, raw)
    out.append(_raw_text(value[pos:], raw))
    return ''.join(out)


def _flush(pending: list, out: list, raw: RawDecoder) -> None:
    for label, chunks in pending:
        out.append(decode_bytes(b''.join(chunks), label))
    pending.clear()


def _raw_text(text: str, raw: RawDecoder) -> str:
    return text if text.isascii() else raw(text.encode('latin-1'))


def _word_bytes(kind: str, text: str) -> bytes:
    data = text.encode('latin-1')
    if kind in 'qQ':
        return binascii.a2b_qp(data, header=True)
    return b64decode(data)


def b64decode(data: bytes, start: int = 0, end: Optional[int] = None) -> bytes:
    """Decode base64 in data[start:end] in one call; tolerate line breaks, junk, bad padding, glued chunks."""
    end = len(data) if end is None else end
    view = memoryview(data)[start:end]
    try:
        # pybase64 (SIMD) decodes what binascii.a2b_base64 does, non-alphabet characters skipped alike, about six
        # times faster: decoding attachments was the largest part of a bulk import's parsing. Whatever it
        # refuses goes the old way, where binascii decides.
        decoded = pybase64.b64decode(view)
    except ValueError:
        try:
            decoded = binascii.a2b_base64(view)
        except binascii.Error:
            return _b64_repair(data[start:end])
    pad = data.find(b'=', start, end)
    if pad >= 0 and data[pad:end].strip(b'= \t\r\n'):
        return _b64_repair(data[start:end])
    return decoded


def _b64_repair(data: bytes) -> bytes:
    """Slow path: decode each padded chunk on its own, dropping junk and fixing missing padding."""
    out = []
    for chunk in _PADDING.split(data):
        chunk = _B64_JUNK.sub(b'', chunk)
        if len(chunk) % 4 == 1:  # a lone trailing character cannot encode a byte
            chunk = chunk[:-1]
        if chunk:
            out.append(binascii.a2b_base64(chunk + b'=' * (-len(chunk) % 4)))
    return b''.join(out)


def clean_text(text: str) -> str:
    """One-line header text: control characters (folding tabs, CR/LF from encoded words) become spaces."""
    return _CONTROL.sub(' ', text.replace('\t', ' ')).strip()


# ---- parameters (Content-Type, Content-Disposition)

_PARAM = re.compile(r';\s*([^\s=;"]+)\s*=\s*("(?:[^"\\]|\\.)*(?:"|$)|[^;]*)', re.S)
_SECTION = re.compile(r'^([^*]+)\*(?:(\d+)\*?|)$')


def split_params(value: Optional[str]) -> tuple:
    """('type/subtype' or 'attachment' lower-cased, {name: raw value}) with RFC 2231 sections merged."""
    if not value:
        return '', {}
    main, _, rest = value.partition(';')
    params, sections = {}, {}
    for match in _PARAM.finditer(';' + rest):
        name, raw = match.group(1).lower(), match.group(2).strip()
        section = _SECTION.match(name)
        if section is None:
            params.setdefault(name, _unquote(raw))
        else:
            number = int(section.group(2) or 0)
            encoded = name.endswith('*')
            sections.setdefault(section.group(1), {}).setdefault(number, (encoded, _unquote(raw)))
    for name, parts in sections.items():
        params[name] = _join_sections(parts)  # the RFC 2231 form wins over a plain fallback
    return main.strip().lower(), params


def _unquote(raw: str) -> str:
    if raw.startswith('"'):
        # Like email.utils.unquote: only \\ and \" are escapes (Windows paths keep their backslashes).
        raw = raw[1:-1] if raw.endswith('"') and len(raw) > 1 else raw[1:]
        return raw.replace('\\\\', '\\').replace('\\"', '"')
    return raw


def _join_sections(parts: dict) -> tuple:
    """('rfc2231', charset, bytes) for extended values; plain continuations give a latin-1 str."""
    data, charset, extended = [], None, False
    for index, number in enumerate(sorted(parts)):
        encoded, text = parts[number]
        if encoded:
            if index == 0 and text.count("'") >= 2:
                charset, _, text = text.split("'", 2)
            extended = True
            data.append(unquote_to_bytes(text.encode('latin-1')))
        else:
            data.append(text.encode('latin-1'))
    joined = b''.join(data)
    return ('rfc2231', charset, joined) if extended else joined.decode('latin-1')


def param_text(value, raw: RawDecoder) -> str:
    """Decode a parameter value from split_params: RFC 2231 charset, RFC 2047 words in quotes, raw 8-bit."""
    if isinstance(value, tuple):
        _, charset, data = value
        text = decode_bytes(data, charset or None)
        return decode_text(text, raw) if '=?' in text else text
    return decode_text(value, raw)


# ---- addresses

_SPECIALS = set('()<>@,:;.\\"[]')


def addresses(values: Optional[list], raw: RawDecoder) -> list:
    """Decoded mailboxes of address headers as "Name <addr>" or "addr" (names quoted if they need it)."""
    if not values:
        return []
    out = []
    for name, addr in _mailboxes(', '.join(values).replace('\t', ' ')):
        name = clean_text(decode_text(name, raw)) if name else ''
        addr = clean_text(_raw_text(addr, raw)) if addr else ''
        if addr or name:
            out.append(format_address(name, addr))
    return out


# One mailbox of a plain list: ["quoted name"|plain name] <addr>, or a bare addr; then "," or the end.
_MAILBOX = re.compile(r'[\s,]*(?:(?:"((?:[^"\\]|\\.)*)"|([^"<>,;:()\\\[\]@]*?))\s*<\s*([^<>\s"(),;:\\]+)\s*>'
                      r'|([^<>\s"(),;:\\]+@[^<>\s"(),;:\\]+))\s*(?:,|$)')
_TRAILING = re.compile(r'[\s,]*$')
_QUOTED_PAIR = re.compile(r'\\(.)')


def _mailboxes(value: str) -> list:
    """(name, addr) pairs: a regex for plain lists (fast), email.utils.getaddresses for the rest."""
    out, pos = [], 0
    while not _TRAILING.match(value, pos):
        match = _MAILBOX.match(value, pos)
        if match is None or match.end() == pos:  # groups, comments, odd quoting: the full RFC parser
            return getaddresses([value])
        quoted, plain, addr, bare = match.groups()
        if bare:
            out.append(('', bare))
        else:
            name = _QUOTED_PAIR.sub(r'\1', quoted) if quoted is not None else ' '.join(plain.split())
            out.append((name, addr))
        pos = match.end()
    return out


def format_address(name: str, addr: str) -> str:
    """"Name <addr>" the way email.policy.default prints it; "addr" alone when there is no name."""
    if not name or name == addr:
        return addr or name
    if not _SPECIALS.isdisjoint(name):
        name = '"' + name.replace('\\', '\\\\').replace('"', '\\"') + '"'
    return f'{name} <{addr}>' if addr else name


# ---- Message-ID, Date

_MSG_ID = re.compile(r'<[^<>]+>')
_WS = re.compile(r'\s+')


def message_id(value: Optional[str]) -> Optional[str]:
    """"<id>" without whitespace; brackets added when a client left them out."""
    if not value:
        return None
    value = _WS.sub('', value)
    match = _MSG_ID.search(value)
    if match:
        return match.group()
    value = value.strip('<>')
    return f'<{value}>' if value else None


# Zone names missing from email.utils, unambiguous in mail from Russia and Europe.
_ZONES = {
    'MSK': '+0300', 'MSD': '+0400', 'SAMT': '+0400', 'YEKT': '+0500', 'OMST': '+0600', 'NOVT': '+0700',
    'KRAT': '+0700', 'IRKT': '+0800', 'YAKT': '+0900', 'VLAT': '+1000', 'MAGT': '+1100', 'PETT': '+1200',
    'CET': '+0100', 'CEST': '+0200', 'MET': '+0100', 'MEST': '+0200', 'EET': '+0200', 'EEST': '+0300',
    'WET': '+0000', 'WEST': '+0100', 'JST': '+0900', 'KST': '+0900', 'HKT': '+0800',
    'SGT': '+0800', 'AEST': '+1000', 'AEDT': '+1100', 'NZST': '+1200', 'NZDT': '+1300', 'HST': '-1000',
    'AKST': '-0900', 'AKDT': '-0800',
}
_ZONE = re.compile(r'(?<=[\s\d])(' + '|'.join(_ZONES) + r')\b', re.I)
_ISO_DATE = re.compile(r'(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d))?(?:\.\d+)?\s*(Z|[+-]\d\d:?\d\d)?$', re.I)


def parse_date(value: Optional[str]) -> Optional[datetime]:
    """Timezone-aware Date; no zone or -0000 means UTC; None when missing or unparseable."""
    if not value:
        return None
    value = _WS.sub(' ', value).strip()
    try:
        return _rfc_date(value) or _iso_date(value)
    except (ValueError, OverflowError, TypeError, IndexError):
        return None


def _rfc_date(value: str) -> Optional[datetime]:
    value = _ZONE.sub(lambda m: _ZONES[m.group(1).upper()], value, count=1)
    parts = parsedate_tz(value)
    if not parts or parts[0] < 1 or not 1 <= parts[1] <= 12:
        return None
    year, month, day, hour, minute, second = parts[:6]
    second = min(second, 59)  # a leap second (:60) is valid RFC 5322 but not a datetime
    offset = parts[9] or 0
    return datetime(year, month, day, hour, minute, second, tzinfo=timezone(timedelta(seconds=offset)))


def _iso_date(value: str) -> Optional[datetime]:
    match = _ISO_DATE.match(value)
    if not match:
        return None
    year, month, day, hour, minute = (int(x) for x in match.group(1, 2, 3, 4, 5))
    zone = match.group(7) or 'Z'
    offset = 0
    if zone.upper() != 'Z':
        digits = zone.replace(':', '')
        offset = (1 if digits[0] == '+' else -1) * (int(digits[1:3]) * 3600 + int(digits[3:5]) * 60)
    return datetime(year, month, day, hour, minute, int(match.group(6) or 0),
                    tzinfo=timezone(timedelta(seconds=offset)))
