"""Turn a pasted list of phone numbers into E.164 digits, reporting invalid ones by line."""
import re
from dataclasses import dataclass, field

import phonenumbers

from common.i18n import N_

# Hard separators: a number never contains these. Whitespace is ambiguous ("+7 999 123 45 67"
# is one number, "79991234567 79991234568" two), so chunks are split on it only when needed.
_HARD = re.compile(r"[,;|\t\r]+")
_HAS_DIGIT = re.compile(r"\d")
# phonenumbers.parse() forgives trailing words ("+79991234567 oops"); we don't, so nothing is swallowed.
_PHONE_CHARS = re.compile(r"^\+?[\d\s().\-]+$")
_MAX_TOKENS_PER_NUMBER = 7     # "+7 (999) 123 - 45 - 67" style groupings stay below this
_DIGITS_RANGE = (7, 17)        # a number with country code (and maybe a trunk prefix) has this many digits


@dataclass(frozen=True)
class Number:
    line: int
    raw: str
    phone: str     # E.164 digits without '+', as ChatApp's chatId wants them


@dataclass(frozen=True)
class Invalid:
    line: int
    raw: str
    reason: str


@dataclass
class Parsed:
    numbers: list = field(default_factory=list)
    invalid: list = field(default_factory=list)
    duplicates: int = 0


def parse_list(text, region="RU"):
    """Every number in text, in order, duplicates dropped (counted); unparseable pieces in .invalid."""
    result = Parsed()
    seen = set()
    for line_no, line in enumerate(text.split("\n"), start=1):
        for chunk in _HARD.split(line):
            for item in _numbers_in(chunk.strip(), line_no, region):
                if isinstance(item, Invalid):
                    result.invalid.append(item)
                elif item.phone in seen:
                    result.duplicates += 1
                else:
                    seen.add(item.phone)
                    result.numbers.append(item)
    return result


def normalise(raw, region="RU"):
    """E.164 digits of one number, or None if it is not a valid number."""
    if not _PHONE_CHARS.match(raw):
        return None
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return f"{parsed.country_code}{parsed.national_number}"


def _numbers_in(chunk, line_no, region):
    if not chunk:
        return []
    phone = normalise(chunk, region)
    if phone:
        return [Number(line_no, chunk, phone)]
    tokens = chunk.split()
    if len(tokens) == 1:
        return [_invalid(line_no, chunk)]
    return _split_on_spaces(tokens, line_no, region)


def _split_on_spaces(tokens, line_no, region):
    """Greedy: at each position take the longest run of tokens that is a valid number."""
    digits = [sum(ch.isdigit() for ch in token) for token in tokens]
    out, junk, i = [], [], 0
    while i < len(tokens):
        for j in range(min(len(tokens), i + _MAX_TOKENS_PER_NUMBER), i, -1):
            # Counting digits first spares phonenumbers most hopeless candidates (long lists, junk).
            if not _DIGITS_RANGE[0] <= sum(digits[i:j]) <= _DIGITS_RANGE[1]:
                continue
            raw = " ".join(tokens[i:j])
            phone = normalise(raw, region)
            if phone:
                if junk:
                    out.append(_invalid(line_no, " ".join(junk)))
                    junk = []
                out.append(Number(line_no, raw, phone))
                i = j
                break
        else:
            junk.append(tokens[i])
            i += 1
    if junk:
        out.append(_invalid(line_no, " ".join(junk)))
    return out


def _invalid(line_no, raw):
    reason = N_("not a valid phone number") if _HAS_DIGIT.search(raw) else N_("not a phone number")
    return Invalid(line_no, raw, reason)
