"""Parse raw RFC 5322 messages into plain values for the IMAP import.

Fast path by design (parsing dominated the import; bench/mail_import_parse_bench.py measures it): headers are
split and decoded once by hand, MIME parts are cut out with bytes.find on the boundary, and base64
is decoded with binascii in one call per part instead of the email package's per-line feed parser.

Choices:
- Body text: every inline text/plain part, in order; HTML likewise. A text part with a filename or
  "Content-Disposition: attachment" is an attachment. In multipart/alternative the first branch with
  plain text and the last with HTML win; other branches only contribute their attachments.
- Without a (non-blank) text/plain part, text is derived from the HTML (html_text.html_to_text).
- sender is the first mailbox of From (Sender if there is no From); names with specials are quoted
  like email.policy.default prints them ('"Ivanov, Ivan" <i@x>'); a name equal to the address is dropped.
- A nested message/rfc822 is kept whole as one attachment (content: its raw bytes; filename: the
  part's own filename, else "<its subject>.eml", "message.eml" without a subject, "/" and "\\" made
  "_", at most 200 characters), followed by the nested message's own attachments (flattened,
  recursively). Its text is not appended to the outer text.
- Charsets: the declared one unless missing, unknown or evidently wrong (invalid UTF-8, Cyrillic in
  another code page, UTF-8 labelled as a single-byte charset); then detected (charsets.py). Raw 8-bit
  header bytes: UTF-8 if valid, else one charset detected from all such headers of the message.
- Filenames: RFC 2231 (charset, language, continuations) over RFC 2047 (also inside quotes, as
  Outlook sends) over raw 8-bit; then only the last path component, without control characters.
- inline=True for "Content-Disposition: inline" and for parts the HTML references as cid:.
- text/plain with format=flowed is unwrapped (RFC 3676, flowed.py): soft breaks joined, space-stuffing removed.
- sent_at: "-0000", unknown or missing zones mean UTC (RFC 5322); unparseable dates give None.
"""
import binascii
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional
from urllib.parse import unquote

from common.log import get_logger

from . import flowed
from .charsets import choose_codec, decode_bytes
from .headers import (RawDecoder, addresses, b64decode, clean_text, decode_text, header, message_id,
                      param_text, parse_date, split_head, split_params)
from .html_text import html_to_text

log = get_logger(__name__)

MAX_DEPTH = 24  # deeper MIME nesting is garbage or an attack; such parts are kept as opaque attachments
_TYPE = re.compile(r'^[a-z0-9][a-z0-9!#$&.+^_-]*/[a-z0-9][a-z0-9!#$&.+^_-]*$')
_META_CHARSET = re.compile(rb'<meta[^>]{0,200}?charset\s*=\s*["\']?\s*([A-Za-z0-9_.:-]+)', re.I)
_ANY_CHARSET = re.compile(rb'charset\s*=\s*"?([A-Za-z0-9_.:-]+)', re.I)
_CID = re.compile(r'cid:([^"\'\s>)]+)', re.I)
_PATH_JUNK = re.compile(r'[\x00-\x1f\x7f]')
_BODY_TYPES = ('text/plain', 'text/html')
_DECODED = ('subject', 'from', 'sender', 'to', 'cc')  # headers whose raw 8-bit bytes are decoded


@dataclass
class Attachment:
    filename: Optional[str]      # decoded (RFC 2231 / RFC 2047 / raw 8-bit), directories stripped
    content_type: str            # lower-case "image/png"
    content: bytes               # decoded payload, byte-exact
    content_id: Optional[str]    # without <>
    inline: bool                 # Content-Disposition inline or referenced by cid


@dataclass
class ParsedMessage:
    message_id: Optional[str]    # with <>, no whitespace; None if absent
    subject: str                 # fully decoded, '' if none
    sent_at: Optional[datetime]  # tz-aware from Date; None if missing or broken
    sender: str                  # decoded From: "Name <addr>" or "addr"
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    text: str = ''               # text/plain part(s), else text from the HTML; '\n' line ends
    html: Optional[str] = None   # the HTML part(s) if any
    attachments: list[Attachment] = field(default_factory=list)
    size: int = 0                # len(raw)


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse a raw message; never raises on malformed input."""
    if not isinstance(raw, bytes):
        raw = raw.encode('utf-8', 'surrogateescape') if isinstance(raw, str) else bytes(raw)
    try:
        return _parse(raw)
    except Exception:  # a parser bug must not stop an import: keep the message as text
        log.exception("parse failed; falling back to raw text", size=len(raw))
        return ParsedMessage(None, '', None, '', text=_lines(raw.decode('utf-8', 'replace')), size=len(raw))


def _parse(raw: bytes) -> ParsedMessage:
    headers, walk = _walk_message(raw, 0)
    html = _join(walk.html) if walk.html else None
    text = _join(walk.plain) if walk.plain else ''
    if html and not text.strip():  # no text/plain part, or an empty one next to real HTML
        text = html_to_text(html)
    decode = walk.raw
    from_values = headers.get('from') or headers.get('sender')
    senders = addresses(from_values[:1] if from_values else None, decode)
    return ParsedMessage(
        message_id=message_id(header(headers, 'message-id')),
        subject=_subject(headers, decode),
        sent_at=parse_date(header(headers, 'date')),
        sender=senders[0] if senders else '',
        to=addresses(headers.get('to'), decode),
        cc=addresses(headers.get('cc'), decode),
        text=text, html=html, attachments=walk.attachments, size=len(raw))


def _subject(headers: dict, decode: RawDecoder) -> str:
    value = header(headers, 'subject')
    return clean_text(decode_text(value, decode)) if value else ''


def _walk_message(raw: bytes, depth: int) -> tuple:
    """(headers, _Walk) of a whole message, cid references resolved against its HTML."""
    headers, body = split_head(raw)
    walk = _Walk(raw, _HeaderCharset(headers, raw))
    walk.part(headers, body, len(raw), 'text/plain', depth)
    if walk.html and any(a.content_id for a in walk.attachments):
        cids = {unquote(ref).lower() for html in walk.html for ref in _CID.findall(html)}
        for attachment in walk.attachments:
            if attachment.content_id and attachment.content_id.lower() in cids and id(attachment) not in walk.nested:
                attachment.inline = True
    return headers, walk


class _HeaderCharset:
    """Decoder for raw 8-bit header bytes: utf-8 if valid, else one charset detected per message."""

    def __init__(self, headers: dict, raw: bytes):
        self.headers, self.raw, self.codec = headers, raw, None

    def __call__(self, data: bytes) -> str:
        try:
            return data.decode('utf-8')
        except UnicodeDecodeError:
            pass
        if self.codec is None:
            self.codec = self._detect(data)
        return data.decode(self.codec, 'replace')

    def _detect(self, data: bytes) -> str:
        # All 8-bit header values of a message come from one client: detect on all of them at once
        # (short strings alone are ambiguous); a charset declared in the body is the tie-breaker.
        sample = [value.encode('latin-1') for name in _DECODED for value in self.headers.get(name, ())
                  if not value.isascii()]
        hint = _ANY_CHARSET.search(self.raw, 0, 65536)
        return choose_codec(b' '.join(sample + [data]), None, hint.group(1).decode('ascii') if hint else None)


class _Walk:
    """Collects body texts and attachments while walking the MIME tree of one message.

    Entities are (headers, start, end) offsets into the message bytes: nothing is copied until a
    part's content is decoded.
    """

    def __init__(self, data: bytes, raw: RawDecoder):
        self.data, self.raw = data, raw
        self.plain, self.html, self.attachments = [], [], []
        self.nested = set()  # id() of attachments that belong to nested messages (their cids are theirs)

    def part(self, headers: dict, start: int, end: int, default: str, depth: int, force_attachment=False):
        """Walk one MIME entity (its body is data[start:end]): multipart, nested message or leaf."""
        ctype, params = split_params(header(headers, 'content-type'))
        if not _TYPE.match(ctype):
            ctype = default
        if ctype.startswith('multipart/') and depth < MAX_DEPTH:
            parts = self._split(start, end, params.get('boundary'))
            if parts is not None:
                return self._multipart(ctype[10:], params, parts, depth + 1)
            ctype = 'text/plain'  # no usable boundary: show what there is as text, like email does
        data = _decode_cte(self.data, start, end, header(headers, 'content-transfer-encoding'))
        if ctype in ('message/rfc822', 'message/global') and depth < MAX_DEPTH:
            return self._nested(headers, data, ctype, depth + 1)
        self._leaf(headers, data, ctype, params, force_attachment)

    def _split(self, start: int, end: int, boundary) -> Optional[list]:
        """[(headers, start, end)] of the parts between boundary lines; None if there is no boundary line."""
        if isinstance(boundary, tuple):
            boundary = param_text(boundary, self.raw)
        if not boundary:
            return None
        spans = _part_spans(self.data, start, end, b'--' + boundary.encode('utf-8', 'replace'))
        return [split_head(self.data, *span) + (span[1],) for span in spans] if spans else None

    def _multipart(self, subtype: str, params: dict, parts: list, depth: int) -> None:
        if subtype == 'alternative':
            return self._alternative(parts, depth)
        root = _related_root(parts, params) if subtype == 'related' else None
        default = 'message/rfc822' if subtype == 'digest' else 'text/plain'
        for index, (headers, start, end) in enumerate(parts):
            self.part(headers, start, end, default, depth, force_attachment=root is not None and index != root)

    def _alternative(self, parts: list, depth: int) -> None:
        branches = []
        for headers, start, end in parts:
            branch = _Walk(self.data, self.raw)
            branch.part(headers, start, end, 'text/plain', depth)
            branches.append(branch)
        self.plain += next((b.plain for b in branches if b.plain), [])
        self.html += next((b.html for b in reversed(branches) if b.html), [])
        for branch in branches:
            self.attachments += branch.attachments
            self.nested |= branch.nested

    def _nested(self, headers: dict, data: bytes, ctype: str, depth: int) -> None:
        nested_headers, nested = _walk_message(data, depth)
        disposition, dparams = split_params(header(headers, 'content-disposition'))
        name = self._filename(headers, dparams) or _eml_name(_subject(nested_headers, nested.raw))
        self.attachments.append(Attachment(name, ctype, data, _content_id(headers), disposition == 'inline'))
        self.attachments += nested.attachments
        self.nested.update(id(attachment) for attachment in nested.attachments)

    def _leaf(self, headers: dict, data: bytes, ctype: str, params: dict, force_attachment: bool) -> None:
        disposition, dparams = split_params(header(headers, 'content-disposition'))
        filename = self._filename(headers, dparams, params)
        if ctype in _BODY_TYPES and not force_attachment and disposition != 'attachment' and filename is None:
            return self._body(ctype, data, params)
        self.attachments.append(Attachment(filename, ctype, data, _content_id(headers), disposition == 'inline'))

    def _body(self, ctype: str, data: bytes, params: dict) -> None:
        charset = params.get('charset')
        charset = param_text(charset, self.raw) if charset is not None else None
        if ctype == 'text/html':
            if charset is None:
                meta = _META_CHARSET.search(data, 0, 4096)
                charset = meta.group(1).decode('ascii') if meta else None
            self.html.append(_lines(decode_bytes(data, charset)))
        else:
            text = _lines(decode_bytes(data, charset))
            shape = {k: param_text(params[k], self.raw) for k in ('format', 'delsp') if params.get(k) is not None}
            if flowed.is_flowed(shape):
                text = flowed.unwrap(text, flowed.delsp(shape))
            self.plain.append(text)

    def _filename(self, headers: dict, dparams: dict, params: Optional[dict] = None) -> Optional[str]:
        value = dparams.get('filename')
        if value is None:
            value = (params if params is not None else split_params(header(headers, 'content-type'))[1]).get('name')
        return _safe_filename(param_text(value, self.raw)) if value is not None else None


def _part_spans(data: bytes, start: int, end: int, delimiter: bytes) -> list:
    """(start, end) of each part of the multipart body data[start:end]."""
    spans, part, pos = [], None, start
    while True:
        found = data.find(delimiter, pos, end)
        if found < 0:
            break
        after = found + len(delimiter)
        closing = data.startswith(b'--', after, end)
        newline = data.find(b'\n', after, end)
        line_end = end if newline < 0 else newline + 1
        if (found > start and data[found - 1] != 0x0A) or data[after + 2 * closing:line_end].strip():
            pos = after  # the boundary text inside a line, or a longer boundary: not a delimiter
            continue
        if part is not None:
            spans.append((part, _strip_eol(data, part, found)))
        if closing:
            return spans
        part = pos = line_end
    if part is not None:  # truncated: no closing delimiter
        spans.append((part, end))
    return spans


def _strip_eol(body: bytes, start: int, end: int) -> int:
    """End of a part: the line break before a delimiter belongs to the delimiter."""
    if end > start and body[end - 1] == 0x0A:
        end -= 1
        if end > start and body[end - 1] == 0x0D:
            end -= 1
    return end


def _related_root(parts: list, params: dict) -> int:
    """Index of the root part of multipart/related: the "start" Content-ID, else the first part."""
    start = params.get('start')
    if isinstance(start, str) and start.strip():
        wanted = start.strip().strip('<>')
        for index, (headers, _, _) in enumerate(parts):
            if _content_id(headers) == wanted:
                return index
    return 0


def _decode_cte(data: bytes, start: int, end: int, encoding: Optional[str]) -> bytes:
    """Content of data[start:end] under a Content-Transfer-Encoding (unknown ones: as is)."""
    encoding = (encoding or '').strip().strip('"').lower()
    if encoding == 'base64':
        return b64decode(data, start, end)
    if encoding == 'quoted-printable':
        return binascii.a2b_qp(memoryview(data)[start:end])
    if encoding in ('x-uuencode', 'uuencode', 'x-uue'):
        return _uudecode(data[start:end])
    return data[start:end] if start or end != len(data) else data


def _uudecode(body: bytes) -> bytes:
    out = []
    for line in body.splitlines():
        if not line or line.startswith((b'begin ', b'end')) or line == b'`':
            continue
        try:
            out.append(binascii.a2b_uu(line))
        except binascii.Error:
            continue
    return b''.join(out)


def _content_id(headers: dict) -> Optional[str]:
    value = header(headers, 'content-id')
    value = ''.join(value.split()).strip('<>') if value else ''
    return value or None


def _safe_filename(name: str) -> Optional[str]:
    """The last path component, control characters removed; None if nothing usable is left."""
    name = _PATH_JUNK.sub('', name).replace('\\', '/').rsplit('/', 1)[-1].strip()
    return None if name in ('', '.', '..') else name


def _eml_name(subject: str) -> str:
    """File name for a nested message: its subject (separators replaced, at most 200 chars) + .eml."""
    name = _PATH_JUNK.sub('', subject).replace('/', '_').replace('\\', '_').strip()[:200].strip()
    return (name or 'message') + '.eml'


def _lines(text: str) -> str:
    """'\\n' line ends, no BOM, no NUL (PostgreSQL text cannot hold it)."""
    if text.startswith('\ufeff'):
        text = text[1:]
    if '\r' in text:
        text = text.replace('\r\n', '\n')
        if '\r' in text:   # a lone CR, rarely: one more pass only then
            text = text.replace('\r', '\n')
    return text.replace('\x00', '') if '\x00' in text else text


def _join(texts: list) -> str:
    """Concatenate body parts, each starting on its own line."""
    return ''.join(text if text.endswith('\n') or i == len(texts) - 1 else text + '\n'
                   for i, text in enumerate(texts))
