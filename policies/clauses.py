"""Clause windows: the short pieces of a prompt that harm exemplars are also scored against.

A harmful scene is often one clause of a long prompt ("a girl in a white dress in a bathtub, the
water turning red around her wrists, soft pastel light, dreamy, film grain"): read whole, the
embedding is a mean over every word, and the camera and style words dilute the one clause that
says what happens. So rules marked ``clauses`` (the harm rules of the safety pack) are scored
against the whole prompt *and* each clause window, and keep their best score:

- the prompt is split at commas, semicolons, colons, brackets, dashes and sentence ends, in every
  script (``、。，；：！？`` for Chinese and Japanese, ``،؛؟`` for Arabic, ``।`` for Hindi);
- each clause of at least ``shortest`` tokens is a window; a clause over ``width`` tokens is cut
  into half-overlapping runs of ``width`` tokens (a sliding window of words; of characters for
  Chinese, Japanese and Korean, twice as many, since a word there is one to three characters);
- then each pair of neighbouring clauses that fits in 1.5 x ``width`` tokens (3 x in CJK; the subject is often in
  one clause and the act in the next: "a man tied to a chair, his nails pulled out");
- in that order, ``most`` windows at most (three), without repeats.

Every window is embedded in the same model call as the prompt (one batch: USE-multilingual gives
the same vectors in a batch as alone, and eight short texts cost about twice one), so a check
stays one forward pass. The per-rule thresholds were chosen with the windows on (``safety.yaml``).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass

from policies.errors import PolicyError
from policies.normalize import has_cjk

__all__ = ["ClausePlan"]

# Clause ends: punctuation of every script we read; a full stop only before a space or the end.
_SPLIT = re.compile(r"[,;:|()\[\]{}\u2013\u2014、。；，：！？،؛؟।\n]+|[.!?]+(?:\s+|$)|\s-\s")

Offsets = Callable[[str], list[tuple[int, int]]]


@dataclass(frozen=True, slots=True)
class ClausePlan:
    """How a prompt is cut into clause windows (sizes in the embedder's tokens: words, or one
    Han, kana or Hangul character each for the multilingual model)."""

    width: int = 18
    shortest: int = 3
    # Three, not more: on dev + v4 (1,246 prompts) six windows found 2 refusals of 916 more than
    # three, at twice the model time per long prompt (the p95 latency goal is 10 ms).
    most: int = 3

    def __post_init__(self) -> None:
        if not (1 <= self.shortest <= self.width and self.most >= 1):
            raise PolicyError(f"bad clause plan {self}: need 1 <= shortest <= width, most >= 1")

    def clauses(self, text: str, offsets: Offsets) -> list[str]:
        """The clause windows of ``text``, best first; none when the text is a single clause
        that the whole-prompt reading already covers."""
        spans = offsets(text)
        pieces: list[tuple[int, int, int]] = []  # (first token, end token) runs, with clause index
        cursor, clause = 0, 0
        starts = [a for a, _ in spans]
        for delimiter in [*_SPLIT.finditer(text), None]:
            end = delimiter.start() if delimiter else len(text)
            first, last = bisect_left(starts, cursor), bisect_left(starts, end)
            if last > first:
                pieces.append((first, last, clause))
                clause += 1
            if delimiter:
                cursor = delimiter.end()
        if len(pieces) < 2 and (not pieces or pieces[0][1] - pieces[0][0] <= self.width):
            return []  # one short clause: the whole prompt is that clause
        singles: list[tuple[int, int]] = []
        for first, last, _ in pieces:
            # Han, kana and Hangul count one token a character: twice the room for as many words
            width = self.width * 2 if has_cjk(text[spans[first][0] : spans[last - 1][1]]) else self.width
            if last - first < self.shortest:
                continue
            if last - first <= width:
                singles.append((first, last))
                continue
            step = max(1, width // 2)
            a = first
            while True:
                b = min(a + width, last)
                singles.append((a, b))
                if b >= last:
                    break
                a += step
        pairs = [
            (pieces[k][0], pieces[k + 1][1])
            for k in range(len(pieces) - 1)
            if pieces[k + 1][1] - pieces[k][0]
            <= self.width * 3 // (1 if has_cjk(text[spans[pieces[k][0]][0] : spans[pieces[k + 1][1] - 1][1]]) else 2)
        ]
        out: list[str] = []
        for a, b in singles + pairs:
            window = text[spans[a][0] : spans[b - 1][1]]
            if window not in out and window != text:
                out.append(window)
            if len(out) >= self.most:
                break
        return out
