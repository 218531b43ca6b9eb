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
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from embedcore._io import open_source
from embedcore._typing import Float64Array, FloatArray, Int64Array, MatrixLike, StrPath
from embedcore._validation import as_float32_matrix, check_choice, check_int, check_path
from embedcore.similarity import cosine_topk

if TYPE_CHECKING:
    from embedcore.keyedvectors import KeyedVectors

logger = logging.getLogger("embedcore")

# gensim looks at this many answers per question (after dropping the question words)
_ANSWERS_CONSIDERED = 5
# 3CosMul's denominator guard (Levy and Goldberg 2014; gensim's most_similar_cosmul)
_COSMUL_EPS = 1e-6


def _check_words_vectors(words: Iterable[str], vectors: npt.ArrayLike) -> tuple[list[str], FloatArray]:
    words = list(words)
    vectors = as_float32_matrix(vectors, "vectors")
    if len(words) != len(vectors):
        raise ValueError(f"words and vectors must have the same length, got {len(words)} words and "
                         f"{len(vectors)} vectors")
    for word in words:
        if not isinstance(word, str):
            raise TypeError(f"words must be str, got {type(word).__name__} {word!r}")
    return words, vectors


def _lookup(words: list[str], restrict_vocab: int, case_insensitive: bool) -> dict[str, int]:
    """word -> row over the first `restrict_vocab` words; with case folding the first (most
    frequent) of several case variants wins, as in gensim."""
    lookup: dict[str, int] = {}
    for row, word in enumerate(words[:restrict_vocab]):
        key = word.upper() if case_insensitive else word
        lookup.setdefault(key, row)
    return lookup


def _unit_rows(vectors: FloatArray) -> FloatArray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: FloatArray = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    return unit


def _decode(raw: bytes, encoding: str, path: str, line_no: int) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: line {line_no + 1} is not valid {encoding} ({exc.reason} at byte "
                         f"{exc.start} of the line)") from None


def read_analogies(path: StrPath, case_insensitive: bool = True) -> list[tuple[str, list[tuple[str, ...]]]]:
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
    sections: list[tuple[str, list[tuple[str, ...]]]] = []
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


def _cosmul_candidates(unit: FloatArray, questions: Int64Array, k: int, workers: int | None) -> Int64Array:
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


def evaluate_word_analogies(words: Iterable[str], vectors: npt.ArrayLike, path: StrPath, restrict_vocab: int = 300000,
                            method: str = "3cosadd", case_insensitive: bool = True, dummy4unknown: bool = False,
                            workers: int | None = None) -> tuple[float, list[dict[str, Any]]]:
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
    sections: list[dict[str, Any]] = []
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


def _log_section(section: dict[str, Any]) -> float:
    correct, incorrect = len(section["correct"]), len(section["incorrect"])
    if correct + incorrect == 0:
        return 0.0
    score = correct / (correct + incorrect)
    logger.info("%s: %.1f%% (%i/%i)", section["section"], 100.0 * score, correct, correct + incorrect)
    return score


def evaluate_word_pairs(words: Iterable[str], vectors: npt.ArrayLike, path: StrPath, delimiter: str | None = None,
                        restrict_vocab: int = 300000, case_insensitive: bool = True, dummy4unknown: bool = False,
                        encoding: str = "utf8") -> tuple[Any, Any, float]:
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


# ----------------------------------------------------------------------------------------- graphs
def _node_vectors(vectors: "KeyedVectors | npt.ArrayLike") -> FloatArray:
    """float32 rows of a KeyedVectors (its .vectors, rows in node order) or a 2-D array."""
    given: Any = vectors
    return as_float32_matrix(getattr(given, "vectors", given), "vectors")


def _standardized(train: npt.NDArray[np.floating[Any]],
                  *others: npt.NDArray[np.floating[Any]]) -> tuple[npt.NDArray[np.floating[Any]], ...]:
    """Features scaled to zero mean and unit variance over the training rows (so that the
    classifier's regularisation does not depend on the vectors' overall scale)."""
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std[std == 0] = 1.0
    return tuple((x - mean) / std for x in (train,) + others)


def _sklearn(what: str) -> tuple[Any, Any]:
    try:
        from sklearn.linear_model import LogisticRegression
        from sklearn.multiclass import OneVsRestClassifier
    except ImportError:
        raise ImportError(f"{what} needs scikit-learn: pip install scikit-learn (or embedcore[graph])") from None
    return LogisticRegression, OneVsRestClassifier


def evaluate_node_classification(vectors: "KeyedVectors | npt.ArrayLike", labels: MatrixLike,
                                 train_fraction: float = 0.5, seed: int = 0,
                                 max_iter: int = 1000) -> tuple[float, float]:
    """Node classification by one-vs-rest logistic regression: (micro-F1, macro-F1) on the nodes
    left out of a random training split (DeepWalk's and node2vec's protocol).

    Features are standardised over the training nodes. Single-label nodes are predicted by the
    highest-scoring class; multi-label nodes (an
    indicator matrix, as BlogCatalog's) by their k highest-scoring labels, k being the number of
    labels the node has. Nodes without a label are left out.

    Parameters
    ----------
    vectors : KeyedVectors or array-like
        One row per node, in the order of `labels`.
    labels : array-like
        int (n_nodes,) classes, or a bool / 0-1 (n_nodes, n_labels) indicator matrix (dense or
        scipy.sparse).
    train_fraction : float
        Share of the labelled nodes the classifier is trained on, in (0, 1).
    seed : int
        Seed of the split and of the classifier.
    max_iter : int
        Iterations of the logistic regression solver (lbfgs).

    Returns
    -------
    (float, float)
        micro-F1 and macro-F1 on the held-out nodes.

    Raises
    ------
    ImportError
        scikit-learn is not installed.
    ValueError
        Labels and vectors of different lengths, fewer than two classes in the training split,
        a fraction outside (0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.repeat([0, 1], 50)
    >>> vectors = np.eye(2)[labels] + np.random.default_rng(0).normal(0, 0.1, (100, 2))
    >>> micro, macro = evaluate_node_classification(vectors, labels)  # doctest: +SKIP
    """
    import scipy.sparse as sp
    LogisticRegression, OneVsRestClassifier = _sklearn("evaluate_node_classification")
    from embedcore._validation import check_float
    vectors = _node_vectors(vectors)
    train_fraction = check_float(train_fraction, "train_fraction", minimum=0.0, maximum=1.0, inclusive=False)
    seed = check_int(seed, "seed", minimum=0)
    if sp.issparse(labels):
        labels = labels.toarray()
    labels = np.asarray(labels)
    if labels.shape[0] != vectors.shape[0]:
        raise ValueError(f"labels must have one entry per vector ({vectors.shape[0]}), got shape {labels.shape}")
    multi = labels.ndim == 2
    if multi:
        indicator = labels.astype(bool)
        labelled = np.flatnonzero(indicator.any(axis=1))
    elif labels.ndim == 1:
        if not np.issubdtype(labels.dtype, np.integer):
            raise TypeError(f"labels must be integer classes or an indicator matrix, got {labels.dtype}")
        classes, target = np.unique(labels, return_inverse=True)
        indicator = np.eye(len(classes), dtype=bool)[target]
        labelled = np.arange(len(labels))
    else:
        raise ValueError(f"labels must be 1-D classes or a 2-D indicator matrix, got shape {labels.shape}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(labelled)
    n_train = int(round(train_fraction * len(order)))
    train, test = order[:n_train], order[n_train:]
    if len(test) == 0 or n_train == 0:
        raise ValueError(f"train_fraction={train_fraction} leaves no node on one side of the split")
    used = indicator[train].any(axis=0)  # labels never seen in training cannot be learnt
    if used.sum() < 2:
        raise ValueError("the training split holds fewer than two classes")
    model = OneVsRestClassifier(LogisticRegression(max_iter=max_iter, random_state=seed))
    x_train, x_test = _standardized(vectors[train].astype(np.float64), vectors[test].astype(np.float64))
    if multi:
        model.fit(x_train, indicator[train][:, used])
    else:
        model.fit(x_train, np.argmax(indicator[train][:, used], axis=1))
    scores = model.decision_function(x_test)
    if scores.ndim == 1:  # two classes: one score column
        scores = np.stack([-scores, scores], axis=1)
    full = np.full((len(test), indicator.shape[1]), -np.inf)
    full[:, used] = scores
    k = indicator[test].sum(axis=1) if multi else np.ones(len(test), dtype=np.int64)
    ranks = np.argsort(-full, axis=1, kind="stable")
    predicted = np.zeros_like(indicator[test])
    for i, (row, kk) in enumerate(zip(ranks, k)):
        predicted[i, row[:kk]] = True
    truth = indicator[test]
    return _f1(truth, predicted)


def _f1(truth: npt.NDArray[np.bool_], predicted: npt.NDArray[np.bool_]) -> tuple[float, float]:
    """(micro-F1, macro-F1) of bool indicator matrices; macro averages over the labels that
    occur in `truth` or `predicted` (scikit-learn's rule)."""
    tp = (truth & predicted).sum(axis=0).astype(np.float64)
    fp = (~truth & predicted).sum(axis=0).astype(np.float64)
    fn = (truth & ~predicted).sum(axis=0).astype(np.float64)
    micro = 2 * tp.sum() / max(2 * tp.sum() + fp.sum() + fn.sum(), 1e-300)
    present = (tp + fp + fn) > 0
    per_label = np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros_like(tp), where=present)
    macro = float(per_label[present].mean()) if present.any() else 0.0
    return float(micro), macro


def roc_auc(scores: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    """Area under the ROC curve of `scores` for bool `labels` (ties count one half): the
    Mann-Whitney statistic, computed from average ranks."""
    from scipy.stats import rankdata
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("roc_auc needs both positive and negative examples")
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def link_prediction_split(adjacency: MatrixLike, test_fraction: float = 0.1, seed: int = 0) -> dict[str, Any]:
    """Hold out edges of an undirected graph for link prediction (node2vec's protocol).

    A random `test_fraction` of the edges is removed, never the last edge of a node (so no node
    becomes isolated); as many node pairs that are not edges are drawn as negatives. The
    classifier's training pairs are an equal number of the remaining edges and other non-edges.

    Parameters
    ----------
    adjacency : scipy.sparse matrix
        Square, symmetric (undirected).
    test_fraction : float
        In (0, 1).
    seed : int

    Returns
    -------
    dict
        ``train_graph`` (CSR float32 without the held-out edges: embed this one),
        ``train_pairs``, ``train_labels``, ``test_pairs``, ``test_labels`` (int64 (m, 2) node
        pairs and bool labels: True for an edge).

    Raises
    ------
    ValueError
        A matrix that is not square and symmetric, or too dense to draw non-edges from.
    """
    import scipy.sparse as sp
    from embedcore._validation import check_float
    test_fraction = check_float(test_fraction, "test_fraction", minimum=0.0, maximum=1.0, inclusive=False)
    seed = check_int(seed, "seed", minimum=0)
    if not sp.issparse(adjacency) or adjacency.ndim != 2 or adjacency.shape[0] != adjacency.shape[1]:
        raise ValueError(f"adjacency must be a square scipy.sparse matrix, got {type(adjacency).__name__}")
    a = sp.csr_matrix(adjacency, dtype=np.float32)
    a.setdiag(0)
    a.eliminate_zeros()
    if (a != a.T).nnz:
        raise ValueError("adjacency must be symmetric (an undirected graph)")
    n = a.shape[0]
    upper = sp.triu(a, k=1).tocoo()
    edges = np.stack([upper.row, upper.col], axis=1).astype(np.int64)
    m = len(edges)
    if m * 4 > n * (n - 1) // 2:
        raise ValueError("adjacency is too dense to draw non-edges from (more than a quarter of all pairs)")
    rng = np.random.default_rng(seed)
    degree = np.diff(a.indptr).astype(np.int64)
    want = int(round(test_fraction * m))
    held = np.zeros(m, dtype=bool)
    taken = 0
    for e in rng.permutation(m):  # greedy: keep at least one edge per node
        if taken == want:
            break
        u, v = edges[e]
        if degree[u] > 1 and degree[v] > 1:
            degree[u] -= 1
            degree[v] -= 1
            held[e] = True
            taken += 1
    test_pos = edges[held]
    kept = edges[~held]
    train_pos = kept[rng.choice(len(kept), size=min(len(kept), taken), replace=False)]
    existing = set((edges[:, 0] * n + edges[:, 1]).tolist())
    drawn: list[tuple[Any, Any]] = []
    while len(drawn) < 2 * taken:
        u, v = rng.integers(0, n, 2)
        lo, hi = min(u, v), max(u, v)
        if lo != hi and lo * n + hi not in existing:
            existing.add(lo * n + hi)
            drawn.append((lo, hi))
    negatives = np.array(drawn, dtype=np.int64).reshape(-1, 2)
    rows = np.concatenate([kept[:, 0], kept[:, 1]])
    cols = np.concatenate([kept[:, 1], kept[:, 0]])
    train_graph = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, n))
    labels = np.concatenate([np.ones(taken, dtype=bool), np.zeros(taken, dtype=bool)])
    return {"train_graph": train_graph,
            "train_pairs": np.concatenate([train_pos, negatives[taken:]]), "train_labels": labels.copy(),
            "test_pairs": np.concatenate([test_pos, negatives[:taken]]), "test_labels": labels}


def evaluate_link_prediction(vectors: "KeyedVectors | npt.ArrayLike", split: dict[str, Any], method: str = "hadamard",
                             seed: int = 0, max_iter: int = 1000) -> float:
    """ROC-AUC of predicting the held-out edges of `link_prediction_split` from node vectors.

    ``method="cosine"`` scores a pair by the cosine of its two vectors (no training, numpy only);
    ``"hadamard"`` trains a logistic regression on the element-wise products of the training
    pairs (node2vec's best edge features; standardised over the training pairs; needs
    scikit-learn) and scores the test pairs by it.

    Parameters
    ----------
    vectors : KeyedVectors or array-like
        One row per node of the split's graph, in its row order (a Node2Vec fitted on
        ``split["train_graph"]`` gives them in that order).
    split : dict
        What `link_prediction_split` returned.
    method : {'hadamard', 'cosine'}
    seed : int
        Seed of the classifier.
    max_iter : int

    Returns
    -------
    float
        ROC-AUC on the test pairs.
    """
    check_choice(method, "method", ("hadamard", "cosine"))
    vectors = _node_vectors(vectors)
    test = np.asarray(split["test_pairs"], dtype=np.int64)
    if test.size and (test.min() < 0 or test.max() >= len(vectors)):
        raise ValueError(f"split pairs name nodes outside the {len(vectors)} vectors")
    if method == "cosine":
        unit = _unit_rows(vectors.astype(np.float64))
        scores = np.einsum("ij,ij->i", unit[test[:, 0]], unit[test[:, 1]])
        return roc_auc(scores, split["test_labels"])
    LogisticRegression, _ = _sklearn("evaluate_link_prediction(method='hadamard')")
    train = np.asarray(split["train_pairs"], dtype=np.int64)
    classifier = LogisticRegression(max_iter=max_iter, random_state=seed)
    v = vectors.astype(np.float64)
    x_train, x_test = _standardized(v[train[:, 0]] * v[train[:, 1]], v[test[:, 0]] * v[test[:, 1]])
    classifier.fit(x_train, split["train_labels"])
    scores = classifier.decision_function(x_test)
    return roc_auc(scores, split["test_labels"])
