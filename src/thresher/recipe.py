"""Recipes: a YAML file naming the reader options, the steps with their parameters, and the writer.

```yaml
description: One line shown by `thresher recipes`.
reader: {text_field: text}
steps:
  - clean_lines: {}
  - language: {languages: [en], min_score: 0.65}
  - exact_dedup
writer: {format: jsonl, compression: zstd, rejected: false}
```

YAML is loaded with the safe loader only. Validation errors name the bad key and its line in the
file (``recipe.yaml:7: step 'language': unknown parameter 'min_scor'; known: ...``).
"""

from __future__ import annotations

import hashlib
import inspect
from dataclasses import fields
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from thresher.errors import RecipeError
from thresher.io.base import ReaderOptions
from thresher.steps.base import CorpusStep, Step, get_step_class, step_parameters

DEFAULT_RECIPE = "default"


class WriterOptions(BaseModel):
    """The ``writer`` section: output format, compression and the optional rejected output."""

    model_config = ConfigDict(extra="forbid")
    format: Literal["jsonl", "parquet"] = "jsonl"
    compression: Literal["zstd", "gzip", "none"] = "zstd"
    #: also write every dropped document, with the step and reason, under ``rejected/``.
    rejected: bool = False


class ReaderModel(BaseModel):
    """Validation model for the ``reader`` section (mirrors :class:`ReaderOptions`)."""

    model_config = ConfigDict(extra="forbid")
    format: Literal["auto", "jsonl", "parquet", "warc", "wet", "txt"] = "auto"
    text_field: str = "text"
    id_field: str = "id"
    html_field: str | None = None
    shard_bytes: int = ReaderOptions.shard_bytes
    max_record_bytes: int = ReaderOptions.max_record_bytes

    def options(self) -> ReaderOptions:
        return ReaderOptions(**self.model_dump())


class StepSpec(BaseModel):
    """One entry of ``steps``: the step's name, its parameters and where it stands in the file."""

    name: str
    params: dict[str, Any] = {}
    line: int | None = None


class Recipe(BaseModel):
    """A validated recipe. Build with :func:`load_recipe`; steps with :meth:`build_steps`."""

    model_config = ConfigDict(extra="forbid")
    name: str = "custom"
    description: str = ""
    source: str = "<memory>"
    reader: ReaderModel = ReaderModel()
    steps: list[StepSpec] = []
    writer: WriterOptions = WriterOptions()
    #: seed for any random choice a step makes (none of the built-in steps draws at random).
    seed: int = 0
    #: documents per batch handed to the steps.
    batch_size: int = 1000

    def build_steps(self) -> list[Step | CorpusStep]:
        """Instantiate the steps (parameters were validated by :func:`load_recipe`)."""
        return [_instantiate(spec, self.source) for spec in self.steps]

    def fingerprint(self) -> str:
        """A hash of what determines the output (reader, steps, writer, seed, batch size)."""
        payload = self.model_dump(include={"reader", "writer", "seed", "batch_size"})
        payload["steps"] = [[s.name, s.params] for s in self.steps]
        return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


# -- YAML with line numbers ------------------------------------------------------------------------


def _construct(node: yaml.Node, lines: dict[tuple, int], path: tuple) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node))
            lines[path + (key,)] = key_node.start_mark.line + 1
            out[key] = _construct(value_node, lines, path + (key,))
            lines[path + (key,)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(child, lines, path + (i,)) for i, child in enumerate(node.value)]
    return yaml.safe_load(yaml.serialize(node))


def _load_yaml(text: str, source: str) -> tuple[Any, dict[tuple, int]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise RecipeError(f"{where}: invalid YAML ({problem}); fix the syntax and retry") from None
    lines: dict[tuple, int] = {}
    if node is None:
        return {}, lines
    return _construct(node, lines, ()), lines


def _line_of(lines: dict[tuple, int], loc: tuple) -> int | None:
    loc = tuple(loc)
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get(())


# -- validation ------------------------------------------------------------------------------------


def _parse_steps(raw: Any, lines: dict[tuple, int], source: str) -> list[StepSpec]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise RecipeError(f"{source}:{_line_of(lines, ('steps',))}: 'steps' must be a list of steps")
    specs = []
    for i, item in enumerate(raw):
        line = _line_of(lines, ("steps", i))
        if isinstance(item, str):
            name, params = item, {}
        elif isinstance(item, dict) and len(item) == 1:
            name, params = next(iter(item.items()))
            params = {} if params is None else params
            if not isinstance(params, dict):
                raise RecipeError(f"{source}:{line}: parameters of step {name!r} must be a mapping")
        else:
            raise RecipeError(
                f"{source}:{line}: each step must be `name` or `name: {{parameters}}`, got {item!r}"
            )
        specs.append(StepSpec(name=str(name), params=params, line=line))
    return specs


def _params_model(cls: type) -> type[BaseModel]:
    params = step_parameters(cls)
    model_fields: dict[str, Any] = {}
    for pname, p in params.items():
        annotation = p.annotation if p.annotation is not inspect.Parameter.empty else Any
        default = p.default if p.default is not inspect.Parameter.empty else ...
        model_fields[pname] = (annotation, default)
    module = inspect.getmodule(cls)
    namespace = vars(module) if module else {}
    model = create_model(  # type: ignore[call-overload]
        f"{cls.__name__}Params", __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=True), **model_fields
    )
    try:
        model.model_rebuild(_types_namespace=namespace)
    except Exception:  # noqa: BLE001 - unresolvable hints fall back to no type check below
        return create_model(f"{cls.__name__}Params", __config__=ConfigDict(extra="forbid"),
                            **{k: (Any, v[1]) for k, v in model_fields.items()})
    return model


def _validate_step(spec: StepSpec, source: str) -> StepSpec:
    where = f"{source}:{spec.line}"
    try:
        cls = get_step_class(spec.name)
    except KeyError as exc:
        raise RecipeError(f"{where}: {exc.args[0]}") from None
    known = step_parameters(cls)
    for key in spec.params:
        if key not in known:
            raise RecipeError(
                f"{where}: step {spec.name!r}: unknown parameter {key!r}; known: {', '.join(known) or 'none'}"
            )
    try:
        validated = _params_model(cls).model_validate(spec.params)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise RecipeError(f"{where}: step {spec.name!r}: parameter {key!r}: {err['msg']}") from None
    # keep only what the user set (validated/coerced), so the fingerprint ignores defaults' repr
    spec.params = {k: getattr(validated, k) for k in spec.params}
    return spec


def _instantiate(spec: StepSpec, source: str) -> Step | CorpusStep:
    cls = get_step_class(spec.name)
    try:
        return cls(**spec.params)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        raise RecipeError(f"{source}:{spec.line}: step {spec.name!r}: {exc}") from None


def parse_recipe(text: str, source: str = "<memory>", name: str = "custom") -> Recipe:
    """Parse and validate recipe YAML text; errors name the key and its line."""
    data, lines = _load_yaml(text, source)
    if not isinstance(data, dict):
        raise RecipeError(f"{source}: a recipe must be a mapping with 'steps' (and optional reader/writer)")
    allowed = {"description", "reader", "steps", "writer", "seed", "batch_size", "name"}
    for key in data:
        if key not in allowed:
            raise RecipeError(
                f"{source}:{_line_of(lines, (key,))}: unknown key {key!r}; allowed: {', '.join(sorted(allowed))}"
            )
    steps = [_validate_step(s, source) for s in _parse_steps(data.get("steps"), lines, source)]
    body = {k: v for k, v in data.items() if k != "steps"}
    body.setdefault("name", name)
    try:
        return Recipe(source=source, steps=steps, **body)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        key = ".".join(str(p) for p in loc)
        raise RecipeError(f"{source}:{_line_of(lines, loc)}: {key!r}: {err['msg']}") from None


def builtin_recipes() -> dict[str, Path]:
    """Built-in recipe names mapped to their YAML files."""
    folder = resources.files("thresher") / "recipes"
    out = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".yaml"):
            out[entry.name[: -len(".yaml")]] = Path(str(entry))
    return dict(sorted(out.items()))


def load_recipe(name_or_path: str | Path | None = None) -> Recipe:
    """Load a built-in recipe by name, or a recipe file by path (default: the ``default`` recipe)."""
    target = str(name_or_path) if name_or_path is not None else DEFAULT_RECIPE
    builtins = builtin_recipes()
    if target in builtins:
        path, name = builtins[target], target
    else:
        path = Path(target)
        name = path.stem
        if not path.is_file():
            raise RecipeError(
                f"recipe {target!r} is neither a built-in recipe ({', '.join(builtins)}) nor a readable file"
            )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(f"cannot read recipe {path}: {exc}") from None
    return parse_recipe(text, source=str(path) if target not in builtins else f"{name}.yaml", name=name)


def reader_fields() -> list[str]:
    """Names of the reader options (for docs and CLI help)."""
    return [f.name for f in fields(ReaderOptions)]
