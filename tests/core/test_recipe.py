"""Recipe loading and validation: errors name the bad key and its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from thresher.errors import RecipeError
from thresher.recipe import builtin_recipes, load_recipe, parse_recipe
from thresher.steps.base import Filter, register


@register
class _KeepLong(Filter):
    """Test filter: drop documents shorter than ``min_chars``."""

    name = "test_keep_long"

    def __init__(self, min_chars: int = 10, label: str = "x") -> None:
        super().__init__()
        self.min_chars = min_chars

    def score(self, doc):
        return {"chars": len(doc.text)}

    def keep(self, signals):
        if signals["chars"] < self.min_chars:
            return "too_short", {"value": signals["chars"], "threshold": self.min_chars}
        return None


def test_valid_recipe_builds_steps() -> None:
    recipe = parse_recipe(
        "description: test\nsteps:\n  - test_keep_long: {min_chars: 5}\n  - test_keep_long\n"
        "writer: {format: parquet}\n"
    )
    steps = recipe.build_steps()
    assert [s.min_chars for s in steps] == [5, 10]
    assert recipe.writer.format == "parquet"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("steps:\n  - test_keep_long: {min_chars: 5}\nwriterr: {}\n", ":3: unknown key 'writerr'"),
        ("steps:\n  - test_keep_long: {}\n  - no_such_step: {}\n", ":3: unknown step 'no_such_step'"),
        ("steps:\n  - test_keep_long:\n      min_char: 3\n", ":2: step 'test_keep_long': unknown parameter 'min_char'"),
        ("steps:\n  - test_keep_long: {min_chars: many}\n", ":2: step 'test_keep_long': parameter 'min_chars'"),
        ("steps:\n  - test_keep_long: {}\nwriter:\n  format: xml\n", ":4: 'writer.format'"),
        ("steps:\n  - test_keep_long: {\n", ":3: invalid YAML"),
        ("steps: [1, 2]\n", "each step must be"),
        ("- a\n- b\n", "a recipe must be a mapping"),
    ],
)
def test_recipe_errors_name_key_and_line(text: str, needle: str) -> None:
    with pytest.raises(RecipeError) as info:
        parse_recipe(text, source="r.yaml")
    assert needle in str(info.value)
    assert str(info.value).startswith("r.yaml")


def test_unsafe_yaml_is_refused() -> None:
    with pytest.raises(RecipeError):
        parse_recipe("steps: !!python/object/apply:os.system ['echo hi']\n", source="evil.yaml")


def test_missing_recipe_file_is_usage_error(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match="neither a built-in recipe"):
        load_recipe(tmp_path / "nope.yaml")


def test_fingerprint_changes_with_parameters() -> None:
    a = parse_recipe("steps:\n  - test_keep_long: {min_chars: 5}\n")
    b = parse_recipe("steps:\n  - test_keep_long: {min_chars: 6}\n")
    assert a.fingerprint() != b.fingerprint()
    assert a.fingerprint() == parse_recipe("steps:\n  - test_keep_long: {min_chars: 5}\n").fingerprint()


def test_every_builtin_recipe_validates() -> None:
    names = builtin_recipes()
    assert "default" in names
    for name in names:
        recipe = load_recipe(name)
        assert recipe.description, f"built-in recipe {name} needs a description"
        recipe.build_steps()
