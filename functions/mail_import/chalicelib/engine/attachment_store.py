"""Attachment bytes in S3 (ATTACHMENTS_BUCKET) under content-addressed keys: uploads are idempotent."""
import hashlib

from common import aws

from .. import settings


def bucket():
    """The attachments bucket name."""
    return settings.load().attachments_bucket


def key_for(account_id, content):
    """The key of some attachment bytes of an account: the same bytes are stored once per account."""
    return f"attachments/{account_id}/{hashlib.sha256(content).hexdigest()}"


def put(s3, key, content, content_type):
    """Upload one attachment with an S3 client (workers bring their own)."""
    s3.put_object(Bucket=bucket(), Key=key, Body=content, ContentType=content_type or "application/octet-stream")


def get(key):
    """The bytes stored under key."""
    return aws.client("s3").get_object(Bucket=bucket(), Key=key)["Body"].read()
