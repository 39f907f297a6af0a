"""mime.parser: exact decoding of the hand-built corpus, robustness, agreement with policy.default."""
import email
import email.policy
import hashlib
import logging
import random

import pytest

from functions.mail_import.chalicelib.mime import parser as parse_module
from functions.mail_import.chalicelib.mime.charsets import decode_bytes, norm_charset
from functions.mail_import.chalicelib.mime.html_text import html_to_text
from functions.mail_import.chalicelib.mime.parser import Attachment, ParsedMessage, parse_message
from mail_import_corpus import CASES, make_message

FIELDS = ('message_id', 'subject', 'sent_at', 'sender', 'to', 'cc', 'text', 'html', 'attachments')


def attachment_view(attachment: Attachment, like: tuple) -> tuple:
    """An attachment as the corpus writes it: content as bytes, or as sha256 when the corpus gives a hex digest."""
    content = attachment.content
    if isinstance(like[2], str):
        content = hashlib.sha256(content).hexdigest()
    return attachment.filename, attachment.content_type, content, attachment.content_id, attachment.inline


@pytest.mark.parametrize('case', CASES, ids=[case.name for case in CASES])
def test_corpus_case(case):
    parsed = parse_message(case.raw)
    expected = case.expected
    assert set(expected) - {'text_contains'} <= set(FIELDS)
    for name in FIELDS:
        if name not in expected:
            continue
        got = getattr(parsed, name)
        if name == 'attachments':
            got = [attachment_view(a, like) for a, like in zip(got, expected[name])] + got[len(expected[name]):]
        assert got == expected[name], name
    if expected.get('sent_at') is not None:
        assert parsed.sent_at.utcoffset() == expected['sent_at'].utcoffset()
    for fragment in expected.get('text_contains', ()):
        assert fragment in parsed.text
    assert parsed.size == len(case.raw)
    assert '\r' not in parsed.text and '\r' not in (parsed.html or '')


def test_case_names_are_unique():
    names = [case.name for case in CASES]
    assert len(names) == len(set(names))


# ---- robustness: never raise, never fall back to the safety net


@pytest.fixture
def no_fallback(caplog):
    """Fails the test if parse_message had to use its catch-all fallback (that would be a parser bug)."""
    caplog.set_level(logging.ERROR, logger=parse_module.__name__)
    yield
    assert not [r for r in caplog.records if r.name == parse_module.__name__]


def check_shape(parsed: ParsedMessage, raw: bytes) -> None:
    assert isinstance(parsed, ParsedMessage)
    assert isinstance(parsed.subject, str) and isinstance(parsed.sender, str) and isinstance(parsed.text, str)
    assert parsed.sent_at is None or parsed.sent_at.tzinfo is not None
    assert all(isinstance(a, str) for a in parsed.to + parsed.cc)
    assert all(isinstance(a.content, bytes) and isinstance(a.content_type, str) for a in parsed.attachments)
    assert parsed.size == len(raw)
    assert '\x00' not in parsed.text + parsed.subject + parsed.sender


@pytest.mark.parametrize('case', CASES, ids=[case.name for case in CASES])
def test_truncations_never_raise(case, no_fallback):
    raw = case.raw
    cuts = set(range(0, len(raw), max(1, len(raw) // 64))) | {len(raw) - 1, len(raw) // 2 + 1}
    for cut in sorted(cuts):
        check_shape(parse_message(raw[:cut]), raw[:cut])


def test_random_garbage_never_raises(no_fallback):
    rnd = random.Random(1234)
    alphabet = b'=?_-"\';:<>@,.\r\n \t/\\*%BQbq0123456789ABCDEFabcdef\x80\xd0\xff'
    for size in list(range(64)) + [rnd.randint(64, 4096) for _ in range(300)]:
        raw = rnd.randbytes(size)
        check_shape(parse_message(raw), raw)
        raw = bytes(rnd.choice(alphabet) for _ in range(size))
        check_shape(parse_message(raw), raw)


def mutate(rnd: random.Random, raw: bytes) -> bytes:
    """Damage a message the way transports and broken clients do: drop, duplicate, insert or flip bytes."""
    data = bytearray(raw)
    for _ in range(rnd.randint(1, 8)):
        if not data:
            break
        pos = rnd.randrange(len(data))
        action = rnd.randrange(4)
        if action == 0:
            del data[pos:pos + rnd.randint(1, 40)]
        elif action == 1:
            data[pos:pos] = data[pos:pos + rnd.randint(1, 40)]
        elif action == 2:
            data[pos:pos] = rnd.choice([b'\r\n', b'\n\n', b'=?', b'?=', b'"', b';', b'--', b'\x00', b'*0*=', b'\xd0'])
        else:
            data[pos] = rnd.randrange(256)
    return bytes(data)


def test_mutated_cases_never_raise(no_fallback):
    rnd = random.Random(99)
    for case in CASES:
        for _ in range(25):
            raw = mutate(rnd, case.raw)
            check_shape(parse_message(raw), raw)


def test_pathological_nesting_and_headers(no_fallback):
    deep = b''.join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(200))
    long_header = b'Subject: ' + b'=?utf-8?B?0J8=?= ' * 20000 + b'\r\nTo: ' + b'a@b, ' * 20000 + b'\r\n\r\nx'
    for raw in (deep, long_header, b'\r\n' * 1000, b'Content-Type: multipart/mixed; boundary=""\r\n\r\n--\r\n'):
        check_shape(parse_message(raw), raw)


HOSTILE = {
    'unclosed tags': b'Content-Type: text/html\r\n\r\n' + b'<a' * 200_000,
    'unclosed quotes': b'Content-Type: text/html\r\n\r\n' + b'<a title="x' * 50_000,
    'unclosed declarations': b'Content-Type: text/html\r\n\r\n' + b'<!x' * 200_000,
    'folded header': b'Subject: x\r\n' + b' y\r\n' * 200_000 + b'\r\nbody',
    'encoded word starts': b'Subject: ' + b'=?utf-8?Q?abc' * 50_000 + b'\r\n\r\nx',
    'rfc2231 sections': b'Content-Type: application/pdf\r\nContent-Disposition: attachment; '
                        + b''.join(b'filename*%d*=%%41; ' % i for i in range(50_000)) + b'\r\n\r\nx',
    'addresses': b'To: ' + b'"N, x" <a@b>, ' * 50_000 + b'\r\n\r\nx',
    'address comments': b'To: ' + b'(c) a@b, ' * 50_000 + b'\r\n\r\nx',
    'boundary lookalikes': b'Content-Type: multipart/mixed; boundary=b\r\n\r\n' + b'--bx\r\n' * 200_000,
    'many parts': b'Content-Type: multipart/mixed; boundary=b\r\n\r\n'
                  + b'--b\r\nContent-Type: image/png\r\n\r\nx\r\n' * 50_000,
}


@pytest.mark.timeout(60)  # linear: well under a second each; quadratic behaviour takes many minutes here
@pytest.mark.parametrize('name', HOSTILE)
def test_hostile_inputs_take_linear_time(name, no_fallback):
    raw = HOSTILE[name]
    check_shape(parse_message(raw), raw)


def test_safety_net_keeps_the_message(monkeypatch, caplog):
    def broken(raw):
        raise RuntimeError('bug')
    monkeypatch.setattr(parse_module, '_parse', broken)
    parsed = parse_message(b'Subject: x\r\n\r\nbody\r\n')
    assert parsed.text == 'Subject: x\n\nbody\n' and parsed.size == 20
    assert 'falling back' in caplog.text


def test_accepts_bytes_like_and_str():
    raw = CASES[0].raw
    for value in (bytearray(raw), memoryview(raw), raw.decode()):
        assert parse_message(value).subject == 'Hello'


# ---- agreement with email.policy.default on realistic generated messages


def policy_default_view(raw: bytes) -> dict:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    plain, html = msg.get_body(('plain',)), msg.get_body(('html',))
    return {
        'message_id': str(msg['message-id']), 'subject': str(msg['subject']), 'sender': str(msg['from']),
        'to': [str(a) for a in msg['to'].addresses], 'cc': [str(a) for a in msg['cc'].addresses],
        'sent_at': msg['date'].datetime,
        'text': plain.get_content().replace('\r\n', '\n'), 'html': html.get_content().replace('\r\n', '\n'),
        'attachments': [(a.get_filename(), a.get_content_type(), a.get_content()) for a in msg.iter_attachments()],
    }


def parse_view(raw: bytes) -> dict:
    parsed = parse_message(raw)
    view = {name: getattr(parsed, name) for name in ('message_id', 'subject', 'sender', 'to', 'cc', 'sent_at',
                                                     'text', 'html')}
    view['attachments'] = [(a.filename, a.content_type, a.content) for a in parsed.attachments]
    return view


@pytest.mark.parametrize('start', [0, 100, 200])
def test_agrees_with_policy_default_on_generated_messages(start):
    for i in range(start, start + 100):
        raw = make_message(i, i % 10 == 0)
        assert parse_view(raw) == policy_default_view(raw), i


def test_make_message_is_deterministic_and_realistic():
    assert make_message(7, True) == make_message(7, True)
    sizes = [len(make_message(i, True)) for i in range(20)]
    assert min(sizes) > 50_000 and max(sizes) < 800_000
    assert all(3_000 < len(make_message(i, False)) < 80_000 for i in range(20))
    parsed = parse_message(make_message(3, True))
    assert len(parsed.attachments) == 1 and parsed.text and parsed.html and parsed.to and parsed.cc


# ---- helpers


@pytest.mark.parametrize('label, codec', [
    ('win-1251', 'cp1251'), ('cp-1251', 'cp1251'), ('x-cp1251', 'cp1251'), ('Windows1251', 'cp1251'),
    ('"windows-1251"', 'cp1251'), ('utf8', 'utf-8'), ('UTF-8', 'utf-8'), ('koi8r', 'koi8-r'), ('x-koi8-r', 'koi8-r'),
    ('ISO_8859-5', 'iso8859-5'), ('iso-8859-5', 'iso8859-5'), ('ks_c_5601-1987', 'cp949'), ('gb2312', 'gb18030'),
    ('iso-8859-1', 'cp1252'), ('us-ascii', 'ascii'), ('unknown-8bit', None), ('x-user-defined', None),
    ('no-such-charset', None), ('', None), (None, None)])
def test_charset_labels(label, codec):
    assert norm_charset(label) == codec


def encodable(texts: list, codecs: list) -> list:
    out = []
    for text in texts:
        for codec in codecs:
            try:
                out.append((text.encode(codec), text))
            except UnicodeEncodeError:
                continue  # e.g. Ukrainian letters in koi8-r
    return out


@pytest.mark.parametrize('data, text', encodable(
    ['Привет', 'Счёт.pdf', 'ДОГОВОР', 'АКТ', 'Ёж', 'Фото', 'Акт сверки.xlsx', 'Привіт, як справи', 'Кузнецов А.В.',
     'ООО «Ромашка»'], ['cp1251', 'koi8-r', 'iso8859-5', 'cp866']))
def test_short_cyrillic_detection(data, text):
    assert decode_bytes(data) == text


@pytest.mark.parametrize('text, codec', [
    ('Grüße aus München', 'cp1252'), ('Zürich', 'cp1252'), ('naïve façade résumé déjà vu', 'latin-1'),
    # long enough for charset-normalizer, which handles what is neither UTF-8 nor Cyrillic
    ('Sehr geehrte Damen und Herren, anbei übersende ich Ihnen die Rechnung für März. Mit freundlichen Grüßen',
     'cp1252'),
    ('Αγαπητέ κύριε, σας στέλνω το τιμολόγιο για τον Μάρτιο. Με εκτίμηση, Γιώργος Παπαδόπουλος', 'iso8859-7'),
    ('您好，附件是三月份的发票，请查收。如有任何问题，请随时与我联系。谢谢！', 'gb18030')])
def test_undeclared_non_cyrillic_text(text, codec):
    assert decode_bytes(text.encode(codec)) == text


@pytest.mark.parametrize('markup, text', [
    ('<p>a</p><p>b</p>', 'a\n\nb'),
    ('<div>line1</div><div><br></div><div>line2</div>', 'line1\n\nline2'),
    ('<div>x<br></div><div>y</div>', 'x\ny'),
    ('a<br><br>b', 'a\n\nb'),
    ('<ul><li>one</li><li>two</li></ul>', '- one\n- two'),
    ('<table><tr><td>A</td><td>B</td></tr><tr><td>1</td><td>2</td></tr></table>', 'A B\n1 2'),
    ('<b>bold</b> <i>it</i> <a href="http://x">link</a> <img src="cid:x" alt="pic">', 'bold it link'),
    ('<style>p{}</style><script>x<y</script><!-- c --><p title="a>b">t</p>', 't'),
    ('<pre>  code\n    indented</pre>', 'code\n    indented'),
    ('&lt;tag&gt; &amp; &#8212; &nbsp;x&zwnj;', '<tag> & — x'),
    ('<p>1. not\n   a   list</p>', '1. not a list'),
])
def test_html_to_text(markup, text):
    assert html_to_text(markup) == text
