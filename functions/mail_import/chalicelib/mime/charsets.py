"""Charset label normalisation and detection for mail bytes (Cyrillic-aware)."""
import codecs
import re
from collections import Counter
from functools import lru_cache
from typing import Optional

# Labels seen in real mail that Python does not know, or knows as something else.
_ALIASES = {
    'utf8': 'utf-8', 'x-utf8': 'utf-8', 'unicode-1-1-utf-8': 'utf-8', 'unicode-2-0-utf-8': 'utf-8',
    'ks_c_5601-1987': 'cp949', 'ks_c_5601': 'cp949', 'euc-kr': 'cp949', 'x-windows-949': 'cp949',
    'gb2312': 'gb18030', 'gbk': 'gb18030', 'x-gbk': 'gb18030', 'gb_2312-80': 'gb18030', 'euc-cn': 'gb18030',
    'cn-gb': 'gb18030', 'csgb2312': 'gb18030', 'shift_jis': 'cp932', 'x-sjis': 'cp932', 'sjis': 'cp932',
    'iso-8859-8-i': 'iso8859-8', 'tis-620': 'cp874', 'windows-874': 'cp874', 'x-mac-cyrillic': 'mac-cyrillic',
    'koi8r': 'koi8-r', 'x-koi8-r': 'koi8-r', 'cskoi8r': 'koi8-r', 'koi8': 'koi8-r', 'koi8u': 'koi8-u',
    'x-koi8-u': 'koi8-u', 'koi8-ru': 'koi8-u', 'ibm866': 'cp866', 'dos-866': 'cp866', 'x-cp866': 'cp866',
    'alt': 'cp866', 'x-ibm866': 'cp866', 'csibm866': 'cp866',
    # WHATWG: what mail calls latin-1/ascii is cp1252 in practice (cp1252 falls back to latin-1 below).
    'iso-8859-1': 'cp1252', 'iso8859-1': 'cp1252', 'latin1': 'cp1252', 'latin-1': 'cp1252', 'l1': 'cp1252',
    'iso_8859-1': 'cp1252', 'iso-ir-100': 'cp1252',
}
# Labels that carry no information: treat as undeclared.
_UNKNOWN = {'', 'unknown', 'unknown-8bit', 'x-unknown', 'default', 'x-user-defined', 'charset', 'none', '8bit'}
_WINDOWS = re.compile(r'^(?:x-)?(?:windows|win|cp|ms|ms-cp)[-_ ]?(\d{3,4})$')
_ISO = re.compile(r'^(?:x-)?iso[-_ ]?8859[-_ ]?(\d{1,2})(?:[-_:]\d+)?$')

# Single-byte encodings an undeclared or mislabelled Cyrillic text may be in.
CYRILLIC = ('cp1251', 'koi8-r', 'iso8859-5', 'cp866', 'koi8-u', 'mac-cyrillic')
_CANDIDATES = ('cp1251', 'koi8-r', 'iso8859-5', 'cp866')
_SAMPLE = 8192
_HIGH = re.compile(rb'[\x80-\xff]')
_LATIN = re.compile(rb'[A-Za-z]')


@lru_cache(maxsize=512)
def norm_charset(label: Optional[str]) -> Optional[str]:
    """Python codec name for a MIME charset label (aliases and typos fixed), or None if unusable."""
    if not label:
        return None
    name = label.strip().strip('"\'').strip().lower()
    if name in _UNKNOWN:
        return None
    name = _ALIASES.get(name, name)
    match = _WINDOWS.match(name)
    if match:
        name = 'cp' + match.group(1)
    match = _ISO.match(name)
    if match:
        name = 'iso8859-' + match.group(1)
    for candidate in (name, name.replace('_', '-'), name.removeprefix('x-')):
        try:
            return codecs.lookup(candidate).name
        except LookupError:
            continue
    return None


# Common Russian/Ukrainian letter pairs. A wrong single-byte decoding of Cyrillic yields Cyrillic
# letters too, but permuted (and with cases swapped), so few of its pairs are common ones.
_BIGRAMS = frozenset('''
аб ав аг ад ае аж аз аи ай ак ал ам ан ап ар ас ат ау аф ах ац ач аш аю ая ає ба бе би бл бо бр бу бщ бъ бы бя ва
ве вз ви вк вл вн во вп вр вс вт вы вя ві га гв гд ге ги гк гл гн го гр гу да де дж ди дн до дп др дс дт ду дъ дь
дя дё еа еб ев ег ед ее еж ез ей ек ел ем ен ео еп ер ес ет еф ех ец еч ещ ея её жа жд же жи жн за зв зд зе зи зн
зо иа иб ив иг ид ие иж из ий ик ил им ин ио ип ир ис ит иф их иц ич иш ия йд йк йн йс йш ка кв ке ки кл кн ко кр
кс кт ку ла ле ли лл ло лт лу лы ль лю ля ма мб ме ми мк мм мн мо мп мс му мы мя на нв нг нд не нж ни нк нн но нс
нт ну нц ны нь ня об ов ог од ое ож оз ои ой ок ол ом он оо оп ор ос от оф ох оч ош па пе пи пл по пп пр пу пя пі
ра рб рв рг рд ре рж ри рк рл рм рн ро рп рс рт ру рх ры рь ря са сб св се си ск сл см сн со сп сс ст су сч съ сы
сь ся та тв те ти тк тн то тп тр тс ту тч ты ть тя уа уб ув уг уд уж уз уй ук ул ум ун уп ур ус ут ух уч ую фа фе
фи фо фр фт фу ха хг хи хн хо це ци цк цу ці ча че чи чн чт чё ша ше ши шк шл ші ще щи що щё ъе ъё ый ыл ыр ых ье
ьм ьн ьс ья эк эл эн эт ют яв яг яе яж яз як ян яр ят ём ёт єм ів ід іт ії ог ою ем им ию ую ющ ящ ыв ыт ыс ым
ые ям ях яю ью ъя ъю юм юб юч юл ёж ёр пё щу эх ух шь жь чь чк щн ыб ыд ыз ык ын ьб ьз ьк ьт ьш мё лё нё рё
'''.split())
_LOWER = 'абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґў'
_LETTERS = frozenset(_LOWER + _LOWER.upper())
_NEUTRAL = frozenset('«»—–…№“”„’‘•·°€±×§©®™\xa0\u2022')
_PAIR = re.compile(f'(?=([{_LOWER}]{{2}}))')
# A capital inside a lower-case word, or Cyrillic glued to Latin: typical of a wrong code page.
_UPPER = _LOWER.upper()
_ODD_CASE = re.compile(f'[{_LOWER}][{_UPPER}]|[{_LOWER}{_UPPER}][A-Za-z]|[A-Za-z][{_LOWER}{_UPPER}]')


def cyrillic_score(text: str) -> float:
    """Plausibility of the non-ASCII characters of text as Russian/Ukrainian, about -3..1 (higher is better)."""
    nonascii = letters = bad = 0
    for char, count in Counter(text).items():
        if char >= '\x80':
            nonascii += count
            if char in _LETTERS:
                letters += count
            elif char not in _NEUTRAL:
                bad += count
    if not nonascii:
        return 0.0
    pairs = _PAIR.findall(text.lower())
    common = sum(1 for pair in pairs if pair in _BIGRAMS)
    odd = len(_ODD_CASE.findall(text))
    return (letters + common - 2 * (len(pairs) - common) - 3 * odd - 3 * bad) / (nonascii + len(pairs))


def best_cyrillic(data: bytes, extra: Optional[str] = None) -> tuple:
    """(codec, score) of the most plausible single-byte Cyrillic decoding of data."""
    sample = data[:_SAMPLE]
    best = (None, -99.0)
    for codec in _CANDIDATES + ((extra,) if extra and extra not in _CANDIDATES else ()):
        try:
            score = cyrillic_score(sample.decode(codec))
        except UnicodeDecodeError:
            continue
        if score > best[1]:
            best = (codec, score)
    return best


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode('utf-8')
        return True
    except UnicodeDecodeError:
        return False


def _looks_cyrillic(data: bytes) -> bool:
    """High bytes make up most letters: Cyrillic in a single-byte code page, not accented Latin."""
    sample = data[:_SAMPLE]
    return len(_HIGH.findall(sample)) > len(_LATIN.findall(sample))


# Accented letters and punctuation of Western European text in cp1252 (charset-normalizer takes short
# German or French text for Big5 or GB2312).
_WESTERN = frozenset('ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝßàáâãäåæçèéêëìíîïñòóôõöøùúûüýÿœŒšŠžŽŸ'
                     '«»—–…“”„’‘•·°€§©®™\xa0')


def _looks_western(data: bytes) -> bool:
    """Few high bytes, and as cp1252 all of them are accented letters or typographic punctuation."""
    try:
        text = data[:_SAMPLE].decode('cp1252')
    except UnicodeDecodeError:
        return False
    return all(char in _WESTERN for char in text if char >= '\x80')


def detect(data: bytes, hint: Optional[str] = None) -> str:
    """Codec for undeclared or wrongly declared bytes: utf-8 if valid, then Cyrillic, then charset-normalizer."""
    if data.isascii():
        return 'ascii'
    if _is_utf8(data):
        return 'utf-8'
    hint = norm_charset(hint)
    codec, score = best_cyrillic(data, hint if hint in CYRILLIC else None)
    if codec and score > 0.3:
        if hint in CYRILLIC and hint != codec and cyrillic_score(data[:_SAMPLE].decode(hint, 'replace')) > score - 0.3:
            return hint
        return codec
    if not _looks_cyrillic(data) and _looks_western(data):
        return 'cp1252'
    if hint and _decodes(data, hint):
        return hint
    if len(data) >= 64:
        from charset_normalizer import from_bytes  # rarely needed: kept off the Lambda cold start
        match = from_bytes(data[:65536]).best()
        if match and not match.encoding.startswith(('utf_16', 'utf_32')):
            return match.encoding
    return 'cp1252' if _decodes(data, 'cp1252') else 'latin-1'


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
        return True
    except (UnicodeDecodeError, LookupError):
        return False


def choose_codec(data: bytes, declared: Optional[str] = None, hint: Optional[str] = None) -> str:
    """Codec to decode data with: the declared one unless it is missing or evidently wrong."""
    if data.isascii():
        return 'ascii'
    codec = norm_charset(declared)
    if codec is None or codec == 'ascii':
        return detect(data, hint)
    if codec == 'utf-8':
        return codec if _is_utf8(data) else detect(data, hint)
    if codec in CYRILLIC:
        return _check_cyrillic(data, codec)
    if codec in ('cp1252', 'latin-1', 'iso8859-15', 'iso8859-2'):
        # Old Russian clients labelled cp1251 text as latin-1; utf-8 is often labelled latin-1 too.
        if _is_utf8(data):
            return 'utf-8'
        if _looks_cyrillic(data):
            cyr, score = best_cyrillic(data)
            if cyr and score > 0.3:
                return cyr
        return codec if _decodes(data, codec) else 'latin-1'
    return codec if _decodes(data, codec) else detect(data, hint)


def _check_cyrillic(data: bytes, codec: str) -> str:
    """Keep a declared Cyrillic code page unless another one (or utf-8) clearly fits better."""
    if _is_utf8(data):
        return 'utf-8'
    try:
        declared = cyrillic_score(data[:_SAMPLE].decode(codec))
    except UnicodeDecodeError:
        declared = -99.0
    best, score = best_cyrillic(data)
    if best and best != codec and score > declared + 0.5 and score > 0.3:
        return best
    return codec if declared > -99.0 else (best or 'cp1251')


def decode_bytes(data: bytes, declared: Optional[str] = None, hint: Optional[str] = None) -> str:
    """Decode mail bytes to str: declared charset if right, else detected; never raises."""
    if norm_charset(declared) == 'utf-8':  # the common case: one decode, no separate validity check
        try:
            return data.decode('utf-8')
        except UnicodeDecodeError:
            pass
    codec = choose_codec(data, declared, hint)
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return data.decode('utf-8', 'replace')
