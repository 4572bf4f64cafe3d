"""Dropout: why inverted dropout scales the kept units by 1/p.

Twelve units each output 1. In training every unit is kept with probability p
(keep_prob) and zeroed otherwise; at test time all units are kept. Without
scaling, the next layer sees 12·p on average in training but 12 at test time.
Inverted dropout multiplies each kept unit by 1/p during training, so the
expected training signal, 12·p·(1/p), equals the test signal: nothing needs
rescaling at test time.
"""

import random

from labpress.kernel import Figure, Seed, Slider, Toggle, View, widget

UNITS = 12
TRAIN_ROW, TEST_ROW = 5.2, 0.6  # bottom of each row of unit bars, in data units
UNIT_HEIGHT = 1.7               # data units per unit of activation (a kept unit at p = 0.5 is 2 tall)
TOTAL_X, TOTAL_MAX = (13.6, 15.4), 12.0  # the two total-signal bars, scaled to 0..12


def sample_mask(seed, keep):
    """Which units survive, drawn from a generator seeded by the Seed control only.

    Each unit keeps its own uniform draw whatever p is, so raising keep_prob only
    ever brings units back: re-rolls change the mask, the slider thins it out.
    """
    rng = random.Random(seed)
    return [rng.random() < keep for _ in range(UNITS)]


@widget(
    title="Dropout: train vs test signal",
    keep=Slider(0.5, 0.95, value=0.7, step=0.05, label="keep_prob"),
    scaling=Toggle(True, label="Inverted-dropout scaling"),
    seed=Seed(0, rolls=8),
    readouts={"kept": "kept units", "train": "E[train signal]", "test": "test signal", "match": "train = test?"},
)
def dropout(keep, scaling, seed):
    mask = sample_mask(seed, keep)
    kept = sum(mask)
    scale = 1 / keep if scaling else 1.0
    train_units = [scale if m else 0.0 for m in mask]  # what each unit passes on in training
    test_units = [1.0] * UNITS                         # at test time every unit passes on 1

    # Expected training signal: each unit contributes p · scale on average. round() takes
    # away binary noise (0.7 · (1/0.7) is 0.9999999999999998 in floats), so it reads 12.0.
    train = round(UNITS * keep * scale, 10)
    test = float(sum(test_units))
    match = abs(train - test) < 1e-9

    fig = Figure(
        width=480, height=260, x=(-3.8, 16), y=(0, 9.4), margin=(10, 8, 22, 8),  # room at the left for the labels at 11 px on a phone
        title="Dropout: unit outputs in training and at test time, and the total signal",
        description=f"keep_prob {keep:g}, {kept} of {UNITS} units kept, scaling "
                    f"{'on' if scaling else 'off'}: expected training signal {train:g}, test signal {test:g}.",
    )

    for row, values, cls, name in ((TRAIN_ROW, train_units, "lp-s1", "train"),
                                   (TEST_ROW, test_units, "lp-s2", "test")):
        fig.text(-0.2, row, name, "lp-label", "end", dy=-4)
        fig.line(0, row, UNITS, row, "lp-axis")
        fig.line(0, row + UNIT_HEIGHT, UNITS, row + UNIT_HEIGHT, "lp-grid")  # where an output of 1 reaches
        for i, value in enumerate(values):
            if value:
                fig.bar(i + 0.5, row + value * UNIT_HEIGHT, 0.7, base=row, cls=cls)
            else:  # a dropped unit: a cross where its bar would be
                fig.line(i + 0.25, row + 0.15, i + 0.75, row + 0.85, "lp-muted")
                fig.line(i + 0.25, row + 0.85, i + 0.75, row + 0.15, "lp-muted")
    fig.text(-0.2, TRAIN_ROW, f"{kept}/{UNITS} kept", "lp-tick", "end", dy=11)
    fig.text(-0.2, TRAIN_ROW, f"sum {sum(train_units):.3g}", "lp-tick", "end", dy=26)  # this mask's total
    fig.text(-0.2, TRAIN_ROW + UNIT_HEIGHT, "1", "lp-tick", "end", dy=4)
    fig.text(-0.2, TEST_ROW + UNIT_HEIGHT, "1", "lp-tick", "end", dy=4)

    # Total signal: expected training total beside the test total, on one 0..12 scale.
    bottom, height = TEST_ROW, TRAIN_ROW + 2 * UNIT_HEIGHT - TEST_ROW
    fig.line(TOTAL_X[0] - 0.6, bottom, TOTAL_X[1] + 0.6, bottom, "lp-axis")
    fig.line(TOTAL_X[0] - 0.6, bottom + height, TOTAL_X[1] + 0.6, bottom + height, "lp-grid")
    for x, value, cls, name in ((TOTAL_X[0], train, "lp-s1", "train"), (TOTAL_X[1], test, "lp-s2", "test")):
        fig.bar(x, bottom + height * value / TOTAL_MAX, 1.2, base=bottom, cls=cls)
        fig.text(x, bottom + height * value / TOTAL_MAX, f"{value:g}", "lp-tick", "middle", dy=-4)
        fig.text(x, bottom, name, "lp-label", "middle", dy=14)

    return View(fig, {"kept": f"{kept}/{UNITS}", "train": train, "test": test, "match": match})
