"""ec.ppmi against a dense float64 numpy formula of Levy, Goldberg and Dagan's shifted PPMI, on
every device (`device` fixture)."""
import numpy as np
import pytest
import scipy.sparse as sp

import embedcore as ec

# float32 output with a float32 log inside: agreement with float64 to this absolute tolerance
ATOL = 2e-5


def dense_ppmi(counts, cds=0.75, shift=1.0):
    """PPMI in float64 by the textbook formula; 0 where the count is 0 or PMI <= 0."""
    counts = np.asarray(counts, dtype=np.float64)
    rows = counts.sum(axis=1, keepdims=True)
    cols = counts.sum(axis=0, keepdims=True) ** cds
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log(counts * cols.sum() / (rows * cols)) - np.log(shift)
    pmi[~np.isfinite(pmi) | (counts == 0)] = 0.0
    return np.maximum(pmi, 0.0)


def random_counts(n_rows, n_cols, density, seed):
    rng = np.random.default_rng(seed)
    counts = rng.gamma(0.5, 20.0, size=(n_rows, n_cols)) * (rng.random((n_rows, n_cols)) < density)
    return counts.astype(np.float32)


def assert_matches_dense(result, counts, cds=0.75, shift=1.0):
    expected = dense_ppmi(counts, cds, shift)
    got = result.toarray()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=ATOL)
    # kept exactly the positive entries, up to values within the tolerance of 0
    clear = np.abs(expected) > ATOL
    assert np.array_equal((got > 0)[clear], (expected > 0)[clear])
    assert (result.data > 0).all()


@pytest.mark.parametrize("cds", [0.75, 1.0, 0.5])
def test_ppmi_matches_dense_formula(device, cds):
    counts = random_counts(60, 45, 0.3, seed=1)
    assert_matches_dense(ec.ppmi(sp.csr_matrix(counts), cds=cds, device=device), counts, cds=cds)


def test_ppmi_with_shift_above_one_drops_more_entries(device):
    counts = random_counts(40, 40, 0.4, seed=2)
    plain = ec.ppmi(sp.csr_matrix(counts), shift=1.0, device=device)
    shifted = ec.ppmi(sp.csr_matrix(counts), shift=5.0, device=device)
    assert_matches_dense(shifted, counts, shift=5.0)
    assert shifted.nnz < plain.nnz


def test_ppmi_handles_zero_rows_and_columns(device):
    counts = random_counts(30, 20, 0.5, seed=3)
    counts[[0, 7, 29], :] = 0
    counts[:, [0, 5, 19]] = 0
    result = ec.ppmi(sp.csr_matrix(counts), device=device)
    assert_matches_dense(result, counts)
    assert result[[0, 7, 29]].nnz == 0 and result[:, [0, 5, 19]].nnz == 0


def test_ppmi_of_all_zero_matrix_is_empty(device):
    result = ec.ppmi(sp.csr_matrix((5, 4), dtype=np.float32), device=device)
    assert result.shape == (5, 4) and result.nnz == 0


def test_ppmi_drops_explicit_zeros(device):
    counts = sp.csr_matrix((np.array([0.0, 3.0, 1.0], np.float32), np.array([0, 1, 0]),
                            np.array([0, 2, 3])), shape=(2, 2))
    result = ec.ppmi(counts, cds=1.0, device=device)
    assert_matches_dense(result, counts.toarray(), cds=1.0)
    assert 0.0 not in result.data


def test_ppmi_adds_up_duplicate_coo_entries(device):
    coo = sp.coo_matrix((np.array([1.0, 2.0, 4.0, 5.0]), (np.array([0, 0, 1, 1]), np.array([1, 1, 0, 1]))),
                        shape=(2, 2))
    coo.has_canonical_format = False
    assert_matches_dense(ec.ppmi(coo, device=device), coo.toarray())


def test_ppmi_accepts_dense_float64_and_int_inputs(device):
    counts = random_counts(20, 25, 0.4, seed=4)
    for value in (counts.astype(np.float64), np.rint(counts).astype(np.int64)):
        assert_matches_dense(ec.ppmi(value, device=device), np.asarray(value))


def test_ppmi_returns_float32_csr_of_the_input_shape(device):
    result = ec.ppmi(sp.random(30, 17, density=0.3, random_state=0, format="coo"), device=device)
    assert isinstance(result, sp.csr_matrix) and result.dtype == np.float32 and result.shape == (30, 17)


def test_ppmi_is_the_same_for_any_thread_count():
    counts = sp.csr_matrix(random_counts(1000, 1000, 0.3, seed=5))  # enough work to use threads
    one = ec.ppmi(counts, workers=1)
    two = ec.ppmi(counts, workers=2)
    three = ec.ppmi(counts, workers=3)
    for other in (two, three):
        assert np.array_equal(one.indptr, other.indptr)
        assert np.array_equal(one.indices, other.indices)
        assert np.array_equal(one.data, other.data)


def test_ppmi_rejects_negative_counts(device):
    counts = sp.csr_matrix(np.array([[1.0, -2.0], [3.0, 4.0]]))
    with pytest.raises(ValueError, match="cooc must hold finite, non-negative counts"):
        ec.ppmi(counts, device=device)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_ppmi_rejects_nan_and_infinite_counts(device, bad):
    counts = sp.csr_matrix(np.array([[1.0, bad], [3.0, 4.0]]))
    with pytest.raises(ValueError, match="cooc"):
        ec.ppmi(counts, device=device)


@pytest.mark.parametrize("cds", [0.0, -1.0])
def test_ppmi_rejects_non_positive_cds(cds):
    with pytest.raises(ValueError, match="cds must be > 0"):
        ec.ppmi(np.ones((2, 2)), cds=cds)


def test_ppmi_rejects_non_positive_shift():
    with pytest.raises(ValueError, match="shift must be > 0"):
        ec.ppmi(np.ones((2, 2)), shift=0)


def test_ppmi_rejects_non_2d_input():
    with pytest.raises(ValueError, match="cooc must be a 2-D array"):
        ec.ppmi(np.ones(5))


def test_ppmi_rejects_corrupt_csr_structure(device):
    bad = sp.csr_matrix((np.ones(2, np.float32), np.array([0, 9], np.int32), np.array([0, 1, 2])),
                        shape=(2, 3))
    with pytest.raises(ValueError, match="cooc is not a valid CSR matrix"):
        ec.ppmi(bad, device=device)


@pytest.mark.parametrize("isa", ["baseline", "avx2", "avx512"])
def test_ppmi_kernel_variants_match_dense_formula(isa):
    from embedcore import _native
    if isa != "baseline" and _native.spmm_isa() not in (isa, "avx512"):
        pytest.skip(f"CPU lacks {isa}")
    counts = random_counts(70, 50, 0.4, seed=6)
    counts[3, :] = 0
    csr = sp.csr_matrix(counts)
    indptr, indices, data = _native.ppmi(csr.indptr.astype(np.int64), csr.indices, csr.data, 70, 50, 0.75, 2.0,
                                         2, isa)
    assert_matches_dense(sp.csr_matrix((data, indices, indptr), shape=(70, 50)), counts, shift=2.0)


def test_ppmi_rejects_an_indptr_that_decreases_before_reading_through_it(device):
    # scipy builds this without complaint; summing its duplicates would read out of bounds
    bad = sp.csr_matrix((np.ones(4, np.float32), np.array([0, 1, 0, 1], np.int32), np.array([0, 3, 1, 4])),
                        shape=(3, 2))
    with pytest.raises(ValueError, match="cooc is not a valid CSR matrix: CSR indptr decreases at row 1"):
        ec.ppmi(bad, device=device)


def test_ppmi_gives_the_same_bits_every_time(device):
    counts = sp.csr_matrix(random_counts(300, 200, 0.3, seed=7))
    first, again = ec.ppmi(counts, device=device), ec.ppmi(counts, device=device)
    assert np.array_equal(first.indptr, again.indptr) and np.array_equal(first.indices, again.indices)
    assert np.array_equal(first.data, again.data)


def test_ppmi_of_a_dense_cupy_array_is_weighted_on_the_gpu(device):
    if device != "cuda" or device.emulated:
        pytest.skip("needs CuPy on a GPU")
    import cupy
    from cupyx.scipy import sparse as csp
    counts = random_counts(15, 15, 0.5, seed=10)
    for value in (cupy.asarray(counts), csp.csr_matrix(cupy.asarray(counts))):
        result = ec.ppmi(value, cds=0.75)
        assert csp.issparse(result)
        assert_matches_dense(result.get(), counts)
