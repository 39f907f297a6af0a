"""Lambda's DynamoDB stream and Kinesis event sources: read a table's stream (moto keeps one) or a Kinesis
stream's shards, invoke the function with batches of records in Lambda's shape, in order.

As on AWS, a batch that fails is retried (the shard waits) until it succeeds or MaximumRetryAttempts is
spent; with ReportBatchItemFailures the retry starts at the first record the function names. Records that
no FilterCriteria filter matches are skipped.
"""
import base64
import json
import logging
import time
from datetime import datetime

from localcloud import filters
from localcloud.async_sources import BackgroundLoop
from localcloud.model import InvocationError

log = logging.getLogger("localcloud.streams")
POLL_INTERVAL = 0.25         # Lambda polls a shard four times a second
MAX_BACKOFF = 5.0


def lambda_record(record, stream_arn, region):
    """A GetRecords record as Lambda passes it: numbers for times, base64 for binary values, the stream's ARN."""
    out = _plain(record)
    out["eventSourceARN"] = stream_arn
    out["awsRegion"] = region
    return out


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    return value


class StreamPoller(BackgroundLoop):
    """Polls one table's stream for one function."""

    kind = "DynamoDB"

    def __init__(self, mapping, invoke, dynamodb, streams, region="us-east-1"):
        super().__init__(f"{self.kind.lower()}-{mapping.table_logical_id}-{mapping.function_id}")
        self.mapping = mapping
        self.invoke = invoke
        self.dynamodb = dynamodb
        self.streams = streams
        self.region = region
        self.trigger = f"{self.kind.lower()}:{mapping.table_logical_id}"
        self.stream_arn = None
        self.stats = {"records": 0, "invocations": 0, "failed_batches": 0, "filtered": 0, "skipped": 0}
        self._iterators = []      # [(shard id, iterator)]

    def start(self):
        """Position on the stream now (LATEST: what is written from here on), then poll in a thread."""
        if not self.mapping.enabled:
            log.info("%s mapping %s -> %s is disabled", self.kind, self.trigger, self.mapping.function_id)
            return self
        self.stream_arn = self._open()
        return super().start() if self.stream_arn else self

    def _open(self):
        """The stream's ARN, with self._iterators positioned on its shards; None when there is no stream."""
        table = self.dynamodb.describe_table(TableName=self.mapping.table_name)["Table"]
        stream_arn = table.get("LatestStreamArn")
        if not stream_arn:
            log.warning("DynamoDB event %s of %s: table %s has no stream (StreamSpecification); nothing will "
                        "reach it", self.mapping.name, self.mapping.function_id, self.mapping.table_name)
            return None
        for shard in self.streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
            iterator = self.streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                                       ShardIteratorType=self.mapping.starting_position)
            self._iterators.append((shard["ShardId"], iterator["ShardIterator"]))
        return stream_arn

    def _record(self, record, shard):
        """A GetRecords record as the function gets it."""
        return lambda_record(record, self.stream_arn, self.region)

    @staticmethod
    def _sequence(record):
        """The itemIdentifier a function names a record by in batchItemFailures."""
        return record["dynamodb"]["SequenceNumber"]

    @staticmethod
    def _view(record):
        """A record as FilterCriteria see it."""
        return record

    def _run(self):
        backoff = 0.0
        while not self._stop.is_set():
            try:
                busy = False
                for index, (shard, iterator) in enumerate(self._iterators):
                    busy |= self._poll_shard(index, shard, iterator)
                backoff = 0.0
                if not busy:
                    self._stop.wait(POLL_INTERVAL)
            except Exception as exc:  # noqa: BLE001 - the endpoint going away at stop, or a hiccup: try again
                backoff = min(MAX_BACKOFF, backoff * 2 or 0.2)
                if not self._stop.wait(backoff):
                    log.warning("%s -> %s: %s: %s", self.trigger, self.mapping.function_id, type(exc).__name__, exc)

    def _poll_shard(self, index, shard, iterator):
        """One batch of a shard delivered (with its retries); True when there were records."""
        records, next_iterator = self._gather(iterator)
        if not records:
            self._iterators[index] = (shard, next_iterator)
            return False
        self.stats["records"] += len(records)
        batch = [self._record(r, shard) for r in records]
        batch, dropped = filters.keep(self.mapping.filters, batch, self._view)
        self.stats["filtered"] += len(dropped)
        attempt = 0
        while batch and not self._stop.is_set():
            failed_from = self._deliver(batch)
            if failed_from is None:
                break
            attempt += 1
            retries = self.mapping.maximum_retry_attempts
            if 0 <= retries < attempt:
                self.stats["skipped"] += len(batch) - failed_from
                log.error("%s -> %s: %d records skipped after %d retries", self.trigger, self.mapping.function_id,
                          len(batch) - failed_from, retries, extra={"function": self.mapping.function_id})
                break
            batch = batch[failed_from:]
            self._stop.wait(min(MAX_BACKOFF, 0.5 * 2 ** (attempt - 1)))
        self._iterators[index] = (shard, next_iterator)
        return True

    def _gather(self, iterator):
        """Records up to BatchSize, within the batching window (0: one read)."""
        size = max(1, self.mapping.batch_size)
        response = self.streams.get_records(ShardIterator=iterator, Limit=size)
        records, iterator = response.get("Records", []), response.get("NextShardIterator") or iterator
        deadline = time.monotonic() + self.mapping.batching_window
        while records and len(records) < size and time.monotonic() < deadline and not self._stop.is_set():
            self._stop.wait(POLL_INTERVAL)
            response = self.streams.get_records(ShardIterator=iterator, Limit=size - len(records))
            records += response.get("Records", [])
            iterator = response.get("NextShardIterator") or iterator
        return records, iterator

    def _deliver(self, batch):
        """None when the batch is done; else the index of the first record to retry from."""
        fn = self.mapping.function_id
        self.stats["invocations"] += 1
        try:
            result = self.invoke(fn, {"Records": batch}, self.trigger)
        except InvocationError as exc:
            self.stats["failed_batches"] += 1
            log.warning("%s <- %s: %d records, batch failed: %s: %s", fn, self.trigger, len(batch),
                        exc.error_type, exc)
            return 0
        if not self.mapping.report_batch_item_failures or not isinstance(result, dict):
            log.info("%s <- %s: %d records, ok", fn, self.trigger, len(batch))
            return None
        failed = [item.get("itemIdentifier") for item in result.get("batchItemFailures") or []
                  if isinstance(item, dict)]
        numbers = [self._sequence(r) for r in batch]
        positions = [numbers.index(f) for f in failed if f in numbers]
        if not failed:
            log.info("%s <- %s: %d records, ok", fn, self.trigger, len(batch))
            return None
        self.stats["failed_batches"] += 1
        first = min(positions) if len(positions) == len(failed) else 0    # an unknown identifier: the whole batch
        log.warning("%s <- %s: %d records, retrying from sequence number %s", fn, self.trigger, len(batch),
                    numbers[first])
        return first


class KinesisPoller(StreamPoller):
    """Polls one Kinesis stream's shards for one function (mapping.table_* name the stream)."""

    kind = "Kinesis"

    def __init__(self, mapping, invoke, kinesis, region="us-east-1"):
        super().__init__(mapping, invoke, None, kinesis, region)

    def _open(self):
        name = self.mapping.table_name
        try:
            described = self.streams.describe_stream(StreamName=name)["StreamDescription"]
        except self.streams.exceptions.ResourceNotFoundException:
            log.warning("Kinesis event %s of %s: stream %s does not exist here; nothing will reach it",
                        self.mapping.name, self.mapping.function_id, name)
            return None
        for shard in described["Shards"]:
            position = {"ShardIteratorType": self.mapping.starting_position}
            if self.mapping.starting_position == "AT_TIMESTAMP":
                position["Timestamp"] = self.mapping.starting_timestamp
            iterator = self.streams.get_shard_iterator(StreamName=name, ShardId=shard["ShardId"], **position)
            self._iterators.append((shard["ShardId"], iterator["ShardIterator"]))
        return described["StreamARN"]

    def _record(self, record, shard):
        return kinesis_record(record, shard, self.stream_arn, self.region)

    @staticmethod
    def _sequence(record):
        return record["kinesis"]["sequenceNumber"]

    @staticmethod
    def _view(record):
        """Kinesis filters see only the data key: the record's data decoded, parsed when it is JSON."""
        text = base64.b64decode(record["kinesis"]["data"]).decode("utf-8", "replace")
        try:
            return {"data": json.loads(text)}
        except ValueError:
            return {"data": text}


def kinesis_record(record, shard, stream_arn, region):
    """A Kinesis GetRecords record as Lambda passes it."""
    arrived = record.get("ApproximateArrivalTimestamp")
    return {
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": record["PartitionKey"],
                    "sequenceNumber": record["SequenceNumber"],
                    "data": base64.b64encode(record["Data"]).decode("ascii"),
                    "approximateArrivalTimestamp": arrived.timestamp() if isinstance(arrived, datetime) else arrived},
        "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": f"{shard}:{record['SequenceNumber']}",
        "eventName": "aws:kinesis:record", "invokeIdentityArn": "arn:aws:iam::123456789012:role/local",
        "awsRegion": region, "eventSourceARN": stream_arn,
    }
