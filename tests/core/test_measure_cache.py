"""The Lab's per-measure cache: a field a measure says it ignores must not change its result.

``Measure.ignores`` decides when the Lab hands back a cached result; a field listed there that
the result does depend on serves a stale picture. Every registered measure is checked, fresh
(no cache), with each ignored field changed on its own.
"""

import dataclasses
from collections.abc import Mapping

import numpy as np
import pytest

from gradlab import Lab, LabConfig
from gradlab.measures import MEASURES
from gradlab.measures.context import BaseDraws
from gradlab.measures.eigen import preset_eigs

BASE = LabConfig(hidden=8, steps=30, spectral_radius=1.1, input_scale=0.5, seed=3)


def _eigs() -> tuple:
    _, lam, _ = BaseDraws().get(BASE.cell, BASE.hidden, BASE.inputs, BASE.init, BASE.seed)
    return preset_eigs("diag(0.5, 1.5)", lam)


# another value for every field a measure may ignore (one each, all valid with BASE)
OTHER = {
    "cursor": 7, "clip": 0.5, "loss": "every", "eigs": _eigs(), "steps": 25, "seed": 4,
    "input_scale": 0.3, "spectral_radius": 0.9, "leak": 0.5, "leak_spread": "log-uniform",
    "gate_bias": 1.0, "activation": "relu", "init": "gaussian", "hidden": 6, "inputs": 3,
    "cell": "gru", "cliff_w0": 4.0, "cliff_b0": -1.0, "clip_mode": "value", "lr": 0.5,
    "updates": 10, "task": "sort", "score": "dot", "train_updates": 50,
}


def same(a, b) -> bool:
    """Deep equality of two results (arrays bit for bit, nan equal to nan)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(same(getattr(a, f.name), getattr(b, f.name))
                                          for f in dataclasses.fields(a))
    if isinstance(a, Mapping):
        return isinstance(b, Mapping) and a.keys() == b.keys() and all(same(a[k], b[k])
                                                                       for k in a)
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return a == b


CASES = [(m, f) for m in MEASURES for f in sorted(MEASURES[m].ignores)]


@pytest.mark.parametrize("measure, field", CASES, ids=[f"{m}-{f}" for m, f in CASES])
def test_an_ignored_field_does_not_change_the_result(measure, field):
    assert field in OTHER, f"give OTHER a second value for {field!r}"
    changed = BASE.replace(**{field: OTHER[field]})
    assert changed != BASE
    a = Lab().compute(BASE, [measure])[measure]
    b = Lab().compute(changed, [measure])[measure]
    assert same(a, b), (f"{measure} lists {field!r} in its ignores, but its result changes "
                        f"with it: the Lab would serve a stale result")


def test_cells_follow_hand_set_eigenvalues_of_the_own_cell():
    # the own cell's curve in 'cells' is the 'gradient' curve, edited eigenvalues included,
    # whichever config the Lab saw first
    lab = Lab()
    lab.compute(BASE, ["cells"])
    s = lab.compute(BASE.replace(eigs=OTHER["eigs"]), ["cells", "gradient"])
    np.testing.assert_array_equal(s["cells"].log10_norms[s["cells"].current],
                                  s["gradient"].log10_norms)


@pytest.mark.parametrize("cell", ["rnn", "indrnn", "lstm", "gru"])
@pytest.mark.parametrize("init", ["orthogonal", "gaussian", "identity", "sparse"])
def test_hand_set_eigenvalues_land_in_the_shown_matrix(cell, init):
    # the edit goes to the block whose eigenvalues the lab shows (W_g / W_n for gated cells),
    # also when every block is the same matrix (identity init)
    from gradlab.cells import get_cell
    from gradlab.measures.context import params_for

    c = LabConfig(cell=cell, init=init, hidden=8, spectral_radius=0.9)
    draws = BaseDraws()
    _, lam, _ = draws.get(cell, 8, c.inputs, init, c.seed)
    eigs = preset_eigs("diag(0.5, 1.5)", lam)
    p = params_for(c.replace(eigs=eigs), draws)
    got = np.linalg.eigvals(np.asarray(get_cell(cell).shown_matrix(p), dtype=float))
    want = 0.9 * np.array([complex(re, im) for re, im in eigs])
    np.testing.assert_allclose(np.sort_complex(got), np.sort_complex(want), atol=1e-9)


def test_eigs_of_the_wrong_count_are_refused_not_silently_ignored():
    # before, eigs whose count differed from hidden were accepted and then ignored by the lab
    with pytest.raises(ValueError, match=r"eigs has 2 eigenvalues but hidden=8"):
        LabConfig(hidden=8, eigs=((0.5, 0.0), (1.5, 0.0)))
    with pytest.raises(ValueError, match=r"hidden=6"):
        LabConfig(hidden=8, eigs=OTHER["eigs"]).replace(hidden=6)
    assert LabConfig(hidden=8, eigs=OTHER["eigs"]).replace(hidden=6, eigs=()).hidden == 6


def test_a_bad_eigenvalue_is_named_with_its_index_and_value():
    with pytest.raises(ValueError, match=r"eigs\[1\]=\(11\.0, 0\.0\).*\|λ\| ≤ 10"):
        LabConfig(hidden=2, eigs=((0.5, 0.0), (11.0, 0.0)))


def test_two_lanes_sharing_one_lab_get_what_one_lane_gets():
    # the app's cheap and expensive lanes call one Lab at once; a tiny cache forces evictions
    import threading

    configs = [BASE.replace(spectral_radius=r, cursor=k % 5)
               for k, r in enumerate(np.linspace(0.6, 1.4, 12))]
    lanes = {"cheap": ["gradient", "eigen", "leaky"], "expensive": ["spectrum", "clipping"]}
    want = {(i, m): Lab().compute(c, [m])[m] for i, c in enumerate(configs)
            for names in lanes.values() for m in names}
    lab, got, errors = Lab(cache_size=1), {}, []

    def lane(names):
        try:
            for _ in range(2):  # the second round meets the cache
                for i, c in enumerate(configs):
                    s = lab.compute(c, names)
                    got.update({(i, m): s[m] for m in names})
        except Exception as e:  # reported below, on the test's thread
            errors.append(e)

    threads = [threading.Thread(target=lane, args=(names,)) for names in lanes.values()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors and got.keys() == want.keys()
    assert all(same(got[k], want[k]) for k in want)


def test_the_kept_results_stay_within_their_byte_budget():
    # before, 32 results were kept whatever their size: 240 MB for an LSTM at n = 256,
    # T = 2000 after a dozen slider steps, GBs at the largest sizes
    from gradlab.lab import _nbytes

    big = LabConfig(cell="lstm", hidden=16, steps=400)
    one = _nbytes(Lab().compute(big, ["gates"])["gates"])
    lab = Lab(cache_bytes=3 * one)
    for rho in np.linspace(0.8, 1.2, 8):
        s = lab.compute(big.replace(spectral_radius=float(rho)), ["gates", "gradient"])
        assert lab.cached_bytes <= 3 * one
        assert same(s["gates"], Lab().compute(s.config, ["gates"])["gates"])
    newest = Lab(cache_bytes=1)  # one result bigger than the budget is still kept
    first = newest.compute(big, "gates")["gates"]
    assert newest.compute(big, "gates")["gates"] is first


@pytest.mark.parametrize("kwargs", [{"cache_size": 0}, {"cache_bytes": -1},
                                    {"cache_size": 2.5}])
def test_bad_cache_bounds_are_named(kwargs):
    (name, value), = kwargs.items()
    with pytest.raises(ValueError, match=f"{name}={value!r} must be a positive integer"):
        Lab(**kwargs)
