"""Reading a SAM template: short tags."""

from __future__ import annotations

from pathlib import Path

from local_api.template import load_yaml


def test_short_tags_load_as_their_long_form(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text("A: !Ref Stage\nB: !GetAtt Fn.Arn\nC: !Sub '${Name}'\nD: !Join [',', [a, !Ref Name]]\n")

    assert load_yaml(path) == {
        "A": {"Ref": "Stage"},
        "B": {"Fn::GetAtt": ["Fn", "Arn"]},
        "C": {"Fn::Sub": "${Name}"},
        "D": {"Fn::Join": [",", ["a", {"Ref": "Name"}]]},
    }
