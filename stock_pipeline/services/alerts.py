"""Run-failure alerts: one message per failed run, logged, and POSTed to a webhook if set.

The message is JSON with a Slack-style ``text`` line plus the fields a receiver can act on:
run id, job, the failed partitions with their reasons, and the UI path ``/runs/<id>``.
A webhook that is down or slow must not break the sensor that sends alerts: the delivery
error is logged (the alert itself already was) and the sensor carries on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from stock_pipeline.services.run_report import RunReport

TEXT_PARTITIONS = 20  # failed partitions spelled out in the text line; all are in the JSON


@dataclass(frozen=True)
class FailureAlert:
    run_id: str
    job: str
    status: str
    failure: str | None
    failed_partitions: dict[str, str] = field(default_factory=dict)

    @property
    def link(self) -> str:
        """Path of the run in the Dagster UI (prefix it with the webserver's address)."""
        return f"/runs/{self.run_id}"

    def text(self) -> str:
        head = f"stock_pipeline: run {self.run_id[:8]} of {self.job} {self.status.lower()}"
        lines = [head]
        if self.failure:
            lines.append(self.failure.splitlines()[0])
        items = sorted(self.failed_partitions.items())
        lines += [f"  {key}: {reason}" for key, reason in items[:TEXT_PARTITIONS]]
        if len(items) > TEXT_PARTITIONS:
            lines.append(f"  … and {len(items) - TEXT_PARTITIONS} more")
        lines.append(f"details: {self.link}")
        return "\n".join(lines)

    def payload(self) -> dict[str, Any]:
        return {
            "text": self.text(),
            "run_id": self.run_id,
            "job": self.job,
            "status": self.status,
            "failure": self.failure,
            "failed_partitions": dict(sorted(self.failed_partitions.items())),
            "link": self.link,
        }


def failure_alert(report: RunReport, job: str) -> FailureAlert:
    return FailureAlert(
        run_id=report.run_id,
        job=job,
        status=report.status,
        failure=report.failure,
        failed_partitions=dict(report.failed),
    )


def post_alert(url: str, alert: FailureAlert, timeout: float) -> None:
    """POST the alert as JSON; raises ``requests.RequestException`` on any failure."""
    response = requests.post(url, json=alert.payload(), timeout=timeout)
    response.raise_for_status()


def webhook_host(url: str) -> str:
    """The webhook's host and port, for logs: never its user:password or path (secrets)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port that is not a number: still never echo the URL
        return "an unparsable URL"
    host = parts.hostname or "an unnamed host"
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{host}:{port}" if port is not None else host


def send_alert(
    alert: FailureAlert, webhook: str | None, timeout: float, log: logging.Logger
) -> bool:
    """Log the alert; POST it when a webhook is set. True when the webhook took it."""
    log.error(alert.text())
    if webhook is None:
        return False
    host = webhook_host(webhook)
    try:
        post_alert(webhook, alert, timeout)
    except requests.RequestException as exc:
        # The URL's path is often a secret token (Slack, Teams): name the host only.
        status = exc.response.status_code if exc.response is not None else None
        log.warning(
            "alert for run %s not delivered to the webhook at %s: %s%s",
            alert.run_id,
            host,
            type(exc).__name__,
            f" (HTTP {status})" if status else "",
        )
        return False
    log.info("alert for run %s delivered to the webhook at %s", alert.run_id, host)
    return True
