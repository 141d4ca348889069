"""Follow-up questions made standalone with the conversation, without importing answer text.

"and in lung cancer?" after a question about MDM2 amplification must be searched as a question
about MDM2 amplification in lung cancer. An LLM rewrite does that best, but a small model often
repeats its previous *answer* instead (SmolLM2-135M does: the follow-up was
searched as the answer's invented mechanism). So a rewrite is accepted only when every content word
in it comes from the conversation's questions or the follow-up itself; otherwise the last question
is prepended to the follow-up, which serves retrieval well enough.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from base.text import content_stems
from rag.answer.records import Turn

_FOLLOW_UP = re.compile(
    r"^\s*(and|or|but|also|what about|how about|what of|then|in|for|with)\b", re.I
)
_ANAPHORA = re.compile(r"\b(it|its|they|them|their|this|that|these|those|such)\b", re.I)

# (follow-up, conversation) -> the LLM's reply to the rewrite prompt; raises on failure.
Rewriter = Callable[[str, Sequence[Turn]], str]


def needs_context(question: str) -> bool:
    """Whether ``question`` reads as a follow-up ("and in mice?", "does it ...", very short)."""
    return bool(
        _FOLLOW_UP.match(question)
        or _ANAPHORA.search(question)
        or len(content_stems(question)) <= 5
    )


def fallback(question: str, history: Sequence[Turn]) -> str:
    """The last question followed by the follow-up."""
    return f"{history[-1].question} {question}"


def accept_rewrite(rewrite: str, question: str, history: Sequence[Turn]) -> bool:
    """Whether ``rewrite`` is a faithful standalone form of the follow-up ``question``.

    It must keep the follow-up's content words, add some of the conversation's topic, stay short,
    and take every content word from the questions asked so far (never from an answer).
    """
    if not rewrite:
        return False
    own = content_stems(question)
    asked = set().union(*(content_stems(t.question) for t in history)) | own
    stems = content_stems(rewrite)
    topic = content_stems(history[-1].question) - own
    short = len(rewrite) < 4 * len(fallback(question, history))
    return own <= stems <= asked and bool(stems & topic) and short


def standalone(question: str, history: Sequence[Turn], rewriter: Rewriter | None) -> str:
    """``question`` made standalone with ``history`` (unchanged when it needs no context).

    ``rewriter`` asks an LLM for a rewrite; None (or a failing one) uses the fallback.
    """
    if not history or not needs_context(question):
        return question
    if rewriter is None:
        return fallback(question, history)
    reply = rewriter(question, history).strip()
    rewrite = reply.splitlines()[0].strip(' "') if reply else ""
    if accept_rewrite(rewrite, question, history):
        return rewrite
    return fallback(question, history)
