"""Attachment bytes in S3 (ATTACHMENTS_BUCKET).

A fetched batch's attachments go up together, as one object (a pack): one PUT per batch instead of one per
attachment, which was most of the upload cost (a request costs far more than its bytes). The pack is
content-addressed (the same batch fetched again makes the same pack under the same key: uploads are
idempotent), and each attachment's key names its slice of the pack, "<pack key>#<offset>+<length>", read
back with a ranged GET. A key without a slice (stored before packs) is a whole object.
"""
import hashlib

from common import aws

from .. import settings


def bucket():
    """The attachments bucket name."""
    return settings.load().attachments_bucket


def key_for(account_id, content):
    """The key of some bytes of an account (a pack): the same bytes get the same key."""
    return f"attachments/{account_id}/{hashlib.sha256(content).hexdigest()}"


class Pack:
    """Collects a batch's attachment bytes (each distinct content once); keys() after seal()."""

    def __init__(self, account_id):
        self.account_id = account_id
        self.parts = []
        self.slices = {}      # sha256 of an attachment -> (offset, length)
        self.size = 0
        self.key = None
        self.content = None

    def add(self, content):
        """Take an attachment's bytes; returns a handle for slice_key()."""
        digest = hashlib.sha256(content).digest()
        if digest not in self.slices:
            self.slices[digest] = (self.size, len(content))
            self.parts.append(content)
            self.size += len(content)
        return digest

    def seal(self):
        """Join the parts; the pack's key is then known (None when there are no bytes to store)."""
        self.content = b"".join(self.parts)
        self.parts = []
        self.key = key_for(self.account_id, self.content) if self.content else None

    def slice_key(self, handle):
        offset, length = self.slices[handle]
        return f"{self.key or 'empty'}#{offset}+{length}"


def put(s3, key, content, content_type):
    """Upload one object with an S3 client (workers bring their own)."""
    s3.put_object(Bucket=bucket(), Key=key, Body=content, ContentType=content_type or "application/octet-stream")


def get(key):
    """The bytes stored under key (a slice of a pack, or a whole object)."""
    name, _, part = key.partition("#")
    if not part:
        return aws.client("s3").get_object(Bucket=bucket(), Key=name)["Body"].read()
    offset, length = (int(n) for n in part.split("+"))
    if length == 0:
        return b""
    return aws.client("s3").get_object(Bucket=bucket(), Key=name,
                                       Range=f"bytes={offset}-{offset + length - 1}")["Body"].read()
