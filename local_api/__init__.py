"""A Docker-free stand-in for ``sam local start-api`` (dev-only, never in the layer).

It reads ``template.yaml``, serves every ``Api`` event of every ``AWS::Serverless::Function``
over HTTP, builds API Gateway REST proxy events, runs the TOKEN authorizer with its result
cache, applies the template's CORS and gateway responses, and calls each handler in this one
process, with an embedded store that keeps its data under ``.local/``.
"""
