"""Pictures of embeddings: a 2-D map of chosen words and their neighbours, and loss curves.

matplotlib is an optional dependency (the ``plot`` extra: ``pip install 'embedcore[plot]'``);
it is imported only when a figure is drawn. Figures are drawn on a `matplotlib.figure.Figure`
without pyplot, so the user's matplotlib backend and open figures are left alone, and written
through `embedcore._io.atomic_write`: the file is either the old one or the complete new one.
"""
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from embedcore._io import atomic_write
from embedcore._typing import Float64Array, Key, StrPath
from embedcore._validation import check_choice, check_int, describe

__all__ = ["plot_loss", "plot_words", "project"]

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from embedcore.keyedvectors import KeyedVectors


class HasLossHistory(Protocol):
    """A fitted model: its ``loss_history`` is the loss after each epoch."""

    @property
    def loss_history(self) -> Sequence[float]: ...


FORMATS = ("png", "svg", "pdf")


def _figure(size: tuple[float, float]) -> "Figure":
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("drawing figures needs matplotlib: pip install 'embedcore[plot]' "
                          "(or pip install matplotlib)") from None
    return Figure(figsize=size)


def _format(path: StrPath, fmt: str | None) -> str:
    """The image format: `fmt`, else the file's suffix (png, svg or pdf)."""
    if fmt is None:
        fmt = os.path.splitext(os.fspath(path))[1].lstrip(".").lower() or "png"
    return check_choice(fmt, "fmt", FORMATS)


def _save(fig: "Figure", path: StrPath, fmt: str | None) -> None:
    fmt = _format(path, fmt)
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format=fmt, dpi=120)


def project(vectors: npt.ArrayLike, method: str = "pca", seed: int = 0) -> Float64Array:
    """Project rows to two dimensions.

    Parameters
    ----------
    vectors : array-like, shape (n, d), n >= 2, d >= 2
    method : {'pca', 'tsne'}
        'pca': the centred rows times their first two right singular vectors (embedcore's
        randomized SVD, exact at this size); 'tsne': openTSNE's t-SNE (``pip install openTSNE``).
    seed : int
        Seed of the randomized SVD or of t-SNE.

    Returns
    -------
    ndarray, float64, shape (n, 2)

    Raises
    ------
    ValueError
        Fewer than two rows or columns, NaN or infinity, an unknown `method`.
    ImportError
        ``method='tsne'`` without openTSNE.

    Examples
    --------
    >>> xy = project([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    >>> xy.shape
    (3, 2)
    """
    from embedcore.svd import randomized_svd

    method = check_choice(method, "method", ("pca", "tsne"))
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2:
        raise ValueError(f"vectors must be 2-D with at least 2 rows and 2 columns, got {describe(x)}")
    if not np.isfinite(x).all():
        raise ValueError("vectors contain NaN or infinity")
    if method == "tsne":
        try:
            from openTSNE import TSNE
        except ImportError:
            raise ImportError("method='tsne' needs openTSNE: pip install openTSNE") from None
        perplexity = max(1.0, min(30.0, (len(x) - 1) / 3.0))
        embedded: Float64Array = np.asarray(TSNE(n_components=2, perplexity=perplexity, random_state=seed).fit(x),
                                            dtype=np.float64)
        return embedded
    centred = x - x.mean(axis=0)
    # more oversampling than rows or columns: the range finder spans the whole space, so the two
    # components are exact
    u, s, _ = randomized_svd(centred.astype(np.float32), 2, n_oversamples=min(x.shape), seed=seed, workers=1,
                             device="cpu")
    projected: Float64Array = u.astype(np.float64) * s.astype(np.float64)
    return projected


def plot_words(kv: "KeyedVectors", words: Sequence[str], path: StrPath, neighbours: int = 0, method: str = "pca",
               title: str | None = None, fmt: str | None = None, seed: int = 0) -> tuple[list[Key], Float64Array]:
    """Draw a 2-D map of `words` and, optionally, each one's nearest neighbours.

    Parameters
    ----------
    kv : KeyedVectors
    words : list of str
        The words to show (at least one; with their neighbours, at least two points).
    path : str or os.PathLike
        The image file (replaced atomically).
    neighbours : int, default 0
        Also show this many nearest neighbours of each word (in grey).
    method : {'pca', 'tsne'}
        The projection (see :func:`project`).
    title : str, optional
    fmt : {'png', 'svg', 'pdf'}, optional
        The image format; by default the suffix of `path` (png when it has none).
    seed : int
        Seed of the projection.

    Returns
    -------
    list of str, ndarray (n, 2)
        The words drawn (chosen words first, then neighbours) and their coordinates.

    Raises
    ------
    KeyError
        A word is not in `kv`.
    ValueError
        No words, fewer than two points, a bad `neighbours`, `method` or `fmt`.
    ImportError
        matplotlib (or openTSNE for t-SNE) is not installed.
    """
    neighbours = check_int(neighbours, "neighbours", minimum=0)
    if isinstance(words, str):
        words = [words]
    words = list(words)
    if not words:
        raise ValueError("words must name at least one word")
    for w in words:
        kv.get_index(w)  # KeyError naming an unknown word, before any drawing
    _format(path, fmt)
    shown: list[Key] = list(dict.fromkeys(words))
    chosen = set(shown)
    for key in list(shown):
        if neighbours:
            shown += [n for n, _ in kv.most_similar(key, topn=neighbours) if n not in shown]
    if len(shown) < 2:
        raise ValueError("a map needs at least two points: give more words or neighbours > 0")
    xy = project(kv[shown], method=method, seed=seed)
    fig = _figure((7, 6))
    ax = fig.add_subplot()
    is_chosen = np.array([key in chosen for key in shown])
    ax.scatter(xy[~is_chosen, 0], xy[~is_chosen, 1], s=12, color="0.6", label="neighbours")
    ax.scatter(xy[is_chosen, 0], xy[is_chosen, 1], s=24, color="tab:blue", label="chosen words")
    for (x, y), key, c in zip(xy, shown, is_chosen):
        ax.annotate(str(key), (x, y), xytext=(3, 3), textcoords="offset points", fontsize=9 if c else 7,
                    color="black" if c else "0.35")
    ax.set_xlabel(f"{method.upper()} 1")
    ax.set_ylabel(f"{method.upper()} 2")
    if neighbours:
        ax.legend(loc="best", fontsize=8)
    ax.set_title(title or f"{len(chosen)} words" + (f" and {neighbours} neighbours each" if neighbours else ""))
    fig.tight_layout()
    _save(fig, path, fmt)
    return shown, xy


def plot_loss(histories: "HasLossHistory | Sequence[float] | dict[str, HasLossHistory | Sequence[float]]",
              path: StrPath, title: str | None = None, fmt: str | None = None) -> dict[str, list[float]]:
    """Draw training-loss curves: one line per model, the loss after each epoch.

    Parameters
    ----------
    histories : fitted model, list of float, or dict of label -> model or list of float
        A model's ``loss_history`` (Word2Vec, FastText, GloVe's cost, Node2Vec, ...).
    path : str or os.PathLike
        The image file (replaced atomically).
    title : str, optional
    fmt : {'png', 'svg', 'pdf'}, optional
        The image format; by default the suffix of `path`.

    Returns
    -------
    dict of label -> list of float
        The curves drawn.

    Raises
    ------
    ValueError
        An empty history, non-finite values, a bad `fmt`.
    ImportError
        matplotlib is not installed.
    """
    sources: dict[str, Any] = histories if isinstance(histories, dict) else {
        type(histories).__name__ if hasattr(histories, "loss_history") else "loss": histories}
    curves = {}
    for label, h in sources.items():
        values = list(getattr(h, "loss_history", h))
        if not values:
            raise ValueError(f"histories[{label!r}] is empty (fit the model first)")
        values = [float(v) for v in values]
        if not np.isfinite(values).all():
            raise ValueError(f"histories[{label!r}] holds NaN or infinity")
        curves[str(label)] = values
    _format(path, fmt)
    fig = _figure((7, 4.5))
    ax = fig.add_subplot()
    for label, values in curves.items():
        ax.plot(range(1, len(values) + 1), values, marker="o", label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title or "training loss")
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    _save(fig, path, fmt)
    return curves
