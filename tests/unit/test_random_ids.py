import multiprocessing
import re

from gateway import random_ids


def test_ids_are_hex_of_the_length_asked_and_never_repeat_across_blocks():
    drawn = [random_ids.token_hex(10) for _ in range(5_000)]  # about a dozen blocks
    assert all(re.fullmatch(r"[0-9a-f]{20}", token) for token in drawn)
    assert len(set(drawn)) == len(drawn)
    assert len(random_ids.token_hex(5_000)) == 10_000  # more than a block at once


def _draw(out):
    out.put([random_ids.token_hex(10) for _ in range(50)])


def test_a_forked_child_draws_ids_of_its_own():
    random_ids.token_hex(10)  # the parent holds a block the child must not reuse
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    child = context.Process(target=_draw, args=(out,))
    child.start()
    in_child = out.get(timeout=30)
    child.join(30)
    in_parent = [random_ids.token_hex(10) for _ in range(50)]
    assert not set(in_child) & set(in_parent)
