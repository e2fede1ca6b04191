"""Importances read the derived trials without a scratch study, and still tell them apart."""

import random

import optuna
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.importance import FanovaImportanceEvaluator, PedAnovaImportanceEvaluator, get_param_importances

from stacksearch.report import param_importances


def _study(n: int = 400) -> optuna.Study:
    rng = random.Random(0)
    dists = {
        "depth": IntDistribution(1, 4),
        "units": IntDistribution(8, 256, log=True),
        "learning_rate": FloatDistribution(1e-4, 1e-2, log=True),
    }
    study = optuna.create_study()
    for _ in range(n):
        params = {
            "depth": rng.randint(1, 4),
            "units": rng.choice([8, 16, 32, 64, 128, 256]),
            "learning_rate": 1e-4 * 100 ** rng.random(),
        }
        value = (params["learning_rate"] - 3e-3) ** 2 * 1e5 + 0.05 * params["depth"] + 0.01 * rng.random()
        study.add_trial(
            optuna.trial.create_trial(
                params=params,
                distributions=dists,
                value=value,
                user_attrs={"depth": params["depth"], "widths": [params["units"]] * params["depth"]},
            )
        )
    return study


def test_importances_match_optuna_on_a_real_study():
    study = _study()
    result = param_importances(study)
    scratch = optuna.create_study()
    rates = [t.params["learning_rate"] for t in study.trials]
    dists = {
        "depth": IntDistribution(1, 4),
        "width": FloatDistribution(8, 256, log=True),
        "learning_rate": FloatDistribution(min(rates), max(rates), log=True),
    }  # observed ranges
    for t in study.trials:
        scratch.add_trial(
            optuna.trial.create_trial(
                params={
                    "depth": t.params["depth"],
                    "width": float(t.params["units"]),
                    "learning_rate": t.params["learning_rate"],
                },
                distributions=dists,
                value=t.value,
            )
        )
    expected = get_param_importances(scratch, evaluator=PedAnovaImportanceEvaluator())
    assert result.ped_anova == {k: float(v) for k, v in expected.items()}
    assert max(result.ped_anova, key=result.ped_anova.get) == "learning_rate"
    fanova = get_param_importances(scratch, evaluator=FanovaImportanceEvaluator(n_trees=32, max_depth=6, seed=0))
    assert result.fanova == {k: float(v) for k, v in fanova.items()}
