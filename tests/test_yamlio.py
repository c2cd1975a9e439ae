"""The fast YAML reader gives exactly what yaml.safe_load gives."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from faultray_lab.common.yamlio import load_yaml

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted(p for pat in ("*.yaml", "*.yml") for p in ROOT.rglob(pat)
               if not {".git", "_build"} & set(p.parts))

TRICKY = [
    "a: 1", "a: -0", "a: +5", "a: 0123", "a: 0x1F", "a: 0b101", "a: 1_000", "a: 190:20:30",
    "a: 1.5", "a: 1.", "a: .5", "a: 1e5", "a: 1.0e+5", "a: -.inf", "a: .NaN", "a: 6.8523015e+5",
    "a: yes", "a: No", "a: ON", "a: oFF", "a: y", "a: n", "a: ~", "a:", "a: null", "a: NULL",
    "a: nULL", "a: 2017-02-28", "a: 2001-12-14t21:59:43.10-05:00", "a: '2017-02-28'",
    "a: \"1\"", "a: |\n  x\n  y\n", "a: >\n  x\n  y\n", "a: !!str 1", "a: !!float 1",
    "? [1, 2]\n: x", "<<: {a: 1}\nb: 2", "base: &b {x: 1}\nother: *b", "a: &x 5\nb: *x",
    "- [1, {a: b}]\n- {c: [d, 2.5]}", "1: one\n2.5: two\ntrue: three\n~: four",
    "a: =", "", "# only a comment\n", "a: 'it''s'", "a: x y z", "a: 12:30", "a: -1.5",
]


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_scalars_and_structures(text: str) -> None:
    try:
        expected = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        with pytest.raises(type(exc)):
            load_yaml(text)
        return
    got = load_yaml(text)
    assert got == expected or (got != got and expected != expected)  # NaN
    assert repr(got) == repr(expected)


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_every_yaml_file_of_the_repository(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert load_yaml(text) == yaml.safe_load(text)


scalars = st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), st.none(),
                    st.text(max_size=12), st.dates(min_value=datetime.date(1900, 1, 1)))
documents = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.text(max_size=8), st.integers()), inner, max_size=4)),
    max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(documents, st.booleans())
def test_generated_documents(doc: object, flow: bool) -> None:
    text = yaml.safe_dump(doc, default_flow_style=flow, allow_unicode=True)
    assert repr(load_yaml(text)) == repr(yaml.safe_load(text))


def test_syntax_errors_keep_their_mark() -> None:
    with pytest.raises(yaml.YAMLError) as info:
        load_yaml("a: [1, 2\nb: 3\n")
    assert info.value.problem_mark is not None  # type: ignore[attr-defined]


def test_duplicate_keys_are_an_error_with_their_line() -> None:
    from faultray_lab.common.yamlio import DuplicateKeyError

    with pytest.raises(DuplicateKeyError) as info:
        load_yaml("components:\n  - id: a\n    type: cache\n    type: database\n")
    assert info.value.problem_mark.line == 3  # type: ignore[union-attr]
    assert load_yaml("- {id: a}\n- {id: a}\n") == [{"id": "a"}, {"id": "a"}]  # not one mapping
