"""The one way a lower app tells a higher one that something happened (docs/architecture.md).

Apps stack common -> accounts -> songs -> annotations -> jobs -> reports / datasets and import only
downward. When a lower app's event matters to a higher app (a verified revision may trigger
retraining: annotations -> jobs), the lower app calls ``hook_call(name, ...)`` and the higher app
registers its function in its ``AppConfig.ready``. Every hook is declared here, with who calls it
and who implements it, so the upward edges of the stack are all listed on one page.
"""

from __future__ import annotations

from collections.abc import Callable

HOOKS: dict[str, str] = {
    "member_removed": "accounts.services.member_remove, in its transaction (project=, user=) -> songs "
                      "unassigned; songs registers the unassignment",
    "revision_verified": "annotations.services, after commit, when a revision becomes verified "
                         "(project=); jobs registers the retraining trigger",
    "model_registered": "jobs.training, when a training job registered its model (project=, model_version=, "
                        "created_by=, job=) -> report id; reports registers the test-split evaluation",
}

_registry: dict[str, list[Callable]] = {}


def hook_register(name: str, fn: Callable) -> None:
    """Register ``fn`` for the hook ``name`` (idempotent: registering the same function twice keeps one)."""
    if name not in HOOKS:
        raise LookupError(f"no hook named {name!r}; declared hooks: {', '.join(sorted(HOOKS))}")
    fns = _registry.setdefault(name, [])
    if fn not in fns:
        fns.append(fn)


def hook_call(name: str, **kwargs) -> list:
    """Call every function registered for ``name`` with ``kwargs``, in registration order; their results."""
    if name not in HOOKS:
        raise LookupError(f"no hook named {name!r}; declared hooks: {', '.join(sorted(HOOKS))}")
    return [fn(**kwargs) for fn in _registry.get(name, ())]
