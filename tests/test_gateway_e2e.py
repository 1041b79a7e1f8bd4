"""The consumer gateway on a real localnet, spoken to by OpenAI's own Python client.

One localnet (node, one staked validator, two miners on each of subnets 1 text, 2 image and
4 audio) and one ``moderntensor gateway start`` process, signing as that validator, serve
every test of this module in order; the last test kills the miner the gateway prefers. API keys
are made with the ``gateway keys`` commands, as an operator would.
"""

from __future__ import annotations

import base64
import io
import json
import random
import shutil
import subprocess
import threading
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from localnet_support import python_blocks, wait_for
from moderntensor.localnet import Localnet, LocalnetSpec
from moderntensor.localnet.network import free_port
from moderntensor.localnet.processes import CLI, stop_groups
from moderntensor.subnets.audio import word_accuracy
from moderntensor.subnets.speech import sentence

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("espeak-ng") is None,
                       reason="espeak-ng is not installed (apt-get install -y espeak-ng)"),
]

SPEC = LocalnetSpec(miners=2, validators=1, subnets=(1, 2, 4), block_time=0.3, tempo=10,
                    interval=1.0, challenges=1, ladder=("smollm2", "echo", "renderer",
                                                        "reference"))
TEXT, IMAGE, AUDIO = "sn1-text-generation", "sn2-image-generation", "sn4-audio"
UID_HEADER = "x-moderntensor-miner-uid"
DOCS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "gateway.md"
DOCS_URL = "http://127.0.0.1:8080/v1"   # what docs/gateway.md names
PAUSE_S = 0.1   # two clients at < 20 req/s together: under a miner's per-validator rate limit


@dataclass
class GatewayRun:
    net: Localnet
    url: str            # base URL of the OpenAI API, ".../v1"
    db: Path
    process: subprocess.Popen[bytes]

    def cli(self, *args: str) -> Any:
        out = subprocess.run([*CLI, "gateway", *args, "--db", str(self.db), "--json"],
                             env=self.net.env(), capture_output=True, text=True, timeout=60,
                             check=True)
        return json.loads(out.stdout)

    def new_key(self, name: str, rpm: int = 100_000) -> dict[str, Any]:
        return self.cli("keys", "create", "--name", name, "--rpm", str(rpm))

    def client(self, key: str, **options: Any) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.url, api_key=key, **options)

    def miners(self, netuid: int) -> dict[int, str]:
        """uid -> the localnet process name of each miner of ``netuid``."""
        graph = self.net.client.get_metagraph(netuid)
        return {graph.uid_of(p.address): p.name for p in self.net.state.by_role("miner")
                if p.netuid == netuid and p.address is not None}


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayRun]:
    folder = tmp_path_factory.mktemp("gateway")
    net = Localnet(SPEC, folder / "net")
    process = None
    try:
        net.up()
        port = free_port()
        db = folder / "gateway.sqlite"
        argv = [*CLI, "gateway", "start", "--netuid", "1", "--subnet", "2", "--netuid", "4",
                "--port", str(port), "--wallet", "validator-0", "--db", str(db),
                "--refresh", "1", "--timeout", "20"]
        with open(folder / "gateway.log", "wb") as log:
            process = subprocess.Popen(argv, env=net.env(), stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        run = GatewayRun(net, f"http://127.0.0.1:{port}/v1", db, process)
        wait_for(lambda: httpx.get(f"http://127.0.0.1:{port}/health").json()["miners"]
                 == {"1": 2, "2": 2, "4": 2}, 60, f"the gateway (log: {folder}/gateway.log)")
        yield run
    finally:
        if process is not None:
            assert stop_groups([process.pid]) == []
        assert net.stop() == []


@pytest.fixture(scope="module")
def key(gw: GatewayRun) -> str:
    return gw.new_key("tests")["key"]


def test_model_list_names_every_served_subnet(gw: GatewayRun, key: str) -> None:
    models = gw.client(key).models.list()
    assert [m.id for m in models.data] == [TEXT, IMAGE, AUDIO]


def test_chat_completion_is_answered_by_a_miner(gw: GatewayRun, key: str) -> None:
    raw = gw.client(key).chat.completions.with_raw_response.create(
        model=TEXT, messages=[{"role": "user", "content": "What is 12 + 30? Reply with the "
                               "number only."}])
    answer = raw.parse()
    assert int(raw.headers[UID_HEADER]) in gw.miners(1)
    assert answer.choices[0].message.role == "assistant"
    assert answer.choices[0].message.content   # the model's reply, or the echoed prompt
    assert answer.usage is not None and answer.usage.prompt_tokens == 10  # words


def test_streamed_chat_completion_arrives_in_chunks_that_join_to_the_answer(
        gw: GatewayRun, key: str) -> None:
    client = gw.client(key)
    prompt = [{"role": "user", "content": "List exactly 3 fruits, one per line, with no "
                                          "other text."}]
    with client.chat.completions.with_streaming_response.create(
            model=TEXT, messages=prompt, stream=True) as response:
        assert int(response.headers[UID_HEADER]) in gw.miners(1)
        chunks = list(response.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert len(chunks) > 3 and chunks[-1].choices[0].finish_reason == "stop"
    assert len(text.split()) >= 3


def test_completion_returns_text(gw: GatewayRun, key: str) -> None:
    raw = gw.client(key).completions.with_raw_response.create(
        model=TEXT, prompt='Reply with exactly one word, "lantern", and nothing else.')
    assert int(raw.headers[UID_HEADER]) in gw.miners(1)
    # the named model samples its reply, or the echo repeats the prompt: either way real text
    assert raw.parse().choices[0].text.strip()


def test_image_generation_returns_the_png_a_miner_drew(gw: GatewayRun, key: str) -> None:
    raw = gw.client(key).images.with_raw_response.generate(
        model=IMAGE, prompt="1 red circle on a white 128x128 background",
        response_format="b64_json")
    assert int(raw.headers[UID_HEADER]) in gw.miners(2)
    image = Image.open(io.BytesIO(base64.b64decode(raw.parse().data[0].b64_json)))
    assert image.format == "PNG" and image.size == (128, 128)


def test_speech_then_transcription_round_trips_a_sentence(gw: GatewayRun, key: str) -> None:
    client = gw.client(key)
    said = sentence(random.Random(7))
    speech = client.audio.speech.with_raw_response.create(
        model=AUDIO, voice="alloy", input=said, response_format="wav")
    assert int(speech.headers[UID_HEADER]) in gw.miners(4)
    wav = speech.content
    with wave.open(io.BytesIO(wav)) as clip:
        assert clip.getnframes() / clip.getframerate() > 0.5
    heard = client.audio.transcriptions.with_raw_response.create(
        model=AUDIO, file=("speech.wav", wav, "audio/wav"))
    assert int(heard.headers[UID_HEADER]) in gw.miners(4)
    assert word_accuracy(said, heard.parse().text) >= 0.5


@pytest.mark.parametrize(("body", "param"), [
    ({"model": TEXT, "messages": []}, "messages"),
    ({"model": TEXT, "messages": [{"role": "robot", "content": "hi"}]}, "messages.0.role"),
    ({"model": TEXT, "prompt": "x" * 5000}, "prompt"),
    ({"model": TEXT, "prompt": "hi", "n": 2}, "n"),
])
def test_bad_input_gets_an_openai_style_400_naming_the_field(
        gw: GatewayRun, key: str, body: dict[str, Any], param: str) -> None:
    path = "chat/completions" if "messages" in body else "completions"
    response = httpx.post(f"{gw.url}/{path}", json=body, timeout=10,
                          headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert error["code"] == "invalid_value" and error["message"]


def test_unknown_model_is_a_404_through_the_openai_client(gw: GatewayRun, key: str) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        gw.client(key).completions.create(model="gpt-4o", prompt="hi")
    assert caught.value.code == "model_not_found"


def test_broken_json_is_a_400_not_a_500(gw: GatewayRun, key: str) -> None:
    response = httpx.post(f"{gw.url}/completions", content=b'{"model": ', timeout=10,
                          headers={"Authorization": f"Bearer {key}",
                                   "Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_json"


def test_wrong_key_is_a_401(gw: GatewayRun) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        gw.client("mt-not-a-real-key").models.list()
    assert caught.value.code == "invalid_api_key"


def test_revoked_key_is_a_401_at_its_next_request(gw: GatewayRun) -> None:
    made = gw.new_key("soon revoked")
    client = gw.client(made["key"])
    assert client.models.list().data
    assert gw.cli("keys", "revoke", made["key_id"])["active"] is False
    with pytest.raises(openai.AuthenticationError):
        client.models.list()
    assert made["key"] not in json.dumps(gw.cli("keys", "list"))


def test_requests_over_the_rate_limit_get_429_with_retry_after(gw: GatewayRun) -> None:
    client = gw.client(gw.new_key("slow", rpm=3)["key"], max_retries=0)
    for _ in range(3):
        client.models.list()
    with pytest.raises(openai.RateLimitError) as caught:
        client.models.list()
    assert caught.value.code == "rate_limit_exceeded"
    assert int(caught.value.response.headers["retry-after"]) >= 1


def test_usage_counts_each_keys_requests_per_endpoint(gw: GatewayRun) -> None:
    made = gw.new_key("metered")
    client = gw.client(made["key"])
    for _ in range(2):
        client.completions.create(model=TEXT, prompt="What is 2 + 3? Reply with the number "
                                  "only.")
    rows = [r for r in gw.cli("usage") if r["key_id"] == made["key_id"]]
    assert [(r["endpoint"], r["requests"], r["errors"]) for r in rows] == [
        ("completions", 2, 0)]
    assert rows[0]["prompt_tokens"] == 2 * 10


def test_docs_examples_run_against_the_gateway(gw: GatewayRun, key: str) -> None:
    code = "\n".join(python_blocks(DOCS_PAGE.read_text(encoding="utf-8")))
    assert DOCS_URL in code
    env = {**gw.net.env(), "MT_GATEWAY_KEY": key}
    result = subprocess.run([CLI[0], "-c", code.replace(DOCS_URL, gw.url)], env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_requests_go_to_the_best_scored_miner_first(gw: GatewayRun, key: str) -> None:
    def scores() -> dict[int, float] | None:
        miners = gw.client(key).models.list().data[0].model_extra["miners"]
        found = {m["uid"]: m["score"] for m in miners}
        return found if len(set(found.values())) > 1 else None

    best = max((found := wait_for(scores, 90, "on-chain scores of subnet 1")).items(),
               key=lambda item: item[1])[0]
    assert gw.miners(1)[best].startswith("miner-1-0")  # the named model, by the ladder
    raw = gw.client(key).completions.with_raw_response.create(model=TEXT, prompt="hello")
    assert int(raw.headers[UID_HEADER]) == best, found


def test_killing_the_preferred_miner_mid_run_loses_no_request(gw: GatewayRun, key: str) -> None:
    client = gw.client(key, max_retries=0)   # a retry must be the gateway's, not the client's
    first = client.completions.with_raw_response.create(model=TEXT, prompt="hello")
    preferred = int(first.headers[UID_HEADER])
    answered_by: list[int] = []
    retried: list[int] = []   # requests that reached a second miner
    errors: list[Exception] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            try:
                raw = client.completions.with_raw_response.create(model=TEXT, prompt="hi")
                answered_by.append(int(raw.headers[UID_HEADER]))
                if int(raw.headers["x-moderntensor-attempts"]) > 1:
                    retried.append(answered_by[-1])
            except openai.OpenAIError as exc:
                errors.append(exc)
            stop.wait(PAUSE_S)

    workers = [threading.Thread(target=load) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        wait_for(lambda: len(answered_by) >= 10, 30, "requests before the kill")
        gw.net.kill(gw.miners(1)[preferred])
        killed_at = len(answered_by)
        wait_for(lambda: len(answered_by) >= killed_at + 20, 60, "requests after the kill")
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
    assert errors == []
    assert retried and preferred not in retried   # the dead miner's requests went elsewhere
    assert preferred not in answered_by[killed_at + 2:]   # at most the in-flight ones
    assert set(answered_by[killed_at + 2:]) == set(gw.miners(1)) - {preferred}


def test_the_gateway_stops_cleanly(gw: GatewayRun) -> None:
    gw.process.terminate()
    assert gw.process.wait(timeout=20) == 0
