"""Transform template.yaml with the SAM translator, as CloudFormation's AWS::Serverless transform would.

Runs in the SAM venv (.venv-sam/bin/python -m tools.deploy.sam_transform template.yaml BUCKET): aws-sam-
translator's pins conflict with the project's. Every local CodeUri / ContentUri becomes
s3://BUCKET/<folder>.zip, as `sam package` would upload it; prints the CloudFormation template as JSON.
Managed policy ARNs come from the translator's bundled list, so no AWS account is asked.
"""
import json
import sys

from cfnlint.decode import decode
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform

CODE_PROPERTIES = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}


class BundledPolicies(ManagedPolicyLoader):
    """The AWS managed policies' ARNs from the translator's own data (no IAM call)."""

    def __init__(self):
        super().__init__(iam_client=None)

    def load(self):
        from samtranslator.internal.managed_policies import get_bundled_managed_policy_map
        return get_bundled_managed_policy_map("aws")


def with_s3_code(template, bucket):
    """Local code folders -> s3://bucket/<folder>.zip (the keys `sam package` would upload)."""
    for res in template.get("Resources", {}).values():
        prop = CODE_PROPERTIES.get(res.get("Type"))
        uri = (res.get("Properties") or {}).get(prop)
        if prop and isinstance(uri, str) and not uri.startswith("s3://"):
            res["Properties"][prop] = f"s3://{bucket}/{uri.strip('/').replace('/', '-')}.zip"
    return template


def main(argv=None):
    path, bucket = (argv or sys.argv[1:])[:2]
    template, matches = decode(path)
    if template is None:
        print("; ".join(str(m) for m in matches), file=sys.stderr)
        return 1
    template = json.loads(json.dumps(template))
    print(json.dumps(transform(with_s3_code(template, bucket), {}, BundledPolicies()), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
