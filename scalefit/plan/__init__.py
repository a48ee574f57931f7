"""Plan compute (moved from scalefit/plan.py; split into modules in the next commit)."""
from .allocation import *  # noqa: F401,F403
from .allocation import __all__, _as_law_params, _human, frontier, frontier_draws  # noqa: F401
