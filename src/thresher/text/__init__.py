"""Shared per-document text features, computed once and cached in ``Document.cache``.

- :mod:`thresher.text.words`: word splitting identical to datatrove's English splitter (spaCy's
  tokenizer rules, re-implemented without spaCy), word hashes, sentence counts.
- :mod:`thresher.text.lines`: cached line splits and the punctuation sets the published filters use.
- :mod:`thresher.text.ngrams`: vectorised duplicate / top n-gram statistics over hashed words.
"""
