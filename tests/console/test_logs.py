"""Structured log lines: common.log writes Lambda's JSON log format; the terminal shows them readably."""
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from localcloud.logs import JsonFormatter, TerminalFormatter, structured

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = """
from common.log import get_logger
log = get_logger("broadcast.fanout")
log.info("mailing queued %s", "now", mailing_id=42)
log.warning("slow", extra={"ms": 812})
try:
    1 / 0
except ZeroDivisionError:
    log.exception("failed")
assert get_logger("broadcast.fanout") is log
"""


def run_logging_program():
    env = dict(os.environ, AWS_LAMBDA_FUNCTION_NAME="FanoutFunction", LOG_LEVEL="INFO",
               PYTHONPATH=str(ROOT / "layers" / "common" / "python"))
    done = subprocess.run([sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    return [json.loads(line) for line in done.stderr.splitlines()]


def test_common_log_writes_lambda_json_lines():
    info, warning, error = run_logging_program()
    assert list(info)[:5] == ["timestamp", "level", "message", "logger", "function"]
    assert info["message"] == "mailing queued now" and info["level"] == "INFO"
    assert info["logger"] == "broadcast.fanout" and info["function"] == "FanoutFunction"
    assert info["mailing_id"] == 42
    assert info["timestamp"].startswith("20") and "T" in info["timestamp"]
    assert warning["level"] == "WARNING" and warning["ms"] == 812
    assert error["level"] == "ERROR" and "ZeroDivisionError" in error["exception"]
    assert not {"location", "service", "sampling_rate"} & set(info)


def _record(name, message, **extra):
    record = logging.LogRecord(name, logging.INFO, __file__, 1, message, (), None)
    record.__dict__.update(extra)
    return record


def test_forwarded_json_line_gets_the_invocation_request_id_and_reads_well():
    line = json.dumps({"timestamp": "2026-01-01T00:00:00.000Z", "level": "INFO", "message": "sent",
                       "logger": "broadcast", "function": "SendFunction", "mailing_id": 42})
    record = _record("fn.SendFunction", line, function="SendFunction", request_id="0f1e2d3c-aaaa")
    entry = structured(record)
    assert entry["requestId"] == "0f1e2d3c-aaaa" and entry["mailing_id"] == 42 and entry["message"] == "sent"
    assert json.loads(JsonFormatter().format(record))["requestId"] == "0f1e2d3c-aaaa"
    text = TerminalFormatter().format(record)
    assert "SendFunction [0f1e2d3c]: sent" in text and "mailing_id=42" in text and "{" not in text


def test_plain_lines_and_runtime_lines_become_records_too():
    plain = structured(_record("fn.Old", "print output", function="Old", request_id=None))
    assert plain["message"] == "print output" and plain["function"] == "Old" and "requestId" not in plain
    report = structured(_record("localcloud.runtime", "REPORT X", function="X", request_id="r1", duration_ms=3.5,
                                cold=True, error_type=None))
    assert report["requestId"] == "r1" and report["duration_ms"] == 3.5 and "error_type" not in report
