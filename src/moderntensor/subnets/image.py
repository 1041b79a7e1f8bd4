"""Image generation (subnet 2): prompts from a grammar whose every claim is measurable in pixels.

A prompt reads like ``"3 red circles and 1 blue square on a white 256x192 background, the
largest is a red circle at the top left"``. The challenge keeps the structured
:class:`ImageSpec`; the miner answers ``{"image_png_b64": ...}``. Accuracy is the share of
the prompt's properties that the decoded pixels satisfy:

- ``size``: the PNG is exactly ``W x H``.
- ``background``: the most common colour on a 2-pixel frame is the named one, on >= 50% of it.
- ``count:<colour>``: the number of connected regions of that colour (after a 3x3 erosion,
  ignoring regions under 0.1% of the image) equals the stated count.
- ``shape:<colour>``: every such region has the named shape, judged by fill ratio (area over
  bounding box): square >= 0.88, circle 0.68-0.88, triangle 0.38-0.62; squares and circles
  must also be roughly as wide as tall (aspect 0.8-1.25).
- ``largest`` (prompts with two or more shapes): the biggest region has the named colour and
  shape and is at least 1.25x the area of the next one.
- ``position``: the biggest (or only) region's centroid lies in the named cell of a 3x3 grid,
  with 4% of the image as slack.

Colours match within an RGB distance of 80 of the palette in :mod:`moderntensor.subnets.pixels`.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np
from PIL import Image, ImageDraw
from pydantic import BaseModel, Field, ValidationError

from moderntensor.errors import InvalidInputError, ModernTensorError
from moderntensor.subnets.base import Challenge, ReferenceModel, TaskSuite
from moderntensor.subnets.pixels import (
    COLOUR_NAMES,
    MIN_SHAPE_SHARE,
    PALETTE,
    Component,
    classify,
    components,
    decode_png,
    encode_png,
    erode,
    similarity,
)

TASK = "image-generation"
SHAPES: tuple[str, ...] = ("circle", "square", "triangle")
POSITIONS: tuple[str, ...] = ("top left", "top", "top right", "left", "center", "right",
                              "bottom left", "bottom", "bottom right")
SIDES: tuple[int, ...] = (128, 160, 192, 224, 256, 288, 320)
MAX_PNG_BYTES = 1024 * 1024          # flat shapes compress to a few KiB; noise to ~200 KiB
MAX_B64_CHARS = (MAX_PNG_BYTES + 2) // 3 * 4
LARGEST_MARGIN = 1.25                # "the largest" must be visibly the largest
POSITION_SLACK = 0.04                # share of the image a centroid may stray past its cell
BORDER = 2                           # pixels of frame that define the background


class ImageInput(BaseModel):
    """Request input: the prompt to draw."""

    prompt: str = Field(min_length=1, max_length=500)


class ImageOutput(BaseModel):
    """Response output: the picture, a base64 PNG (at most 1 MiB, sides 16..1024)."""

    image_png_b64: str = Field(min_length=1, max_length=MAX_B64_CHARS)


@dataclass(frozen=True)
class ShapeGroup:
    """``count`` shapes of one colour and kind, e.g. 3 red circles."""

    count: int
    colour: str
    shape: str

    def phrase(self) -> str:
        """The group as the prompt says it: "3 red circles", "1 blue square"."""
        return f"{self.count} {self.colour} {self.shape}{'s' if self.count != 1 else ''}"


@dataclass(frozen=True)
class ImageSpec:
    """What a prompt states; ``largest_group`` indexes the group the biggest shape belongs to."""

    width: int
    height: int
    background: str
    groups: tuple[ShapeGroup, ...]
    position: str
    largest_group: int = 0

    @property
    def total(self) -> int:
        """How many shapes the prompt asks for."""
        return sum(g.count for g in self.groups)

    def prompt(self) -> str:
        """The prompt text; :func:`parse_prompt` reads it back."""
        article = "an" if self.background[0] in "aeiou" else "a"
        text = (f"{' and '.join(g.phrase() for g in self.groups)} on {article} "
                f"{self.background} {self.width}x{self.height} background")
        if self.total == 1:
            return f"{text}, at the {self.position}"
        if len(self.groups) == 1:
            return f"{text}, the largest at the {self.position}"
        big = self.groups[self.largest_group]
        article = "an" if big.colour[0] in "aeiou" else "a"
        return f"{text}, the largest is {article} {big.colour} {big.shape} at the {self.position}"

    def property_names(self) -> tuple[str, ...]:
        """The checks :func:`measure` makes, one per stated property."""
        names = ["size", "background"]
        for group in self.groups:
            names += [f"count:{group.colour}", f"shape:{group.colour}"]
        if self.total > 1:
            names.append("largest")
        return (*names, "position")

    def to_dict(self) -> dict[str, Any]:
        """JSON form kept in ``Challenge.expected``, with the property names for reports."""
        return asdict(self) | {"properties": list(self.property_names())}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImageSpec:
        """Inverse of :meth:`to_dict`."""
        groups = tuple(ShapeGroup(**g) for g in data["groups"])
        return cls(data["width"], data["height"], data["background"], groups,
                   data["position"], data.get("largest_group", 0))


_COLOUR = "|".join(COLOUR_NAMES)
_GROUP_RE = re.compile(rf"\b(\d{{1,3}}) ({_COLOUR}) (circle|square|triangle)s?")
_PROMPT_RE = re.compile(
    rf"^(?P<groups>.+?) on an? (?P<bg>{_COLOUR}) (?P<w>\d{{1,5}})x(?P<h>\d{{1,5}}) background"
    rf"(?:, (?:the largest (?:is an? (?P<lc>{_COLOUR}) (?P<ls>\w+) )?)?at the (?P<pos>[a-z ]+))?$")


def parse_prompt(text: str) -> ImageSpec:
    """Read a prompt of this grammar back into a spec; raises InvalidInputError otherwise."""
    match = _PROMPT_RE.match(text.strip().lower())
    groups = tuple(ShapeGroup(int(n), c, s)
                   for n, c, s in _GROUP_RE.findall(match["groups"])) if match else ()
    if not match or not groups:
        raise InvalidInputError(f"prompt is not in the image grammar: {text!r}",
                                code="unparseable_prompt")
    if match["pos"] and match["pos"] not in POSITIONS:
        raise InvalidInputError(f"unknown position {match['pos']!r}; known: {list(POSITIONS)}",
                                code="unparseable_prompt")
    if any(g.count < 1 for g in groups) or sum(g.count for g in groups) > 9 or not all(
            16 <= int(side) <= 1024 for side in (match["w"], match["h"])):
        raise InvalidInputError(f"prompt asks for 0 or over 9 shapes, or a side outside "
                                f"16..1024: {text!r}", code="unparseable_prompt")
    largest = next((i for i, g in enumerate(groups) if g.colour == match["lc"]), 0)
    return ImageSpec(int(match["w"]), int(match["h"]), match["bg"], groups,
                     match["pos"] or "center", largest)


def random_spec(rng: random.Random) -> ImageSpec:
    """A prompt spec drawn from ``rng``: 1-2 groups, distinct colours, 1-6 shapes in all."""
    background = rng.choice(COLOUR_NAMES)
    n_groups = rng.choice((1, 2))
    colours = rng.sample([c for c in COLOUR_NAMES if c != background], n_groups)
    max_count = 4 if n_groups == 1 else 3
    groups = tuple(ShapeGroup(rng.randint(1, max_count), c, rng.choice(SHAPES)) for c in colours)
    return ImageSpec(rng.choice(SIDES), rng.choice(SIDES), background, groups,
                     rng.choice(POSITIONS), rng.randrange(n_groups))


def shape_of(region: Component) -> str | None:
    """Which named shape a region is, by fill ratio and aspect; None if none fits."""
    roundish = 0.8 <= region.aspect <= 1.25
    if region.fill >= 0.88:
        return "square" if roundish else None
    if region.fill >= 0.68:
        return "circle" if roundish else None
    if 0.38 <= region.fill <= 0.62:
        return "triangle"
    return None


def _in_cell(region: Component, position: str, width: int, height: int) -> bool:
    row, col = divmod(POSITIONS.index(position), 3)
    y, x = region.cy / height, region.cx / width
    return (row / 3 - POSITION_SLACK <= y <= (row + 1) / 3 + POSITION_SLACK
            and col / 3 - POSITION_SLACK <= x <= (col + 1) / 3 + POSITION_SLACK)


def measure(spec: ImageSpec, rgb: np.ndarray) -> dict[str, bool]:
    """Which of the spec's properties hold in this image (see the module docstring)."""
    height, width = rgb.shape[:2]
    classes = classify(rgb)
    checks: dict[str, bool] = {"size": (width, height) == (spec.width, spec.height)}
    frame = np.concatenate([classes[:BORDER].ravel(), classes[-BORDER:].ravel(),
                            classes[:, :BORDER].ravel(), classes[:, -BORDER:].ravel()])
    counts = np.bincount(frame, minlength=len(COLOUR_NAMES) + 1)
    bg = COLOUR_NAMES.index(spec.background)
    checks["background"] = bool(counts.argmax() == bg and counts[bg] >= 0.5 * frame.size)
    min_area = max(4, int(MIN_SHAPE_SHARE * width * height))
    regions: list[tuple[Component, ShapeGroup]] = []
    for group in spec.groups:
        found = components(erode(classes == COLOUR_NAMES.index(group.colour)), min_area=min_area)
        found = found if found is not None else []
        checks[f"count:{group.colour}"] = len(found) == group.count
        checks[f"shape:{group.colour}"] = bool(found) and all(
            shape_of(r) == group.shape for r in found)
        regions += [(r, group) for r in found]
    regions.sort(key=lambda pair: pair[0].area, reverse=True)
    if spec.total > 1:
        big = spec.groups[spec.largest_group]
        checks["largest"] = bool(regions) and (
            regions[0][1] == big and shape_of(regions[0][0]) == big.shape
            and (len(regions) == 1 or regions[0][0].area >= LARGEST_MARGIN * regions[1][0].area))
    checks["position"] = bool(regions) and _in_cell(regions[0][0], spec.position, width, height)
    return checks


@dataclass(frozen=True)
class ImageScore:
    """Accuracy with its evidence: each property's verdict, or why the image was rejected."""

    accuracy: float
    properties: dict[str, bool]
    error: str | None = None


class ImageSuite(TaskSuite):
    """Subnet 2: draw the prompt; scored on the measurable properties it states.

    >>> suite = ImageSuite(); challenge = suite.make_challenge(random.Random(7))
    >>> output = suite.reference_models()["renderer"]().generate(TASK, challenge.input, {})
    >>> suite.accuracy(challenge, output)
    1.0
    """

    task_type: ClassVar[str] = TASK
    tasks: ClassVar[tuple[str, ...]] = (TASK,)
    latency_target_s: ClassVar[float] = 5.0
    timeout_s: ClassVar[float] = 30.0
    max_request_bytes: ClassVar[int] = 8 * 1024
    max_response_bytes: ClassVar[int] = MAX_B64_CHARS + 4 * 1024
    input_model: ClassVar[type[BaseModel]] = ImageInput
    output_model: ClassVar[type[BaseModel]] = ImageOutput

    def make_challenge(self, rng: random.Random) -> Challenge:
        spec = random_spec(rng)
        return Challenge(task=TASK, input={"prompt": spec.prompt()}, expected=spec.to_dict(),
                         kind=f"{len(spec.groups)}-colour")

    def evaluate(self, challenge: Challenge, output: Any) -> ImageScore:
        """Decode and measure one output; a rejected image scores 0 with the reason."""
        spec = ImageSpec.from_dict(challenge.expected)
        try:
            rgb = _decode(output)
        except (ValidationError, ModernTensorError) as exc:
            return ImageScore(0.0, {}, str(exc))
        checks = measure(spec, rgb)
        return ImageScore(sum(checks.values()) / len(checks), checks)

    def accuracy(self, challenge: Challenge, output: Any) -> float:
        return self.evaluate(challenge, output).accuracy

    def consistency(self, a: Any, b: Any) -> float:
        """Share of a 32x32 sample grid where the two images show the same colour."""
        try:
            return similarity(_decode(a), _decode(b))
        except (ValidationError, ModernTensorError):
            return 0.0

    def reference_models(self) -> dict[str, type[ReferenceModel]]:
        return {"renderer": RendererModel, "noise": ImageNoiseModel}


def _decode(output: Any) -> np.ndarray:
    b64 = ImageOutput.model_validate(output).image_png_b64
    return decode_png(b64, max_bytes=MAX_PNG_BYTES)


def _check_task(task: str) -> None:
    if task != TASK:
        raise InvalidInputError(f"image models answer {TASK!r}, not {task!r}",
                                code="unsupported_task")


class RendererModel(ReferenceModel):
    """Parses the prompt text (never the hidden spec) and draws it with Pillow."""

    name: ClassVar[str] = "renderer"

    def generate(self, task: str, input: Any, params: dict[str, Any]) -> Any:
        _check_task(task)
        prompt = ImageInput.model_validate(input).prompt
        return {"image_png_b64": encode_png(render(parse_prompt(prompt), prompt))}


def render(spec: ImageSpec, seed_text: str = "") -> Image.Image:
    """Draw a spec: the largest shape in its named cell, the others in other cells of a 3x3 grid.

    The layout is seeded from ``seed_text`` so the same prompt always gives the same picture.
    """
    rng = random.Random(hashlib.sha256(seed_text.encode()).digest())  # noqa: S311 - layout only
    image = Image.new("RGB", (spec.width, spec.height), PALETTE[spec.background])
    draw = ImageDraw.Draw(image)
    cell_w, cell_h = spec.width / 3, spec.height / 3
    big = spec.groups[min(spec.largest_group, len(spec.groups) - 1)]
    shapes = [g for g in spec.groups for _ in range(g.count)]
    shapes.remove(big)
    shapes.insert(0, big)  # each shape once, the largest first
    target = POSITIONS.index(spec.position)
    cells = [target, *rng.sample([c for c in range(9) if c != target], min(8, len(shapes) - 1))]
    for index, (group, cell) in enumerate(zip(shapes, cells, strict=False)):
        side = min(cell_w, cell_h) * (0.85 if index == 0 else 0.45)
        row, col = divmod(cell, 3)
        room_x, room_y = cell_w - side, cell_h - side
        x0 = col * cell_w + room_x * rng.uniform(0.3, 0.7)
        y0 = row * cell_h + room_y * rng.uniform(0.3, 0.7)
        _draw_shape(draw, group, (x0, y0, x0 + side, y0 + side))
    return image


def _draw_shape(draw: ImageDraw.ImageDraw, group: ShapeGroup,
                box: tuple[float, float, float, float]) -> None:
    colour = PALETTE[group.colour]
    x0, y0, x1, y1 = box
    if group.shape == "circle":
        draw.ellipse(box, fill=colour)
    elif group.shape == "square":
        draw.rectangle(box, fill=colour)
    else:
        draw.polygon([(x0, y1), (x1, y1), ((x0 + x1) / 2, y0)], fill=colour)


class ImageNoiseModel(ReferenceModel):
    """Test-quality miner: uniform random pixels at the prompt's size (or 256x256)."""

    name: ClassVar[str] = "noise"

    def generate(self, task: str, input: Any, params: dict[str, Any]) -> Any:
        _check_task(task)
        size = re.search(r"(\d+)x(\d+)", ImageInput.model_validate(input).prompt)
        width, height = (int(size[1]), int(size[2])) if size else (256, 256)
        width, height = min(max(width, 16), 1024), min(max(height, 16), 1024)
        pixels = np.random.default_rng().integers(0, 256, (height, width, 3), dtype=np.uint8)
        return {"image_png_b64": encode_png(pixels)}
