"""Word2Vec against gensim 4, the reference of its quality: the starting vectors, and one
sentence replayed through gensim's own training step and embedcore's with the same random draws.

gensim and embedcore apply the same update (word2vec.c's); they differ in three places, which
these tests pin: the starting range of the input vectors (embedcore now takes gensim's), the
sigmoid table's cell rule (gensim's Cython computes the scale 1000 / 6 / 2 in C integer
arithmetic, 83 cells per unit instead of 83.33), and pairs whose score lies outside [-6, 6]
(gensim skips them; word2vec.c and embedcore apply the saturated gradient). On the real corpus
neither of the last two moved any score by more than 0.1 analogy points (benchmarks/RESULTS.md);
the starting range did.
"""
import copy

import numpy as np
import pytest

import embedcore as ec
from embedcore import _sgd
from embedcore.word2vec import initial_vectors

# ---------------------------------------------------------------------------------------------
# the starting vectors


def test_initial_vectors_are_uniform_on_plus_minus_one_over_dim_in_float64():
    seed, n, dim = 5, 400, 30
    u = np.random.default_rng(seed).random((n, dim), dtype=np.float32).astype(np.float64)
    want = (2.0 * u - 1.0) / dim
    got = initial_vectors(n, dim, seed)
    assert got.dtype == np.float32 and got.shape == (n, dim)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-8)  # float32 rounding
    assert got.min() >= -1.0 / dim and got.max() < 1.0 / dim
    assert got.min() < -0.9 / dim and got.max() > 0.9 / dim  # the whole range, not word2vec.c's half


def test_initial_vectors_are_gensims_for_the_same_seed():
    keyedvectors = pytest.importorskip("gensim.models.keyedvectors")
    for n, dim, seed in [(50, 100, 1), (7, 13, 12345)]:
        want = keyedvectors.prep_vectors((n, dim), seed=seed)
        assert np.array_equal(initial_vectors(n, dim, seed), want)


def test_training_starts_from_the_initial_vectors(device):
    """With a vanishing learning rate the trained input vectors are the starting ones, on every
    device."""
    sentences = [["a", "b", "c", "d"], ["b", "c", "a"]] * 20
    model = ec.Word2Vec(vector_size=12, min_count=1, alpha=1e-30, min_alpha=1e-30, epochs=1, workers=1,
                        seed=9, device=device).fit(sentences)
    np.testing.assert_array_equal(model.wv.vectors, initial_vectors(len(model.vocab), 12, 9))
    assert np.abs(model.syn1neg).max() < 1e-20


# ---------------------------------------------------------------------------------------------
# one sentence through gensim's step and embedcore's, same random draws

LCG_MASK = (1 << 48) - 1


def lcg(x):
    """gensim's (and word2vec.c's) 48-bit linear congruential step."""
    return (x * 25214903917 + 11) & LCG_MASK


def table_sigmoid(f, cells_per_unit):
    """The sigmoid table's value for score f: word2vec.c's rule with cells_per_unit = 1000 / 12,
    gensim's with 83."""
    cell = int((np.float32(f) + np.float32(6.0)) * np.float32(cells_per_unit))
    x = (cell / 1000 * 2.0 - 1.0) * 6.0
    return float(np.float32(np.exp(x) / (np.exp(x) + 1.0)))


def pair_gradient(f, label, alpha, rule):
    """g of one pair, or None for a pair gensim skips."""
    if f >= 6.0 or f <= -6.0:
        if rule == "gensim":
            return None
        return (label - (1.0 if f >= 6.0 else 0.0)) * alpha
    return (label - table_sigmoid(f, 83 if rule == "gensim" else 1000 / 6.0 / 2.0)) * alpha


def gensim_draws(model, sentence, sg):
    """What gensim's train_batch_sg / train_batch_cbow will draw for one sentence, replayed from a
    copy of the model's RandomState: (kept word ids, [(centre position, context positions,
    negatives)]); skip-gram holds K negatives per context word, CBOW K per centre word."""
    rs = copy.deepcopy(model.random)
    state = (2 ** 24) * rs.randint(0, 2 ** 24) + rs.randint(0, 2 ** 24)
    sample_int = model.wv.expandos["sample_int"]
    kept = []
    for word in sentence:
        w = model.wv.key_to_index[word]
        if model.sample:
            draw, state = state >> 16, lcg(state)
            if sample_int[w] < draw:
                continue
        kept.append(w)
    reduced = rs.randint(0, model.window, len(kept))
    cum = model.cum_table

    def noise():
        nonlocal state
        t = int(np.searchsorted(cum, (state >> 16) % int(cum[-1]), side="left"))
        state = lcg(state)
        return t

    plan = []
    for i in range(len(kept)):
        lo = max(0, i - model.window + reduced[i])
        hi = min(len(kept), i + model.window + 1 - reduced[i])
        ctx = [j for j in range(lo, hi) if j != i]
        if sg:
            negs = [[noise() for _ in range(model.negative)] for _ in ctx]
        else:
            negs = [noise() for _ in range(model.negative)]
        plan.append((i, ctx, negs))
    return kept, plan


def replay_sg(syn0, syn1, kept, plan, alpha, rule):
    """float64 skip-gram, pair by pair (word2vec.c's and gensim's order)."""
    syn0, syn1 = syn0.astype(np.float64), syn1.astype(np.float64)
    for i, ctx, negs in plan:
        for j, row in zip(ctx, negs):
            c, neu1e = kept[j], np.zeros(syn0.shape[1])
            for d, t in enumerate([kept[i]] + row):
                if d > 0 and t == kept[i]:
                    continue
                g = pair_gradient(syn0[c] @ syn1[t], 1.0 if d == 0 else 0.0, alpha, rule)
                if g is None:
                    continue
                neu1e += g * syn1[t]
                syn1[t] += g * syn0[c]
            syn0[c] += neu1e
    return syn0, syn1


def replay_cbow(syn0, syn1, kept, plan, alpha, rule, sequential):
    """float64 CBOW on the mean; every context row gets the whole gradient of the mean. gensim
    updates each output row as it goes (`sequential`); embedcore takes every gradient from the
    output rows before the step, which differs only when a negative is drawn twice in one step."""
    syn0, syn1 = syn0.astype(np.float64), syn1.astype(np.float64)
    for i, ctx, negs in plan:
        if not ctx:
            continue
        rows = [kept[j] for j in ctx]
        h = syn0[rows].mean(axis=0)
        before = syn1.copy()
        neu1e = np.zeros(syn0.shape[1])
        for d, t in enumerate([kept[i]] + negs):
            if d > 0 and t == kept[i]:
                continue
            g = pair_gradient(h @ (syn1[t] if sequential else before[t]), 1.0 if d == 0 else 0.0, alpha, rule)
            if g is None:
                continue
            neu1e += g * (syn1[t] if sequential else before[t])
            syn1[t] += g * h
        for r in rows:
            syn0[r] += neu1e
    return syn0, syn1


def embedcore_replay(syn0, syn1, kept, plan, alpha, sg):
    """The same steps through embedcore's kernel (the step train_span runs for negative_sharing=False)."""
    syn0, syn1 = syn0.copy(), syn1.copy()
    for i, ctx, negs in plan:
        if not ctx:
            continue
        contexts = np.array([kept[j] for j in ctx], np.int32)
        negatives = np.array([t for row in negs for t in row] if sg else negs, np.int32)
        _sgd.word2vec_step(syn0, syn1, kept[i], contexts, negatives, alpha, skip_gram=bool(sg), shared=False,
                           cbow_mean=True)
    return syn0, syn1


def gensim_model_and_sentence(sg, sample, scale, seed=0):
    """A gensim model on a 30-word Zipfian corpus with random input and output rows of the given
    scale (2.0 saturates many scores), and the sentence to replay."""
    from gensim.models import Word2Vec as GensimWord2Vec
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(30)]
    p = np.arange(30, 0, -1) / 465.0
    corpus = [list(rng.choice(words, 40, p=p)) for _ in range(50)]
    model = GensimWord2Vec(vector_size=24, window=4, negative=4, sg=sg, min_count=1, sample=sample, seed=seed,
                           workers=1, cbow_mean=1)
    model.build_vocab(corpus)
    n = len(model.wv)
    model.wv.vectors[:] = rng.normal(0, scale, (n, 24)).astype(np.float32)
    model.syn1neg[:] = rng.normal(0, scale, (n, 24)).astype(np.float32)
    return model, corpus[0][:20]


def gensim_step(model, sentence, sg, alpha):
    from gensim.models import word2vec_inner
    work = np.zeros(model.wv.vector_size, np.float32)
    if sg:
        word2vec_inner.train_batch_sg(model, [sentence], alpha, work, False)
    else:
        word2vec_inner.train_batch_cbow(model, [sentence], alpha, work, np.zeros_like(work), False)
    return model.wv.vectors, model.syn1neg


@pytest.mark.parametrize("sg", [1, 0])
@pytest.mark.parametrize("sample", [0.0, 1e-3])
@pytest.mark.parametrize("scale", [0.1, 2.0])
def test_one_sentence_through_gensim_and_embedcore_with_the_same_draws(sg, sample, scale):
    pytest.importorskip("gensim.models.word2vec_inner")
    alpha = 0.05
    model, sentence = gensim_model_and_sentence(sg, sample, scale)
    syn0, syn1 = model.wv.vectors.copy(), model.syn1neg.copy()
    kept, plan = gensim_draws(model, sentence, sg)
    assert any(ctx for _, ctx, _ in plan)
    g0, g1 = gensim_step(model, sentence, sg, alpha)
    if sg:
        gensim_ref = replay_sg(syn0, syn1, kept, plan, alpha, "gensim")
        ours_ref = replay_sg(syn0, syn1, kept, plan, alpha, "word2vec.c")
    else:
        gensim_ref = replay_cbow(syn0, syn1, kept, plan, alpha, "gensim", sequential=True)
        ours_ref = replay_cbow(syn0, syn1, kept, plan, alpha, "word2vec.c", sequential=False)
    o0, o1 = embedcore_replay(syn0, syn1, kept, plan, alpha, sg)
    # the replay draws what gensim drew: its step is the float64 reference of its rules
    tol = 2e-6 * max(1.0, scale)
    np.testing.assert_allclose(g0, gensim_ref[0], atol=tol)
    np.testing.assert_allclose(g1, gensim_ref[1], atol=tol)
    # embedcore's step is the float64 reference of word2vec.c's rules on the same draws
    np.testing.assert_allclose(o0, ours_ref[0], atol=tol)
    np.testing.assert_allclose(o1, ours_ref[1], atol=tol)
    assert np.abs(o0 - syn0).max() > 100 * tol  # the step moved the rows



# ---------------------------------------------------------------------------------------------
# the quality grid of `embedcore bench word2vec-grid`

def test_grid_covers_every_parameter_range():
    from embedcore.benchcases.word2vec import GRID, GRID_SEEDS
    dims, windows, negatives, samples, epochs = (set(column) for column in zip(*GRID))
    assert len(set(GRID)) == len(GRID) >= 16 and len(GRID_SEEDS) == 3
    assert min(dims) == 50 and max(dims) == 300
    assert min(windows) == 2 and max(windows) == 10
    assert min(negatives) == 2 and max(negatives) == 20
    assert {0, 1e-5, 1e-4, 1e-3} <= samples
    assert min(epochs) == 1 and max(epochs) == 10


def test_grid_gaps_compare_seed_means_and_report_the_worst_setting():
    from embedcore.benchcases.word2vec import describe_gaps, quality_gaps, worst_gaps
    ours = [{"analogy": 0.10, "ws353": 0.50, "simlex": 0.30}, {"analogy": 0.12, "ws353": 0.52, "simlex": 0.28}]
    peer = [{"analogy": 0.115, "ws353": 0.50}, {"analogy": 0.115, "ws353": 0.50}, {"analogy": 0.115, "ws353": 0.53}]
    gaps = quality_gaps(ours, peer)
    assert set(gaps) == {"analogy", "ws353"}  # SimLex only on one side
    assert gaps["analogy"] == pytest.approx(-0.005) and gaps["ws353"] == pytest.approx(0.0)
    assert describe_gaps(gaps) == "analogy -0.50 pts, WS353 +0.000"
    worst = worst_gaps({"a": gaps, "b": {"analogy": 0.01, "ws353": -0.02}})
    assert worst == {"analogy": (pytest.approx(-0.005), "a"), "ws353": (pytest.approx(-0.02), "b")}
