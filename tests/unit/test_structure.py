"""The layering the README draws is the layering the code has."""
from tests.support import structure


def test_every_unit_has_a_layer():
    graph = structure.edges()
    units = set(graph) | {t for targets in graph.values() for t in targets}
    assert units <= set(structure.RANK), f"place these in LAYERS: {units - set(structure.RANK)}"


def test_no_unit_imports_another_in_a_circle():
    assert structure.cycles(structure.edges()) == []


def test_no_import_points_up_a_layer():
    assert structure.upward(structure.edges()) == []


def test_streamlit_is_imported_only_by_views_and_pages():
    assert structure.streamlit_importers() == []


def test_the_readme_drawing_is_the_current_structure():
    assert structure.readme_drawing() == structure.drawing(structure.edges()), (
        "redraw it: python -m tests.support.structure, and paste between the markers")


def test_the_checks_catch_a_circle_and_an_upward_import():
    graph = {"lib.api": {"lib.ui"}, "lib.ui": {"lib.api"}}
    assert structure.cycles(graph) == [["lib.api", "lib.ui", "lib.api"]]
    assert structure.upward(graph) == [("lib.api", "lib.ui")]
