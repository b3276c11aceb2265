"""Executor settings: which executor launched runs use, and the Celery broker and backend."""

import pytest

from stock_pipeline import settings
from stock_pipeline.domain.errors import InvalidSettingError
from stock_pipeline.settings.execution import (
    CELERY_BACKEND_ENV,
    CELERY_BROKER_ENV,
    DEFAULT_CELERY_URL,
    EXECUTOR_ENV,
    CelerySettings,
    ExecutorKind,
    celery_settings,
    executor_kind,
    validate,
)


@pytest.fixture(autouse=True)
def unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (EXECUTOR_ENV, CELERY_BROKER_ENV, CELERY_BACKEND_ENV):
        monkeypatch.delenv(name, raising=False)


def test_runs_execute_in_process_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    assert executor_kind() is ExecutorKind.IN_PROCESS
    for value, kind in [
        ("", ExecutorKind.IN_PROCESS),
        ("in_process", ExecutorKind.IN_PROCESS),
        ("In-Process", ExecutorKind.IN_PROCESS),
        (" celery ", ExecutorKind.CELERY),
        ("CELERY", ExecutorKind.CELERY),
    ]:
        monkeypatch.setenv(EXECUTOR_ENV, value)
        assert executor_kind() is kind, value


@pytest.mark.parametrize("value", ["multiprocess", "redis", "celery,redis"])
def test_an_unknown_executor_names_the_setting_and_its_choices(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(EXECUTOR_ENV, value)
    with pytest.raises(InvalidSettingError) as caught:
        executor_kind()
    message = str(caught.value)
    assert f"{EXECUTOR_ENV}={value!r}" in message
    assert "'in_process'" in message and "'celery'" in message
    with pytest.raises(InvalidSettingError, match=EXECUTOR_ENV):
        settings.validate()  # every command refuses it up front


def test_broker_and_backend_default_to_the_local_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DEFAULT_CELERY_URL == "redis://127.0.0.1:6379/0"
    assert celery_settings() == CelerySettings(DEFAULT_CELERY_URL, DEFAULT_CELERY_URL)
    monkeypatch.setenv(CELERY_BROKER_ENV, "redis://:secret@queue.internal:6380/2")
    monkeypatch.setenv(CELERY_BACKEND_ENV, "amqp://guest:guest@127.0.0.1:5672//")
    assert celery_settings() == CelerySettings(
        "redis://:secret@queue.internal:6380/2", "amqp://guest:guest@127.0.0.1:5672//"
    )


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("127.0.0.1:6379", "is not a Celery URL"),
        ("redis", "is not a Celery URL"),
        ("redis://127.0.0.1:6379/zero", "Redis databases are numbers"),
    ],
)
@pytest.mark.parametrize("name", [CELERY_BROKER_ENV, CELERY_BACKEND_ENV])
def test_a_bad_url_names_the_setting_and_an_example(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(InvalidSettingError) as caught:
        celery_settings()
    assert f"{name}={value!r}" in str(caught.value) and says in str(caught.value)
    validate()  # not used while runs execute in process
    monkeypatch.setenv(EXECUTOR_ENV, "celery")
    with pytest.raises(InvalidSettingError, match=name):
        settings.validate()
