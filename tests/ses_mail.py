"""The e-mail moto's SES accepted, read from the suite's moto server, which runs in this process
(tests/conftest.py's aws_endpoint: a ThreadedMotoServer; the clouds' functions send to it over HTTP).

Not /moto-api/data.json: that serialises every model instance moto has tracked since the session began (every S3
key, queue and message of every earlier test, attribute by attribute), so it slows as the session grows; late in a
loaded `pytest -n 2` run it took over 10 s. This reads the same tracked SES messages, and only those, in the shape
data.json gives them (their public JSON-able attributes: id, source, subject, body, destinations)."""
import json


def sent_messages():
    """[{"id", "source", "subject", "body", "destinations"}] of every e-mail SES accepted, oldest first."""
    from moto.core.model_instances import model_data
    model = model_data.get("ses", {}).get("Message")
    return [_public(message) for message in list(getattr(model, "instances_tracked", []))]


def _public(instance):
    out = {}
    for name in dir(instance):
        if name.startswith("_"):
            continue
        value = getattr(instance, name)
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            continue
        out[name] = value
    return out
