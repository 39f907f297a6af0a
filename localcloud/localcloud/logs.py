"""Log lines of the local cloud as structured records (Lambda's JSON log format), and a readable
terminal rendering of them.

Functions write JSON lines (common.log) or plain text to stderr; the runtime forwards each line to
the `fn.<Function>` logger with the function and request id of the invocation it belongs to. The
local cloud's own lines (REPORT, pollers, gateways) carry their fields as `extra`.
"""
import json
import logging
import time

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}
_MAIN_KEYS = ("timestamp", "level", "message", "logger", "requestId", "function")


def structured(record):
    """The record as Lambda's JSON log format: timestamp, level, message, logger, requestId, function,
    then every other field (those the function logged, or the runtime's `extra`)."""
    text = record.getMessage()
    entry = {"timestamp": _iso(record.created), "level": record.levelname, "message": text,
             "logger": record.name}
    fields = {k: v for k, v in vars(record).items() if k not in _STANDARD and v is not None}
    if fields.pop("request_id", None) is not None:
        entry["requestId"] = record.request_id
    if text.startswith("{"):
        try:
            line = json.loads(text)
        except ValueError:
            line = None
        if isinstance(line, dict):
            entry.update({k: v for k, v in line.items() if v is not None})
            entry.setdefault("message", "")
    entry.update({k: v for k, v in fields.items() if k not in entry})
    if record.exc_info and "exception" not in entry:
        entry["exception"] = logging.Formatter().formatException(record.exc_info)
    return {k: entry[k] for k in _MAIN_KEYS if k in entry} | entry


class JsonFormatter(logging.Formatter):
    """One JSON object per line (LOG_FORMAT=json)."""

    def format(self, record):
        return json.dumps(structured(record), ensure_ascii=False, default=str)


class TerminalFormatter(logging.Formatter):
    """Text for people: time, level, who, message, then the extra fields as key=value."""

    def format(self, record):
        entry = structured(record)
        who = entry.get("function") or entry.get("logger", "")
        head = "%s %-5s %s" % (time.strftime("%H:%M:%S", time.localtime(record.created)),
                               str(entry.get("level", ""))[:5], who)
        request = entry.get("requestId")
        if request:
            head += " [%s]" % str(request)[:8]
        extras = " ".join(f"{k}={_short(v)}" for k, v in entry.items()
                          if k not in _MAIN_KEYS and k not in ("exception", "exception_name", "xray_trace_id",
                                                               "cold_start", "trace", "duration_ms", "cold",
                                                               "trigger", "error_type"))
        text = f"{head}: {entry.get('message', '')}" + (f"  {extras}" if extras else "")
        if entry.get("exception"):
            text += "\n" + str(entry["exception"])
        return text


def _short(value, limit=120):
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "..."


def _iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + ".%03dZ" % (epoch % 1 * 1000)
