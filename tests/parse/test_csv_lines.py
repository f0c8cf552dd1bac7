"""The compiled CSV lines (``_csv_lines``) against Arrow's kernels (``csv_form``): the same
bytes on any batch of the schema's types, and built where the package was installed."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given

from syscall_parse.batches import event_batches
from syscall_parse.csv_form import COMPILED, csv_lines
from tests.parse.test_writers import EVENTS
from tests.strategies import record_batches

pytestmark = pytest.mark.skipif(not COMPILED, reason="the compiled CSV lines are not built")


@given(record_batches())
def test_compiled_lines_are_the_kernels_lines(batch):
    """Texts to quote and escape, non-ASCII, extreme integers and floats, nulls, constant and
    all-null columns, sliced buffers: the same bytes both ways."""
    expected = csv_lines(batch, compiled=False).to_pybytes()
    assert expected == csv_lines(batch, compiled=True).to_pybytes()


def test_events_are_the_kernels_lines():
    """The writer tests' events (every kind, every odd text and float), batch by batch."""
    for batch in event_batches(EVENTS, rows=3):
        expected = csv_lines(batch, compiled=False).to_pybytes()
        assert expected == csv_lines(batch, compiled=True).to_pybytes()


@pytest.mark.parametrize("special", [",", '"', "\n", "\r", "\\"])
def test_a_special_character_anywhere_in_a_text(special):
    """A character that quotes or escapes a text at each place in texts of 0 to 24 bytes (the
    compiled lines search texts eight bytes at a time), and texts with none: the same bytes."""
    texts = ["a" * size for size in range(25)]
    texts += [text[:at] + special + text[at + 1 :] for text in texts for at in range(len(text))]
    batch = pa.record_batch([pa.array(texts, pa.string())], names=["t"])
    assert csv_lines(batch, compiled=False) == csv_lines(batch, compiled=True)


@pytest.mark.parametrize(
    "column",
    [
        pa.array([1, 2], pa.int32()),
        pa.array([1.5, 2.5], pa.float32()),
        pa.array(["a", "b"], pa.large_string()),
        pa.array(["a", "b"]).dictionary_encode().cast(pa.dictionary(pa.int8(), pa.string())),
        pa.array([[1], [2]]),
    ],
    ids=["int32", "float32", "large_string", "int8-dictionary", "list"],
)
def test_a_type_outside_the_schema_is_refused(column):
    """A column of another type is an error naming it, never its buffers misread."""
    batch = pa.record_batch([column], names=["x"])
    with pytest.raises(TypeError, match="no CSV form for"):
        csv_lines(batch, compiled=True)
