"""look_then_create against a small in-memory backend whose documents the tests assert on."""

from __future__ import annotations

import pytest
from tenacity import wait_fixed
from tenacity.wait import WaitBaseT

from adapters.http import WAIT_INITIAL_SECONDS, WAIT_MAX_SECONDS
from adapters.look_then_create import look_then_create
from gateway.errors import BackendRejected, BackendUnavailable


def unavailable() -> BackendUnavailable:
    return BackendUnavailable("test answered HTTP 503", backend="test", status=503)


def refused() -> BackendRejected:
    return BackendRejected("test: already exists", backend="test", status=409)


class FakeBackend:
    """Documents by reference; ``create`` follows a script of what each call does."""

    def __init__(self, *script: str) -> None:
        # "ok": made and answered; "lost": made, answer lost; "down": not made, unavailable;
        # "raced": a concurrent call made it first, this one is refused; "refused": refused.
        self.script = list(script)
        self.documents: list[str] = []
        self.creates = 0
        self.looks = 0

    async def look(self) -> str | None:
        self.looks += 1
        return self.documents[0] if self.documents else None

    async def create(self) -> str:
        self.creates += 1
        step = self.script.pop(0) if self.script else "ok"
        if step == "down":
            raise unavailable()
        if step == "raced":
            self.documents.append("made-by-the-other-call")
            raise refused()
        if step == "refused":
            raise refused()
        self.documents.append(f"doc-{len(self.documents) + 1}")
        if step == "lost":
            raise unavailable()
        return self.documents[-1]


class Sleeps:
    """Records the backoff instead of sleeping."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


async def run(
    backend: FakeBackend, sleeps: Sleeps, max_retries: int = 2, wait: WaitBaseT | None = None
) -> str:
    return await look_then_create(
        backend.look, backend.create, max_retries=max_retries, wait=wait, sleep=sleeps
    )


async def test_given_nothing_there_when_written_then_one_document_is_made() -> None:
    backend, sleeps = FakeBackend("ok"), Sleeps()
    assert await run(backend, sleeps) == "doc-1"
    assert backend.documents == ["doc-1"] and backend.creates == 1 and sleeps.seconds == []


async def test_given_the_document_exists_when_written_again_then_it_is_returned_unmade() -> None:
    backend, sleeps = FakeBackend(), Sleeps()
    backend.documents.append("doc-1")
    assert await run(backend, sleeps) == "doc-1"
    assert backend.creates == 0 and backend.documents == ["doc-1"]


async def test_given_a_lost_answer_then_the_next_look_finds_it_and_no_second_is_made() -> None:
    backend, sleeps = FakeBackend("lost"), Sleeps()
    assert await run(backend, sleeps) == "doc-1"
    assert backend.documents == ["doc-1"]
    assert backend.creates == 1
    assert len(sleeps.seconds) == 1  # backed off once before looking again


async def test_given_an_outage_that_passes_then_the_second_round_creates() -> None:
    backend, sleeps = FakeBackend("down", "ok"), Sleeps()
    assert await run(backend, sleeps) == "doc-1"
    assert backend.documents == ["doc-1"] and backend.creates == 2


async def test_given_a_concurrent_create_when_refused_then_the_concurrent_document_is_returned():
    backend, sleeps = FakeBackend("raced"), Sleeps()
    assert await run(backend, sleeps) == "made-by-the-other-call"
    assert backend.documents == ["made-by-the-other-call"]
    assert backend.creates == 1 and sleeps.seconds == []


async def test_given_a_refusal_and_nothing_found_then_the_refusal_is_raised_at_once() -> None:
    backend, sleeps = FakeBackend("refused"), Sleeps()
    with pytest.raises(BackendRejected, match="already exists") as caught:
        await run(backend, sleeps)
    assert caught.value.status == 409
    assert backend.creates == 1 and backend.looks == 2 and sleeps.seconds == []


async def test_given_a_lasting_outage_then_unavailable_after_max_retries_plus_one_creates():
    backend, sleeps = FakeBackend("down", "down", "down", "ok"), Sleeps()
    with pytest.raises(BackendUnavailable) as caught:
        await run(backend, sleeps, max_retries=2)
    assert caught.value.status == 503
    assert backend.creates == 3 and backend.documents == []
    assert len(sleeps.seconds) == 2  # between rounds, not after the last


async def test_given_no_retries_then_one_round_and_no_wait() -> None:
    backend, sleeps = FakeBackend("down"), Sleeps()
    with pytest.raises(BackendUnavailable):
        await run(backend, sleeps, max_retries=0)
    assert backend.creates == 1 and sleeps.seconds == []


async def test_given_a_look_that_fails_then_it_is_not_retried_here_and_nothing_is_created():
    # Reads already have their in-call retries (adapters.http); a round is only for a create.
    backend, sleeps = FakeBackend(), Sleeps()

    async def look() -> str | None:
        raise unavailable()

    with pytest.raises(BackendUnavailable):
        await look_then_create(look, backend.create, max_retries=2, sleep=sleeps)
    assert backend.creates == 0 and sleeps.seconds == []


async def test_given_a_wait_then_it_is_slept_between_rounds() -> None:
    backend, sleeps = FakeBackend("down", "down", "ok"), Sleeps()
    assert await run(backend, sleeps, wait=wait_fixed(0.25)) == "doc-1"
    assert sleeps.seconds == [0.25, 0.25]


async def test_by_default_rounds_back_off_as_the_http_policy_does() -> None:
    # Capped exponential with jitter up to the first wait: round n waits initial * 2**(n-1)
    # plus at most initial, never more than the cap.
    backend, sleeps = FakeBackend("down", "down", "down", "down", "ok"), Sleeps()
    assert await run(backend, sleeps, max_retries=4) == "doc-1"
    assert len(sleeps.seconds) == 4
    for n, seconds in enumerate(sleeps.seconds, start=1):
        floor = WAIT_INITIAL_SECONDS * 2 ** (n - 1)
        assert (
            min(floor, WAIT_MAX_SECONDS)
            <= seconds
            <= min(floor + WAIT_INITIAL_SECONDS, WAIT_MAX_SECONDS)
        )
