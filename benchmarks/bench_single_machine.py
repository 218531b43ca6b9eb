"""The single-machine text pass and randomized SVD against their peers, side by side in one run.

    python benchmarks/bench_single_machine.py [--corpus benchmarks/data/corpus.txt] [--workers 2] [--repeats 3]

Text: gensim ``Word2Vec(min_count=5, workers=W).build_vocab(corpus_file=...)`` against
``Vocab.count_and_encode(path, min_count=5, workers=W)`` (and with workers=1), runs alternating;
quality: the same words and counts as gensim, and ids identical to the single-threaded
``from_corpus`` + ``encode``. SVD: scikit-learn's ``randomized_svd`` (BLAS limited to W threads)
against ``embedcore.randomized_svd(workers=W)``, k=100, n_iter=5, on the PPMI matrix of the top
30,000 words (window 10), alternating; quality: singular values compared. Prints the best time
of each side and their ratio (the machine may be shared: compare ratios, not times).
"""
import argparse
import os
import time

import numpy as np
import scipy.sparse as sp

import embedcore as ec

HERE = os.path.dirname(os.path.abspath(__file__))


def timed(f):
    start = time.perf_counter()
    result = f()
    return time.perf_counter() - start, result


def text(path, workers, repeats):
    from gensim.models import Word2Vec

    def peer():
        model = Word2Vec(vector_size=100, min_count=5, workers=workers)
        model.build_vocab(corpus_file=path)
        return {w: model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key}

    reference = ec.Vocab.from_corpus(path, min_count=5, workers=1)
    reference_corpus = reference.encode(path, workers=1)
    times = {"gensim": [], f"ours, {workers} threads": [], "ours, 1 thread": []}
    for _ in range(repeats):
        t, words = timed(peer)
        times["gensim"].append(t)
        t, (vocab, corpus) = timed(lambda: ec.Vocab.count_and_encode(path, min_count=5, workers=workers))
        times[f"ours, {workers} threads"].append(t)
        times["ours, 1 thread"].append(timed(lambda: ec.Vocab.count_and_encode(path, min_count=5, workers=1))[0])
    same = (vocab.words == reference.words and np.array_equal(vocab.counts, reference.counts)
            and np.array_equal(corpus.ids, reference_corpus.ids)
            and np.array_equal(corpus.offsets, reference_corpus.offsets))
    report("text pass (count_and_encode) vs gensim build_vocab", times,
           f"{len(vocab)} words; same words and counts as gensim: {words == dict(zip(vocab.words, vocab.counts.tolist()))}; "
           f"identical to the 1-thread from_corpus + encode: {same}")


def svd(path, workers, repeats):
    from sklearn.utils.extmath import randomized_svd as sk_randomized_svd
    from threadpoolctl import threadpool_limits
    vocab, corpus = ec.Vocab.count_and_encode(path, min_count=5, max_size=30_000, workers=workers)
    matrix = sp.csr_matrix(ec.ppmi(ec.cooccurrence(corpus, len(vocab), window=10)), dtype=np.float32)
    times = {"scikit-learn": [], "ours": []}
    for _ in range(repeats):
        with threadpool_limits(workers):
            t, (_, peer_s, _) = timed(lambda: sk_randomized_svd(matrix, 100, n_iter=5, random_state=0))
        times["scikit-learn"].append(t)
        t, (_, s, _) = timed(lambda: ec.randomized_svd(matrix, 100, n_iter=5, workers=workers, device="cpu"))
        times["ours"].append(t)
    diff = np.abs(s - peer_s) / peer_s
    report(f"randomized_svd k=100 n_iter=5, PPMI {matrix.shape[0]} x {matrix.shape[1]}, {matrix.nnz} nonzeros",
           times, f"singular values: top 10 within {diff[:10].max():.1e}, all 100 within {diff.max():.1e}")


def report(title, times, quality):
    names = list(times)
    best = {n: min(t) for n, t in times.items()}
    print(title)
    for n in names:
        print(f"  {n}: best {best[n]:.3f} s of {[round(t, 3) for t in times[n]]}"
              + ("" if n == names[0] else f"  ({best[names[0]] / best[n]:.2f}x)"))
    print(f"  {quality}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default=os.path.join(HERE, "data", "corpus.txt"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    text(args.corpus, args.workers, args.repeats)
    svd(args.corpus, args.workers, args.repeats)


if __name__ == "__main__":
    main()
