"""GloVe trained from a ShardedMatrix: one shard at a time, against the in-memory fit and the
float64 reference, and the memory a fit holds beyond the matrix."""
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

import embedcore as ec
from embedcore.backends import cpu
from embedcore.glove import shard_seed, shard_sequence
from embedcore.sharded import ShardedMatrix, ShardWriter
from reference import analogy_accuracy, glove_epoch_reference

PARAMS = ("word", "context", "word_bias", "context_bias", "word_gradsq", "context_gradsq",
          "word_bias_gradsq", "context_bias_gradsq")


def random_counts(n, density, seed):
    return (sp.random(n, n, density=density, format="csr", random_state=seed, dtype=np.float32) * 60).tocsr()


def state(model, dim):
    return [a.astype(np.float64) for a in (
        model._word[:, :dim], model._context[:, :dim], model.word_biases, model.context_biases,
        model._word_gradsq[:, :dim], model._context_gradsq[:, :dim], model._word_bias_gradsq,
        model._context_bias_gradsq)]


def test_one_shard_trains_exactly_as_the_matrix_in_memory(tmp_path):
    # the same order by construction: shard 0's nonzeros are shuffled with the fit's own seed
    cooc = random_counts(300, 0.2, 1)
    words = [f"w{i}" for i in range(300)]
    shards = ShardedMatrix.from_scipy(cooc, tmp_path / "m", rows_per_shard=300)
    assert shards.n_shards == 1
    a = ec.GloVe(vector_size=16, epochs=3, workers=1, seed=4).fit(cooc, vocab=words)
    b = ec.GloVe(vector_size=16, epochs=3, workers=1, seed=4).fit(shards, vocab=words)
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)
    assert a.loss_history == b.loss_history
    assert b.stats["nnz"] == cooc.nnz


@pytest.mark.parametrize("epochs", [1, 2])
def test_shards_train_in_their_documented_order_as_the_float64_reference(tmp_path, epochs):
    # each epoch: the shards in shard_sequence's order, each shard's nonzeros in the order its
    # seed gives; the reference replays those records
    cooc, dim, seed = random_counts(120, 0.3, 2), 12, 6
    words = [str(i) for i in range(120)]
    shards = ShardedMatrix.from_scipy(cooc, tmp_path / "m", rows_per_shard=25)
    model = ec.GloVe(vector_size=dim, x_max=30.0, epochs=epochs, workers=1, seed=seed)
    model.words = words
    model._init_params(120)
    params = dict(zip(PARAMS, state(model, dim)))
    costs = []
    for epoch in range(epochs):
        cost = 0.0
        for i in shard_sequence(shards.n_shards, seed, epoch):
            lo = shards.row_ranges[i][0]
            piece = cpu.csr_matrix(shards.shard(i))
            counts = cpu.glove_records(piece, 30.0, 0.75, shard_seed(seed, i), 1)._replace(row_offset=lo)
            params, part = glove_epoch_reference(cpu.glove_record_array(counts, 1), params, 0.05, 1.0)
            cost += part
        costs.append(cost / cooc.nnz)
    model.fit(shards, vocab=words)
    for got, name in zip(state(model, dim), PARAMS):
        np.testing.assert_allclose(got, params[name], rtol=3e-5, atol=1e-6, err_msg=name)
    np.testing.assert_allclose(model.loss_history, costs, rtol=1e-5)


def test_shard_sequence_changes_every_epoch_and_covers_every_shard():
    orders = [tuple(shard_sequence(12, 3, epoch)) for epoch in range(4)]
    assert all(sorted(o) == list(range(12)) for o in orders)
    assert len(set(orders)) == 4
    assert shard_seed(7, 0) == 7 and shard_seed(7, 1) != shard_seed(7, 2)


def test_many_shards_reach_the_quality_of_the_matrix_in_memory(tmp_path):
    # the order necessarily differs (a shard's nonzeros are trained together), so the statistics
    # are compared: the final cost and the planted analogies of the synthetic corpus
    from embedcore.datasets import synthetic_corpus
    synth = synthetic_corpus(300_000, vocab_size=1500, seed=1)
    cooc = ec.cooccurrence(synth.corpus, len(synth.vocab), window=10, workers=2)
    shards = ShardedMatrix.from_scipy(cooc, tmp_path / "m", shard_bytes=cooc.nnz * 12 // 8)
    assert shards.n_shards >= 6
    settings = dict(vector_size=50, epochs=15, bias_learning_rate=0.05, seed=3, workers=1)
    whole = ec.GloVe(**settings).fit(cooc, vocab=synth.vocab)
    sharded = ec.GloVe(**settings).fit(shards, vocab=synth.vocab)
    assert sharded.stats["nnz"] == whole.stats["nnz"] == cooc.nnz
    assert sharded.loss_history[-1] <= 1.05 * whole.loss_history[-1]
    assert sharded.loss_history[-1] < 0.5 * sharded.loss_history[0]
    assert analogy_accuracy(sharded.wv.words, sharded.wv.vectors, synth.analogies) >= \
        analogy_accuracy(whole.wv.words, whole.wv.vectors, synth.analogies) - 0.05


def test_bad_shards_are_errors_before_training(tmp_path):
    words = [str(i) for i in range(6)]
    dense = np.arange(36, dtype=np.float32).reshape(6, 6)
    dense[4, 2] = -3.0
    bad = ShardedMatrix.from_scipy(sp.csr_matrix(dense), tmp_path / "neg", rows_per_shard=2)
    model = ec.GloVe(vector_size=4, epochs=1, workers=1)
    with pytest.raises(ValueError, match=r"cooc shard 2 \(rows 4\.\.6\) counts must be non-negative, got -3\.0"):
        model.fit(bad, vocab=words)
    assert not model.is_fitted
    dense[4, 2] = np.nan
    nan = ShardedMatrix.from_scipy(sp.csr_matrix(dense), tmp_path / "nan", rows_per_shard=2)
    with pytest.raises(ValueError, match="NaN"):
        ec.GloVe(epochs=1).fit(nan, vocab=words)
    good = ShardedMatrix.from_scipy(random_counts(6, 0.5, 0), tmp_path / "good", rows_per_shard=2)
    with pytest.raises(ValueError, match="cooc has 6 rows but vocab has 5 words"):
        ec.GloVe(epochs=1).fit(good, vocab=words[:5])
    on_gpu = ec.GloVe(epochs=1)
    on_gpu.device = "cuda"  # as a GPU machine's GloVe(device="cuda") holds it (the constructor checks for one)
    with pytest.raises(ValueError, match="on the CPU"):
        on_gpu.fit(good, vocab=words)
    with pytest.raises(TypeError, match="vocab is required"):
        ec.GloVe(epochs=1).fit(good)
    empty = ShardedMatrix.from_scipy(sp.csr_matrix((6, 6), dtype=np.float32), tmp_path / "empty", rows_per_shard=3)
    with pytest.raises(ValueError, match="no positive counts"):
        ec.GloVe(epochs=1).fit(empty, vocab=words)


def test_explicit_zeros_and_float64_shards_train_as_their_positive_counts(tmp_path):
    cooc = random_counts(50, 0.3, 5).astype(np.float64)
    with_zeros = cooc.copy()
    with_zeros.data[::7] = 0.0
    positive = with_zeros.copy()
    positive.eliminate_zeros()
    words = [str(i) for i in range(50)]
    shards = ShardedMatrix.from_scipy(with_zeros, tmp_path / "m", rows_per_shard=50)
    assert shards.dtype == np.float64
    a = ec.GloVe(vector_size=8, epochs=2, workers=1, seed=1).fit(shards, vocab=words)
    b = ec.GloVe(vector_size=8, epochs=2, workers=1, seed=1).fit(positive, vocab=words)
    assert a.stats["nnz"] == positive.nnz
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)


# ------------------------------------------------------------------ memory beyond the matrix
_PEAK = """
import sys, numpy as np, scipy.sparse as sp, embedcore as ec
from embedcore.sharded import ShardedMatrix

def status(key):
    return next(int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith(key))

source, path = sys.argv[1], sys.argv[2]
words = [str(i) for i in range(4000)]
m = ShardedMatrix(path)
if source == "matrix":
    m = m.to_scipy()
ec.GloVe(vector_size=8, epochs=1, workers=2).fit(sp.identity(4000, dtype=np.float32, format="csr"), vocab=words)
before = status('VmRSS:')
with open('/proc/self/clear_refs', 'w') as f:
    f.write('5')  # the peak resident size starts again from the current one
ec.GloVe(vector_size=8, epochs=1, workers=2).fit(m, vocab=words)
print(status('VmHWM:') - before)
"""


@pytest.fixture(scope="module")
def big_shards(tmp_path_factory):
    """12M nonzeros over 4000 words (3000 per row) in 8 shards of 1.5M: 144 MB of matrix."""
    n, per_row = 4000, 3000
    path = tmp_path_factory.mktemp("big") / "m"
    rng = np.random.default_rng(0)
    with ShardWriter(path, (n, n)) as writer:
        for lo in range(0, n, 500):
            cols = np.sort(np.stack([rng.choice(n, per_row, replace=False) for _ in range(500)]), axis=1)
            data = rng.random(500 * per_row, dtype=np.float32) * 50 + 1
            writer.write(sp.csr_matrix((data, cols.ravel(), np.arange(501) * per_row), shape=(500, n)))
    return str(path), n * per_row


def _peak_growth(source, big_shards, tmp_path):
    """The growth of the peak resident size while a child fits GloVe on the matrix (held in
    memory, every page resident, before) or on its shards."""
    path, nnz = big_shards
    done = subprocess.run([sys.executable, "-c", _PEAK, source, path], capture_output=True, text=True,
                          cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return int(done.stdout.split()[-1]), nnz


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")


@linux_only
def test_a_fit_holds_at_most_12_bytes_per_nonzero_beyond_the_matrix(big_shards, tmp_path):
    grown, nnz = _peak_growth("matrix", big_shards, tmp_path)
    assert grown <= 12 * nnz, f"fitting grew the peak by {grown / nnz:.1f} bytes per nonzero"


@linux_only
def test_a_sharded_fit_holds_about_one_shard(big_shards, tmp_path):
    grown, nnz = _peak_growth("shards", big_shards, tmp_path)
    # one shard read (1.5M x 12 bytes), its order (1.5M x 4): about 24 MB; the matrix is 144 MB
    assert grown <= 2 * 16 * nnz // 8, f"fitting from shards grew the peak by {grown} bytes"
