"""Per-mailing metrics as CloudWatch Embedded Metric Format lines: what CloudWatch reads on AWS, plain lines
locally. (Logs go through common.log.)"""
from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = "Notifications"


def count(name, mailing_id, value=1):
    """A per-mailing counter: Sent, Error, Expired, Retried, Deferred."""
    with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE) as metric:
        metric.add_dimension(name="mailing_id", value=str(mailing_id))


def latency(milliseconds, mailing_id):
    """How long the provider took to answer one send."""
    with single_metric(name="SendLatency", unit=MetricUnit.Milliseconds, value=milliseconds,
                       namespace=NAMESPACE) as metric:
        metric.add_dimension(name="mailing_id", value=str(mailing_id))
