"""Answers with what API Gateway passed and what the template gave it."""
import json
import os


def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({
        "b64": event.get("isBase64Encoded"), "queue": os.environ["QUEUE"], "memory": context.memory_limit_in_mb})}
