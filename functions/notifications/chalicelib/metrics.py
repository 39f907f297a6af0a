"""Prometheus metrics of notifications, read from the database at each scrape.

A new CollectorRegistry is built per request from what the database holds now, so every API instance
answers the same numbers (nothing is counted in one process's memory) and the message counts are the ones
`/stats` shows. The scrape is guarded by its own bearer token (NOTIFICATIONS_METRICS_TOKEN in the
platform's secret), compared in constant time; without a configured token the endpoint is off (404).

Provider latency is not in the database: the sender records it per send as the EMF metric SendLatency
(chalicelib/observability.py), which CloudWatch turns into metrics on AWS.
"""
import hmac
from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from common import db, secrets
from common.settings import once
from common.web import AppError

from . import queries
from .api import auth
from .stats import reports

PREFIX = "notifications"


@dataclass(frozen=True)
class MetricsSettings:
    token: str   # "" when no token is configured: the endpoint is off


@once
def load():
    """The settings of this execution environment (the secret is fetched once per cold start)."""
    return read()


def read(environ=None):
    return MetricsSettings(token=secrets.get("NOTIFICATIONS_METRICS_TOKEN", required=False, environ=environ) or "")


def check_token(settings, headers):
    """None for a request carrying the configured token; the AppError to answer otherwise."""
    if not settings.token:
        return AppError(404, "metrics are not configured (NOTIFICATIONS_METRICS_TOKEN)")
    given = auth.bearer(headers)
    if given is None or not hmac.compare_digest(given.encode("utf-8", "replace"), settings.token.encode("utf-8")):
        return AppError(401, "missing or wrong metrics token: send `Authorization: Bearer <metrics token>`",
                        headers={"WWW-Authenticate": 'Bearer realm="notifications-metrics"'})
    return None


def exposition(now):
    """(text, content type) of every metric, in the Prometheus text format."""
    with db.pg_transaction() as cur:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Snapshot(_families(cur, now)))
    return generate_latest(registry).decode("utf-8"), CONTENT_TYPE_LATEST


class _Snapshot:
    """A collector that yields families read once (the registry calls collect() at exposition)."""

    def __init__(self, families):
        self.families = families

    def collect(self):
        return iter(self.families)


def _families(cur, now):
    messages = GaugeMetricFamily(f"{PREFIX}_messages", "Messages by mailing and status (the counts of /stats).",
                                 labels=["mailing_id", "status"])
    totals = GaugeMetricFamily(f"{PREFIX}_messages_by_status", "Messages of every mailing by status.",
                               labels=["status"])
    summed = dict.fromkeys(reports.STATUSES, 0)
    for mailing in reports.overall(cur):
        for status in reports.STATUSES:
            count = mailing["counts"][status]
            messages.add_metric([str(mailing["id"]), status], count)
            summed[status] += count
    for status, count in summed.items():
        totals.add_metric([status], count)

    mailings = GaugeMetricFamily(f"{PREFIX}_mailings", "Mailings by dispatch state (pending, dispatching, done).",
                                 labels=["state"])
    cur.execute(queries.METRICS_MAILINGS_BY_STATE)
    for state, count in cur.fetchall():
        mailings.add_metric([state], count)

    sends = CounterMetricFamily(f"{PREFIX}_sends", "Calls to the provider's API by mailing (every attempt).",
                                labels=["mailing_id"])
    retries = CounterMetricFamily(f"{PREFIX}_retries", "Attempts after a message's first, by mailing.",
                                  labels=["mailing_id"])
    cur.execute(queries.METRICS_ATTEMPTS)
    for mailing_id, attempts, retried in cur.fetchall():
        sends.add_metric([str(mailing_id)], int(attempts))
        retries.add_metric([str(mailing_id)], int(retried))

    cur.execute(queries.METRICS_WAITING, {"now": now})
    waiting_count, in_flight, oldest = cur.fetchone()
    waiting = GaugeMetricFamily(f"{PREFIX}_queue_waiting_messages",
                                "Messages of running mailings not sent yet (queued, retrying or outside their "
                                "time window).", value=waiting_count)
    calling = GaugeMetricFamily(f"{PREFIX}_queue_in_flight_messages",
                                "Messages a sender holds right now (calling the provider).", value=in_flight)
    lag = GaugeMetricFamily(f"{PREFIX}_queue_lag_seconds",
                            "Age of the oldest message of a running mailing not sent yet (0 when none waits).",
                            value=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0)
    return [messages, totals, mailings, sends, retries, waiting, calling, lag]
