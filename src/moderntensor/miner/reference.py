"""Reference miners: a subnet suite's reference model behind the real MinerServer.

``moderntensor miner start --reference text --model echo`` serves the text suite's ``echo``
model; ``--reference code:canonical`` says the same in one word. Short suite names map to the
genesis task types (``text``, ``image``, ``code``, ``audio``; ``stt``/``tts`` are the audio
suite's speech models). Used by localnet for miners of differing quality.

>>> ReferenceMiner("text", "echo").model.name  # doctest: +SKIP
'echo'
"""

from __future__ import annotations

from typing import Any

from moderntensor.errors import InvalidInputError
from moderntensor.miner.request import MinerRequest
from moderntensor.miner.server import MinerServer
from moderntensor.subnets import SUITES, load_suite
from moderntensor.subnets.models import SlowModel

# short names people type -> (task type, default model)
SHORT_NAMES: dict[str, tuple[str, str]] = {
    "text": ("text-generation", "smollm2"),
    "image": ("image-generation", "renderer"),
    "code": ("code-generation", "variant-reference"),
    "audio": ("audio", "reference"),
    "stt": ("audio", "pocketsphinx"),
    "tts": ("audio", "espeak"),
}

def resolve_reference(name: str, model: str | None = None) -> tuple[str, str]:
    """(task type, model name) for ``text``, ``text:echo`` or a full task type."""
    base, _, inline_model = name.partition(":")
    task_type, default = SHORT_NAMES.get(base, (base, ""))
    if task_type not in SUITES:
        raise InvalidInputError(f"unknown reference {name!r}; known: {sorted(SHORT_NAMES)} "
                                f"or a task type {sorted(SUITES)}", code="unknown_reference")
    models = load_suite(task_type).reference_models()
    chosen = model or inline_model or default or next(iter(models))
    if chosen not in models:
        raise InvalidInputError(f"subnet suite {task_type!r} has no reference model {chosen!r}; "
                                f"known: {sorted(models)}", code="unknown_reference")
    return task_type, chosen

SLOW_MODEL_WORKERS = 8   # a slow model is slow per answer, not a queue: its waits overlap


class ReferenceMiner(MinerServer):
    """Serves one reference model of a subnet suite; wallet/netuid/network by the config rules."""

    def __init__(self, reference: str, model: str | None = None, **kwargs: Any) -> None:
        task_type, model_name = resolve_reference(reference, model)
        model_class = load_suite(task_type).reference_models()[model_name]
        if issubclass(model_class, SlowModel):
            kwargs.setdefault("workers", SLOW_MODEL_WORKERS)
        super().__init__(**kwargs)
        self.task_type = task_type
        self.model = model_class()
        self.model.serve_as(self.wallet.address)
        self.model_name = f"{task_type}:{model_name}"  # shown by /health

    def inference(self, request: MinerRequest) -> Any:
        """Answer with the reference model (sync: runs in the server's worker pool)."""
        return {"output": self.model.generate(request.task, request.input, request.params),
                "latency_ms": request.elapsed_ms}
