"""The API's contract as its clients see it (dev-only, never in the layer): the OpenAPI document
(``contract.openapi``, ``make openapi``), the event fixtures ``events/*.json`` (``contract.fixtures``,
``make events``), and the document's title, description and tags (``contract.project``).

Dependencies point one way. The contract reads the template with the local API's reader
(``local_api.template``, ``local_api.intrinsics``), loads the functions as the local API does
(``local_api.runtime.load_module``) and builds fixtures with its event builder (``local_api.events``,
the authorizer's ``Policy``, the local account and region of ``local_api.environment``); nothing of the
gateway, the server, the store or the docs page. The local API imports the contract only where it
serves it: the docs page (``local_api.docs``) and the wiring that names the API (``local_api.cli``).
``contract.project`` is the package's one door into the layer's package ``shared``.
"""
