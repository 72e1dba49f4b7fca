"""A SAM template translated to CloudFormation by SAM's own translator, as JSON on stdout.

Run by ``.venv-sam/bin/python`` (aws-sam-translator comes with SAM CLI; never the project's code) from
``tests/test_deploy_options.py``: ``python tests/sam_translate.py template.yaml '{"Param": "value"}'``,
optionally with a third argument, ``'{"SharedLayer": "v2"}'``: the resources whose code ``sam package``
uploaded anew (another S3 key, as new content gets), each with a tag for its key.
The parameter values are the deploy's (SAM resolves a few of them while translating); CloudFormation
still receives every condition, which the test evaluates for each deploy option.
"""

from __future__ import annotations

import json
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

# SAM fills AWS::Region and AWS::Partition from the session's region: any region, no credentials.
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")


def translate(path: str, parameters: dict[str, str], uploaded: dict[str, str] | None = None) -> dict[str, object]:
    with open(path, encoding="utf-8") as f:
        template = yaml_parse(f.read())
    # What `sam package` does before CloudFormation sees the template: local code becomes S3 objects.
    for name, resource in template["Resources"].items():
        for key in ("CodeUri", "ContentUri"):
            local = resource.get("Properties", {}).get(key)
            if isinstance(local, str) and not local.startswith("s3://"):
                tag = f"-{uploaded[name]}" if uploaded and name in uploaded else ""
                resource["Properties"][key] = f"s3://artifacts/{local.strip('/')}{tag}.zip"
    # Managed policies are named by ARN or by reference in this template: no IAM lookup is needed.
    translated: dict[str, object] = transform(template, parameters, None)  # type: ignore[arg-type]
    return translated


if __name__ == "__main__":
    uploaded = json.loads(sys.argv[3]) if len(sys.argv) > 3 else None
    json.dump(translate(sys.argv[1], json.loads(sys.argv[2]), uploaded), sys.stdout)
