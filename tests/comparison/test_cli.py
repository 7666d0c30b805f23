"""The command line refuses impossible combinations before it starts anything."""

from __future__ import annotations

import pytest

from comparison.cli import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--glue-kpl-deaggregation", "off"], "only matters with --kpl-aggregation"),
        (
            ["--kpl-aggregation", "--glue-kpl-deaggregation", "off", "--driver", "locust"],
            "needs the harness's producer",
        ),
        (["--users", "0"], "--users must be at least 1"),
        (["--profile", "nope"], "unknown profile 'nope'"),
        (["--glue-warm-up-batches", "-1"], "--glue-warm-up-batches must be 0 or more"),
        (["--mode", "aws", "--stack", "s", "--glue-warm-up-batches", "5"], "--glue-warm-up-batches only apply to"),
    ],
)
def test_bad_run_options_are_clear_errors(argv, message, capsys):
    assert main(["run", *argv]) == 2
    assert message in capsys.readouterr().err


def test_an_unknown_deaggregation_choice_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--kpl-aggregation", "--glue-kpl-deaggregation", "maybe"])
    assert "invalid choice: 'maybe'" in capsys.readouterr().err
