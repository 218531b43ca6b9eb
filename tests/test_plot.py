"""embedcore.plot, KeyedVectors.plot and `embedcore plot`: the projection against numpy's PCA,
files written whole, clear errors without matplotlib."""
import builtins
import os

import numpy as np
import pytest

import embedcore as ec
from embedcore import plot as ecplot
from embedcore.cli import main

matplotlib = pytest.importorskip("matplotlib")


def numpy_pca(x):
    x = np.asarray(x, dtype=np.float64)
    centred = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    return u[:, :2] * s[:2]


def same_up_to_sign(a, b, atol):
    for j in range(a.shape[1]):
        if not (np.allclose(a[:, j], b[:, j], atol=atol) or np.allclose(a[:, j], -b[:, j], atol=atol)):
            return False
    return True


@pytest.mark.parametrize("shape", [(2, 2), (5, 3), (40, 16), (12, 50)])
def test_pca_projection_matches_numpy_svd_up_to_sign(shape):
    x = np.random.default_rng(shape[0]).standard_normal(shape) * np.linspace(3, 0.5, shape[1])
    xy = ecplot.project(x)
    assert xy.shape == (shape[0], 2)
    assert same_up_to_sign(xy, numpy_pca(x), atol=1e-4 * np.abs(x).max())


@pytest.mark.parametrize("bad, error", [([[1.0, 2.0]], ValueError), ([[1.0], [2.0]], ValueError),
                                        ([[1.0, np.nan], [0.0, 1.0]], ValueError)])
def test_projection_refuses_bad_input(bad, error):
    with pytest.raises(error):
        ecplot.project(bad)
    with pytest.raises(ValueError, match="method"):
        ecplot.project([[1.0, 0.0], [0.0, 1.0]], method="umap")


def kv_for_plots():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(60)]
    return ec.KeyedVectors(words, rng.standard_normal((60, 8)).astype(np.float32))


@pytest.mark.parametrize("name, magic", [("map.png", b"\x89PNG"), ("map.svg", b"<?xml"), ("map.pdf", b"%PDF")])
def test_keyedvectors_plot_writes_the_image_with_neighbours(tmp_path, name, magic):
    kv = kv_for_plots()
    path = tmp_path / name
    shown, xy = kv.plot(["w1", "w2", "w3"], path, neighbours=4)
    assert shown[:3] == ["w1", "w2", "w3"] and len(shown) == len(set(shown)) and 4 < len(shown) <= 15
    for w in ("w1", "w2", "w3"):
        assert {n for n, _ in kv.most_similar(w, topn=4)} <= set(shown)
    assert same_up_to_sign(xy, numpy_pca(kv[shown]), atol=1e-4)
    data = path.read_bytes()
    assert data.startswith(magic) and len(data) > 5000
    assert os.listdir(tmp_path) == [name]  # no temporary file left behind


def test_plot_errors_name_the_problem_and_leave_the_old_file(tmp_path):
    kv = kv_for_plots()
    path = tmp_path / "map.png"
    path.write_bytes(b"old")
    with pytest.raises(KeyError, match="nope"):
        kv.plot(["w1", "nope"], path)
    with pytest.raises(ValueError, match="two points"):
        kv.plot(["w1"], path)
    with pytest.raises(ValueError, match="fmt"):
        kv.plot(["w1", "w2"], tmp_path / "map.jpg")
    with pytest.raises(ValueError, match="neighbours"):
        kv.plot(["w1", "w2"], path, neighbours=-1)
    assert path.read_bytes() == b"old"


def test_without_matplotlib_the_error_says_what_to_install(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(ImportError, match=r"pip install 'embedcore\[plot\]'"):
        kv_for_plots().plot(["w1", "w2"], tmp_path / "map.png")
    assert not os.listdir(tmp_path)


def test_tsne_without_opentsne_is_a_clear_import_error(monkeypatch):
    real_import = builtins.__import__

    def no_opentsne(name, *args, **kwargs):
        if name.startswith("openTSNE"):
            raise ImportError("No module named 'openTSNE'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_opentsne)
    with pytest.raises(ImportError, match="pip install openTSNE"):
        ecplot.project(np.eye(4), method="tsne")


def test_loss_curves_of_a_trained_model(tmp_path):
    sentences = [["a", "b", "c", "d"] * 5 for _ in range(50)]
    model = ec.Word2Vec(vector_size=8, min_count=1, epochs=3, workers=1).fit(sentences)
    path = tmp_path / "loss.svg"
    curves = ecplot.plot_loss({"sgns": model, "given": [3.0, 2.0, 1.5]}, path)
    assert curves["sgns"] == [float(v) for v in model.loss_history] and len(curves["sgns"]) == 3
    assert path.read_bytes().startswith(b"<?xml") and path.stat().st_size > 5000
    with pytest.raises(ValueError, match="empty"):
        ecplot.plot_loss([], tmp_path / "x.png")
    with pytest.raises(ValueError, match="NaN"):
        ecplot.plot_loss([1.0, float("nan")], tmp_path / "x.png")


def test_cli_plot_writes_the_figure(tmp_path, capsys):
    kv = kv_for_plots()
    vectors = str(tmp_path / "v.bin")
    kv.save_word2vec_format(vectors, binary=True)
    out = tmp_path / "words.png"
    assert main(["plot", vectors, "--words", "w1", "w2", "--neighbours", "3", "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"\x89PNG") and out.stat().st_size > 5000
    assert "wrote" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="nope"):
        main(["plot", vectors, "--words", "nope", "-o", str(out)])


# ------------------------------------------------------------------- t-SNE through openTSNE
def two_clusters(n_per_cluster=15, dim=10, gap=20.0, seed=0):
    """Two tight clusters far apart: rows 0..n-1 around 0, rows n..2n-1 around gap * e0."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2 * n_per_cluster, dim)) * 0.1
    x[n_per_cluster:, 0] += gap
    return x


def test_tsne_projection_keeps_separated_clusters_apart():
    pytest.importorskip("openTSNE")
    x = two_clusters()
    xy = ecplot.project(x, method="tsne", seed=0)
    assert xy.shape == (30, 2) and xy.dtype == np.float64 and np.isfinite(xy).all()
    distances = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=2)
    np.fill_diagonal(distances, np.inf)
    nearest = distances.argmin(axis=1)
    assert ((nearest < 15) == (np.arange(30) < 15)).all()  # every point's 2-D neighbour is in its cluster
    a, b = xy[:15], xy[15:]
    spread = max(np.linalg.norm(a - a.mean(axis=0), axis=1).max(), np.linalg.norm(b - b.mean(axis=0), axis=1).max())
    assert np.linalg.norm(a.mean(axis=0) - b.mean(axis=0)) > 2 * spread


def test_tsne_projection_is_the_same_for_the_same_seed():
    pytest.importorskip("openTSNE")
    x = two_clusters(seed=1)
    first = ecplot.project(x, method="tsne", seed=3)
    assert np.array_equal(first, ecplot.project(x, method="tsne", seed=3))


def test_keyedvectors_plot_with_tsne_writes_the_image(tmp_path):
    pytest.importorskip("openTSNE")
    kv = kv_for_plots()
    path = tmp_path / "map.png"
    shown, xy = kv.plot(["w1", "w2", "w3"], path, neighbours=4, method="tsne", seed=0)
    assert shown[:3] == ["w1", "w2", "w3"] and xy.shape == (len(shown), 2) and np.isfinite(xy).all()
    assert np.array_equal(xy, ecplot.project(kv[shown], method="tsne", seed=0))
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 5000
    assert os.listdir(tmp_path) == ["map.png"]


def test_cli_plot_with_tsne_writes_the_figure(tmp_path, capsys):
    pytest.importorskip("openTSNE")
    kv = kv_for_plots()
    vectors = str(tmp_path / "v.txt")
    kv.save_word2vec_format(vectors)
    out = tmp_path / "words.svg"
    assert main(["plot", vectors, "--words", "w1", "w2", "--neighbours", "3", "--method", "tsne",
                 "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"<?xml") and out.stat().st_size > 5000
    assert "wrote" in capsys.readouterr().out
