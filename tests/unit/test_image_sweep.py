"""X/Y sweeps: values typed the A1111 way, the request count before sending, one labelled plot."""
from __future__ import annotations

import pytest
from lib.api import Client
from lib.api.image_decode import decode_image
from lib.images.batch import batch_runner, run_batch
from lib.images.grid import FAILED_FILL
from lib.images.store import ImageStore
from lib.images.sweep import (CONFIRM_ABOVE, GUIDANCE, MODEL, PROMPT_SR, PROMPTS, SEED, STEPS,
                              SweepError, describe_plan, layout_of, parse_axis, plan_from_text,
                              plan_sweep, sweep_plot)

BASE = {"model": "local/procedural-image", "prompt": "a red fox in snow", "width": 64,
        "height": 64, "steps": 4, "response_format": "base64"}


def test_numbers_and_ranges_parse_and_are_checked_by_the_catalogue():
    assert parse_axis(STEPS, "4, 8 ,12", BASE).values == (4, 8, 12)
    assert parse_axis(SEED, "1-3, 10", BASE).values == (1, 2, 3, 10)
    assert parse_axis(STEPS, "10-30 (+10)", BASE).values == (10, 20, 30)
    guidance = parse_axis(GUIDANCE, "1.5-3.5 (+1)", BASE)
    assert guidance.values == (1.5, 2.5, 3.5) and guidance.labels == ("1.5", "2.5", "3.5")
    with pytest.raises(SweepError, match="steps must be an integer from 1 to 50"):
        parse_axis(STEPS, "4, 80", BASE)
    with pytest.raises(SweepError, match="at least one value"):
        parse_axis(SEED, " , ", BASE)
    with pytest.raises(SweepError, match="more than 16"):
        parse_axis(SEED, "1-100", BASE)


def test_prompt_search_replace_and_prompt_lists():
    sr = parse_axis(PROMPT_SR, 'fox, "wolf, grey", owl', BASE)
    assert sr.values == ("a red fox in snow", "a red wolf, grey in snow", "a red owl in snow")
    assert sr.labels == ("fox", "wolf, grey", "owl")
    with pytest.raises(SweepError, match="does not occur in the prompt"):
        parse_axis(PROMPT_SR, "cat, dog", BASE)
    assert parse_axis(PROMPTS, "one prompt, with a comma\n\nanother", BASE).values == (
        "one prompt, with a comma", "another")


def test_plan_counts_requests_fixes_the_seed_and_lays_out_rows_by_columns():
    plan = plan_from_text(BASE, STEPS, "4, 8", SEED, "1, 2, 3")
    assert plan.request_count == 6 and (plan.rows, plan.cols) == (3, 2)
    assert describe_plan(plan) == "3 × 2 = 6 requests"
    cell = plan.cells[3]
    assert (cell.row, cell.col) == (1, 1)
    assert cell.body["steps"] == 8 and cell.body["seed"] == 2 and cell.body["n"] == 1
    assert [p.first for p in plan.requests()] == list(range(6))
    one = plan_from_text(BASE, MODEL, "local/procedural-image, other/model")
    assert describe_plan(one) == "2 requests"
    assert len({c.body["seed"] for c in one.cells}) == 1  # one random seed for all cells
    assert not one.needs_confirm
    big = plan_from_text(BASE, SEED, "1-8", STEPS, "1-3")
    assert big.request_count == 24 > CONFIRM_ABOVE and big.needs_confirm


def test_two_axes_on_the_same_field_are_refused():
    x = parse_axis(PROMPT_SR, "fox, cat", BASE)
    y = parse_axis(PROMPTS, "a\nb", BASE)
    with pytest.raises(SweepError, match="both vary prompt"):
        plan_sweep(BASE, x, y)


def test_a_2x2_sweep_on_the_backend_gives_a_labelled_plot(fresh_backend, tmp_path):
    plan = plan_from_text(BASE, STEPS, "2, 6", SEED, "5, 6")
    store = ImageStore(tmp_path)

    def generate(body):
        with Client(api_key="", base_url=fresh_backend.base_url, max_retries=0) as c:
            return c.generate_images(body)

    plans = plan.requests()
    arrivals = [a for a in run_batch(batch_runner(generate, plans, store)) if a]
    stored = {im.position: im for a in arrivals for im in a.images}
    assert sorted(stored) == [0, 1, 2, 3]
    assert stored[2].seed == 6 and stored[2].settings["steps"] == 2
    images = {p: decode_image(store.get(im.key)) for p, im in stored.items()}
    images[3] = None  # a failed cell still keeps the plot's shape
    plot = sweep_plot(layout_of(plan), images, tile_max=64)
    assert plot.width > 2 * 64 and plot.height > 2 * 64
    # the failed (bottom-right) cell is the grey placeholder; its neighbour has real pixels
    pad, gap = 6, 2  # make_xy_grid's margins for 64-pixel tiles
    corner = (plot.width - pad - 60, plot.height - pad - 60)
    assert plot.getpixel(corner) == FAILED_FILL
    assert plot.getpixel((corner[0] - 64 - gap, corner[1])) != FAILED_FILL
