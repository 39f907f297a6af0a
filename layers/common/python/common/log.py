"""Structured logs in Lambda's JSON log format, through aws-lambda-powertools' Logger.

One JSON object per line on stderr (CloudWatch on AWS, the local cloud's console locally):
timestamp, level, message, logger, requestId, function, then any fields the caller adds:

    log = get_logger(__name__)
    log.info("mailing queued", mailing_id=42)            # or extra={"mailing_id": 42}

requestId comes from the Lambda context when a handler is wrapped with
`log.inject_lambda_context`; the local cloud's runtime fills it in for every line otherwise.
"""
import os
import sys

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

ORDER = ["timestamp", "level", "message", "logger", "requestId", "function"]
_RENAMED = {"function_request_id": "requestId", "function_name": "function"}
_DROPPED = ("location", "service", "sampling_rate", "function_arn", "function_memory_size")
_loggers = {}


class LambdaJsonFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON with Lambda's key names (requestId, not function_request_id)."""

    def __init__(self, name):
        super().__init__(log_record_order=ORDER, utc=True, use_rfc3339=True, serialize_stacktrace=False,
                         logger=name, function=os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
        self.remove_keys(_DROPPED)

    def serialize(self, log):
        for old, new in _RENAMED.items():
            if old in log:
                log[new] = log.pop(old)
        for key in _DROPPED:
            log.pop(key, None)
        return super().serialize(log)


def get_logger(name):
    """A powertools Logger named `name` writing JSON lines to stderr at LOG_LEVEL (default INFO)."""
    if name not in _loggers:
        _loggers[name] = Logger(service=name, level=os.environ.get("LOG_LEVEL", "INFO"), stream=sys.stderr,
                                logger_formatter=LambdaJsonFormatter(name))
    return _loggers[name]
