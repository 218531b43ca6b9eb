"""A synthetic corpus with planted relations, for demos, tests and benchmarks at any scale.

The corpus mixes Zipfian filler sentences with short *snippets* that plant analogy relations.
Everything is generated with vectorised numpy (no per-token Python), so 50M tokens take seconds.

Design
------
A *family* is a relation such as country:capital. Family ``f`` has ``pairs_per_family`` pairs
``(a_i, b_i)``, named after the two sides of the relation (``country_3``/``capital_3``). Each pair
has its own *topic* words (``country_capital_t3_0``, ...), shared by both members, and each side of
each family has *role* words (``country_role0``, ...), shared by every word on that side. A snippet
is one line holding one planted word, ``topic_draw`` of its pair's topic words and ``role_draw`` of
its side's role words, in random order. The context of ``a_i`` is therefore "topic i + role A" and
that of ``b_i`` "topic i + role B", so any model that turns contexts into vectors (skip-gram, CBOW,
GloVe, PPMI-SVD) gives ``v(b_i) - v(a_i)`` roughly equal to ``v(role B) - v(role A)``, the same for
every ``i``: the analogy ``a_i : b_i :: a_j : b_j`` is then answered by 3CosAdd.

Filler sentences (5 to 30 tokens) draw words ``w0, w1, ...`` from a Zipf-Mandelbrot law
``p(k) ~ 1 / (k + 2.7) ** zipf_exponent``; snippets hold ``planted_fraction`` of the tokens, so
the filler, and the corpus as a whole, still look Zipfian. Snippets are spread evenly over the
planted words (each one gets the same number, within one), so with the defaults (7-token
snippets, 30% of the tokens) every planted word occurs about 215 times per million tokens.

The defaults give each planted word 14 distinct context words: with fewer, count-based methods
(PPMI + truncated SVD) lose the planted structure under the sampling noise of the rare filler
words. Even so, keep ``n_tokens / vocab_size`` at a few hundred or more for them (with
2M tokens, a 5,000-word vocabulary works and 20,000 does not), or restrict them to frequent words.

Graded similarity is planted too: the expected similarity of two special words (planted, topic or
role words) is the cosine between their rows of the snippet co-occurrence matrix; `pairs` samples
word pairs across the levels (same pair, same side, other side, other family, own topic word).
"""
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from embedcore._io import atomic_write
from embedcore._typing import Float64Array, Int32Array, Int64Array, SparseMatrix, StrPath
from embedcore._validation import check_float, check_int
from embedcore.corpus import EncodedCorpus
from embedcore.vocab import Vocab

if TYPE_CHECKING:
    from embedcore.interactions import Interactions

logger = logging.getLogger("embedcore")

# (section name, side A, side B) of the first families; more families get generic names.
FAMILIES = (
    ("country-capital", "country", "capital"),
    ("masculine-feminine", "male", "female"),
    ("singular-plural", "singular", "plural"),
    ("present-past", "present", "past"),
    ("adjective-comparative", "adjective", "comparative"),
)

FILLER_MIN_LEN, FILLER_MAX_LEN = 5, 30
MIN_FILLER_WORDS = 10
_BLOCK_TOKENS = 1 << 20
MAX_PAIR_SNIPPETS = 200_000


def _family_names(n_families: int) -> list[tuple[str, str, str]]:
    names = list(FAMILIES[:n_families])
    for f in range(len(names), n_families):
        names.append((f"relation{f}", f"rel{f}a", f"rel{f}b"))
    return names


class SyntheticCorpus:
    """A generated corpus and the relations planted in it (made by `synthetic_corpus`).

    Attributes
    ----------
    vocab : Vocab
        Every word that occurs, most frequent first (ties by first occurrence), so it equals
        ``Vocab.from_corpus(path, min_count=1)`` on the file `write_text` writes.
    corpus : EncodedCorpus
        The token ids (indices into `vocab`) and sentence offsets.
    analogies : list of (str, str, str, str, str)
        ``(section, a, b, c, d)`` questions: ``a : b :: c : d`` within each family.
    pairs : list of (str, str, float)
        Word pairs with their planted similarity in [0, 10].
    families : list of (str, list of (str, str))
        Each family's section name and its ``(a, b)`` pairs.
    """

    vocab: Vocab
    corpus: EncodedCorpus
    families: list[tuple[str, list[tuple[str, str]]]]
    pairs: list[tuple[str, str, float]]
    analogies: list[tuple[str, str, str, str, str]]

    def __init__(self, vocab: Vocab, corpus: EncodedCorpus, families: list[tuple[str, list[tuple[str, str]]]],
                 pairs: list[tuple[str, str, float]]) -> None:
        self.vocab = vocab
        self.corpus = corpus
        self.families = families
        self.pairs = pairs
        self.analogies = [(section, a, b, c, d)
                          for section, members in families
                          for i, (a, b) in enumerate(members)
                          for j, (c, d) in enumerate(members) if i != j]

    def __repr__(self) -> str:
        return (f"SyntheticCorpus({len(self.corpus)} tokens, {self.corpus.n_sentences} sentences, "
                f"{len(self.vocab)} words, {len(self.families)} families, "
                f"{len(self.analogies)} analogies)")

    def write_analogies(self, path: StrPath) -> None:
        """Write the analogy questions in the Google format (``: section`` then ``a b c d`` lines).

        Parameters
        ----------
        path : str or os.PathLike
            Destination, replaced atomically (:func:`embedcore._io.atomic_write`); ``.gz`` and
            ``.bz2`` names are compressed.
        """
        lines, section = [], None
        for sec, a, b, c, d in self.analogies:
            if sec != section:
                lines.append(f": {sec}")
                section = sec
            lines.append(f"{a} {b} {c} {d}")
        _write_atomic(path, ("\n".join(lines) + "\n").encode("utf-8"))

    def write_pairs(self, path: StrPath) -> None:
        """Write the word pairs as tab-separated ``w1 w2 score`` lines (the WordSim353 layout).

        Parameters
        ----------
        path : str or os.PathLike
            Destination, replaced atomically (:func:`embedcore._io.atomic_write`); ``.gz`` and
            ``.bz2`` names are compressed.
        """
        text = "".join(f"{w1}\t{w2}\t{score:.2f}\n" for w1, w2, score in self.pairs)
        _write_atomic(path, text.encode("utf-8"))

    def write_text(self, path: StrPath) -> None:
        """Write the corpus as UTF-8 text, one sentence per line, tokens separated by spaces.

        Parameters
        ----------
        path : str or os.PathLike
            Destination, replaced atomically (:func:`embedcore._io.atomic_write`); ``.gz`` and
            ``.bz2`` names are compressed.
        """
        encoded = [w.encode("utf-8") + b" " for w in self.vocab.words]
        lengths = np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded))
        table = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        starts = np.zeros(len(encoded), dtype=np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])
        ids, ends = self.corpus.ids, self.corpus.offsets[1:] - 1
        with atomic_write(path, compression="infer") as f:
            for lo in range(0, len(ids), _BLOCK_TOKENS):
                block = ids[lo:lo + _BLOCK_TOKENS]
                lens = lengths[block]
                out_end = np.cumsum(lens)
                total = int(out_end[-1])
                gather = np.repeat(starts[block] - (out_end - lens), lens)
                gather += np.arange(total, dtype=np.int64)
                data = table[gather]
                # Sentence-final tokens end with a newline instead of a space.
                e = ends[(ends >= lo) & (ends < lo + len(block))] - lo
                data[out_end[e] - 1] = ord("\n")
                f.write(data.tobytes())


def _write_atomic(path: StrPath, data: bytes) -> None:
    with atomic_write(path, compression="infer") as f:
        f.write(data)


def synthetic_corpus(n_tokens: int, vocab_size: int, seed: int = 0, n_families: int = 5, pairs_per_family: int = 20,
                     topic_words: int = 6, topic_draw: int = 3, role_words: int = 8, role_draw: int = 3,
                     planted_fraction: float = 0.3, zipf_exponent: float = 1.0) -> SyntheticCorpus:
    """Generate a corpus of Zipfian filler with planted analogy relations.

    See the module docstring for the design. The output is the same for the same arguments.

    Parameters
    ----------
    n_tokens : int
        Tokens to generate (exactly this many).
    vocab_size : int
        Distinct words available: the planted, topic and role words, the rest filler. Words that
        never occur (rare filler at small `n_tokens`) are left out of the vocabulary.
    seed : int
        Seed of the random generator.
    n_families : int
        Relation families (the first five are country-capital, masculine-feminine,
        singular-plural, present-past, adjective-comparative).
    pairs_per_family : int
        Word pairs per family (at least 2).
    topic_words, topic_draw : int
        Topic words per pair, and how many of them each snippet holds.
    role_words, role_draw : int
        Role words per side of a family, and how many of them each snippet holds.
    planted_fraction : float
        Share of the tokens in snippets, in (0, 0.9].
    zipf_exponent : float
        Exponent of the filler's Zipf-Mandelbrot law.

    Returns
    -------
    SyntheticCorpus

    Raises
    ------
    ValueError
        An argument is out of range, `vocab_size` cannot hold the special words plus
        10 filler words, or `n_tokens` is too small to plant every word once.

    Examples
    --------
    >>> data = synthetic_corpus(100_000, 2_000, seed=1)
    >>> len(data.corpus), data.analogies[0]
    (100000, ('country-capital', 'country_0', 'capital_0', 'country_1', 'capital_1'))
    """
    n_tokens = check_int(n_tokens, "n_tokens", minimum=1)
    vocab_size = check_int(vocab_size, "vocab_size", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    n_families = check_int(n_families, "n_families", minimum=1)
    pairs_per_family = check_int(pairs_per_family, "pairs_per_family", minimum=2)
    topic_words = check_int(topic_words, "topic_words", minimum=1)
    topic_draw = check_int(topic_draw, "topic_draw", minimum=1, maximum=topic_words)
    role_words = check_int(role_words, "role_words", minimum=1)
    role_draw = check_int(role_draw, "role_draw", minimum=1, maximum=role_words)
    planted_fraction = check_float(planted_fraction, "planted_fraction", minimum=0.0, inclusive=False)
    if planted_fraction > 0.9:
        raise ValueError(f"planted_fraction must be <= 0.9, got {planted_fraction}")
    zipf_exponent = check_float(zipf_exponent, "zipf_exponent", minimum=0.0, inclusive=False)

    n_pairs = n_families * pairs_per_family
    n_planted = 2 * n_pairs
    n_special = n_planted + n_pairs * topic_words + 2 * n_families * role_words
    min_vocab = n_special + MIN_FILLER_WORDS
    if vocab_size < min_vocab:
        raise ValueError(f"vocab_size must be at least {min_vocab} to hold the {n_special} planted, "
                         f"topic and role words plus {MIN_FILLER_WORDS} filler words, got {vocab_size}")
    snippet_len = 1 + topic_draw + role_draw
    min_tokens = int(np.ceil(n_planted * snippet_len / planted_fraction))
    while int(round(min_tokens * planted_fraction)) // snippet_len < n_planted:
        min_tokens += 1
    if n_tokens < min_tokens:
        raise ValueError(f"n_tokens must be at least {min_tokens} so that each of the {n_planted} "
                         f"planted words occurs at least once, got {n_tokens}")

    rng = np.random.default_rng(seed)
    n_filler = vocab_size - n_special

    # Raw ids: planted words [0, n_planted) (pair p: a = 2p, b = 2p + 1), then topic words,
    # then role words, then filler.
    names = _family_names(n_families)
    topic0 = n_planted
    role0 = topic0 + n_pairs * topic_words
    filler0 = role0 + 2 * n_families * role_words
    raw_words, families = [], []
    for section, side_a, side_b in names:
        members = []
        for i in range(pairs_per_family):
            raw_words += [f"{side_a}_{i}", f"{side_b}_{i}"]
            members.append((f"{side_a}_{i}", f"{side_b}_{i}"))
        families.append((section, members))
    for section, _, _ in names:
        raw_words += [f"{section}_t{i}_{t}" for i in range(pairs_per_family) for t in range(topic_words)]
    for _, side_a, side_b in names:
        raw_words += [f"{side}_role{r}" for side in (side_a, side_b) for r in range(role_words)]
    raw_words += [f"w{k}" for k in range(n_filler)]

    # Snippets: planted word + topic_draw of its pair's topics + role_draw of its side's roles.
    n_snippets = int(round(n_tokens * planted_fraction)) // snippet_len
    planted = rng.permutation(np.arange(n_snippets, dtype=np.int64) % n_planted)
    pair, side = planted // 2, planted % 2
    family = pair // pairs_per_family
    topics = _draw_subsets(rng, n_snippets, topic_words, topic_draw) + (topic0 + pair * topic_words)[:, None]
    roles = _draw_subsets(rng, n_snippets, role_words, role_draw) + \
        (role0 + (2 * family + side) * role_words)[:, None]
    snippets = np.concatenate([planted[:, None], topics, roles], axis=1)
    order = np.argsort(rng.random(snippets.shape), axis=1)
    snippets = np.take_along_axis(snippets, order, axis=1).astype(np.int32)

    # Filler sentences with lengths in [FILLER_MIN_LEN, FILLER_MAX_LEN]; the last one takes the rest.
    n_fill_tokens = n_tokens - n_snippets * snippet_len
    lens = rng.integers(FILLER_MIN_LEN, FILLER_MAX_LEN + 1, size=n_fill_tokens // FILLER_MIN_LEN + 2)
    cum = np.cumsum(lens)
    n_fill_sent = int(np.searchsorted(cum, n_fill_tokens)) + 1
    fill_lens = lens[:n_fill_sent].astype(np.int64)
    fill_lens[-1] = n_fill_tokens - (cum[n_fill_sent - 2] if n_fill_sent > 1 else 0)
    if n_fill_tokens == 0:
        fill_lens = fill_lens[:0]
    cdf = np.cumsum(1.0 / (np.arange(n_filler) + 2.7) ** zipf_exponent)
    cdf /= cdf[-1]
    filler = _sample_cdf(cdf, rng.random(n_fill_tokens)) + np.int32(filler0)

    # Interleave: shuffle the sentences, then gather every token from its source in one pass.
    source = np.concatenate([filler, snippets.ravel()])
    src_lens = np.concatenate([fill_lens, np.full(n_snippets, snippet_len, dtype=np.int64)])
    src_start = np.concatenate([[0], np.cumsum(src_lens)[:-1]])
    perm = rng.permutation(len(src_lens))
    out_lens = src_lens[perm]
    offsets = np.zeros(len(out_lens) + 1, dtype=np.int64)
    np.cumsum(out_lens, out=offsets[1:])
    shift = np.repeat(src_start[perm] - offsets[:-1], out_lens)
    shift += np.arange(n_tokens, dtype=np.int64)
    raw_ids = source[shift]
    del shift, source

    # Final ids: by descending count, ties by first occurrence (as Vocab.from_corpus orders them);
    # words that never occur are dropped.
    counts = np.bincount(raw_ids, minlength=len(raw_words))
    first = np.full(len(raw_words), n_tokens, dtype=np.int64)
    first[raw_ids[::-1]] = np.arange(n_tokens - 1, -1, -1, dtype=np.int64)
    order = np.lexsort((first, -counts))
    order = order[counts[order] > 0]
    new_id = np.full(len(raw_words), -1, dtype=np.int32)
    new_id[order] = np.arange(len(order), dtype=np.int32)
    ids = new_id[raw_ids]
    vocab = Vocab([raw_words[i] for i in order], counts[order], n_tokens)
    pairs = _planted_pairs(rng, snippets, raw_words, n_special, families, pairs_per_family,
                           topic0, topic_words)
    logger.info("synthetic corpus: %d tokens, %d sentences (%d snippets), %d words",
                n_tokens, len(out_lens), n_snippets, len(order))
    return SyntheticCorpus(vocab, EncodedCorpus(ids, offsets), families, pairs)


def _sample_cdf(cdf: Float64Array, u: Float64Array) -> Int32Array:
    """First index k with ``cdf[k] > u`` for each u (inverse-CDF sampling), as int32.

    A guide table of 4 * len(cdf) buckets gives each u a starting index at most a few steps below
    its answer, which is much faster than a binary search of the whole table per draw.
    """
    n = len(cdf)
    m = 4 * n
    guide = np.searchsorted(cdf, np.arange(m, dtype=np.float64) / m, side="right").astype(np.int32)
    b = (u * m).astype(np.int64)
    np.clip(b, 0, m - 1, out=b)
    k = guide[b]
    np.minimum(k, n - 1, out=k)
    todo = np.flatnonzero(cdf[k] <= u)
    while todo.size:
        k[todo] += 1
        np.minimum(k, n - 1, out=k)
        todo = todo[(cdf[k[todo]] <= u[todo]) & (k[todo] < n - 1)]
    return k


def _draw_subsets(rng: np.random.Generator, n_rows: int, n_items: int, n_draw: int) -> Int64Array:
    """Per row, `n_draw` distinct offsets in [0, n_items), uniformly at random."""
    if n_draw == n_items:
        return np.broadcast_to(np.arange(n_items, dtype=np.int64), (n_rows, n_items))
    return np.argsort(rng.random((n_rows, n_items)), axis=1)[:, :n_draw].astype(np.int64)


def _planted_pairs(rng: np.random.Generator, snippets: Any, raw_words: Any, n_special: int,
                   families: list[tuple[str, list[tuple[str, str]]]], pairs_per_family: int, topic0: int,
                   topic_words: int) -> list[tuple[str, str, float]]:
    """Word pairs scored 10 x the cosine of their snippet co-occurrence rows."""
    from scipy import sparse

    snippets = snippets[:MAX_PAIR_SNIPPETS]  # plenty for stable cosines
    n_snip, width = snippets.shape
    rows = np.repeat(np.arange(n_snip), width)
    x = sparse.csr_matrix((np.ones(n_snip * width), (rows, snippets.ravel())),
                          shape=(n_snip, n_special))
    cooc = (x.T @ x).toarray()
    np.fill_diagonal(cooc, 0.0)
    norms = np.linalg.norm(cooc, axis=1)
    norms[norms == 0] = 1.0
    n_fam = len(families)
    chosen = []
    for f in range(n_fam):
        for i in range(pairs_per_family):
            p = f * pairs_per_family + i
            a, b = 2 * p, 2 * p + 1
            j = (i + 1 + int(rng.integers(pairs_per_family - 1))) % pairs_per_family
            q = f * pairs_per_family + j
            g = (f + 1 + int(rng.integers(n_fam - 1))) % n_fam if n_fam > 1 else f
            other = 2 * (g * pairs_per_family + int(rng.integers(pairs_per_family))) + int(rng.integers(2))
            topic = topic0 + p * topic_words + int(rng.integers(topic_words))
            chosen += [(a, b), (a, 2 * q), (b, 2 * q + 1), (a, 2 * q + 1), (b, topic)]
            if other != a:
                chosen.append((a, other))
    pairs = []
    for u, v in chosen:
        score = 10.0 * float(cooc[u] @ cooc[v]) / (norms[u] * norms[v])
        pairs.append((raw_words[u], raw_words[v], round(score, 2)))
    return pairs


# ------------------------------------------------------------------------------------------------
# implicit feedback

def synthetic_interactions(n_users: int = 100_000, n_items: int = 20_000, n_interactions: int = 5_000_000,
                           n_clusters: int = 50, rank: int = 16, popularity_exponent: float = 0.8,
                           affinity: float = 4.0, seed: int = 0) -> "tuple[Interactions, Int64Array]":
    """Users x items implicit feedback with low-rank structure and a popularity skew.

    Items have a popularity ``p(j) ~ 1 / (j + 1) ** popularity_exponent`` and a random unit
    vector in `rank` dimensions; users belong to one of `n_clusters` taste clusters, each a unit
    vector too. A user of cluster c picks items from ``p(j) * exp(affinity * <c, v_j>)`` without
    repeats, so the expected matrix has rank at most `n_clusters` and the popular items are
    popular everywhere. Users' history lengths follow a geometric law around the mean
    ``n_interactions / n_users`` (at least 2 each); every interaction gets a time, increasing
    along each user's history, so splits by time keep each user's latest items out.

    Parameters
    ----------
    n_users, n_items, n_interactions : int
        Shape and size (each user's history holds distinct items).
    n_clusters, rank : int
    popularity_exponent, affinity : float
    seed : int

    Returns
    -------
    interactions : embedcore.Interactions
        Weights 1, ``times`` set.
    clusters : ndarray of int64, shape (n_users,)
        Each user's taste cluster (the planted structure).

    Example
    -------
    >>> import embedcore as ec
    >>> x, clusters = ec.datasets.synthetic_interactions(1000, 200, 20000, seed=1)
    >>> x.shape
    (1000, 200)
    """
    from embedcore.interactions import Interactions
    n_users = check_int(n_users, "n_users", minimum=1)
    n_items = check_int(n_items, "n_items", minimum=2)
    n_interactions = check_int(n_interactions, "n_interactions", minimum=2 * n_users)
    n_clusters = check_int(n_clusters, "n_clusters", minimum=1)
    rank = check_int(rank, "rank", minimum=1)
    popularity_exponent = check_float(popularity_exponent, "popularity_exponent", minimum=0.0)
    affinity = check_float(affinity, "affinity", minimum=0.0)
    rng = np.random.default_rng(check_int(seed, "seed", minimum=0))

    def unit(n: int) -> Float64Array:
        x = rng.standard_normal((n, rank))
        rows: Float64Array = x / np.linalg.norm(x, axis=1, keepdims=True)
        return rows

    items, tastes = unit(n_items), unit(n_clusters)
    log_weight = -popularity_exponent * np.log1p(rng.permutation(n_items)) + affinity * (tastes @ items.T)
    weight = np.exp(log_weight - log_weight.max(axis=1, keepdims=True))
    cdf = np.cumsum(weight, axis=1)
    cdf /= cdf[:, -1:]
    table = (np.arange(n_clusters)[:, None] + cdf).ravel()
    clusters = rng.integers(0, n_clusters, n_users)
    mean_extra = max(n_interactions / n_users - 2.0, 1e-9)
    lengths = np.minimum(2 + rng.geometric(1.0 / (1.0 + mean_extra), n_users) - 1, n_items)
    users = np.zeros(0, np.int64)
    picks = np.zeros(0, np.int64)
    wanted = lengths
    for _ in range(50):  # repeated picks are dropped and drawn again
        drawing = np.repeat(np.arange(n_users), wanted)
        # each user draws from its cluster's distribution: row c of the table, shifted by c
        cluster = clusters[drawing]
        drawn = np.searchsorted(table, cluster + rng.random(len(drawing)), side="right") - cluster * n_items
        drawn = np.clip(drawn, 0, n_items - 1)
        users, picks = np.concatenate([users, drawing]), np.concatenate([picks, drawn])
        _, first = np.unique(users * n_items + picks, return_index=True)
        first.sort()  # earlier picks first: they keep their place in the history
        users, picks = users[first], picks[first]
        wanted = lengths - np.bincount(users, minlength=n_users)
        if not wanted.any():
            break
    times = rng.random(len(users))  # one common period for everyone, increasing along each history
    order = np.argsort(users, kind="stable")
    users, picks = users[order], picks[order]
    times = times[np.lexsort((times, users))]
    matrix = sp.csr_matrix((np.ones(len(users), np.float32), (users, picks)), shape=(n_users, n_items))
    matrix.sum_duplicates()  # columns sorted: the entries in (user, item) order
    return Interactions(matrix, times=times[np.lexsort((picks, users))]), clusters


# ----------------------------------------------------------------------------------------- graphs
def stochastic_block_model(n_nodes: int, n_edges: int, n_communities: int = 20, mixing: float = 0.2,
                           seed: int = 0) -> tuple[SparseMatrix, Int64Array]:
    """A planted-partition graph (a stochastic block model with equal blocks) and its labels.

    Nodes get communities at random, in equal numbers (within one). Each edge picks a node u
    uniformly; with probability ``1 - mixing`` its other end is drawn uniformly from u's
    community, else from all nodes. Self-loops and repeated edges are dropped and redrawn until
    the graph has `n_edges` distinct undirected edges. Vectorised numpy: a million edges take
    about a second.

    Parameters
    ----------
    n_nodes : int
        Nodes (>= 2 * n_communities).
    n_edges : int
        Distinct undirected edges, at most a tenth of all node pairs.
    n_communities : int
    mixing : float
        The share of edges drawn without regard to the communities, in [0, 1]; about
        ``mixing * (1 - 1/n_communities)`` of the edges join two communities.
    seed : int

    Returns
    -------
    adjacency : scipy.sparse.csr_matrix
        float32 (n_nodes, n_nodes), symmetric, ones on the edges.
    labels : numpy.ndarray
        int64 (n_nodes,): the community of each node.

    Examples
    --------
    >>> adjacency, labels = stochastic_block_model(100, 400, n_communities=4, seed=1)
    >>> adjacency.nnz, int(labels.max())
    (800, 3)
    """
    import scipy.sparse as sp
    n_communities = check_int(n_communities, "n_communities", minimum=1)
    n_nodes = check_int(n_nodes, "n_nodes", minimum=2 * n_communities, maximum=2 ** 31 - 1)
    n_edges = check_int(n_edges, "n_edges", minimum=1, maximum=n_nodes * (n_nodes - 1) // 20)
    mixing = check_float(mixing, "mixing", minimum=0.0, maximum=1.0)
    seed = check_int(seed, "seed", minimum=0)
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n_nodes) % n_communities).astype(np.int64)
    members = np.argsort(labels, kind="stable")
    sizes = np.bincount(labels, minlength=n_communities)
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    keys = np.empty(0, dtype=np.int64)
    while len(keys) < n_edges:
        need = int((n_edges - len(keys)) * 1.1) + 16
        u = rng.integers(0, n_nodes, need)
        c = labels[u]
        inside = members[first[c] + (rng.random(need) * sizes[c]).astype(np.int64)]
        v = np.where(rng.random(need) < mixing, rng.integers(0, n_nodes, need), inside)
        keep = u != v
        lo, hi = np.minimum(u, v)[keep], np.maximum(u, v)[keep]
        new = lo * n_nodes + hi
        # keep the first occurrence of each edge in draw order, so the result depends on the seed only
        merged = np.concatenate([keys, new])
        _, index = np.unique(merged, return_index=True)
        keys = merged[np.sort(index)]
    keys = keys[:n_edges]
    lo, hi = keys // n_nodes, keys % n_nodes
    rows, cols = np.concatenate([lo, hi]), np.concatenate([hi, lo])
    adjacency = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n_nodes, n_nodes))
    return adjacency, labels


def load_node_labels(path: StrPath, names: Sequence[str] | None = None) -> tuple[SparseMatrix, list[str]]:
    """Read node labels: a ``.mat`` file of the DeepWalk / node2vec distributions (BlogCatalog,
    PPI, Wikipedia: a ``group`` matrix, one row per node), or a text file of
    ``node label [label ...]`` lines (spaces or tabs; ``#`` comments; gzip and bz2 read
    transparently; a node may be named on several lines).

    Parameters
    ----------
    path : str or os.PathLike
    names : list of str, optional
        The node order of the result (e.g. ``model.wv.words``); required for a text file, whose
        nodes are looked up by name. A ``.mat`` file's rows are the nodes 0, 1, ...

    Returns
    -------
    labels : scipy.sparse.csr_matrix
        Bool (n_nodes, n_labels) indicator matrix: the labels of each node.
    label_names : list of str
        The label of each column: in order of first appearance in a text file, "0", "1", ... for
        a ``.mat`` file.

    Raises
    ------
    ValueError
        A line without a label, a node not in `names` (with the line number), a ``.mat`` file
        without ``group``.
    """
    import scipy.sparse as sp
    from embedcore._io import open_source
    from embedcore._validation import check_path
    path = check_path(path, "path")
    if path.endswith(".mat"):
        from scipy.io import loadmat
        contents = loadmat(path)
        if "group" not in contents:
            raise ValueError(f"{path} has no 'group' matrix (the labels of the DeepWalk .mat format)")
        groups = sp.csr_matrix(contents["group"]).astype(bool)
        if names is not None and len(names) != groups.shape[0]:
            raise ValueError(f"{path} labels {groups.shape[0]} nodes, names has {len(names)}")
        return groups, [str(i) for i in range(groups.shape[1])]
    if names is None:
        raise TypeError("names is required for a text label file: the node order of the result")
    index = {name: i for i, name in enumerate(names)}
    label_ids: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    with open_source(path) as f:
        for line_no, raw in enumerate(f, 1):
            parts = raw.decode("utf-8", "replace").split()
            if not parts or parts[0].startswith("#"):
                continue
            if len(parts) < 2:
                raise ValueError(f"{path}, line {line_no}: expected 'node label [label ...]', got one field")
            if parts[0] not in index:
                raise ValueError(f"{path}, line {line_no}: node {parts[0]!r} is not in names")
            for label in parts[1:]:
                rows.append(index[parts[0]])
                cols.append(label_ids.setdefault(label, len(label_ids)))
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=bool), (rows, cols)), shape=(len(names), len(label_ids)))
    return matrix, list(label_ids)


def load_graph_mat(path: StrPath) -> tuple[SparseMatrix, SparseMatrix]:
    """The adjacency (``network``) and labels (``group``) of a ``.mat`` file as the DeepWalk /
    node2vec authors distribute BlogCatalog, PPI and Wikipedia: (scipy.sparse CSR float32,
    bool CSR indicator matrix)."""
    import scipy.sparse as sp
    from scipy.io import loadmat
    from embedcore._validation import check_path
    path = check_path(path, "path")
    contents = loadmat(path)
    for key in ("network", "group"):
        if key not in contents:
            raise ValueError(f"{path} has no {key!r} matrix (the DeepWalk .mat format has 'network' and 'group')")
    return sp.csr_matrix(contents["network"], dtype=np.float32), sp.csr_matrix(contents["group"]).astype(bool)
