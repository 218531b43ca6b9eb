"""Skip-gram with per-pair negatives (word2vec.c's loop): one step at every SIMD level against the
float64 reference of tests/reference.py, on random and adversarial inputs.

The kernel scores a pair's K + 1 targets in one sweep over the context row and updates them in a
second when the targets are distinct; a pair with a negative drawn twice keeps word2vec.c's
target-by-target order. Both must give what word2vec.c gives."""
import numpy as np
import pytest

from embedcore import _native, _sgd
from reference import sg_exact_step, sgns_pair

LEVELS = ("baseline", "avx2", "avx512")
ALPHA = 0.05


def cpu_levels():
    return LEVELS[:LEVELS.index(_native.cpu_simd()) + 1]


def reference(inp, out, centre, ctx, negs, alpha=ALPHA):
    inp, out = inp.astype(np.float64), out.astype(np.float64)
    loss = sg_exact_step(inp, out, centre, list(ctx), list(negs), alpha)
    return inp, out, loss


def step(inp, out, centre, ctx, negs, level, alpha=ALPHA):
    return _sgd.word2vec_step(inp, out, centre, np.asarray(ctx, np.int32), np.asarray(negs, np.int32), alpha,
                              skip_gram=True, shared=False, simd=level)


def model(n_words, dim, seed, scale):
    rng = np.random.default_rng(seed)
    return (rng.normal(0, scale, (n_words, dim)).astype(np.float32),
            rng.normal(0, scale, (n_words, dim)).astype(np.float32))


def assert_matches_reference(inp, out, centre, ctx, negs, level, alpha=ALPHA):
    want_in, want_out, want_loss = reference(inp, out, centre, ctx, negs, alpha)
    loss = step(inp, out, centre, ctx, negs, level, alpha)
    assert loss == pytest.approx(want_loss, rel=1e-5)
    np.testing.assert_allclose(inp, want_in, atol=2e-6)
    np.testing.assert_allclose(out, want_out, atol=2e-6)


def level_or_skip(level):
    if level not in cpu_levels():
        pytest.skip(f"this CPU runs up to {_native.cpu_simd()}")


# dims around every vector width (4, 8, 16 lanes and their 8- and 4-float tails), dim 1, and the
# benchmark's 128; K from 1 to 20 (one block of up to 8 targets, and several blocks)
DIMS = [1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 20, 28, 31, 33, 100, 128]


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("K", [1, 5, 7, 8, 20])
def test_distinct_targets_equal_word2vec_reference(level, dim, K):
    level_or_skip(level)
    rng = np.random.default_rng(1000 * dim + K)
    n_words = 64
    inp, out = model(n_words, dim, seed=dim + K, scale=1.0 / np.sqrt(dim))
    ctx = rng.choice(np.arange(1, n_words), size=6, replace=False)
    # per pair, K negatives distinct from each other and from the centre (word 0)
    negs = np.concatenate([rng.choice(np.arange(1, n_words), size=K, replace=False) for _ in ctx])
    assert_matches_reference(inp, out, 0, ctx, negs, level)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dim", [1, 3, 9, 17, 33, 128])
def test_random_draws_from_a_tiny_vocabulary_equal_word2vec_reference(level, dim):
    # 5 words: negatives hit the centre, repeat within a pair, and contexts repeat across pairs
    level_or_skip(level)
    rng = np.random.default_rng(dim)
    inp, out = model(5, dim, seed=dim, scale=1.0 / np.sqrt(dim))
    for centre in range(5):
        ctx = rng.integers(0, 5, size=8)
        negs = rng.integers(0, 5, size=8 * 5)
        assert_matches_reference(inp, out, centre, ctx, negs, level)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dim", [1, 6, 19, 128])
def test_negatives_equal_to_the_centre_are_skipped(level, dim):
    level_or_skip(level)
    inp, out = model(6, dim, seed=7, scale=1.0 / np.sqrt(dim))
    negs = [0, 3, 0, 0, 5, 0] + [0] * 6  # two pairs; the second draws nothing but the centre
    before = out.copy()
    assert_matches_reference(inp, out, 0, [1, 2], negs, level)
    # untouched: the words drawn for neither pair
    np.testing.assert_array_equal(out[[1, 2, 4]], before[[1, 2, 4]])


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dim", [1, 10, 128])
def test_a_negative_drawn_twice_scores_after_its_first_update(level, dim):
    # word2vec.c's loop: the second draw of word 3 is scored against row 3 as the first draw
    # left it. With a large step that differs clearly from scoring both against the old row.
    level_or_skip(level)
    inp, out = model(5, dim, seed=3, scale=1.5 / np.sqrt(dim))
    inp[1] = out[3] = 1.0 / np.sqrt(dim)  # score 1: inside the sigmoid table, large gradient
    ctx, negs, alpha = [1], [3, 2, 3, 4], 2.0
    want_in, want_out, _ = reference(inp, out, 0, ctx, negs, alpha)
    # every target scored against the old rows (a step that ignored the repeat) moves row 3 by
    # another amount: the comparison below tells the two orders apart
    x, old = inp[1].astype(np.float64), out.astype(np.float64)
    stale = old.copy()
    for k, t in enumerate([0] + negs):
        stale[t] += sgns_pair(x @ old[t], 1.0 if k == 0 else 0.0, alpha)[0] * x
    assert np.abs(stale[3] - want_out[3]).max() > 1e-3
    assert_matches_reference(inp, out, 0, ctx, negs, level, alpha)


def test_unknown_level_raises_naming_it():
    inp, out = model(3, 4, seed=0, scale=0.1)
    with pytest.raises(ValueError, match="avx9"):
        step(inp, out, 0, [1], [2], "avx9")
