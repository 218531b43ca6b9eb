"""Every input of the fuzz corpus (seeds, and the findings fixed since) through its target: a
reader may refuse an input with ValueError, never fail otherwise. Needs no atheris."""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import targets  # noqa: E402

INPUTS = sorted((target, name) for target in targets.TARGETS
                for name in os.listdir(os.path.join(HERE, "corpus", target)))


def test_every_target_has_seeds():
    assert {target for target, _ in INPUTS} == set(targets.TARGETS)


@pytest.mark.parametrize("target, name", INPUTS)
def test_corpus_input_is_read_or_refused_with_valueerror(target, name):
    with open(os.path.join(HERE, "corpus", target, name), "rb") as f:
        targets.run_one(target, f.read())
