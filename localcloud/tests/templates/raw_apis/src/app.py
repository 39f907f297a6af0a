import json


def handler(event, context):
    context_ = event["requestContext"]
    seen = {k: event.get(k) for k in ("resource", "path", "rawPath", "routeKey", "pathParameters", "httpMethod")}
    seen.update(stage=context_.get("stage"), authorizer=context_.get("authorizer"))
    return {"statusCode": 200, "body": json.dumps(seen)}
