"""Server-rendered pages: jinja2 templates under chalicelib/templates, autoescaped."""
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

STATUS_LABELS = {"queued": "queued", "sending": "sending", "not_sent": "not sent", "unknown": "unknown",
                 "sent": "sent", "delivered": "delivered", "failed": "failed", "read": "read"}

_env = Environment(loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
                   autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
_env.filters["when"] = lambda value: value.strftime("%Y-%m-%d %H:%M:%S") if value else ""
_env.filters["clock"] = lambda value: value.strftime("%H:%M:%S") if value else ""
_env.globals["STATUS_LABELS"] = STATUS_LABELS


def render(name, **context):
    """The HTML of templates/<name> with context."""
    return _env.get_template(name).render(**context)
