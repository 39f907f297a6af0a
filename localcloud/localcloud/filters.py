"""Lambda's event filtering (an event source mapping's FilterCriteria) on the records of a batch.

Each filter's Pattern is EventBridge's pattern syntax (equality, prefix, suffix, anything-but, numeric,
exists, equals-ignore-case, wildcard, $or), matched by moto's EventBridge matcher. A record is kept when any
filter matches it; an SQS record's body is matched as JSON when it is a JSON object, as its text otherwise;
a DynamoDB stream record is matched as Lambda gets it (eventName, dynamodb.NewImage.<attribute>.S, ...).
"""
import json

from moto.events.models import EventPattern, EventPatternParser
from moto.events.exceptions import InvalidEventPatternException

MAX_FILTERS = 5          # Lambda's limit of filters per event source mapping


class FilterError(ValueError):
    """A FilterCriteria Lambda would refuse; says which filter and why."""


def compile_filters(criteria):
    """The patterns of a FilterCriteria property ({"Filters": [{"Pattern": "<JSON>"}]}); [] keeps everything."""
    filters = (criteria or {}).get("Filters") or []
    if len(filters) > MAX_FILTERS:
        raise FilterError(f"FilterCriteria: at most {MAX_FILTERS} filters, {len(filters)} given")
    patterns = []
    for index, item in enumerate(filters):
        raw = item.get("Pattern") if isinstance(item, dict) else None
        if isinstance(raw, dict):     # written as YAML instead of JSON text: the same pattern
            raw = json.dumps(raw)
        if not isinstance(raw, str):
            raise FilterError(f"FilterCriteria.Filters[{index}]: Pattern must be a JSON text")
        try:
            patterns.append(EventPattern(raw, EventPatternParser(raw).parse()))
        except InvalidEventPatternException as exc:
            raise FilterError(f"FilterCriteria.Filters[{index}]: Invalid filter pattern definition: "
                              f"{exc.message}") from None
    return patterns


def sqs_view(record):
    """An SQS record as filters see it: the body parsed when it is a JSON object."""
    try:
        body = json.loads(record.get("body") or "")
    except ValueError:
        return record
    return dict(record, body=body) if isinstance(body, dict) else record


def keep(patterns, records, view=lambda record: record):
    """(kept, dropped) records: kept when no filters are set or any filter matches the record's view."""
    if not patterns:
        return list(records), []
    kept, dropped = [], []
    for record in records:
        seen = view(record)
        (kept if any(p.matches_event(seen) for p in patterns) else dropped).append(record)
    return kept, dropped
