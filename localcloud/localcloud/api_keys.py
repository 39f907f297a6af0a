"""API keys and usage plans of REST APIs: the template's AWS::ApiGateway::ApiKey, UsagePlan and UsagePlanKey
created in the AWS endpoint's API Gateway (moto), and the check API Gateway makes on a method with
ApiKeyRequired: the x-api-key header names an enabled key of a usage plan covering this API's stage, else 403.
A plan's Throttle and Quota are not enforced (named at start-up)."""
import logging

log = logging.getLogger("localcloud.http")
KINDS = ("AWS::ApiGateway::ApiKey", "AWS::ApiGateway::UsagePlan", "AWS::ApiGateway::UsagePlanKey")


def create(stack, client):
    """Create the template's keys, plans and plan keys (in that order: each names the ones before by Ref)."""
    resolver = stack.resolver
    for logical, res in stack._of_type("AWS::ApiGateway::ApiKey"):
        props = resolver.resolve(res.get("Properties", {}))
        args = {"name": props.get("Name") or f"{stack.stack_name}-{logical}",
                "enabled": str(props.get("Enabled", False)).lower() == "true"}    # CloudFormation's default: off
        args.update({k.lower(): props[k] for k in ("Value", "Description") if props.get(k)})
        key = client.create_api_key(**args)
        resolver.refs[logical] = key["id"]
        resolver.attrs[logical] = {"APIKeyId": key["id"]}
        log.info("API key %s: %s", logical, key["id"])
    for logical, res in stack._of_type("AWS::ApiGateway::UsagePlan"):
        props = resolver.resolve(res.get("Properties", {}))
        stages = [{"apiId": s["ApiId"], "stage": s["Stage"]} for s in props.get("ApiStages") or []]
        plan = client.create_usage_plan(name=props.get("UsagePlanName") or f"{stack.stack_name}-{logical}",
                                        apiStages=stages)
        resolver.refs[logical] = plan["id"]
        resolver.attrs[logical] = {"Id": plan["id"]}
    for _logical, res in stack._of_type("AWS::ApiGateway::UsagePlanKey"):
        props = resolver.resolve(res.get("Properties", {}))
        client.create_usage_plan_key(usagePlanId=props["UsagePlanId"], keyId=props["KeyId"],
                                     keyType=props.get("KeyType", "API_KEY"))


def not_enforced(stack):
    """Start-up lines for what of the usage plans is not applied locally."""
    lines = []
    for logical, res in stack._of_type("AWS::ApiGateway::UsagePlan"):
        props = res.get("Properties") or {}
        limits = [p for p in ("Throttle", "Quota") if p in props]
        limits += ["ApiStages.Throttle"] if any("Throttle" in s for s in props.get("ApiStages") or []) else []
        if limits:
            lines.append(f"usage plan {logical}: {', '.join(limits)} not enforced locally (its keys are checked)")
    return lines


class ApiKeys:
    """Whether an x-api-key value may call one API's stage, asked of the AWS endpoint on every request (keys a
    function creates or disables at run time count at once)."""

    def __init__(self, client, api_id, stage):
        self.client = client
        self.api_id = api_id
        self.stage = stage

    def allowed(self, value):
        """True when value is an enabled key in a usage plan that names this API and stage."""
        if not value:
            return False
        pages = self.client.get_paginator("get_api_keys").paginate(includeValues=True)
        keys = [k for page in pages for k in page.get("items", []) if k.get("value") == value and k.get("enabled")]
        for key in keys:
            for plan in self.client.get_usage_plans(keyId=key["id"]).get("items", []):
                if any(s.get("apiId") == self.api_id and s.get("stage") == self.stage
                       for s in plan.get("apiStages") or []):
                    return True
        return False
