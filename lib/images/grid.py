"""Image grids: a quick one for the screen (shrink and paste only, so it shows within
100 ms of the last decode), a full-size one for download, and the labelled X/Y grid of a
sweep with a grey cell where an image failed.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, Mapping, Sequence

from PIL import Image, ImageDraw, ImageFont

# ---------------------------------------------------------------- grids

WHITE = (255, 255, 255)
DISPLAY_WIDTH = 1460  # st.image re-encodes anything wider (2 x 730 px)


def _shrink(image: Image.Image, box: tuple[int, int]) -> Image.Image:
    """``image`` fitted inside ``box``, aspect kept, never enlarged.

    ``reducing_gap=1.0`` lets Pillow box-reduce by an integer factor before the bilinear
    pass, which halves the cost of shrinking a 1024² tile to a grid cell.
    """
    scale = min(box[0] / image.width, box[1] / image.height)
    if scale >= 1:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=1.0)


def _paste(canvas: Image.Image, image: Image.Image, xy: tuple[int, int]) -> None:
    mask = image.getchannel("A") if "A" in image.getbands() else None
    canvas.paste(image.convert("RGB") if image.mode != "RGB" else image, xy, mask)


def _columns(count: int, cols: int | None) -> int:
    if count < 1:
        raise ValueError("a grid needs at least one image")
    return max(1, min(cols or math.ceil(math.sqrt(count)), count))


def make_grid(images: Sequence[Image.Image], cols: int | None = None,
              tile: tuple[int, int] | None = None, gap: int = 0,
              background: Any = WHITE) -> Image.Image:
    """All images in one RGB image, each centred in a ``tile``-sized cell.

    Cells default to the largest width and height, so nothing is scaled: this is the
    full-resolution grid for download. Images larger than a given ``tile`` are shrunk.
    """
    cols = _columns(len(images), cols)
    rows = math.ceil(len(images) / cols)
    tw, th = tile or (max(im.width for im in images), max(im.height for im in images))
    grid = Image.new("RGB", (cols * tw + (cols - 1) * gap, rows * th + (rows - 1) * gap),
                     background)
    for i, image in enumerate(images):
        image = _shrink(image, (tw, th))
        row, col = divmod(i, cols)
        _paste(grid, image, (col * (tw + gap) + (tw - image.width) // 2,
                             row * (th + gap) + (th - image.height) // 2))
    return grid


def display_copy(image: Image.Image, max_width: int = DISPLAY_WIDTH) -> Image.Image:
    """``image`` no wider than ``max_width`` (itself when it already is), so st.image
    never encodes a huge grid twice to throw most of it away."""
    return _shrink(image, (max_width, image.height))


def preview_grid(images: Sequence[Image.Image], cols: int | None = None,
                 max_width: int = DISPLAY_WIDTH, gap: int = 0,
                 background: Any = WHITE) -> Image.Image:
    """The ``make_grid`` layout at screen size, built from tiles shrunk *before* pasting.

    Shrinking each tile first touches every source pixel once with a cheap filter and
    pastes a fraction of the pixels; composing full size and shrinking after costs more.
    """
    cols = _columns(len(images), cols)
    tw, th = max(im.width for im in images), max(im.height for im in images)
    scale = min(1.0, (max_width - (cols - 1) * gap) / (cols * tw))
    cell = (max(1, int(tw * scale)), max(1, int(th * scale)))
    return make_grid([_shrink(im, cell) for im in images], cols, cell, gap, background)


# ---------------------------------------------------------------- X/Y plot

FAILED_FILL = (190, 190, 190)
INK = (0, 0, 0)


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _wrap(text: str, font: Any, width: float, max_lines: int) -> list[str]:
    """Greedy word wrap to ``width`` pixels; over-long words are cut; overflow ends in '...'.

    Stops measuring once ``max_lines`` are full, so a 10,000-character label costs no more
    than a short one.
    """
    lines: list[str] = []
    current = ""
    for word in " ".join(str(text).split()).split(" "):
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while len(current) > 1 and font.getlength(current) > width:
            cut = _fitting_prefix(current, font, width)
            lines.append(current[:cut])
            current = current[cut:]
        if len(lines) >= max_lines:
            break
    lines.append(current)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and font.getlength(last + "...") > width:
            last = last[:-1]
        lines = lines[:max_lines - 1] + [last.rstrip() + "..."]
    return lines


def _fitting_prefix(text: str, font: Any, width: float) -> int:
    """Length of the longest prefix of ``text`` (at least 1 character) within ``width``."""
    lo, hi = 1, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if font.getlength(text[:mid]) <= width:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _draw_lines(draw: ImageDraw.ImageDraw, lines: list[str], font: Any,
                box: tuple[int, int, int, int], line_height: int) -> None:
    """Lines centred horizontally and vertically in ``box`` (left, top, right, bottom)."""
    left, top, right, bottom = box
    y = top + (bottom - top - line_height * len(lines)) // 2
    for line in lines:
        draw.text((left + (right - left - font.getlength(line)) / 2, y), line, fill=INK,
                  font=font)
        y += line_height


def make_xy_grid(cells: Mapping[tuple[int, int], Image.Image | None], row_labels: list[str],
                 col_labels: list[str], title_x: str = "", title_y: str = "",
                 tile_max: int = 512) -> Image.Image:
    """An X/Y plot like A1111's: tiles in rows and columns, each axis labelled and titled.

    A cell that is missing or None (its request failed) is a grey "failed" tile, so the
    plot keeps its shape and the comparison still reads across.
    """
    rows, cols = len(row_labels), len(col_labels)
    if not rows or not cols:
        raise ValueError("an X/Y plot needs at least one row and one column label")
    for r, c in cells:
        if not (0 <= r < rows and 0 <= c < cols):
            raise ValueError(f"cell {(r, c)} is outside the {rows}x{cols} plot")
    tiles = {rc: _shrink(im, (tile_max, tile_max)) for rc, im in cells.items() if im is not None}
    tw = max((t.width for t in tiles.values()), default=tile_max)
    th = max((t.height for t in tiles.values()), default=tile_max)
    size = max(12, min(tw, th) // 16)
    font, title_font = _font(size), _font(round(size * 1.25))
    line_h, title_h = round(size * 1.3), round(size * 1.6)
    pad, gap = size // 2, max(2, tw // 128)

    longest = max(font.getlength(" ".join(str(t).split())[:200]) for t in row_labels)
    label_w = int(min(tw // 2, max(size * 3, longest + 2 * pad)))
    row_lines = [_wrap(t, font, label_w - 2 * pad, max(1, (th - 2 * pad) // line_h))
                 for t in row_labels]
    col_lines = [_wrap(t, font, tw - 2 * pad, 3) for t in col_labels]
    label_h = max(len(lines) for lines in col_lines) * line_h + 2 * pad
    left = (title_h + pad if title_y else 0) + label_w
    top = (title_h + pad if title_x else 0) + label_h
    width = left + cols * tw + (cols - 1) * gap
    height = top + rows * th + (rows - 1) * gap
    plot = Image.new("RGB", (width + pad, height + pad), WHITE)
    draw = ImageDraw.Draw(plot)

    if title_x:
        _draw_lines(draw, _wrap(title_x, title_font, width - left, 1), title_font,
                    (left, pad, width, pad + title_h), title_h)
    if title_y:
        strip = Image.new("RGB", (height - top, title_h), WHITE)
        _draw_lines(ImageDraw.Draw(strip), _wrap(title_y, title_font, height - top, 1),
                    title_font, (0, 0, strip.width, title_h), title_h)
        plot.paste(strip.rotate(90, expand=True), (pad, top))
    for c, lines in enumerate(col_lines):
        x = left + c * (tw + gap)
        _draw_lines(draw, lines, font, (x, top - label_h, x + tw, top), line_h)
    for r, lines in enumerate(row_lines):
        y = top + r * (th + gap)
        _draw_lines(draw, lines, font, (left - label_w, y, left, y + th), line_h)
        for c in range(cols):
            x = left + c * (tw + gap)
            tile = tiles.get((r, c))
            if tile is None:
                draw.rectangle((x, y, x + tw - 1, y + th - 1), fill=FAILED_FILL)
                _draw_lines(draw, ["failed"], font, (x, y, x + tw, y + th), line_h)
            else:
                _paste(plot, tile, (x + (tw - tile.width) // 2, y + (th - tile.height) // 2))
    return plot
