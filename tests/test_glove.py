"""embedcore.GloVe: the AdaGrad step against a float64 numpy reference, and the training loop."""
import numpy as np
import pytest
import scipy.sparse as sp

import embedcore as ec
from embedcore import _sgd
from embedcore.backends import cpu, get_backend
from reference import analogy_accuracy, glove_epoch_reference

RECORD = np.dtype([("row", np.int32), ("col", np.int32), ("log_x", np.float32), ("weight", np.float32)])


PARAMS = ("word", "context", "word_bias", "context_bias", "word_gradsq", "context_gradsq",
          "word_bias_gradsq", "context_bias_gradsq")


def reference_epoch(state, records, eta, bias_eta):
    """tests/reference.py's float64 glove.c epoch from `model_state`; returns (state, cost)."""
    p, cost = glove_epoch_reference(records, dict(zip(PARAMS, state)), eta, bias_eta)
    return [p[name] for name in PARAMS], cost


def small_cooc(seed=0, n=6):
    rng = np.random.default_rng(seed)
    dense = rng.random((n, n)) * 200 * (rng.random((n, n)) < 0.6)
    return sp.csr_matrix(dense)


def records_of(model, cooc, device="cpu", workers=1):
    """The model's training records of cooc (int32 (nnz, 4)) on the host, in the order fit trains
    on them: the CPU gathers them from the matrix in its shuffled order, the GPU is given them."""
    backend = get_backend(device)
    csr = model._counts(cooc, "cooc", workers)
    made = backend.glove_records(csr, model.x_max, model.alpha, model.seed, workers)
    if isinstance(made, cpu.GloveCounts):
        return cpu.glove_record_array(made, workers)
    return backend.to_host(made)


def train_on(model, records, threads=1):
    """Run the model's epochs on explicit records (the record epoch of the CPU backend)."""
    model._train(cpu, model._epoch_over(cpu, records, len(records), threads), len(records), threads)


def as_records(records):
    """(row, col, log_x, weight) fields of int32 (nnz, 4) records."""
    return records.view(RECORD).ravel()


def prepared(model, cooc):
    """A model about to train on cooc, and its records."""
    records = records_of(model, cooc)
    model.words = [str(i) for i in range(cooc.shape[0])]
    model._init_params(cooc.shape[0])
    return records


def model_state(model, dim):
    return [a.astype(np.float64) for a in (
        model._word[:, :dim], model._context[:, :dim], model.word_biases, model.context_biases,
        model._word_gradsq[:, :dim], model._context_gradsq[:, :dim], model._word_bias_gradsq,
        model._context_bias_gradsq)]


def available_simd():
    levels = ["baseline"]
    info = ec.build_info()["simd"]
    if info in ("avx2", "avx512"):
        levels.append("avx2")
    if info == "avx512":
        levels.append("avx512")
    return levels


@pytest.mark.parametrize("bias_learning_rate", [1.0, 0.05])
@pytest.mark.parametrize("simd", available_simd())
def test_one_epoch_equals_the_float64_adagrad_reference(simd, bias_learning_rate):
    cooc, dim = small_cooc(), 5
    model = ec.GloVe(vector_size=dim, x_max=50.0, alpha=0.75, epochs=1, learning_rate=0.05, workers=1,
                     bias_learning_rate=bias_learning_rate, _simd=simd)
    records = prepared(model, cooc)
    expected, expected_cost = reference_epoch(model_state(model, dim), records, 0.05, bias_learning_rate)
    train_on(model, records)
    assert model.stats["simd"] == simd
    for got, want in zip(model_state(model, dim), expected):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-7)
    np.testing.assert_allclose(model.loss_history[0], expected_cost / len(records), rtol=1e-5)


@pytest.mark.parametrize("simd", available_simd())
def test_a_fit_epoch_over_the_matrix_equals_the_float64_reference_on_its_records(simd):
    # fit trains straight from the CSR in its shuffled order; the reference takes the records of
    # that order, so the two must agree step for step
    cooc, dim = small_cooc(seed=5, n=30), 20
    model = ec.GloVe(vector_size=dim, x_max=50.0, epochs=1, workers=1, seed=4, _simd=simd)
    records = prepared(model, cooc)
    expected, expected_cost = reference_epoch(model_state(model, dim), records, 0.05, 1.0)
    model.fit(cooc, vocab=[str(i) for i in range(30)])
    assert model.stats["nnz"] == len(records) == cooc.nnz
    for got, want in zip(model_state(model, dim), expected):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-7)
    np.testing.assert_allclose(model.loss_history[0], expected_cost / len(records), rtol=1e-5)


def test_the_matrix_epoch_and_the_record_epoch_are_the_same_steps():
    # 40,000 nonzeros over two threads: the CSR epoch (gathering batches of records) and the
    # record epoch take the same steps in the same slices, bit for bit
    cooc = sp.random(400, 400, density=0.25, format="csr", random_state=2, dtype=np.float32) * 80
    words = [str(i) for i in range(400)]
    a = ec.GloVe(vector_size=24, epochs=1, workers=1, seed=9).fit(cooc, vocab=words)
    b = ec.GloVe(vector_size=24, epochs=1, workers=1, seed=9)
    records = prepared(b, cooc)
    train_on(b, records)
    np.testing.assert_array_equal(a._word, b._word)
    np.testing.assert_array_equal(a._context_gradsq, b._context_gradsq)
    np.testing.assert_array_equal(a.word_biases, b.word_biases)
    assert a.loss_history == b.loss_history


def test_a_wide_order_trains_as_the_narrow_one():
    # past 2**32 nonzeros the order is uint64; the same positions must give the same steps
    cooc = sp.random(200, 200, density=0.3, format="csr", random_state=3, dtype=np.float32) * 40
    model = ec.GloVe(vector_size=8, workers=2, seed=2)
    csr = model._counts(cooc, "cooc", 2)
    narrow = cpu.glove_records(csr, model.x_max, model.alpha, model.seed, 2)
    wide_order = np.empty(len(narrow.order), dtype=np.uint64)
    _sgd.glove_order(csr.indptr, csr.indices, csr.data, csr.shape[1], model.seed, wide_order, 2)
    np.testing.assert_array_equal(wide_order, narrow.order)
    wide = narrow._replace(order=wide_order)
    np.testing.assert_array_equal(cpu.glove_record_array(wide, 2), cpu.glove_record_array(narrow, 2))
    results = []
    for counts in (narrow, wide):
        m = ec.GloVe(vector_size=8, workers=1, seed=2)
        m.words = [str(i) for i in range(200)]
        m._init_params(200)
        m._train(cpu, m._epoch_over(cpu, counts, counts.nnz, 1), counts.nnz, 1)
        results.append(m._word.copy())
    np.testing.assert_array_equal(*results)


def test_explicit_zeros_are_left_out_of_the_order_without_a_copy():
    dense = np.array([[0.0, 3.0, 0.0], [5.0, 0.0, 2.0], [0.0, 1.0, 0.0]], dtype=np.float32)
    with_zeros = sp.csr_matrix(dense)
    with_zeros.data[1] = 0.0  # (1, 0) stored as an explicit zero
    model = ec.GloVe(vector_size=4, epochs=3, workers=1, seed=5)
    csr = model._counts(with_zeros, "cooc", 1)
    assert csr.data is with_zeros.data or np.shares_memory(csr.data, with_zeros.data)
    assert model._positive(csr, "cooc") == 3
    records = as_records(records_of(model, with_zeros))
    assert sorted(zip(records["row"].tolist(), records["col"].tolist())) == [(0, 1), (1, 2), (2, 1)]
    model.fit(with_zeros, vocab=list("abc"))
    assert model.stats["nnz"] == 3


@pytest.mark.parametrize("simd", available_simd())
def test_large_gradients_are_clipped_as_glove_c_clips_them(simd):
    # parameters far from the optimum make |f(x) diff w| exceed glove.c's clip of 100
    cooc, dim = small_cooc(seed=1), 5
    model = ec.GloVe(vector_size=dim, x_max=50.0, epochs=1, learning_rate=0.05, workers=1, _simd=simd)
    records = prepared(model, cooc)
    rng = np.random.default_rng(3)
    model._word[:, :dim] = rng.uniform(-6, 6, (cooc.shape[0], dim))
    model._context[:, :dim] = rng.uniform(-6, 6, (cooc.shape[0], dim))
    expected = model_state(model, dim)
    first = as_records(records)[0]
    w, c = expected[0][first["row"]], expected[1][first["col"]]
    fdiff = first["weight"] * (w @ c + expected[2][first["row"]] + expected[3][first["col"]] - first["log_x"])
    assert np.abs(fdiff * c).max() > 100  # the clip is exercised by the first record
    expected, _ = reference_epoch(expected, records, 0.05, 1.0)
    train_on(model, records)
    for got, want in zip(model_state(model, dim), expected):
        np.testing.assert_allclose(got, want, rtol=5e-5, atol=1e-5)


def test_records_hold_log_x_and_the_glove_weight(device):
    cooc = sp.csr_matrix(np.array([[0.0, 10.0], [200.0, 1.0]]))
    records = as_records(records_of(ec.GloVe(x_max=100.0, alpha=0.75), cooc, device))
    by_pair = {(r["row"], r["col"]): r for r in records}
    assert set(by_pair) == {(0, 1), (1, 0), (1, 1)}
    np.testing.assert_allclose(by_pair[0, 1]["log_x"], np.log(10.0), rtol=1e-6)
    np.testing.assert_allclose(by_pair[0, 1]["weight"], 0.1 ** 0.75, rtol=1e-6)
    assert by_pair[1, 0]["weight"] == 1.0  # f(x) = 1 past x_max


def test_records_are_every_nonzero_once_in_a_seeded_shuffled_order(device):
    cooc = sp.random(300, 300, density=0.5, format="csr", random_state=1, dtype=np.float32) * 50
    records = as_records(records_of(ec.GloVe(seed=3), cooc, device, workers=2))
    coo = cooc.tocoo()
    expected = sorted(zip(coo.row.tolist(), coo.col.tolist()))
    got = list(zip(records["row"].tolist(), records["col"].tolist()))
    assert sorted(got) == expected  # 45,000 nonzeros: several shuffle buckets
    assert got != expected
    np.testing.assert_allclose(np.exp(records["log_x"]), np.asarray(cooc[records["row"], records["col"]]).ravel(),
                               rtol=1e-5)
    again = as_records(records_of(ec.GloVe(seed=3), cooc, "cpu", workers=1))
    other = as_records(records_of(ec.GloVe(seed=4), cooc, device))
    np.testing.assert_array_equal(records, again)
    assert not np.array_equal(records["row"], other["row"])


def test_padding_columns_stay_zero(device):
    model = ec.GloVe(vector_size=5, epochs=3, workers=1, device=device).fit(small_cooc(), vocab=list("abcdef"))
    assert model._word.shape[1] == 16
    assert not model._word[:, 5:].any() and not model._context[:, 5:].any()


def planted_corpus(n_sentences=1500, seed=0):
    """Two topics whose words only meet words of their own topic."""
    rng = np.random.default_rng(seed)
    topics = [[f"a{i}" for i in range(8)], [f"b{i}" for i in range(8)]]
    return [list(rng.choice(topics[s % 2], size=8)) for s in range(n_sentences)]


def test_loss_falls_over_epochs(device):
    model = ec.GloVe(vector_size=10, epochs=8, workers=2, x_max=10.0, device=device).fit(planted_corpus(), window=3, min_count=1)
    loss = model.loss_history
    assert len(loss) == 8
    assert loss[-1] < 0.5 * loss[0]
    # falls epoch after epoch to its floor (reached in about 4 epochs with Stanford's bias step),
    # where two lock-free threads leave it a percent or two above or below the previous epoch
    assert all(b < a for a, b in zip(loss[:4], loss[1:4]))
    assert loss[-1] <= 1.05 * min(loss)


def test_planted_topics_are_recovered(device):
    # biases learning at the vectors' rate (the GloVe paper's rule): with the default, Stanford's
    # current rule, the fast biases absorb such small planted counts, in glove.c as here
    model = ec.GloVe(vector_size=10, epochs=25, workers=1, x_max=10.0, bias_learning_rate=0.05, device=device).fit(
        planted_corpus(), window=3, min_count=1)
    kv = model.wv
    vectors = kv.vectors / np.linalg.norm(kv.vectors, axis=1, keepdims=True)
    sims = vectors @ vectors.T
    topic = np.array([w[0] for w in kv.words])
    same = sims[topic[:, None] == topic[None, :]].mean()
    other = sims[topic[:, None] != topic[None, :]].mean()
    assert same > other + 0.5


def test_workers_1_is_bit_identical_for_a_seed():
    a = ec.GloVe(vector_size=8, epochs=3, workers=1, seed=7).fit(small_cooc(), vocab=list("abcdef"))
    b = ec.GloVe(vector_size=8, epochs=3, workers=1, seed=7).fit(small_cooc(), vocab=list("abcdef"))
    c = ec.GloVe(vector_size=8, epochs=3, workers=1, seed=8).fit(small_cooc(), vocab=list("abcdef"))
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)
    assert not np.array_equal(a.wv.vectors, c.wv.vectors)


def test_initial_parameters_are_uniform_over_dim(device):
    model = ec.GloVe(vector_size=50, epochs=0, device=device).fit(small_cooc(n=40), vocab=[str(i) for i in range(40)])
    w = model.word_vectors
    assert w.shape == (40, 50) and np.abs(w).max() < 0.5 / 50
    assert (model._word_gradsq == 1).all()


def test_wv_is_word_plus_context_vectors(device):
    model = ec.GloVe(vector_size=4, epochs=2, workers=1, device=device).fit(small_cooc(), vocab=list("abcdef"))
    np.testing.assert_array_equal(model.wv.vectors, model.word_vectors + model.context_vectors)
    assert model.wv.words == list("abcdef")


def test_fit_on_an_encoded_corpus_counts_it_first(device):
    corpus = ec.EncodedCorpus(np.array([0, 1, 2, 0, 1, 2], dtype=np.int32), [0, 3, 6])
    model = ec.GloVe(vector_size=4, epochs=1, workers=1, device=device).fit(corpus, vocab=["x", "y", "z"], window=2)
    assert model.stats["nnz"] == 9 - 3 + 0  # all off-diagonal pairs; no word repeats within 2


def test_callbacks_run_at_every_epoch_end(device):
    seen = []

    class Recorder:
        def on_epoch_end(self, model):
            seen.append(("object", len(model.loss_history)))

    ec.GloVe(vector_size=4, epochs=3, workers=1, device=device,
             callbacks=[Recorder(), lambda model, epoch: seen.append(("call", epoch))]).fit(
        small_cooc(), vocab=list("abcdef"))
    assert seen == [("object", 1), ("call", 0), ("object", 2), ("call", 1), ("object", 3), ("call", 2)]


def test_interrupt_between_epochs_leaves_a_usable_model(device):
    def interrupt(model, epoch):
        if epoch == 1:
            raise KeyboardInterrupt

    model = ec.GloVe(vector_size=4, epochs=10, workers=1, callbacks=[interrupt], device=device).fit(small_cooc(), vocab=list("abcdef"))
    assert len(model.loss_history) == 2
    assert np.isfinite(model.wv.vectors).all()


@pytest.mark.parametrize("kwargs, message", [
    ({"x_max": 0.0}, "x_max must be > 0.0"),
    ({"x_max": -1.0}, "x_max must be > 0.0"),
    ({"alpha": 0.0}, "alpha must be > 0.0"),
    ({"learning_rate": 0.0}, "learning_rate must be > 0.0"),
    ({"vector_size": 0}, "vector_size must be >= 1"),
    ({"workers": 0}, "workers must be a positive thread count"),
    ({"device": "gpu"}, "device must be one of 'auto', 'cpu', 'cuda', got 'gpu'"),
])
def test_bad_parameters_are_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ec.GloVe(**kwargs)


def test_negative_counts_are_an_error(device):
    cooc = sp.csr_matrix(np.array([[0.0, -1.0], [2.0, 0.0]]))
    with pytest.raises(ValueError, match="cooc counts must be non-negative, got -1.0"):
        ec.GloVe(epochs=1, device=device).fit(cooc, vocab=["a", "b"])


def test_nan_counts_are_an_error(device):
    cooc = sp.csr_matrix(np.array([[0.0, np.nan], [2.0, 0.0]]))
    with pytest.raises(ValueError, match="NaN"):
        ec.GloVe(epochs=1, device=device).fit(cooc, vocab=["a", "b"])


def test_matrix_and_vocab_must_agree():
    with pytest.raises(ValueError, match="cooc has 6 rows but vocab has 2 words"):
        ec.GloVe(epochs=1).fit(small_cooc(), vocab=["a", "b"])
    with pytest.raises(ValueError, match="square"):
        ec.GloVe(epochs=1).fit(sp.csr_matrix(np.ones((2, 3))), vocab=["a", "b"])


def test_a_matrix_without_vocab_is_an_error():
    with pytest.raises(TypeError, match="vocab is required"):
        ec.GloVe(epochs=1).fit(small_cooc())


def test_cuda_device_without_a_gpu_is_a_runtime_error(no_gpu):
    with pytest.raises(RuntimeError, match="no CUDA device is visible"):
        ec.GloVe(device="cuda").fit(small_cooc(), vocab=list("abcdef"))


def test_every_fitted_attribute_before_fit_is_a_not_fitted_error():
    model = ec.GloVe()
    for attribute in ("wv", "words", "word_vectors", "context_vectors", "word_biases", "context_biases"):
        with pytest.raises(ec.NotFittedError, match=f"GloVe is not fitted yet: call fit\\(\\) before using {attribute}"):
            getattr(model, attribute)
    assert isinstance(ec.NotFittedError(), ValueError) and isinstance(ec.NotFittedError(), AttributeError)
    assert not hasattr(model, "wv") and "unfitted" in repr(model)


def test_duplicate_entries_of_a_csr_are_one_count(device):
    # a CSR that scipy leaves with duplicates: (0, 1) held as 2 and 6 is the count 8 (log 8)
    data = np.array([2.0, 6.0, 3.0, 5.0], dtype=np.float32)
    duplicated = sp.csr_matrix((data, np.array([1, 1, 0, 1]), np.array([0, 2, 4])), shape=(2, 2))
    assert not duplicated.has_canonical_format
    summed = sp.csr_matrix(np.array([[0.0, 8.0], [3.0, 5.0]], dtype=np.float32))
    records = as_records(records_of(ec.GloVe(), duplicated, device))
    assert len(records) == 3
    by_pair = {(int(r["row"]), int(r["col"])): float(r["log_x"]) for r in records}
    assert by_pair[0, 1] == pytest.approx(np.log(8.0), rel=1e-6)
    a = ec.GloVe(vector_size=4, epochs=3, workers=1, device=device).fit(duplicated, vocab=["a", "b"])
    b = ec.GloVe(vector_size=4, epochs=3, workers=1, device=device).fit(summed, vocab=["a", "b"])
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)
    assert a.loss_history == b.loss_history


def test_a_csr_whose_indptr_decreases_is_an_error_not_a_crash(device):
    bad = sp.csr_matrix((np.ones(4, np.float32), np.array([0, 1, 0, 1], np.int32), np.array([0, 3, 1, 4])),
                        shape=(3, 3))
    with pytest.raises(ValueError, match="cooc is not a valid CSR matrix: CSR indptr decreases at row 1"):
        ec.GloVe(epochs=1, device=device).fit(bad, vocab=["a", "b", "c"])


@pytest.mark.parametrize("bias_learning_rate", [1.0, 0.05])
def test_one_sequential_epoch_on_each_device_equals_the_float64_reference(device, bias_learning_rate):
    # the GPU's kernel takes the records in order in its sequential mode: the serial CPU epoch
    cooc, dim = small_cooc(seed=4, n=12), 37
    model = ec.GloVe(vector_size=dim, x_max=50.0, epochs=1, workers=1)
    records = prepared(model, cooc)
    state = model_state(model, dim)
    expected, expected_cost = reference_epoch(state, records, 0.05, bias_learning_rate)
    backend = get_backend(device)
    params = {name: backend.asarray(getattr(model, attr)) for name, attr in model._PARAMS}  # padded rows
    cost, _ = backend.glove_epoch(backend.asarray(records), params, 0.05, bias_learning_rate, 1, sequential=True)
    assert cost == pytest.approx(expected_cost, rel=1e-5)
    for name, want in zip(PARAMS, expected):
        got = backend.to_host(params[name])
        np.testing.assert_allclose(got[:, :dim] if got.ndim == 2 else got, want, rtol=2e-5, atol=1e-6, err_msg=name)


def test_a_parallel_run_reaches_the_serial_cpus_loss_and_quality(device):
    # many records, many words: Hogwild threads (CPU) or warps (GPU) must reach what one CPU
    # thread reaches on the same counts, not merely lower the loss
    from cuda_emulation import skip_emulated
    from embedcore.datasets import synthetic_corpus
    skip_emulated(device)
    synth = synthetic_corpus(300_000, vocab_size=1500, seed=1)
    cooc = ec.cooccurrence(synth.corpus, len(synth.vocab), window=10, workers=2)
    settings = dict(vector_size=50, epochs=15, bias_learning_rate=0.05, seed=3)
    serial = ec.GloVe(workers=1, device="cpu", **settings).fit(cooc, vocab=synth.vocab)
    parallel = ec.GloVe(workers=2, device=device, **settings).fit(cooc, vocab=synth.vocab)
    assert parallel.loss_history[-1] <= 1.03 * serial.loss_history[-1]
    assert analogy_accuracy(parallel.wv.words, parallel.wv.vectors, synth.analogies) >= \
        analogy_accuracy(serial.wv.words, serial.wv.vectors, synth.analogies) - 0.05


def test_cli_trains_glove_and_writes_vectors(tmp_path):
    from embedcore.cli import main
    text = tmp_path / "corpus.txt"
    text.write_text("\n".join(" ".join(s) for s in planted_corpus(300)) + "\n")
    out = tmp_path / "vectors.txt"
    assert main(["-q", "train", str(text), "--model", "glove", "-o", str(out), "--dim", "6", "--min-count", "1",
                 "--epochs", "2", "--workers", "1"]) == 0
    kv = ec.KeyedVectors.load_word2vec_format(str(out))
    assert len(kv) == 16 and kv.vectors.shape == (16, 6)


def test_demo_step_trains_on_the_synthetic_corpus():
    from embedcore.datasets import synthetic_corpus
    from embedcore.cli import _demo_glove
    synth = synthetic_corpus(100_000, vocab_size=1000, seed=0)
    kv = _demo_glove(synth, 1)
    assert kv.words == synth.vocab.words
    assert np.isfinite(kv.vectors).all() and kv.vectors.shape[1] == 100


def test_planted_analogies_of_the_synthetic_corpus_are_recovered():
    from embedcore.datasets import synthetic_corpus
    synth = synthetic_corpus(600_000, vocab_size=2000, seed=0)
    cooc = ec.cooccurrence(synth.corpus, len(synth.vocab), window=10, workers=1)
    # the paper's bias rule, as in test_planted_topics_are_recovered
    kv = ec.GloVe(vector_size=50, epochs=25, workers=1, bias_learning_rate=0.05).fit(cooc, vocab=synth.vocab).wv
    unit = kv.vectors / np.linalg.norm(kv.vectors, axis=1, keepdims=True)
    index = {w: i for i, w in enumerate(kv.words)}
    correct = 0
    for _, a, b, c, d in synth.analogies:  # a : b :: c : d by 3CosAdd, the inputs excluded
        a, b, c, d = index[a], index[b], index[c], index[d]
        scores = unit @ (unit[b] - unit[a] + unit[c])
        scores[[a, b, c]] = -np.inf
        correct += int(scores.argmax() == d)
    assert correct / len(synth.analogies) > 0.4  # chance is about 1 in 2000
