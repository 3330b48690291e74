"""bcrypt runs off the event loop, a bounded number at a time, at a lower CPU priority."""

from __future__ import annotations

import asyncio
import os
import sys
import threading

import pytest

from cloudstore.auth import HASH_THREAD_NICENESS, PasswordHasher


def thread_facts() -> tuple[str, int, int]:
    native = threading.get_native_id()
    return threading.current_thread().name, native, os.getpriority(os.PRIO_PROCESS, native)


async def test_a_hash_verifies_and_a_wrong_password_does_not():
    hasher = PasswordHasher(concurrency=1, rounds=4)
    hashed = await hasher.hash("rahasia-1")
    assert await hasher.verify("rahasia-1", hashed)
    assert not await hasher.verify("rahasia-2", hashed)
    assert not await hasher.verify("rahasia-1", None)  # unknown account: same work, False
    hasher.close()


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread niceness is Linux's")
async def test_hashing_runs_in_its_own_lower_priority_threads():
    hasher = PasswordHasher(concurrency=1, rounds=4)
    name, native, priority = await hasher._run(thread_facts)
    assert name.startswith("bcrypt")
    assert native != threading.get_native_id()
    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert priority == min(own + HASH_THREAD_NICENESS, 19)
    hasher.close()


async def test_no_more_hashes_run_at_once_than_the_limit():
    hasher = PasswordHasher(concurrency=2, rounds=4)
    running = peak = 0
    lock = threading.Lock()

    def slow() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        threading.Event().wait(0.05)
        with lock:
            running -= 1

    await asyncio.gather(*(hasher._run(slow) for _ in range(6)))
    assert peak == 2
    hasher.close()
