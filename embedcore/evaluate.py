"""Intrinsic evaluation of word vectors: analogies (3CosAdd, 3CosMul) and word-pair similarity.

Both follow gensim's ``KeyedVectors.evaluate_word_analogies`` / ``evaluate_word_pairs`` rules
(which questions are counted, case folding, which answer is taken), so that figures are
comparable; the analogy questions are solved together as one batch through
:func:`embedcore.cosine_topk`.
"""
import codecs
import itertools
import logging
import math

import numpy as np

from embedcore._io import open_source
from embedcore._validation import as_float32_matrix, check_choice, check_int, check_path
from embedcore.similarity import cosine_topk

logger = logging.getLogger("embedcore")

# gensim looks at this many answers per question (after dropping the question words)
_ANSWERS_CONSIDERED = 5
# 3CosMul's denominator guard (Levy and Goldberg 2014; gensim's most_similar_cosmul)
_COSMUL_EPS = 1e-6


def _check_words_vectors(words, vectors):
    words = list(words)
    vectors = as_float32_matrix(vectors, "vectors")
    if len(words) != len(vectors):
        raise ValueError(f"words and vectors must have the same length, got {len(words)} words and "
                         f"{len(vectors)} vectors")
    for word in words:
        if not isinstance(word, str):
            raise TypeError(f"words must be str, got {type(word).__name__} {word!r}")
    return words, vectors


def _lookup(words, restrict_vocab, case_insensitive):
    """word -> row over the first `restrict_vocab` words; with case folding the first (most
    frequent) of several case variants wins, as in gensim."""
    lookup = {}
    for row, word in enumerate(words[:restrict_vocab]):
        key = word.upper() if case_insensitive else word
        lookup.setdefault(key, row)
    return lookup


def _unit_rows(vectors):
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def _decode(raw, encoding, path, line_no):
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: line {line_no + 1} is not valid {encoding} ({exc.reason} at byte "
                         f"{exc.start} of the line)") from None


def read_analogies(path, case_insensitive=True):
    """Parse a Google-format analogy file into sections.

    Parameters
    ----------
    path : str or os.PathLike
        ``: section`` lines followed by ``a b c d`` lines, UTF-8.
    case_insensitive : bool
        Upper-case every word (gensim's default).

    Returns
    -------
    list of (str, list of tuple of 4 str)
        Section names with their questions; lines without exactly four words are skipped.

    Raises
    ------
    ValueError
        A question before the first section header, or a line that is not UTF-8 (the message
        names the path and line). Compressed files (gzip, bz2) are read transparently.
    """
    path = check_path(path, "path")
    sections = []
    with open_source(path) as handle:
        for line_no, raw in enumerate(handle):
            line = _decode(raw, "utf-8", path, line_no)
            if line.startswith(": "):
                sections.append((line.lstrip(": ").strip(), []))
                continue
            if not sections:
                raise ValueError(f"analogy file {path} has a question before any ': section' header "
                                 f"(line {line_no + 1})")
            parts = line.split()
            if len(parts) != 4:
                logger.info("skipping invalid line #%i in %s", line_no, path)
                continue
            sections[-1][1].append(tuple(p.upper() for p in parts) if case_insensitive else tuple(parts))
    return sections


def _cosmul_candidates(unit, questions, k, workers):
    """Top-k rows by 3CosMul for each (a, b, c) row triple, the three rows excluded."""
    del workers  # the products below run on numpy's BLAS threads
    n = len(unit)
    rows = np.empty((len(questions), k), dtype=np.int64)
    block = 256
    for start in range(0, len(questions), block):
        q = questions[start:start + block]
        # cosines shifted to [0, 1] (footnote 7 of Levy and Goldberg 2014)
        cos_a, cos_b, cos_c = ((1.0 + unit[q[:, j]] @ unit.T) / 2.0 for j in range(3))
        score = cos_b * cos_c / (cos_a + _COSMUL_EPS)
        score[np.arange(len(q))[:, None], q] = -np.inf
        part = np.argpartition(-score, k - 1, axis=1)[:, :k] if k < n else np.tile(np.arange(n), (len(q), 1))
        part_scores = np.take_along_axis(score, part, axis=1)
        order = np.lexsort((part, -part_scores), axis=1)
        rows[start:start + len(q)] = np.take_along_axis(part, order, axis=1)
    return rows


def evaluate_word_analogies(words, vectors, path, restrict_vocab=300000, method="3cosadd",
                            case_insensitive=True, dummy4unknown=False, workers=None):
    """Accuracy on an analogy test set ("a is to b as c is to d"), scored as gensim scores it.

    Each question a b c d is answered by the word nearest to b - a + c (3CosAdd: cosine to
    unit(b) + unit(c) - unit(a)) or maximising cos'(x, b) cos'(x, c) / (cos'(x, a) + 1e-6) with
    cos' = (1 + cos) / 2 (3CosMul, Levy and Goldberg 2014), searched among the first
    `restrict_vocab` words. The three question words are never the answer; among the next best
    five, the first whose (case-folded) form is not a question word is taken. Questions with a
    word outside the first `restrict_vocab` words are skipped (or counted wrong with
    ``dummy4unknown``).

    Parameters
    ----------
    words : sequence of str
        The vocabulary, most frequent first.
    vectors : array-like, shape (len(words), dim)
    path : str or os.PathLike
        Analogy file in the Google format (``: section`` lines, then ``a b c d``).
    restrict_vocab : int, default 300000
        gensim's default.
    method : {"3cosadd", "3cosmul"}
    case_insensitive : bool, default True
        Compare upper-cased words; of several case variants the first in `words` is used.
    dummy4unknown : bool, default False
        Count questions with unknown words as wrong instead of skipping them.
    workers : int or None
        Threads for the search.

    Returns
    -------
    accuracy : float
        Correct / answered over all sections (0.0 when nothing was answered).
    sections : list of dict
        One dict per section with ``section`` (name), ``correct`` and ``incorrect`` (lists of
        question tuples), followed by the ``"Total accuracy"`` entry.

    Raises
    ------
    ValueError
        Mismatched words/vectors, a bad `restrict_vocab` or `method`, a malformed file.

    Example
    -------
    >>> acc, sections = evaluate_word_analogies(words, vectors, "questions-words.txt")  # doctest: +SKIP
    """
    words, vectors = _check_words_vectors(words, vectors)
    restrict_vocab = check_int(restrict_vocab, "restrict_vocab", minimum=1)
    check_choice(method, "method", ("3cosadd", "3cosmul"))
    lookup = _lookup(words, restrict_vocab, case_insensitive)
    parsed = read_analogies(path, case_insensitive)

    total_questions = oov = 0
    answered = []  # (section number, question, rows of a, b, c)
    sections = []
    for number, (name, questions) in enumerate(parsed):
        sections.append({"section": name, "correct": [], "incorrect": []})
        for question in questions:
            total_questions += 1
            if any(word not in lookup for word in question):
                oov += 1
                if dummy4unknown:
                    sections[-1]["incorrect"].append(question)
                continue
            answered.append((number, question, [lookup[w] for w in question[:3]]))

    if answered:
        searched = vectors[:restrict_vocab]
        unit = _unit_rows(searched)
        triples = np.array([rows for _, _, rows in answered], dtype=np.int64)
        k = min(_ANSWERS_CONSIDERED + 3, len(searched))
        if method == "3cosadd":
            queries = unit[triples[:, 1]] + unit[triples[:, 2]] - unit[triples[:, 0]]
            _, candidates = cosine_topk(queries, searched, k=k, workers=workers, device="cpu")
        else:
            candidates = _cosmul_candidates(unit, triples, k, workers)
        fold = str.upper if case_insensitive else (lambda w: w)
        for (number, question, rows), found in zip(answered, candidates):
            ignore = set(question[:3])
            kept = [row for row in found.tolist() if row not in rows][:_ANSWERS_CONSIDERED]
            predicted = None
            for row in kept:
                predicted = fold(words[row])
                if predicted in lookup and predicted not in ignore:
                    break
            verdict = "correct" if predicted == question[3] else "incorrect"
            sections[number][verdict].append(question)

    total = {
        "section": "Total accuracy",
        "correct": list(itertools.chain.from_iterable(s["correct"] for s in sections)),
        "incorrect": list(itertools.chain.from_iterable(s["incorrect"] for s in sections)),
    }
    for section in sections:
        _log_section(section)
    if total_questions:
        logger.info("analogy questions with out-of-vocabulary words: %.1f%%", 100.0 * oov / total_questions)
    accuracy = _log_section(total)
    sections.append(total)
    return accuracy, sections


def _log_section(section):
    correct, incorrect = len(section["correct"]), len(section["incorrect"])
    if correct + incorrect == 0:
        return 0.0
    score = correct / (correct + incorrect)
    logger.info("%s: %.1f%% (%i/%i)", section["section"], 100.0 * score, correct, correct + incorrect)
    return score


def evaluate_word_pairs(words, vectors, path, delimiter=None, restrict_vocab=300000,
                        case_insensitive=True, dummy4unknown=False, encoding="utf8"):
    """Correlation of cosine similarities with human judgements (WordSim353, SimLex-999 ...).

    Parameters
    ----------
    words : sequence of str
    vectors : array-like, shape (len(words), dim)
    path : str or os.PathLike
        Lines ``word1 word2 score`` (plain, gzip or bz2); lines starting with ``#`` are skipped,
        as are malformed ones (logged at INFO) and pairs whose score is NaN or infinite (a
        warning names their lines: a correlation with them would be NaN).
    delimiter : str or None
        Field separator; None splits on a tab when the line has one, else on whitespace.
    restrict_vocab : int, default 300000
        Only the first `restrict_vocab` words are known.
    case_insensitive : bool, default True
    dummy4unknown : bool, default False
        Give pairs with unknown words similarity 0 instead of skipping them.
    encoding : str, default "utf8"

    Returns
    -------
    pearson : scipy.stats PearsonRResult
        (statistic, pvalue), as from ``scipy.stats.pearsonr``.
    spearman : scipy.stats SignificanceResult
        (statistic, pvalue), as from ``scipy.stats.spearmanr``.
    oov_ratio : float
        Percentage of pairs with an unknown word (of the pairs used when ``dummy4unknown``, of
        all valid pairs otherwise, as gensim reports it).

    Raises
    ------
    ValueError
        No pair could be scored, or a line is not in `encoding` (the message names the path and
        line).

    Example
    -------
    >>> pearson, spearman, oov = evaluate_word_pairs(words, vectors, "wordsim353.tsv")  # doctest: +SKIP
    """
    from scipy import stats

    words, vectors = _check_words_vectors(words, vectors)
    restrict_vocab = check_int(restrict_vocab, "restrict_vocab", minimum=1)
    path = check_path(path, "path")
    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError):
        raise ValueError(f"encoding must be a known text encoding, got {encoding!r}") from None
    lookup = _lookup(words, restrict_vocab, case_insensitive)
    gold, model = [], []
    oov = 0
    not_finite = []
    with open_source(path) as handle:
        for line_no, raw in enumerate(handle):
            line = _decode(raw, encoding, path, line_no)
            if not line or line.startswith("#"):
                continue
            sep = delimiter if delimiter is not None else ("\t" if "\t" in line else None)
            parts = line.split(sep)
            try:
                if len(parts) != 3:
                    raise ValueError
                a, b = (parts[0].upper(), parts[1].upper()) if case_insensitive else (parts[0], parts[1])
                value = float(parts[2])
            except ValueError:
                logger.info("skipping invalid line #%d in %s", line_no, path)
                continue
            if not math.isfinite(value):
                not_finite.append(line_no + 1)
                continue
            if a not in lookup or b not in lookup:
                oov += 1
                if dummy4unknown:
                    model.append(0.0)
                    gold.append(value)
                continue
            gold.append(value)
            va = vectors[lookup[a]].astype(np.float64)
            vb = vectors[lookup[b]].astype(np.float64)
            na, nb = np.linalg.norm(va), np.linalg.norm(vb)
            model.append(float(va @ vb / (na * nb)) if na > 0 and nb > 0 else 0.0)
    if not_finite:
        logger.warning("%s: skipped %d pair(s) whose score is NaN or infinite (line%s %s)", path, len(not_finite),
                       "" if len(not_finite) == 1 else "s", ", ".join(map(str, not_finite[:10]))
                       + (", ..." if len(not_finite) > 10 else ""))
    if not gold:
        raise ValueError(f"no valid similarity judgements found in {path}: malformed lines, scores that are "
                         f"not finite, or every pair out of vocabulary")
    spearman = stats.spearmanr(gold, model)
    pearson = stats.pearsonr(gold, model)
    oov_ratio = 100.0 * oov / (len(gold) if dummy4unknown else len(gold) + oov)
    logger.info("Pearson %.4f, Spearman %.4f against %s, pairs with unknown words %.1f%%",
                pearson[0], spearman[0], path, oov_ratio)
    return pearson, spearman, oov_ratio
