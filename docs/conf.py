"""Sphinx configuration: API reference from the numpy docstrings, user guide, benchmark results.

Build (warnings are errors): ``bash .ci/docs``; it also runs every example (``-b doctest``).
"""
import os
import sys

import embedcore

project = "embedcore"
author = "the embedcore authors"
copyright = "embedcore authors"
version = release = embedcore.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",   # numpy-style docstrings
    "sphinx.ext.doctest",    # runs the >>> examples of the pages and of the docstrings
    "sphinx.ext.intersphinx",
    "myst_parser",           # benchmarks/RESULTS.md as it is in the repository
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
root_doc = "index"

napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False
napoleon_use_ivar = True  # "Attributes" as fields: no second description of a documented property
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_typehints = "none"
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]  # RESULTS.md's section levels are its own

intersphinx_mapping = {}  # no network in CI: references stay plain text

# every doctest block (pages and docstrings) starts from this
doctest_global_setup = """
import numpy as np
import embedcore as ec
from embedcore import *
from embedcore.datasets import synthetic_corpus, synthetic_interactions
from embedcore.plot import plot_loss, plot_words, project
np.set_printoptions(precision=4, suppress=True)
"""

html_theme = "alabaster"
html_static_path = []
sys.path.insert(0, os.path.abspath(os.path.dirname(__file__)))
