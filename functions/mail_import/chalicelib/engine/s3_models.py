"""botocore's S3 data (service model, endpoint rules, partitions), read once in the forkserver for every fetch child.

Making an S3 client reads and parses several large gzipped JSON files; a fetch child makes one per chunk, so
each child paid for that parse again (about a tenth of a child's CPU in a bulk import). This module is in the
forkserver's preload (fetch_pool): the files are parsed there once, into a botocore data loader that every
child inherits; a child's client is still its own (its session, credentials, endpoint and connections are made
in the child, from the child's environment). The parent never imports it.
"""
import boto3
import botocore.loaders
import botocore.session

LOADER = botocore.loaders.create_loader()


def session():
    """A new boto3 session reading botocore's data through the shared loader."""
    core = botocore.session.get_session()
    core.register_component("data_loader", LOADER)
    return boto3.session.Session(botocore_session=core)


def _warm():
    # A client made and dropped at once: what it read stays in LOADER's caches. Explicit region, endpoint and keys:
    # nothing is looked up in the forkserver's environment, which is not the children's.
    session().client("s3", region_name="us-east-1", endpoint_url="http://127.0.0.1:9", aws_access_key_id="warm",
                     aws_secret_access_key="warm")


_warm()
