"""Whether this process can promise to give a logged prediction's answer again, and why not.

A model version records the library versions it was trained with (``training_config.environment``).
Unpickling a scikit-learn model under other versions of scikit-learn, numpy or scipy may load and
still compute differently, so identity is promised only when every recorded version matches this
process's exactly; otherwise the prediction is logged with ``is_reproducible`` false and the note
names what differs.
"""
from __future__ import annotations

from functools import cache
from typing import Any


@cache
def current_environment() -> dict[str, str]:
    from modelops.training.pipeline import environment  # the same record the training pipeline writes

    return environment()


def environment_note(recorded: dict[str, Any] | None) -> str | None:
    """None when this process runs the recorded environment; otherwise what differs."""
    if not recorded:
        return "the model version records no training environment, so identity cannot be checked"
    here = current_environment()
    differences = [f"{name} {here.get(name, 'absent')} here, {recorded[name]} at training"
                   for name in sorted(recorded) if here.get(name) != recorded[name]]
    if differences:
        return "library versions differ from training: " + "; ".join(differences)
    return None
