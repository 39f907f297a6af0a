"""text/plain; format=flowed (RFC 3676) turned back into paragraphs.

A line ending in a space is "soft": it joins the next line of the same quote depth. A leading space
is space-stuffing and is removed. "-- " (the signature separator) is never soft. With DelSp=yes the
trailing space of a soft line was added by the sender and is removed when joining.
"""
SIGNATURE = "-- "


def is_flowed(params):
    """True when Content-Type parameters (lower-case names) say format=flowed."""
    return (params.get("format") or "").strip().lower() == "flowed"


def delsp(params):
    return (params.get("delsp") or "").strip().lower() == "yes"


def _split_quote(line):
    depth = 0
    while depth < len(line) and line[depth] == ">":
        depth += 1
    return depth, line[depth:]


def unwrap(text, del_sp=False):
    """The text with soft line breaks removed ('\\n' line ends in and out)."""
    out = []
    current, current_depth = None, 0
    for raw in text.split("\n"):
        depth, line = _split_quote(raw)
        if line.startswith(" "):
            line = line[1:]  # space-stuffing (also the one space after the quote marks)
        if current is not None and depth != current_depth:
            # A soft break followed by another quote depth is an error the RFC says to treat as hard.
            out.append(_quoted(current_depth, current))
            current = None
        soft = line.endswith(" ") and line != SIGNATURE
        if soft and del_sp:
            line = line[:-1]
        current = line if current is None else current + line
        current_depth = depth
        if not soft:
            out.append(_quoted(depth, current))
            current = None
    if current is not None:
        out.append(_quoted(current_depth, current))
    return "\n".join(out)


def _quoted(depth, line):
    return ">" * depth + (" " if depth and line else "") + line
