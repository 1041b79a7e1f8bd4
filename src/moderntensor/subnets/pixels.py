"""Measuring an image from its pixels: safe PNG decoding, a named palette, connected shapes.

Everything here is numpy over an ``(H, W, 3) uint8`` array, with no model and no randomness,
so the image suite's accuracy is reproducible on any machine. Each tolerance is a constant
with its reason next to it.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

from moderntensor.errors import InvalidInputError

# The colours prompts may name. Saturated and far apart, so that an anti-aliased or slightly
# off-colour rendering still lands nearest to the intended name.
PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (220, 20, 20),
    "green": (20, 160, 40),
    "blue": (30, 60, 220),
    "yellow": (240, 210, 20),
    "orange": (245, 130, 0),
    "purple": (130, 40, 170),
    "black": (0, 0, 0),
    "white": (255, 255, 255),
    "gray": (128, 128, 128),
}
COLOUR_NAMES: tuple[str, ...] = tuple(PALETTE)
OTHER = len(COLOUR_NAMES)  # class index of pixels near no named colour
# A pixel counts as a named colour within this RGB (Euclidean) distance; half the smallest
# distance between two palette entries is ~60, so 80 tolerates shading but not a wrong hue.
COLOUR_TOLERANCE = 80
# Components smaller than this share of the image are speckle, not shapes.
MIN_SHAPE_SHARE = 0.001
# A mask with more runs than this is noise; labelling it would only waste validator time.
MAX_RUNS = 20_000

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_PALETTE_ARRAY = np.array(list(PALETTE.values()), dtype=np.int32)


class ImageDecodeError(InvalidInputError):
    """An image output that cannot be measured: not base64, not a PNG, too big, corrupt."""

    code = "invalid_image"


@dataclass(frozen=True)
class Component:
    """One connected region of a single colour class (4-connectivity)."""

    area: int
    top: int
    left: int
    bottom: int   # inclusive
    right: int    # inclusive
    cy: float     # centroid row
    cx: float     # centroid column

    @property
    def fill(self) -> float:
        """Area over bounding-box area: ~1 square, ~pi/4 circle, ~1/2 triangle."""
        return self.area / ((self.bottom - self.top + 1) * (self.right - self.left + 1))

    @property
    def aspect(self) -> float:
        """Bounding-box width over height."""
        return (self.right - self.left + 1) / (self.bottom - self.top + 1)


def decode_png(
    b64: str,
    *,
    max_bytes: int,
    min_side: int = 16,
    max_side: int = 1024,
    max_pixels: int = 1024 * 1024,
) -> np.ndarray:
    """Decode a base64 PNG into an RGB array, refusing anything unsafe or unbounded.

    The dimensions are checked from the header before any pixel is decompressed, so a
    decompression bomb costs nothing. Raises :class:`ImageDecodeError` with the reason.

    >>> decode_png(encode_png(np.zeros((16, 16, 3), np.uint8)), max_bytes=10_000).shape
    (16, 16, 3)
    """
    if len(b64) > (max_bytes + 2) // 3 * 4:
        raise ImageDecodeError(f"image is larger than {max_bytes} bytes", data=len(b64))
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise ImageDecodeError("image_png_b64 is not valid base64") from None
    if not raw.startswith(PNG_MAGIC):
        raise ImageDecodeError("image is not a PNG (bad signature)", data=raw[:8].hex())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as probe:
                if probe.format != "PNG":
                    raise ImageDecodeError(f"image format is {probe.format}, not PNG")
                _check_size(probe.size, min_side, max_side, max_pixels)
                probe.verify()  # checks chunk CRCs without decoding pixels
            with Image.open(io.BytesIO(raw)) as image:
                rgb = image.convert("RGB")
    except ImageDecodeError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise ImageDecodeError(f"image rejected: {exc}") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageDecodeError(f"corrupt PNG: {exc}") from None
    return np.asarray(rgb, dtype=np.uint8)


def _check_size(size: tuple[int, int], min_side: int, max_side: int, max_pixels: int) -> None:
    width, height = size
    if not (min_side <= width <= max_side and min_side <= height <= max_side):
        raise ImageDecodeError(
            f"image is {width}x{height}; each side must be {min_side}..{max_side} pixels",
            data=[width, height])
    if width * height > max_pixels:
        raise ImageDecodeError(f"image has {width * height} pixels, over {max_pixels}",
                               data=[width, height])


def encode_png(rgb: np.ndarray | Image.Image) -> str:
    """Base64 PNG of an RGB array or Pillow image (what miners send)."""
    image = rgb if isinstance(rgb, Image.Image) else Image.fromarray(rgb)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)  # fast; flat shapes compress anyway
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _nearest_class(pixels: np.ndarray) -> np.ndarray:
    dist = ((pixels[:, None, :] - _PALETTE_ARRAY[None, :, :]) ** 2).sum(axis=2)
    nearest = dist.argmin(axis=1)
    near = dist[np.arange(len(nearest)), nearest] <= COLOUR_TOLERANCE ** 2
    return np.where(near, nearest, OTHER).astype(np.uint8)


# Nearest class for every colour at 6 bits a channel (bin centres): one table lookup per
# pixel instead of nine distances. Quantising moves a colour by at most ~3.5 in RGB distance.
_BINS = np.arange(64, dtype=np.float64) * 4 + 1.5
_CLASS_LUT = _nearest_class(
    np.stack(np.meshgrid(_BINS, _BINS, _BINS, indexing="ij"), axis=-1).reshape(-1, 3))


def classify(rgb: np.ndarray) -> np.ndarray:
    """Per-pixel index of the nearest palette colour, or ``OTHER`` when none is near."""
    q = (rgb >> 2).astype(np.int32)
    return _CLASS_LUT[(q[..., 0] << 12) | (q[..., 1] << 6) | q[..., 2]]


def erode(mask: np.ndarray) -> np.ndarray:
    """3x3 erosion: drops anti-aliased edges and isolated noise pixels before labelling."""
    out = mask.copy()
    out[0, :] = out[-1, :] = False
    out[:, 0] = out[:, -1] = False
    inner = out[1:-1, 1:-1]
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            inner &= mask[dy:dy + mask.shape[0] - 2, dx:dx + mask.shape[1] - 2]
    return out


def components(mask: np.ndarray, *, min_area: int = 1) -> list[Component] | None:
    """Connected regions of a boolean mask, largest first; ``None`` if it is mere noise.

    Labels runs of ``True`` per row and joins runs that overlap the row above (union-find
    over runs, not pixels), which keeps the Python loop as short as the shapes are tall.
    """
    height, width = mask.shape
    padded = np.zeros((height, width + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    edges = np.diff(padded, axis=1)
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)  # exclusive; row-major order pairs them with starts
    count = len(rows)
    if count > MAX_RUNS:
        return None
    parent = list(range(count))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    row_list, start_list, end_list = rows.tolist(), starts.tolist(), ends.tolist()
    above = 0  # first run of the previous row that may still overlap
    for i in range(count):
        row = row_list[i]
        while above < i and row_list[above] < row - 1:
            above += 1
        j = above
        while j < i and row_list[j] == row - 1:
            if start_list[j] < end_list[i] and start_list[i] < end_list[j]:
                root_i, root_j = find(i), find(j)
                if root_i != root_j:
                    parent[max(root_i, root_j)] = min(root_i, root_j)
            j += 1
    if count == 0:
        return []
    roots = np.fromiter((find(i) for i in range(count)), dtype=np.int64, count=count)
    labels, inverse = np.unique(roots, return_inverse=True)
    lengths = (ends - starts).astype(np.float64)
    area = np.bincount(inverse, lengths)
    col_sum = np.bincount(inverse, (starts + ends - 1) * lengths / 2)
    row_sum = np.bincount(inverse, rows * lengths)
    top = np.full(len(labels), height)
    bottom = np.full(len(labels), -1)
    left = np.full(len(labels), width)
    right = np.full(len(labels), -1)
    np.minimum.at(top, inverse, rows)
    np.maximum.at(bottom, inverse, rows)
    np.minimum.at(left, inverse, starts)
    np.maximum.at(right, inverse, ends - 1)
    found = [
        Component(int(area[k]), int(top[k]), int(left[k]), int(bottom[k]), int(right[k]),
                  float(row_sum[k] / area[k]), float(col_sum[k] / area[k]))
        for k in range(len(labels)) if area[k] >= min_area
    ]
    return sorted(found, key=lambda c: c.area, reverse=True)


def similarity(a: np.ndarray, b: np.ndarray, side: int = 32) -> float:
    """Share of a ``side x side`` sample grid where two images show the same colour.

    Cells agree when both sample the same palette colour, or two off-palette colours within
    the colour tolerance. Sampling, not averaging: two noise images average to the same grey,
    but their sampled pixels disagree almost everywhere.
    """
    small_a, small_b = (
        np.asarray(Image.fromarray(x).resize((side, side), Image.Resampling.NEAREST))
        for x in (a, b))
    class_a, class_b = classify(small_a), classify(small_b)
    close = ((small_a.astype(np.int32) - small_b) ** 2).sum(axis=2) <= COLOUR_TOLERANCE ** 2
    agree = (class_a == class_b) & ((class_a != OTHER) | close)
    return float(agree.mean())
