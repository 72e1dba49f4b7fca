"""Business metrics, published as CloudWatch embedded metric format (EMF) lines by Powertools Metrics.

One namespace for the whole API (``POWERTOOLS_METRICS_NAMESPACE``, set by the template), the
function's ``service`` as the dimension. Each function's handler runs under
``metrics.log_metrics(capture_cold_start_metric=True)``, which flushes what a request counted and
adds the ``ColdStart`` metric on a container's first invocation.
"""

from __future__ import annotations

import os
import warnings
from enum import StrEnum
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

DEFAULT_NAMESPACE = "PromptApi"


class Metric(StrEnum):
    """The business metrics, each a count; the dashboard and the runbook use these names."""

    LOGIN_SUCCEEDED = "LoginSucceeded"
    LOGIN_FAILED = "LoginFailed"
    LOGIN_THROTTLED = "LoginThrottled"
    PASSWORD_CHECK_THROTTLED = "PasswordCheckThrottled"  # noqa: S105 - not a login: change, delete, register retried
    PASSWORD_RESET_REQUESTED = "PasswordResetRequested"  # noqa: S105 - a metric name
    PASSWORD_RESET_THROTTLED = "PasswordResetThrottled"  # noqa: S105 - a metric name
    PASSWORD_RESET_MAIL_FAILED = "PasswordResetMailFailed"  # noqa: S105 - the alarm watches it
    PASSWORD_RESET = "PasswordReset"  # noqa: S105 - a reset token spent for a new password
    REGISTERED = "Registered"
    TOKEN_REFRESHED = "TokenRefreshed"  # noqa: S105 - a metric name
    REFRESH_RETRIED = "RefreshRetried"  # a spent refresh token presented again within the grace
    REFRESH_REUSE_DETECTED = "RefreshReuseDetected"
    PROMPT_CREATED = "PromptCreated"
    AUTHORIZER_DENIED = "AuthorizerDenied"
    DELETIONS_COMPLETED = "DeletionsCompleted"  # interrupted account deletions the sweep finished
    ORPHANS_REMOVED = "OrphansRemoved"  # documents of no existing user the sweep removed


class _EmfProvider(AmazonCloudWatchEMFProvider):
    """Powertools' EMF provider, whose ColdStart metric also obeys ``POWERTOOLS_METRICS_DISABLED``
    (Powertools writes that one through ``single_metric``, which ignores the setting)."""

    def add_cold_start_metric(self, context: Any) -> None:
        if not is_metrics_disabled():
            super().add_cold_start_metric(context)


_namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE
metrics = Metrics(namespace=_namespace, provider=_EmfProvider(namespace=_namespace))

# Most requests count nothing, and Powertools warns about that on every flush.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


def count(metric: Metric, value: int = 1) -> None:
    """Add ``value`` (one) to ``metric`` for this invocation."""
    metrics.add_metric(name=metric.value, unit=MetricUnit.Count, value=value)
