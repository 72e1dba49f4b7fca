"""OPTIONS on every path: the CORS preflight, naming the request's own allowed origin or none."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.http.handler import observed
from shared.http.resolver import preflight

logger = Logger()


@observed(logger)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return preflight(event)
