"""What a cloud's start and each AWS request cost: the template is parsed once per content, AWS clients are made when
first used, and moto does not list its own folder on every request."""
import threading

import pytest

from localcloud import clients, moto_patches, template as tpl
from localcloud.template import TemplateError

STACK = """AWSTemplateFormatVersion: 2010-09-09
Transform: AWS::Serverless-2016-10-31
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: {timeout}
"""


def test_a_template_is_parsed_once_per_content_and_each_caller_gets_its_own_copy(tmp_path, monkeypatch):
    path = tmp_path / "template.yaml"
    path.write_text(STACK.format(timeout=30))
    parsed = []
    decode = tpl.decode
    monkeypatch.setattr(tpl, "decode", lambda name: parsed.append(name) or decode(name))
    first, second = tpl.load(path), tpl.load(tmp_path)
    assert len(parsed) == 1
    assert first == second and first["AWSTemplateFormatVersion"] == "2010-09-09"
    first["Resources"]["Queue"]["Properties"]["VisibilityTimeout"] = 99   # one caller's edit is its own
    assert tpl.load(path)["Resources"]["Queue"]["Properties"]["VisibilityTimeout"] == 30
    # The same size, written at once: a new content is parsed again, whatever the file's time says.
    path.write_text(STACK.format(timeout=60))
    assert tpl.load(path)["Resources"]["Queue"]["Properties"]["VisibilityTimeout"] == 60
    assert len(parsed) == 2


def test_a_missing_or_broken_template_is_a_template_error(tmp_path):
    with pytest.raises(TemplateError, match="No such file"):
        tpl.load(tmp_path / "gone.yaml")
    (tmp_path / "bad.yaml").write_text("Resources: [unclosed\n")
    with pytest.raises(TemplateError):
        tpl.load(tmp_path / "bad.yaml")


def test_clients_are_made_on_first_use_once_even_when_asked_at_once(monkeypatch):
    session = clients.session("eu-west-1", "testing", "testing")
    made = []
    real = session.client
    monkeypatch.setattr(session, "client", lambda *a, **kw: made.append(a[0]) or real(*a, **kw))
    pool = clients.Clients(session, "http://127.0.0.1:1")
    assert made == []
    got = []
    threads = [threading.Thread(target=lambda: got.append(pool["sqs"])) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert made == ["sqs"] and len({id(c) for c in got}) == 1
    assert pool["sqs"].meta.region_name == "eu-west-1" and pool["sqs"].meta.endpoint_url == "http://127.0.0.1:1"


def test_sessions_share_parsed_models_but_not_credentials():
    one, two = clients.session("us-east-1", "AKIAONE", "s1"), clients.session("eu-west-1", "AKIATWO", "s2")
    assert one._session.get_component("data_loader") is two._session.get_component("data_loader")
    assert one.get_credentials().access_key == "AKIAONE" and two.get_credentials().access_key == "AKIATWO"
    assert one.client("s3").meta.region_name == "us-east-1" and two.client("s3").meta.region_name == "eu-west-1"


def test_moto_answers_which_services_it_has_without_reading_its_folder_again(monkeypatch):
    import os

    from moto import backends
    moto_patches.apply()
    listed = backends.list_of_moto_modules()
    assert {"sqs", "s3", "secretsmanager"} <= set(listed) and "__pycache__" not in listed

    def no_listing(_path):
        raise AssertionError("moto listed its folder again")
    monkeypatch.setattr(os, "listdir", no_listing)
    assert "sqs" in backends.list_of_moto_modules() and "nonsense" not in backends.list_of_moto_modules()


@pytest.mark.server
def test_moto_lists_a_response_classs_methods_once_and_still_answers_every_action(monkeypatch):
    import inspect

    import boto3

    from localcloud.cloud import start_moto
    server, endpoint = start_moto()
    try:
        sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="k",
                           aws_secret_access_key="s")
        queue = sqs.create_queue(QueueName="listed-once")["QueueUrl"]     # SQSResponse's methods listed here
        listings = []
        real = inspect.getmembers
        monkeypatch.setattr(inspect, "getmembers", lambda *a, **k: listings.append(a[0]) or real(*a, **k))
        sqs.send_message(QueueUrl=queue, MessageBody="one")
        assert [m["Body"] for m in sqs.receive_message(QueueUrl=queue)["Messages"]] == ["one"]
        assert not [c for c in listings if isinstance(c, type) and c.__name__ == "SQSResponse"]
    finally:
        server.stop()
    # Each class has its own listing, made once.
    from moto.core import responses

    class Ping:
        def ping(self):
            pass

    class Pong:
        def pong(self):
            pass
    listings.clear()
    assert "ping" in responses.method_names_from_class(Ping) and "ping" in responses.method_names_from_class(Ping)
    assert "pong" in responses.method_names_from_class(Pong) and "ping" not in responses.method_names_from_class(Pong)
    assert [c for c in listings if c in (Ping, Pong)] == [Ping, Pong]


def test_clouds_on_the_same_endpoint_region_and_credentials_share_their_clients_and_no_others_do():
    endpoint = "http://127.0.0.1:2"
    first = clients.Clients(clients.session("eu-north-1", "AKIASHARE", "s"), endpoint)
    again = clients.Clients(clients.session("eu-north-1", "AKIASHARE", "s"), endpoint)
    assert first["sqs"] is again["sqs"] and first["sqs"] is not first["s3"]
    others = [clients.Clients(clients.session("eu-north-1", "AKIASHARE", "s"), "http://127.0.0.1:3"),
              clients.Clients(clients.session("eu-west-3", "AKIASHARE", "s"), endpoint),
              clients.Clients(clients.session("eu-north-1", "AKIAOTHER", "s"), endpoint),
              clients.Clients(clients.session("eu-north-1", "AKIASHARE", "other"), endpoint)]
    assert all(other["sqs"] is not first["sqs"] for other in others)
    assert first["sqs"].meta.config.max_pool_connections >= 64     # every cloud's threads may call at once
