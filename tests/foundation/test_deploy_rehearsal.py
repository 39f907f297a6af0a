"""The deploy rehearsal (deploy_rehearsal_cases.py) runs in a pytest process of its own.

Why: it creates the stack with moto's in-process mock, and the suite's moto server (tests/conftest.py's
aws_endpoint) runs in this process on the same backends. In here the mock's reset deleted every other test's
queues, buckets and secrets, and the stacks it left behind broke the server's /moto-api/data.json, which the
tests read sent mail from. A process of its own shares nothing.
"""
import os
import subprocess
import sys
from pathlib import Path

import boto3
import requests

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).resolve().parent / "deploy_rehearsal_cases.py"


def test_the_rehearsal_passes_in_a_process_of_its_own_and_leaves_the_suites_moto_alone(aws_endpoint):
    suite_sqs = boto3.client("sqs", endpoint_url=aws_endpoint, region_name="us-east-1")
    kept = suite_sqs.create_queue(QueueName="kept-across-the-rehearsal")["QueueUrl"]
    # SES used in this process whatever ran before (under -n 2 the tests that send mail may run in the other worker)
    suite_ses = boto3.client("ses", endpoint_url=aws_endpoint, region_name="us-east-1")
    suite_ses.verify_email_identity(EmailAddress="kept@rehearsal.example")
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}     # moto's mock, not this server
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "python_files=*.py",
                           str(CASES)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "2 passed" in done.stdout, done.stdout[-2000:]
    assert kept in suite_sqs.list_queues(QueueNamePrefix="kept-").get("QueueUrls", [])
    assert "kept@rehearsal.example" in suite_ses.list_identities()["Identities"]
    assert "ses" in requests.get(f"{aws_endpoint}/moto-api/data.json", timeout=30).json()
