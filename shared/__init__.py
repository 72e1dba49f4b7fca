"""Prompt API: the package every function imports from its Lambda layer.

Its import is the first thing of ours a function's init runs, so it prepares that init
(``shared.coldstart``): the package ``__init__`` files of libraries that import far more than a
function uses wait until something needs them, and the garbage collector waits until the handler is
defined. It also gives Lambda the SnapStart hooks (``shared.snapstart``).
"""

from shared.coldstart import prepare_init
from shared.snapstart import register_hooks

__version__ = "1.0.0"

prepare_init()
register_hooks()
