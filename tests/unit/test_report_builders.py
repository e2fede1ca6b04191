"""Checks of the report tests' study builders (tests/support/reports.py)."""

from __future__ import annotations

from tests.support.reports import trial


def test_trial_carries_the_contract_attributes() -> None:
    t = trial(2, 32, 0.5, n_params=999, curve=[0.9, 0.5])
    assert t.params["units"] == 32 and t.params["depth"] == 2
    assert t.user_attrs == {"depth": 2, "widths": [32, 32], "n_params": 999, "train_seconds": 10.0, "epochs_trained": 2}
    assert t.intermediate_values == {0: 0.9, 1: 0.5}


def test_per_layer_and_iso_params_trials_use_the_fixed_parameter_names() -> None:
    assert {"units_0", "units_1"} <= trial(2, [8, 16], 0.1, mode="per_layer").params.keys()
    iso = trial(3, None, 0.1, mode="iso_params", n_params=5000)
    assert iso.params["target_params"] == 5000 and "widths" not in iso.user_attrs
