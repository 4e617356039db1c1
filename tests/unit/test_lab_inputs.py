"""The lab's inputs table: CSV text or bytes in, rows out, every problem naming row and column."""
import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.lab import inputs

VARS = ("city", "topic")


def test_a_csv_with_the_variables_and_expected_becomes_rows():
    table = inputs.read_csv("city,topic,expected\nParis,food,yes\n\nRome,\"art, old\",no\n",
                            VARS)
    assert table.columns == ("city", "topic", "expected") and table.has_expected
    assert table.rows == ({"city": "Paris", "topic": "food", "expected": "yes"},
                          {"city": "Rome", "topic": "art, old", "expected": "no"})


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("city\nParis\n", r"No column for \{topic\}"),
    ("city,topic,colour\n", r"Column 3 \('colour'\) is not a variable"),
    ("city,city,topic\n", r"Column 2 \('city'\) appears twice"),
    ("city,topic\nParis\n", "Row 2 has 1 fields; the header has 2"),
    ("city,topic\na,b\nc,d,e\n", "Row 3 has 3 fields"),
    ('city,topic\na,"b\n', "Row 2"),
    ("city,topic\na,b\x00\n", "Row 2 holds a NUL"),
])
def test_bad_csv_names_the_row_or_column(text, message):
    with pytest.raises(inputs.InputError, match=message):
        inputs.read_csv(text, VARS)


def test_rows_cells_and_bytes_are_bounded():
    many = "city,topic\n" + "a,b\n" * (inputs.MAX_ROWS + 1)
    with pytest.raises(inputs.InputError, match=f"Row {inputs.MAX_ROWS + 2}: at most 100 rows"):
        inputs.read_csv(many, VARS)
    assert len(inputs.read_csv("city,topic\n" + "a,b\n" * inputs.MAX_ROWS, VARS).rows) == 100
    with pytest.raises(inputs.InputError, match="Row 2, column 'topic'"):
        inputs.read_csv("city,topic\na," + "x" * (inputs.MAX_CELL_CHARS + 1), VARS)
    with pytest.raises(inputs.InputError, match="at most 1,000,000"):
        inputs.decode(b"x" * (inputs.MAX_BYTES + 1))


def test_uploaded_bytes_must_be_utf8_and_a_bom_is_dropped():
    assert inputs.decode("\ufeffcity,topic\n".encode("utf-8")) == "city,topic\n"
    with pytest.raises(inputs.InputError, match="Row 2: byte 13 is not UTF-8"):
        inputs.decode("city,topic\nM\u00fcnchen,x\n".encode("latin-1"))


def test_edited_rows_become_text_and_empty_cells_stay_empty():
    table = inputs.check_rows([{"city": None, "topic": 3}, {"city": float("nan"), "topic": "t"}],
                              VARS)
    assert table.rows == ({"city": "", "topic": "3"}, {"city": "", "topic": "t"})


CELL = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
               max_size=30)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(CELL, CELL), min_size=1, max_size=10))
def test_any_rows_written_by_csv_read_back_the_same(rows):
    out = io.StringIO()
    csv.writer(out).writerows([VARS, *rows])
    kept = [r for r in rows if any(c.strip() for c in r)]  # blank lines are skipped
    table = inputs.read_csv(out.getvalue(), VARS)
    assert table.rows == tuple({"city": a, "topic": b} for a, b in kept)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_give_a_table_or_a_message_never_a_crash(data):
    try:
        table = inputs.read_csv(inputs.decode(data), VARS)
    except inputs.InputError as exc:
        assert str(exc)
    else:
        assert set(table.columns) >= set(VARS) and len(table.rows) <= inputs.MAX_ROWS
