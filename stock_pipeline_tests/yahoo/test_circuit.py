"""The host's circuit breaker: one cool-down for every thread, one probe, then closed."""

from __future__ import annotations

import threading

import pytest

from stock_pipeline.yahoo.circuit import HostCircuit


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_closed_lets_requests_go_without_waiting(clock: Clock) -> None:
    circuit = HostCircuit(base_seconds=1.0, clock=clock)
    circuit.wait_turn(clock.sleep)
    circuit.record(200)
    assert clock.slept == [] and circuit.remaining() == 0


def test_a_429_opens_it_and_the_cool_down_doubles(clock: Clock) -> None:
    circuit = HostCircuit(base_seconds=1.0, max_seconds=3.0, clock=clock)
    circuit.record(429)
    assert 1.0 <= circuit.remaining() <= 1.25
    circuit.wait_turn(clock.sleep)  # waits out the cool-down, then is the probe
    assert 1.0 <= sum(clock.slept) <= 1.25
    circuit.record(429)
    assert circuit.strikes == 2 and 2.0 <= circuit.remaining() <= 2.5
    circuit.wait_turn(clock.sleep)
    circuit.record(429)
    assert 3.0 <= circuit.remaining() <= 3.75  # capped at max_seconds (+ jitter)
    circuit.wait_turn(clock.sleep)
    circuit.record(200)
    assert circuit.strikes == 0 and circuit.remaining() == 0


def test_only_one_probe_goes_while_the_others_wait_for_its_answer() -> None:
    circuit = HostCircuit(base_seconds=0.05)
    circuit.record(429)
    probes: list[str] = []
    answered = threading.Event()

    def request(name: str) -> None:
        circuit.wait_turn(lambda s: answered.wait(min(s, 0.05)))
        probes.append(name)
        if name == "first":
            answered.wait(0.3)
        circuit.record(200)

    first = threading.Thread(target=request, args=("first",))
    first.start()
    while not probes:
        answered.wait(0.01)
    second = threading.Thread(target=request, args=("second",))
    second.start()
    second.join(0.2)
    assert probes == ["first"]  # the second waits for the probe's answer
    answered.set()
    first.join(2)
    second.join(2)
    assert probes == ["first", "second"]


def test_a_request_not_sent_after_all_frees_the_probe(clock: Clock) -> None:
    circuit = HostCircuit(base_seconds=1.0, clock=clock)
    circuit.record(429)
    circuit.wait_turn(clock.sleep)
    circuit.record(None)  # e.g. stopped before sending
    circuit.wait_turn(clock.sleep)  # would wait forever if the probe were still out
    assert circuit.strikes == 1
