"""Adapt retrieval to the user's literature: a tuned embedder and a reranker from gold questions.

The layers put ``tune`` above ``eval`` (it reads gold sets with :mod:`eval.gold`) and below
``cli``.
"""
