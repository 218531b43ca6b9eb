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


def test_ppmi_svd_streams_over_shards_when_its_in_memory_estimate_does_not_fit(tmp_path, monkeypatch):
    # the memory the stage may use set between its streamed and its in-memory need, and shards
    # small enough that there are several
    seen = {}

    def needs(*args):
        seen["needs"] = original(*args)
        return seen["needs"]
    original = scale.ppmi_svd_needs
    monkeypatch.setattr(scale, "ppmi_svd_needs", needs)
    monkeypatch.setattr(scale, "SHARD_BYTES", 20_000)
    monkeypatch.setattr(scale, "ppmi_svd_memory", lambda: sum(seen["needs"]) // 2)
    stages = scale.run_scale(60_000, types=3000, max_memory=1 << 20, workers=1, folder=str(tmp_path),
                             stages=("ppmi-svd",), log=lambda line: None)
    in_memory, streamed = seen["needs"]
    assert streamed < in_memory
    svd = stages[-1]
    assert svd.name == "ppmi-svd" and not svd.failed, svd.note
    assert "streamed over" in svd.note and "shards" in svd.note
    assert int(svd.note.split("streamed over ")[1].split()[0]) > 1
    assert list(tmp_path.iterdir()) == []


def test_ppmi_svd_is_skipped_when_neither_way_fits(tmp_path, monkeypatch):
    monkeypatch.setattr(scale, "ppmi_svd_memory", lambda: 1000)
    stages = scale.run_scale(60_000, types=3000, max_memory=1 << 20, workers=1, folder=str(tmp_path),
                             stages=("ppmi-svd",), log=lambda line: None)
    assert stages[-1].name == "ppmi-svd" and stages[-1].note.startswith("skipped: needs about")
    assert list(tmp_path.iterdir()) == []
