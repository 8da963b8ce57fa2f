"""Progress lines and time-left estimates for long work."""

import io

import numpy as np
import pytest

from cantaor.training.loop import TrainConfig, train_model
from cantaor.util.progress import Progress, format_seconds


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0.0 s"), (8.24, "8.2 s"), (59.94, "59.9 s"), (75.3, "1 min 15 s"), (4000, "1 h 06 min")],
)
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text


def test_log_gets_plain_periodic_lines_with_time_left():
    clock, lines = FakeClock(), []
    progress = Progress(10, "f0", unit="recordings", log=lines.append, interval_s=5, clock=clock)
    for _ in range(4):
        clock.now += 2.0  # 2 s per recording
        progress.update()
    # A line at 6 s (>= 5 s since the start), none at 2, 4 or 8 s; the rate is
    # taken from the first report on (4 s for 2 recordings at 6 s).
    assert lines == ["f0: 3/10 recordings (30%), 6.0 s elapsed, about 14.0 s left"]
    assert progress.eta_s() == pytest.approx(6.0 / 3 * 6)
    for _ in range(6):
        clock.now += 2.0
        progress.update()
    progress.close()
    progress.close()  # the final line is written once
    assert lines[-1] == "f0: 10/10 recordings (100%), 20.0 s elapsed"
    assert all("\r" not in line for line in lines)
    assert len(lines) == 4  # at 6, 12 and 18 s, and the final line


def test_terminal_is_redrawn_in_place_and_a_plain_stream_is_left_alone():
    clock, terminal, plain = FakeClock(), FakeTerminal(), io.StringIO()
    for stream in (terminal, plain):
        with Progress(3, "store", stream=stream, clock=clock) as progress:
            for _ in range(3):
                clock.now += 1.0
                progress.update()
    assert terminal.getvalue().count("\r") == 4
    assert terminal.getvalue().endswith("store: 3/3 items (100%), 3.0 s elapsed\n")
    assert plain.getvalue() == ""


def test_estimate_before_any_work_and_empty_work():
    clock = FakeClock()
    assert Progress(5, "x", clock=clock).line() == "x: 0/5 items (0%), 0.0 s elapsed, about ? left"
    assert Progress(0, "x", clock=clock).line() == "x: 0/0 items (100%), 0.0 s elapsed"
    with pytest.raises(ValueError, match="total"):
        Progress(-1, "x")


def test_training_logs_batches_and_time_left():
    rng = np.random.default_rng(0)
    features = rng.standard_normal((40, 8, 12)).astype(np.float32)
    lengths = np.full(40, 12)
    labels = np.arange(40) % 2
    lines = []
    train_model(
        features=features,
        lengths=lengths,
        labels=labels,
        train_idx=np.arange(32),
        val_idx=np.arange(32, 40),
        n_classes=2,
        model_options={"channels": 2, "n_blocks": 1, "lstm_hidden": 4, "fc_units": 8},
        config=TrainConfig(epochs=3, batch_size=8, patience=5, progress_interval_s=0),
        log=lines.append,
    )
    batch_lines = [line for line in lines if line.startswith("epoch 1/3: ")]
    assert batch_lines[0].startswith("epoch 1/3: 1/4 batches (25%)")
    assert batch_lines[-1].startswith("epoch 1/3: 4/4 batches (100%)")
    assert len(batch_lines) == 4  # one per batch at interval 0, no repeated final line
    summaries = [line for line in lines if "train_loss" in line]
    assert len(summaries) == 3
    assert "at most 2 more epochs, about" in summaries[0]
    assert "more epochs" not in summaries[-1]


def test_the_final_line_is_not_repeated():
    clock, lines = FakeClock(), []
    with Progress(
        2, "identify", unit="recordings", log=lines.append, interval_s=0, clock=clock
    ) as p:
        p.update()
        p.update()
    assert lines == [
        "identify: 1/2 recordings (50%), 0.0 s elapsed, about ? left",
        "identify: 2/2 recordings (100%), 0.0 s elapsed",
    ]


def test_a_slow_first_unit_gives_no_absurd_estimate():
    # 11,158 clips: the first takes 60 s (imports, JIT), the others 10 ms each
    clock, lines = FakeClock(), []
    progress = Progress(11158, "store", unit="clips", log=lines.append, interval_s=0, clock=clock)
    clock.now += 60.0
    progress.update()
    assert progress.eta_s() == float("inf") and lines[-1].endswith("about ? left")
    for _ in range(100):
        clock.now += 0.01
        progress.update()
    # the old estimate, 61 s / 101 clips x 11,057 clips, read about 1 h 51 min
    assert progress.eta_s() == pytest.approx(0.01 * 11057)
    assert lines[-1].endswith("about 1 min 51 s left")
