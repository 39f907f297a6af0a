"""HTML to plain text for mail bodies without a text/plain part.

A regex tokenizer instead of html2text: html2text leaves markdown ("# ", "1\\.", trailing "  ",
"> ", "--" for dashes) and costs about 2 ms per KB; this keeps the words and line structure only.
"""
import html
import re

# Patterns never scan past the next "<" (or are bounded): unclosed tags and quotes in hostile or
# truncated HTML would otherwise make every "<" rescan the rest of the document (quadratic time).
_DROP = re.compile(r'<!--.*?(?:-->|$)|<!\[CDATA\[.*?(?:\]\]>|$)|<![^<>]*>|<\?[^<>]*>'
                   r'|<(script|style|head|title|template|xml)\b[^<>]*>.*?(?:</\1\s*>|$)', re.S | re.I)
_TAG = re.compile(r'<(/?)([a-zA-Z][a-zA-Z0-9:-]*)((?:[^<>"\']|"[^"]{0,4000}"|\'[^\']{0,4000}\')*)>')
_SPACE = re.compile(r'[ \t\r\n\f]+')
_INVISIBLE = re.compile('[\u00ad\u034f\u200b-\u200d\u2060\ufeff]')  # preheader padding, soft hyphens
_LINE_EDGE = re.compile(r' *\n *')
_BLANKS = re.compile(r'\n{3,}')
_SPACES = re.compile(r' {2,}')

_PARAGRAPH = frozenset('p h1 h2 h3 h4 h5 h6 ul ol dl table blockquote pre hr form fieldset address center'.split())
_LINE = frozenset('div tr li dt dd section article header footer nav aside main figure figcaption caption '
                  'tbody thead tfoot option legend details summary'.split())
_PRE_NL, _PRE_SP = '\ue002', '\ue003'  # <pre> newlines and spaces survive the whitespace clean-up


def html_to_text(markup: str) -> str:
    """Visible text of an HTML document, one line per block, at most one blank line in a row."""
    out = _Lines()
    pre = 0
    pos = 0
    markup = _DROP.sub(' ', markup)
    for match in _TAG.finditer(markup):
        out.text(markup[pos:match.start()], pre)
        closing, name = match.group(1), match.group(2).lower()
        if name == 'pre':
            pre = max(0, pre + (-1 if closing else 1))
        out.tag(name, closing)
        pos = match.end()
    out.text(markup[pos:], pre)
    return out.result()


class _Lines:
    """Output with browser-like line logic: block edges break a line only if it has text."""

    def __init__(self):
        self.parts = []
        self.newlines = 0  # newlines at the end of the output (blank lines are counted, not re-added)
        self.need = 0  # newlines the next text needs: 1 after a block, 2 after a paragraph

    def text(self, chunk: str, pre: int) -> None:
        if pre:
            chunk = html.unescape(chunk).replace('\r\n', '\n').replace('\n', _PRE_NL).replace(' ', _PRE_SP)
        else:
            chunk = html.unescape(_SPACE.sub(' ', chunk)) if chunk else chunk
        if not chunk.strip(' '):
            if chunk and self.parts and not self.newlines:
                self.parts.append(' ')
            return
        self._flush()
        self.parts.append(chunk)
        self.newlines = 0

    def tag(self, name: str, closing: str) -> None:
        if name == 'br':
            self._flush()
            self._newline()
        elif name in _PARAGRAPH:
            self.need = 2
        elif name in _LINE:
            self.need = max(self.need, 1)
            if name == 'li' and not closing:
                self.text('- ', 0)
        elif name in ('td', 'th') and not closing:
            self.text(' ', 0)

    def _flush(self) -> None:
        while self.parts and self.newlines < self.need:
            self._newline()
        self.need = 0

    def _newline(self) -> None:
        self.parts.append('\n')
        self.newlines += 1

    def result(self) -> str:
        text = _INVISIBLE.sub('', ''.join(self.parts)).replace('\xa0', ' ')
        text = _BLANKS.sub('\n\n', _LINE_EDGE.sub('\n', _SPACES.sub(' ', text)))
        return text.replace(_PRE_NL, '\n').replace(_PRE_SP, ' ').strip('\n ')
