"""The local Glue job's warm-up: its figures, and its refusal of an empty warm-up (its run is in test_run.py)."""

from __future__ import annotations

import pytest

from comparison.local.glue_warm_up import summary, warm_up


def test_the_summary_gives_the_first_the_early_and_the_last_micro_batches():
    seconds = [9.5, 4.0, 3.0, 3.5, 5.0, 2.5, 2.0, 2.2, 1.9, 2.1]
    assert summary(seconds, 40.04) == {
        "batches": 10,
        "batch_events": 1_500,
        "elapsed_s": 40.0,
        "first_s": 9.5,
        "second_to_fifth_s": 3.75,
        "last_five_s": 2.1,
    }


def test_a_short_warm_up_still_has_its_figures():
    assert summary([7.0], 7.2, batch_events=200) == {
        "batches": 1,
        "batch_events": 200,
        "elapsed_s": 7.2,
        "first_s": 7.0,
        "second_to_fifth_s": None,
        "last_five_s": 7.0,
    }


def test_a_warm_up_of_no_micro_batch_is_refused():
    with pytest.raises(ValueError, match="at least 1 micro-batch"):
        warm_up(None, "http://127.0.0.1:1", 0)
