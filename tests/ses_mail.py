"""The e-mail moto's SES accepted, read from the suite's moto server, which runs in this process
(tests/conftest.py's aws_endpoint: localcloud.moto_server; the clouds' functions send to it over HTTP):
localcloud.testing's sent_email, not /moto-api/data.json (slow as the session grows)."""
from localcloud.testing import sent_email as sent_messages  # noqa: F401 - the name the tests import
