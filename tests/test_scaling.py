"""The seed table's speed-ups by hand, and the scaling model's fit: exact on its own kind of data."""

import numpy as np
import pytest

from dlcourse.hardware.scaling import (
    SEED_TABLE,
    TERMS,
    TimingTable,
    fit_scaling,
    predict,
    reading,
    speedup_and_efficiency,
    term_seconds,
)

SEED_MAX_RELATIVE_ERROR = 0.07    # measured: 0.069 (batch 512 on 4 GPUs)


def test_the_seed_table_is_the_papers_table_1():
    assert SEED_TABLE.batches == (32, 64, 128, 256, 512) and SEED_TABLE.gpus == (1, 2, 4)
    assert SEED_TABLE.seconds[-1] == (421, 289, 205) and SEED_TABLE.seconds[0] == (202, 184, 170)
    assert "Table 1" in SEED_TABLE.source


def test_speedup_and_efficiency_by_hand_for_batch_512():
    speedup, efficiency = speedup_and_efficiency(SEED_TABLE)
    assert speedup[-1] == pytest.approx([1.0, 421 / 289, 421 / 205])         # 1, 1.457, 2.054
    assert efficiency[-1] == pytest.approx([1.0, 421 / 289 / 2, 421 / 205 / 4])
    assert round(speedup[-1, 2], 2) == 2.05 and round(efficiency[-1, 2], 2) == 0.51


def test_the_fit_recovers_known_parameters_from_a_table_they_generated():
    truth = {"serial": 120.0, "per_step": 900.0, "compute": 400.0, "padding": 5000.0, "communication": 150.0}
    batches, gpus = (16, 32, 64, 128, 256, 512), (1, 2, 4, 8)
    # the model written out term by term, not through the module's design matrix
    seconds = tuple(tuple(120 + 900 / b + (400 - 5000 / b) / n + 150 * (n - 1) / b for n in gpus) for b in batches)
    fit = fit_scaling(TimingTable(batches, gpus, seconds))
    assert fit.parameters == pytest.approx(truth, rel=1e-9)
    assert fit.max_relative_error < 1e-12
    assert predict(fit.parameters, [64], [4])[0] == pytest.approx(120 + 900 / 64 + (400 - 5000 / 64) / 4 + 450 / 64)


def test_a_missing_term_is_fitted_as_zero_not_negative():
    batches, gpus = (32, 64, 128, 256), (1, 2, 4)
    seconds = tuple(tuple(100 + 300 / n for n in gpus) for b in batches)     # Amdahl: serial plus divided
    fit = fit_scaling(TimingTable(batches, gpus, seconds))
    assert fit.parameters == pytest.approx({"serial": 100, "per_step": 0, "compute": 300, "padding": 0,
                                            "communication": 0}, abs=1e-9)


def test_the_seed_table_fit_and_its_errors():
    fit = fit_scaling(SEED_TABLE)
    measured = np.array(SEED_TABLE.seconds, dtype=float)
    assert fit.fitted.shape == measured.shape
    assert all(fit.parameters[t] >= 0 for t in TERMS)
    np.testing.assert_allclose(fit.absolute_error, fit.fitted - measured)
    np.testing.assert_allclose(fit.relative_error, (fit.fitted - measured) / measured)
    print(f"seed table: max relative error {fit.max_relative_error:.3f}", fit.parameters)
    assert fit.max_relative_error < SEED_MAX_RELATIVE_ERROR
    # and the fitted table is what the parameters predict, cell by cell
    for i, b in enumerate(SEED_TABLE.batches):
        for j, n in enumerate(SEED_TABLE.gpus):
            parts = term_seconds(fit.parameters, b, n)
            assert sum(parts.values()) == pytest.approx(fit.fitted[i, j])


def test_the_reading_names_the_dominant_term_at_4_gpus():
    fit = fit_scaling(SEED_TABLE)
    parts = term_seconds(fit.parameters, 512, 4)
    assert max(parts, key=parts.get) == "serial"
    assert parts["serial"] == pytest.approx(fit.parameters["serial"])
    text = reading(fit, SEED_TABLE, gpus=4)
    assert "serial part" in text and "batch 512" in text


def test_bad_tables_and_parameters_are_refused():
    with pytest.raises(ValueError, match="rows"):
        TimingTable((32, 64), (1, 2), ((1.0, 2.0),))
    with pytest.raises(ValueError, match="positive"):
        TimingTable((32,), (1,), ((0.0,),))
    with pytest.raises(ValueError, match="first column must be 1 GPU"):
        speedup_and_efficiency(TimingTable((32,), (2,), ((1.0,),)))
    with pytest.raises(ValueError, match="cannot fix 5 parameters"):
        fit_scaling(TimingTable((32, 64), (1, 2), ((3.0, 2.0), (4.0, 3.0))))
    with pytest.raises(ValueError, match="parameters must be exactly"):
        predict({"serial": 1.0}, [32], [1])
