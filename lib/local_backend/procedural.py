"""Procedural images: deterministic pictures from a prompt and the generation settings.

Everything a real image model takes has a visible effect, so a seed sweep or a guidance
sweep shows real differences:
* the prompt's words pick the palette (one colour per word, from a hash);
* the negative prompt's words push palette hues away from theirs;
* the seed places gradients, blobs and noise (``Generator(PCG64(seed))``);
* steps adds detail (noise octaves, shapes) and lowers the final grain;
* guidance_scale raises contrast and saturation;
* a starting image (image_url) is blended in under the pattern;
* each LoRA (image_loras) turns the palette's hues by an amount its URL picks, times its
  scale, and posterises the result by its strength (a negative scale turns the other way);
* each reference image (reference_images) tints the result towards a colour its URL picks.
The pattern is drawn at a small working size and scaled up, so 1024x1024 takes tens of ms.
"""
from __future__ import annotations

import colorsys
import hashlib
import io
import re
import struct
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

WORK_SIZE = 256  # longest side of the working canvas


@dataclass(frozen=True)
class ImageSpec:
    prompt: str
    negative_prompt: str = ""
    seed: int = 0
    steps: int = 20
    guidance_scale: float = 3.5
    width: int = 1024
    height: int = 1024
    start_image: Image.Image | None = None
    loras: tuple[tuple[str, float], ...] = ()  # (LoRA URL, scale)
    references: tuple[str, ...] = ()           # reference image URLs


def _hue(text: str) -> float:
    """A hue in 0..1 picked by the text's hash: the same text, the same hue, everywhere."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") / 2**32


def _word_hues(text: str) -> list[float]:
    return [_hue(w) for w in re.findall(r"\w+", text.lower())]


def lora_palette(colours: np.ndarray, loras: tuple[tuple[str, float], ...]) -> np.ndarray:
    """The palette with each LoRA's hue turn applied: 0.2 to 0.5 of a turn (picked by its
    URL) times its scale, so scale 0 changes nothing and a bigger scale moves further."""
    turn = sum((0.2 + 0.3 * _hue(path)) * scale for path, scale in loras)
    if not turn:
        return colours
    shifted = [colorsys.hsv_to_rgb((h + turn) % 1.0, s, v)
               for h, s, v in (colorsys.rgb_to_hsv(*c) for c in colours.tolist())]
    return np.array(shifted, dtype=np.float32)


def _lora_style(canvas: np.ndarray, loras: tuple[tuple[str, float], ...]) -> np.ndarray:
    """Posterise by the LoRAs' total strength: flat bands of colour, an obvious "style"."""
    strength = min(sum(abs(scale) for _, scale in loras), 4.0)
    if strength < 0.05:
        return canvas
    levels = max(2.0, 12.0 - 2.5 * strength)
    return np.round(canvas * (levels - 1)) / (levels - 1)


def reference_tint(references: tuple[str, ...]) -> np.ndarray | None:
    """The colour the reference images tint the result towards, one hue per URL, averaged.

    Derived from the URL *text* only (a hash): the local backend never fetches a reference
    image, so a request cannot make it reach an arbitrary address on the network.
    """
    if not references:
        return None
    return np.array([colorsys.hsv_to_rgb(_hue(url), 0.75, 0.9) for url in references],
                    dtype=np.float32).mean(axis=0)


def palette(prompt: str, negative_prompt: str = "") -> np.ndarray:
    """RGB colours (0..1), one per prompt word (at least three), steered off negative words."""
    hues = _word_hues(prompt) or [0.58]
    while len(hues) < 3:
        hues.append((hues[-1] + 0.13 + 0.07 * len(hues)) % 1.0)
    avoid = _word_hues(negative_prompt)
    colours = []
    for i, hue in enumerate(hues[:8]):
        for bad in avoid:
            gap = (hue - bad + 0.5) % 1.0 - 0.5  # signed hue distance in (-0.5, 0.5]
            if abs(gap) < 0.25:
                hue = (bad + (0.25 if gap >= 0 else -0.25)) % 1.0
        saturation = 0.45 + 0.4 * ((i * 0.37) % 1.0)
        value = 0.55 + 0.4 * ((i * 0.61 + 0.2) % 1.0)
        colours.append(colorsys.hsv_to_rgb(hue, saturation, value))
    return np.array(colours, dtype=np.float32)


def _noise(rng: np.random.Generator, h: int, w: int, octaves: int) -> np.ndarray:
    """Smooth value noise in 0..1 by summing upscaled random grids."""
    total = np.zeros((h, w), dtype=np.float32)
    weight = 0.0
    for octave in range(octaves):
        cells = 2 + 2 ** octave
        grid = rng.random((cells, cells), dtype=np.float32)
        layer = Image.fromarray(grid, mode="F").resize((w, h), Image.BICUBIC)
        amplitude = 0.55 ** octave
        total += amplitude * np.asarray(layer, dtype=np.float32)
        weight += amplitude
    return np.clip(total / weight, 0.0, 1.0)


def _ramp(values: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """Map 0..1 values through the palette as a colour gradient."""
    stops = np.linspace(0.0, 1.0, len(colours))
    return np.stack([np.interp(values, stops, colours[:, c]) for c in range(3)], axis=-1)


def render(spec: ImageSpec) -> Image.Image:
    rng = np.random.Generator(np.random.PCG64(spec.seed))
    scale = WORK_SIZE / max(spec.width, spec.height)
    w, h = max(8, round(spec.width * scale)), max(8, round(spec.height * scale))
    colours = lora_palette(palette(spec.prompt, spec.negative_prompt), spec.loras)
    colours = colours[rng.permutation(len(colours))]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    xs /= w
    ys /= h
    angle = rng.uniform(0, 2 * np.pi)
    gradient = (np.cos(angle) * xs + np.sin(angle) * ys)
    gradient = (gradient - gradient.min()) / max(float(np.ptp(gradient)), 1e-6)
    detail = 1 + min(spec.steps, 50) // 8
    field = 0.55 * gradient + 0.45 * _noise(rng, h, w, detail)
    canvas = _ramp(field, colours)
    for _ in range(2 + spec.steps // 4):
        cx, cy = rng.random(2)
        radius = rng.uniform(0.05, 0.3)
        stretch = rng.uniform(0.6, 1.6)
        distance = ((xs - cx) * stretch) ** 2 + ((ys - cy) / stretch) ** 2
        softness = 0.02 + 0.3 / spec.steps
        alpha = np.clip((radius ** 2 - distance) / (softness * radius), 0.0, 1.0)[..., None]
        colour = colours[rng.integers(len(colours))]
        canvas = canvas * (1 - 0.8 * alpha) + colour * (0.8 * alpha)
    if spec.start_image is not None:
        start = spec.start_image.convert("RGB").resize((w, h), Image.BILINEAR)
        canvas = 0.5 * canvas + 0.5 * (np.asarray(start, dtype=np.float32) / 255.0)
    tint = reference_tint(spec.references)
    if tint is not None:
        canvas = 0.6 * canvas + 0.4 * tint
    canvas = _lora_style(_guide(canvas, spec.guidance_scale), spec.loras)
    small = Image.fromarray((canvas * 255).astype(np.uint8), mode="RGB")
    image = small.resize((spec.width, spec.height), Image.BICUBIC)
    grain = 24.0 / spec.steps
    if grain >= 1.0:
        pixels = np.asarray(image, dtype=np.int16)
        noise = rng.integers(-int(grain), int(grain) + 1, size=pixels.shape[:2], dtype=np.int16)
        image = Image.fromarray(np.clip(pixels + noise[..., None], 0, 255).astype(np.uint8))
    return image


def _guide(canvas: np.ndarray, guidance: float) -> np.ndarray:
    """Contrast and saturation grow with guidance_scale (3.5 is roughly neutral)."""
    strength = 0.55 + guidance / 7.5
    grey = canvas.mean(axis=-1, keepdims=True)
    canvas = grey + (canvas - grey) * min(strength, 3.0)
    mean = canvas.mean()
    canvas = mean + (canvas - mean) * min(0.8 + guidance / 17.5, 2.5)
    return np.clip(canvas, 0.0, 1.0)


def encode(image: Image.Image, output_format: str) -> bytes:
    """JPEG at quality 90, or PNG at compress level 1 (fast)."""
    buffer = io.BytesIO()
    if output_format == "png":
        image.save(buffer, format="PNG", compress_level=1)
    else:
        image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


_bomb: bytes | None = None


def bomb_png(side: int = 20_000) -> bytes:
    """A valid, small PNG that declares ``side`` x ``side`` pixels (a decompression bomb).

    Built by hand from all-zero 1-bit rows, which deflate to almost nothing; cached.
    """
    global _bomb
    if _bomb is None:
        def chunk(kind: bytes, data: bytes) -> bytes:
            return (struct.pack(">I", len(data)) + kind + data
                    + struct.pack(">I", zlib.crc32(kind + data)))

        row = bytes(1 + (side + 7) // 8)  # filter byte + packed 1-bit pixels
        deflate = zlib.compressobj(9)
        body = b"".join(deflate.compress(row) for _ in range(side)) + deflate.flush()
        header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
        _bomb = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body)
                 + chunk(b"IEND", b""))
    return _bomb
