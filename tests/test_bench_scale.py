"""The scale benchmark's corpus writer and pipeline at a tiny size (embedcore bench scale)."""
import collections

from embedcore.benchcases import scale


def test_zipf_corpus_has_the_asked_tokens_lines_and_word_law(tmp_path):
    path = tmp_path / "corpus.txt"
    scale.write_zipf_corpus(str(path), 100_000, 5000, chunk=30_000)
    lines = path.read_text().splitlines()
    words = [w for line in lines for w in line.split()]
    assert len(words) == 100_000
    assert all(len(line.split()) == scale.SENTENCE for line in lines)
    counts = collections.Counter(words)
    assert counts["w0"] > counts["w1"] > counts["w3"]  # rank 1, 2, 4
    assert 1.6 < counts["w0"] / counts["w1"] < 2.4      # Zipf exponent 1: twice as often
    assert all(w.startswith("w") and len(w) <= scale.WIDTH - 1 for w in counts)


def test_pipeline_reports_every_stage_and_leaves_nothing_behind(tmp_path):
    stages = scale.run_scale(60_000, types=3000, max_memory=1 << 20, workers=1, folder=str(tmp_path),
                             log=lambda line: None)
    names = [s.name for s in stages]
    assert names == ["write corpus", "vocab", "encode", "cooccurrence", "glove", "ppmi-svd", "skipgram"]
    assert all(s.seconds > 0 and s.peak_rss > 0 and not s.failed for s in stages)
    assert "nonzeros" in stages[3].note
    assert list(tmp_path.iterdir()) == []
    rows = scale.rows_of(stages, 60_000)
    assert [r.case for r in rows] == ["scale"] * 7
