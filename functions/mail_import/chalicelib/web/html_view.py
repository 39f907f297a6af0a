"""A stored HTML part made safe to show: sanitised by nh3 (the Ammonia sanitiser), remote images held
back until the reader allows them, inline (cid:) images pointed at the stored attachments.

Sanitising happens when the message is shown, not at import: the stored part stays as received and a
better policy applies to old mail too. The frame that shows the result is sandboxed without scripts and
has its own Content-Security-Policy (FRAME_CSP), so even a sanitiser bug cannot run code or load remote
content the reader did not allow.
"""
from dataclasses import dataclass
from urllib.parse import unquote

import nh3

# No forms, no media, no embedded documents; nh3's defaults already exclude scripts and event handlers.
TAGS = set(nh3.ALLOWED_TAGS) | {"font", "tfoot"}
ATTRIBUTES = {tag: set(values) for tag, values in nh3.ALLOWED_ATTRIBUTES.items()}
ATTRIBUTES["*"] = {"style", "title", "lang", "dir", "align", "valign", "bgcolor", "width", "height"}
ATTRIBUTES["font"] = {"color", "face", "size"}
ATTRIBUTES["table"] |= {"border", "cellpadding", "cellspacing"}
# Layout and colour only: no background images, list-style images or anything else that takes a URL.
STYLE_PROPERTIES = {
    "color", "background-color", "font", "font-family", "font-size", "font-style", "font-weight",
    "text-align", "text-decoration", "text-indent", "text-transform", "line-height", "letter-spacing",
    "white-space", "vertical-align", "width", "max-width", "min-width", "height", "max-height", "min-height",
    "margin", "margin-top", "margin-right", "margin-bottom", "margin-left", "padding", "padding-top",
    "padding-right", "padding-bottom", "padding-left", "border", "border-top", "border-right", "border-bottom",
    "border-left", "border-color", "border-style", "border-width", "border-collapse", "border-spacing",
    "border-radius", "display", "float", "clear", "direction", "word-break", "overflow-wrap"}
LINK_SCHEMES = ("http://", "https://", "mailto:")
REMOTE = ("http://", "https://", "//")


def frame_csp(allow_remote):
    """The CSP of the frame document: nothing runs, nothing is submitted, images only as allowed."""
    images = "data: https: http:" if allow_remote else "data:"
    return ("default-src 'none'; style-src 'unsafe-inline'; img-src " + images + "; form-action 'none'; "
            "base-uri 'none'; frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox")


@dataclass
class SafeHtml:
    html: str
    blocked_images: int   # remote images left out (shown once the reader allows them)


def sanitize(html, inline_images=None, allow_remote=False):
    """SafeHtml for a stored HTML part.

    inline_images: {content id (lower-case, without <>): URL to show instead of "cid:..."}; a cid that is
    not there is dropped. Remote images are dropped unless allow_remote.
    """
    inline_images = inline_images or {}
    blocked = 0

    def attribute(tag, name, value):
        nonlocal blocked
        if tag == "img" and name == "src":
            text = value.strip()
            if text.lower().startswith("cid:"):
                return inline_images.get(_cid(text[4:]))
            if text.lower().startswith(REMOTE):
                if allow_remote:
                    return text
                blocked += 1
                return None
            return None  # data:, file:, javascript: and relative paths: none of them belong in a letter
        if name in ("href", "cite"):
            return value if value.strip().lower().startswith(LINK_SCHEMES) else None
        return value

    cleaned = nh3.clean(html or "", tags=TAGS, clean_content_tags={"script", "style", "title", "head"},
                        attributes=ATTRIBUTES, attribute_filter=attribute,
                        url_schemes={"http", "https", "mailto", "data", "cid"},
                        filter_style_properties=STYLE_PROPERTIES, link_rel="noopener noreferrer",
                        set_tag_attribute_values={"a": {"target": "_blank"}})
    return SafeHtml(cleaned, blocked)


def _cid(value):
    return unquote(value).strip().strip("<>").lower()


def document(safe, language):
    """The frame's whole document around a sanitised body."""
    return ("<!DOCTYPE html><html lang=\"" + language + "\"><head><meta charset=\"utf-8\">"
            "<base target=\"_blank\"><style>body{font-family:sans-serif;margin:8px;word-wrap:break-word}"
            "img{max-width:100%;height:auto}</style></head><body>" + safe.html + "</body></html>")
