"""The continuous writer's bookkeeping (tests/writer.py): its acknowledgement records and the longest stall."""

import pytest

from tests.writer import acknowledgements, longest_stall


def test_the_longest_stall_is_the_longest_gap_between_consecutive_acknowledgements():
    assert longest_stall([10.0, 10.02, 10.04, 11.5, 11.52, 11.9]) == pytest.approx(1.46)


def test_no_stall_without_two_acknowledgements():
    assert longest_stall([]) == 0.0
    assert longest_stall([3.0]) == 0.0


def test_acknowledgements_are_read_in_order_without_a_line_still_being_written(tmp_path):
    path = tmp_path / "acknowledged"
    path.write_text("1 100.5\n2 100.52\n4 101.0\n5 101.")
    assert acknowledgements(path) == [(1, 100.5), (2, 100.52), (4, 101.0)]


def test_no_acknowledgements_before_the_writer_wrote_any(tmp_path):
    assert acknowledgements(tmp_path / "acknowledged") == []
