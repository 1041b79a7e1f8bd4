"""Image suite (subnet 2): grammar, pixel measurement, safe decoding, reference models."""

from __future__ import annotations

import base64
import io
import random
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from moderntensor.errors import InvalidInputError
from moderntensor.subnets import load_suite
from moderntensor.subnets.image import (
    TASK,
    ImageNoiseModel,
    ImageSpec,
    ImageSuite,
    RendererModel,
    ShapeGroup,
    parse_prompt,
    random_spec,
    render,
)
from moderntensor.subnets.pixels import ImageDecodeError, components, decode_png, encode_png

SUITE = ImageSuite()


def challenge(seed: int):
    return SUITE.make_challenge(random.Random(seed))


def png_b64(image: Image.Image, fmt: str = "PNG") -> str:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return base64.b64encode(buffer.getvalue()).decode()


def test_registered_under_its_task_type() -> None:
    assert isinstance(load_suite("image-generation"), ImageSuite)


def test_prompt_round_trips_through_the_parser() -> None:
    rng = random.Random(3)
    for _ in range(200):
        spec = random_spec(rng)
        assert parse_prompt(spec.prompt()) == spec


def test_prompt_reads_like_the_issue_example() -> None:
    spec = ImageSpec(256, 256, "white", (ShapeGroup(3, "red", "circle"),), "top left")
    assert spec.prompt() == (
        "3 red circles on a white 256x256 background, the largest at the top left")


def test_unparseable_prompt_is_a_typed_error() -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_prompt("a photo of a cat")
    assert info.value.code == "unparseable_prompt"
    for bad in ("99999 red circles on a white 256x256 background, at the top",
                "0 red circles on a white 256x256 background, at the top",
                "1 red circle on a white 99999999x256 background, at the top",
                "2 red circles on a white 256x256 background, the largest at the moon"):
        with pytest.raises(InvalidInputError):
            parse_prompt(bad)


def test_renderer_scores_full_marks_and_noise_scores_low() -> None:
    renderer, noise = RendererModel(), ImageNoiseModel()
    good, bad = [], []
    for seed in range(40):
        c = challenge(seed)
        good.append(SUITE.accuracy(c, renderer.generate(TASK, c.input, {})))
        bad.append(SUITE.accuracy(c, noise.generate(TASK, c.input, {})))
    assert min(good) == 1.0
    assert max(bad) <= 0.34  # only the size can hold for noise
    assert np.mean(good) - np.mean(bad) > 0.6


def test_each_property_is_measured_from_the_pixels() -> None:
    spec = ImageSpec(240, 180, "white", (ShapeGroup(2, "red", "circle"),
                                         ShapeGroup(1, "blue", "square")), "top left", 0)
    c = SUITE.make_challenge(random.Random(0))
    c = type(c)(task=TASK, input={"prompt": spec.prompt()}, expected=spec.to_dict())
    right = SUITE.evaluate(c, {"image_png_b64": encode_png(render(spec, "x"))})
    assert right.accuracy == 1.0 and set(right.properties) == set(spec.property_names())

    wrong = ImageSpec(240, 180, "white", (ShapeGroup(3, "red", "triangle"),
                                          ShapeGroup(1, "blue", "square")), "bottom right", 1)
    score = SUITE.evaluate(c, {"image_png_b64": encode_png(render(wrong, "x"))})
    assert score.properties == {
        "size": True, "background": True, "count:red": False, "shape:red": False,
        "count:blue": True, "shape:blue": True, "largest": False, "position": False}
    assert score.accuracy == pytest.approx(4 / 8)


def test_wrong_size_and_background_fail_their_properties() -> None:
    spec = ImageSpec(200, 200, "yellow", (ShapeGroup(1, "purple", "triangle"),), "center")
    c = type(challenge(0))(task=TASK, input={"prompt": spec.prompt()}, expected=spec.to_dict())
    other = ImageSpec(160, 200, "gray", spec.groups, "center")
    props = SUITE.evaluate(c, {"image_png_b64": encode_png(render(other, "y"))}).properties
    assert props["size"] is False and props["background"] is False
    assert props["shape:purple"] is True and props["position"] is True


def test_components_labels_connected_regions() -> None:
    mask = np.zeros((20, 20), dtype=bool)
    mask[2:6, 2:6] = True          # square, 16 px
    mask[10:18, 3:5] = True        # bar, 16 px
    mask[10, 5:15] = True          # joins the bar: one region with it
    mask[2, 15] = True             # a single pixel
    found = components(mask)
    assert [r.area for r in found] == [26, 16, 1]
    assert (found[1].top, found[1].left, found[1].bottom, found[1].right) == (2, 2, 5, 5)
    assert components(mask, min_area=2) == found[:2]


def test_renderer_is_deterministic_and_consistent() -> None:
    c = challenge(11)
    renderer = RendererModel()
    a, b = renderer.generate(TASK, c.input, {}), renderer.generate(TASK, c.input, {})
    assert a == b and SUITE.consistency(a, b) == 1.0
    noise = ImageNoiseModel()
    n1, n2 = noise.generate(TASK, c.input, {}), noise.generate(TASK, c.input, {})
    assert SUITE.consistency(n1, n2) < 0.3
    assert SUITE.consistency(a, {"image_png_b64": "!!"}) == 0.0


def _bomb_png(width: int, height: int) -> bytes:
    """A valid tiny PNG whose header claims huge dimensions (a decompression bomb's shape)."""
    raw = bytearray(base64.b64decode(png_b64(Image.new("L", (1, 1)))))
    ihdr = raw.index(b"IHDR")
    raw[ihdr + 4:ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(raw[ihdr:ihdr + 17])) & 0xFFFFFFFF
    raw[ihdr + 17:ihdr + 21] = struct.pack(">I", crc)
    return bytes(raw)


@pytest.mark.parametrize(("output", "reason"), [
    ({"image_png_b64": "not base64 at all!"}, "not valid base64"),
    ({"image_png_b64": base64.b64encode(b"GIF89a....").decode()}, "not a PNG"),
    ({"image_png_b64": png_b64(Image.new("RGB", (64, 64)), "JPEG")}, "not a PNG"),
    ({"image_png_b64": base64.b64encode(_bomb_png(60_000, 60_000)).decode()}, "decompression bomb"),
    ({"image_png_b64": base64.b64encode(_bomb_png(5_000, 5_000)).decode()}, "5000x5000"),
    ({"image_png_b64": png_b64(Image.new("RGB", (2000, 100)))}, "each side must be"),
    ({"image_png_b64": png_b64(Image.new("RGB", (8, 8)))}, "each side must be"),
    ({"image_png_b64": "A" * 2_000_000}, "at most"),
    ({"image": "wrong key"}, "image_png_b64"),
    ("just a string", "valid dictionary"),
])
def test_bad_payloads_score_zero_with_a_reason(output: object, reason: str) -> None:
    score = SUITE.evaluate(challenge(1), output)
    assert score.accuracy == 0.0
    assert score.error is not None and reason in score.error
    assert SUITE.accuracy(challenge(1), output) == 0.0


def test_truncated_png_is_rejected() -> None:
    raw = base64.b64decode(encode_png(np.zeros((64, 64, 3), np.uint8)))
    with pytest.raises(ImageDecodeError) as info:
        decode_png(base64.b64encode(raw[: len(raw) // 2]).decode(), max_bytes=1 << 20)
    assert info.value.code == "invalid_image"


def test_oversized_bytes_are_refused_before_decoding() -> None:
    with pytest.raises(ImageDecodeError, match="larger than 1000 bytes"):
        decode_png("A" * 5000, max_bytes=1000)


def test_antialiased_rendering_still_measures() -> None:
    """A miner drawing at 4x and downsampling (soft edges) keeps every property."""
    spec = ImageSpec(256, 256, "black", (ShapeGroup(3, "yellow", "circle"),), "bottom")
    big = render(ImageSpec(1024, 1024, "black", spec.groups, "bottom"), "aa")
    smooth = big.resize((256, 256), Image.Resampling.LANCZOS)
    c = type(challenge(0))(task=TASK, input={"prompt": spec.prompt()}, expected=spec.to_dict())
    assert SUITE.accuracy(c, {"image_png_b64": encode_png(smooth)}) == 1.0


def test_models_refuse_other_tasks() -> None:
    with pytest.raises(InvalidInputError):
        RendererModel().generate("text-generation", {"prompt": "x"}, {})


@pytest.mark.slow
def test_renderer_is_exact_over_many_prompts() -> None:
    renderer = RendererModel()
    for seed in range(1000, 2000):
        c = challenge(seed)
        score = SUITE.evaluate(c, renderer.generate(TASK, c.input, {}))
        assert score.accuracy == 1.0, (c.input["prompt"], score.properties)
