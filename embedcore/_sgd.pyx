# distutils: language = c++
"""Compiled loops that touch Python objects or update arrays in place.

The text pass (tokens -> counts -> ids) lives here because it reads Python str and file
objects; the SGD epochs live here because they update the caller's arrays in place. Each part
is an include file so that kernels can be worked on independently.
"""
include "_text.pxi"
include "_glove.pxi"
include "_word2vec.pxi"
