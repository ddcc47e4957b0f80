"""The SAM transform, as `sam deploy` has CloudFormation run it: template.yaml with its local CodeUri/ContentUri
replaced by the S3 locations they were packaged to, translated by samtranslator (the library CloudFormation's
AWS::Serverless-2016-10-31 transform and the sam CLI use) into plain CloudFormation JSON on stdout.

usage: sam_translate.py TEMPLATE ARTIFACTS_JSON PARAMETERS_JSON
  ARTIFACTS_JSON   {"dist/dispatcher": "s3://bucket/key", ...}: every local path the template names (folders and
                   the state machine's definition file)
  PARAMETERS_JSON  the stack's parameter values (the transform resolves a few intrinsics with them)
Errors are one line on stderr, exit 1.
"""

import json
import os
import sys

# samtranslator asks boto3 for the region it adds as AWS::Region; the tests give it explicitly.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from samtranslator.translator.transform import transform  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402

# Where `sam package` looks for local artifacts in SAM resources (its packageable resources, the ones used here).
PACKAGEABLE = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
}
# sam package writes these as {Bucket, Key} (its ResourceWithS3UrlDict); the others as an s3:// URL.
AS_BUCKET_KEY = {"DefinitionUri"}


class NoManagedPolicyNames:
    """The template names its managed policies by ARN; a bare name would need IAM to resolve, so none is known."""

    def load(self):
        return {}


def package(template, artifacts):
    for logical_id, resource in template.get("Resources", {}).items():
        prop = PACKAGEABLE.get(resource.get("Type"))
        if not prop:
            continue
        value = resource.get("Properties", {}).get(prop)
        if not isinstance(value, str) or value.startswith("s3://"):
            continue
        if value not in artifacts:
            raise SystemExit(f"{logical_id}.{prop} is the local path {value}, which was not packaged")
        url = artifacts[value]
        if prop in AS_BUCKET_KEY:
            bucket, _, key = url[len("s3://") :].partition("/")
            resource["Properties"][prop] = {"Bucket": bucket, "Key": key}
        else:
            resource["Properties"][prop] = url


def main(argv):
    if len(argv) != 4:
        raise SystemExit("usage: sam_translate.py TEMPLATE ARTIFACTS_JSON PARAMETERS_JSON")
    with open(argv[1], encoding="utf-8") as f:
        template = yaml_parse(f.read())
    package(template, json.loads(argv[2]))
    parameters = json.loads(argv[3])
    parameters.setdefault("AWS::Region", os.environ["AWS_DEFAULT_REGION"])
    try:
        translated = transform(template, parameters, NoManagedPolicyNames())
    except Exception as err:  # samtranslator's InvalidDocumentException and friends
        causes = getattr(err, "causes", None) or []
        detail = "; ".join(str(getattr(c, "message", c)) for c in causes) or str(err)
        raise SystemExit(f"the SAM transform refused the template: {detail}")
    json.dump(translated, sys.stdout)


if __name__ == "__main__":
    main(sys.argv)
