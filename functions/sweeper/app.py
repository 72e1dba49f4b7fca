"""The sweep, every 5 minutes (an EventBridge schedule): finishes interrupted account deletions and
removes orphaned data (``shared.accounts.sweep``). No HTTP resolver, no request models, no bcrypt.

Its metrics are ``DeletionsCompleted`` and ``OrphansRemoved``; a failing run (the database unreachable)
is the function's error, which its alarm watches, and the next run does the work.
"""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.accounts.sweep import sweep
from shared.coldstart import initialized
from shared.metrics import metrics

logger = Logger()


@initialized
@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    result = asdict(sweep())
    logger.info("Sweep finished", extra=result)
    return result
