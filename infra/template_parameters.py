"""The parameter defaults of template.yaml, read without the local cloud: infra/ runs where localcloud is not
installed (it only runs the template; infra only reads what the template says).

CloudFormation's short tags (!Ref, !Sub, !GetAtt, ...) are read as plain values: a parameter's Default is a
literal in every template CloudFormation accepts.
"""
from pathlib import Path

import yaml

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that accepts any `!Tag` and keeps what it tags; dates stay text (2010-09-09 is not a date here)."""


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: (
    loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode)
    else loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode)
    else loader.construct_mapping(node)))
_CfnLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def default(parameter, template=TEMPLATE):
    """The Default of a template parameter; KeyError if the template declares no such parameter or default."""
    return yaml.load(Path(template).read_text(), Loader=_CfnLoader)["Parameters"][parameter]["Default"]
