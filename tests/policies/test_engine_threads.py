"""One engine serves many threads (the API, the CLI's warm path): the new name indexes and the
model keep per-call state apart, so decisions are the same from many caller threads at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from policies import PolicyEngine

PROMPTS = [
    "a yellow electric mouse with red cheeks zapping a trainer",
    "a crowd setting fire to a place of worship while chanting insults",
    "a cat sleeping on a warm windowsill",
    "une famille qui pique-nique au bord d'un lac",
    "一只小狗在草地上追蝴蝶",
    "a documentary about medieval armour in a museum",
]


def test_concurrent_checks_match_sequential(semantic: PolicyEngine) -> None:
    expected = [(d.action, d.rule_id) for d in map(semantic.check, PROMPTS)]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            got = [(d.action, d.rule_id) for d in pool.map(semantic.check, PROMPTS)]
            assert got == expected
