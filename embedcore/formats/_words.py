"""The rule every word we write must follow, so that what we save reads back.

A word must be a non-empty str without ASCII whitespace (space, tab, newline, carriage return,
vertical tab, form feed: the file formats separate fields and records with them) and must be
encodable as UTF-8 (no lone surrogates). Other spaces (U+00A0, U+3000, ...) may occur in words, as
in vectors fastText and word2vec.c wrote for text that holds them; gensim reads and writes such
words too.
"""
import re
from collections.abc import Hashable, Iterable, Sequence

ASCII_SPACES = " \t\n\r\x0b\x0c"
_SPACE_BUT_NEWLINE = re.compile("[%s]" % re.escape(ASCII_SPACES.replace("\n", "")))
RULE = "words must be non-empty str without ASCII whitespace, encodable as UTF-8"


def first_bad_word(words: Sequence[str], joined: str | None = None) -> tuple[int, str] | None:
    """(index, reason) of the first word that breaks the rule; None when all follow it.

    `joined` is ``"\\n".join(words)`` when the caller has it (it checks that every item is a str);
    the common all-good case is checked in a few C-level passes over it.
    """
    if joined is None:
        joined = "\n".join(words)
    n = len(words)
    try:
        joined.encode("utf-8")
        encodable = True
    except UnicodeEncodeError:
        encodable = False
    if (encodable and _SPACE_BUT_NEWLINE.search(joined) is None and joined.count("\n") == max(n - 1, 0)
            and "\n\n" not in joined and not (n and (joined.startswith("\n") or joined.endswith("\n")
                                                      or joined == ""))):
        return None
    for i, word in enumerate(words):
        if word == "":
            return i, "is empty"
        if any(c in ASCII_SPACES for c in word):
            return i, f"{word!r} contains whitespace"
        try:
            word.encode("utf-8")
        except UnicodeEncodeError:
            return i, f"{word!r} is not encodable as UTF-8 (a lone surrogate)"
    return None  # pragma: no cover - the fast check and the loop agree


def first_duplicate(words: Iterable[Hashable]) -> tuple[int, int] | None:
    """(first index, repeated index) of the first word that occurs twice; None when all differ."""
    seen = {}
    for i, word in enumerate(words):
        if word in seen:
            return seen[word], i
        seen[word] = i
    return None


def as_word_list(words: Iterable[str], name: str = "words") -> list[str]:
    """`words` as a list of str, checked against the rule: TypeError for a non-str, ValueError
    naming the first bad word."""
    if isinstance(words, (str, bytes)):
        raise TypeError(f"{name} must be a sequence of str, got {type(words).__name__}")
    try:
        words = list(words)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of str, got {type(words).__name__}") from None
    try:
        joined = "\n".join(words)
    except TypeError:
        i = next(i for i, w in enumerate(words) if not isinstance(w, str))
        raise TypeError(f"{name}[{i}] must be a str, got {type(words[i]).__name__} {words[i]!r}") from None
    bad = first_bad_word(words, joined)
    if bad is not None:
        raise ValueError(f"{name}[{bad[0]}] {bad[1]}; {RULE} (the file formats could not hold it)")
    return words
