"""The cell contract: every registered cell (gradlab.cells.CELLS) passes the same tests.

Parametrised over the registry and, per cell, over its defaults and each discrete option
value (``CellSpec.choices``), one at a time. No test here names a cell: a new cell gets the
whole suite by its registry entry and its NumPy twin (tests/contract/twins.py).
"""

import numpy as np
import pytest

import gradlab
from gradlab.cells import CELLS, get_cell
from gradlab.init import SCHEMES

from ..fd import central_differences, close
from .twins import twin

N, M, B, T = 3, 2, 2, 7


def _variants():
    out = []
    for name, spec in CELLS.items():
        out.append(pytest.param(name, {}, id=name))
        for opt, allowed in spec.choices.items():
            for v in allowed:
                if v != spec.options[opt]:
                    out.append(pytest.param(name, {opt: v}, id=f"{name}-{opt}={v}"))
    return out


VARIANTS = _variants()
ALL_CELLS = list(CELLS)


def make(cell, options, dtype=np.float64, seed=0, n=N, m=M):
    """Params with every weight (biases, peepholes, ...) perturbed away from its init."""
    p = gradlab.init_params(cell, n, m, scheme="gaussian", spectral_radius=0.9, seed=seed,
                            **options)
    rng = np.random.default_rng(seed + 100)
    w = {k: np.asarray(v) + 0.3 * rng.standard_normal(v.shape) for k, v in p.weights.items()}
    return p.replace(weights=w).astype(dtype)


def inputs(p, seed=1, batch=B, steps=T):
    """x, h0, c0 (None without a cell state), dh, dc (None likewise)."""
    rng = np.random.default_rng(seed)
    has_c = "c" in get_cell(p.cell).state
    x = rng.standard_normal((batch, steps, p.m))
    h0 = 0.5 * rng.standard_normal((batch, p.n))
    c0 = 0.5 * rng.standard_normal((batch, p.n)) if has_c else None
    dh = rng.standard_normal((batch, steps, p.n))
    dc = rng.standard_normal((batch, steps, p.n)) if has_c else None
    return x, h0, c0, dh, dc


def run(p, x, h0, c0, dh, dc=None, truncate=None):
    tr = gradlab.forward(p, x, h0, c0)
    kw = {} if dc is None else {"dc": dc}
    return tr, gradlab.backward(p, tr, dh, truncate=truncate, **kw)


# --- the registry entry -----------------------------------------------------------------------


def test_registry_order_and_unknown_names():
    assert list(CELLS)[:4] == ["rnn", "indrnn", "lstm", "gru"]
    with pytest.raises(ValueError, match="not one of"):
        get_cell("transformer")


@pytest.mark.parametrize("cell", ALL_CELLS)
def test_registry_entry_describes_what_the_cell_does(cell):
    spec = get_cell(cell)
    assert spec.name == cell
    p = make(cell, {})
    assert set(spec.required) <= set(p.weights) <= set(spec.weights)
    for k, v in p.weights.items():
        assert v.shape == spec.weights[k].dims(N, M), k
    assert spec.recurrent in p.weights
    assert set(spec.options) == set(p.options)
    for opt, allowed in spec.choices.items():
        assert spec.options[opt] in allowed
    x, h0, c0, _, _ = inputs(p)
    tr = gradlab.forward(p, x, h0, c0)
    assert tuple(tr.gates) == spec.gates
    assert (tr.c is not None) == ("c" in spec.state)
    assert set(spec.unit_gates) <= set(spec.gates)
    for g in spec.unit_gates:
        assert np.all((tr.gates[g] >= 0) & (tr.gates[g] <= 1)), g
    if spec.highway is not None:
        gate, block = spec.highway
        assert gate in spec.gates and 0 <= block < spec.blocks
    S = np.asarray(spec.shown_matrix(p))
    assert S.shape == (N, N)
    J = gradlab.step_jacobians(p, tr)
    assert J.shape == (B, T, N * len(spec.state), N * len(spec.state))


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("cell", ALL_CELLS)
def test_spectral_radius_scales_the_shown_matrix(cell, scheme):
    for rho in (0.5, 1.3):
        p = gradlab.init_params(cell, 20, 2, scheme=scheme, spectral_radius=rho, seed=2)
        lam = np.linalg.eigvals(get_cell(cell).shown_matrix(p))
        np.testing.assert_allclose(np.max(np.abs(lam)), rho, rtol=1e-12)


# --- NumPy twin ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cell, options", VARIANTS)
def test_forward_matches_twin(cell, options):
    p = make(cell, options)
    x, h0, c0, _, _ = inputs(p)
    tr = gradlab.forward(p, x, h0, c0)
    ref = twin(cell)[0](p, x, h0, c0)
    close(tr.h, ref["h"], 1e-12)
    if "c" in ref:
        close(tr.c, ref["c"], 1e-12)
    assert set(tr.gates) == set(ref["gates"])
    for k in tr.gates:
        close(tr.gates[k], ref["gates"][k], 1e-12)


@pytest.mark.parametrize("truncate", [None, 1, 5, T])
@pytest.mark.parametrize("cell, options", VARIANTS)
def test_backward_matches_twin(cell, options, truncate):
    p = make(cell, options)
    x, h0, c0, dh, _ = inputs(p)
    _, g = run(p, x, h0, c0, dh, truncate=truncate)
    ref = twin(cell)[1](p, x, h0, dh, c0, truncate=truncate or 0)
    close(g.h, ref["h"], 1e-12)
    close(g.h0, ref["h0"], 1e-12)
    close(g.x, ref["x"], 1e-12)
    if "c" in ref:
        close(g.c, ref["c"], 1e-12)
        close(g.c0, ref["c0"], 1e-12)
    assert set(g.params) == set(ref["params"]) == set(p.weights)
    for k in g.params:
        close(g.params[k], ref["params"][k], 1e-12)


@pytest.mark.parametrize("cell, options", VARIANTS)
def test_step_jacobians_match_twin(cell, options):
    fn = twin(cell)[2]
    if fn is None:
        pytest.skip(f"the {cell} twin has no step Jacobians (the chain test covers them)")
    p = make(cell, options)
    x, h0, c0, _, _ = inputs(p)
    close(gradlab.step_jacobians(p, gradlab.forward(p, x, h0, c0)), fn(p, x, h0, c0), 1e-12)


def _one_step(p, x1, s):
    """s_1 (d,) from s_0 = s (d,) and one input step x1 (1, 1, m)."""
    c0 = s[None, p.n:] if s.shape[0] > p.n else None
    nxt = gradlab.forward(p, x1, s[None, :p.n], c0)
    return nxt.h[0, 0] if c0 is None else np.concatenate([nxt.h[0, 0], nxt.c[0, 0]])


@pytest.mark.parametrize("cell, options", VARIANTS)
def test_step_jacobians_match_one_step_differences(cell, options):
    """J_t = ds_t/ds_{t-1} by central differences of one forward step started from s_{t-1}."""
    p = make(cell, options)
    x, h0, c0, _, _ = inputs(p)
    tr = gradlab.forward(p, x, h0, c0)
    J = gradlab.step_jacobians(p, tr)  # (B, T, d, d)
    has_c = tr.c is not None
    for t in (1, T // 2, T):
        h_prev = h0 if t == 1 else tr.h[:, t - 2]
        c_prev = (c0 if t == 1 else tr.c[:, t - 2]) if has_c else None
        s_prev = h_prev if not has_c else np.concatenate([h_prev, c_prev], 1)  # (B, d)

        for bi in range(B):
            num = np.stack([central_differences(lambda s, i=i, bi=bi, t=t: _one_step(
                p, x[bi:bi + 1, t - 1:t], s)[i], s_prev[bi]) for i in range(s_prev.shape[1])])
            close(J[bi, t - 1], num, 1e-7)


# --- finite differences -----------------------------------------------------------------------


def _loss(p, x, h0, c0, dh, dc):
    tr = gradlab.forward(p, x, h0, c0)
    out = np.sum(dh * tr.h)
    return out + np.sum(dc * tr.c) if dc is not None else out


@pytest.mark.parametrize("cell, options", VARIANTS)
def test_gradients_match_central_differences(cell, options):
    p = make(cell, options)
    x, h0, c0, dh, dc = inputs(p)
    _, g = run(p, x, h0, c0, dh, dc)
    for k, v in p.weights.items():
        num = central_differences(lambda a, k=k: _loss(p.replace(weights={k: a}), x, h0, c0,
                                                       dh, dc), v)
        close(g.params[k], num, 1e-6)
    close(g.x, central_differences(lambda a: _loss(p, a, h0, c0, dh, dc), x), 1e-6)
    close(g.h0, central_differences(lambda a: _loss(p, x, a, c0, dh, dc), h0), 1e-6)
    if c0 is not None:
        close(g.c0, central_differences(lambda a: _loss(p, x, h0, a, dh, dc), c0), 1e-6)


@pytest.mark.parametrize("cell, options", VARIANTS)
def test_step_jacobians_carry_the_gradient_back(cell, options):
    """With an upstream gradient at the last step only, dL/ds_k = J_{k+1}^T dL/ds_{k+1}."""
    p = make(cell, options)
    x, h0, c0, dh, dc = inputs(p)
    dh[:, :-1] = 0.0
    if dc is not None:
        dc[:, :-1] = 0.0
    tr, g = run(p, x, h0, c0, dh, dc)
    J = gradlab.step_jacobians(p, tr)  # (B, T, d, d)

    def state(k):  # dL/ds_k, k = 0..T
        h = g.h0 if k == 0 else g.h[:, k - 1]
        return h if g.c is None else np.concatenate([h, g.c0 if k == 0 else g.c[:, k - 1]], 1)

    for k in range(T):
        close(state(k), np.einsum("bij,bi->bj", J[:, k], state(k + 1)), 1e-12)


# --- truncation --------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ALL_CELLS)
def test_truncation_bounds(cell):
    """truncate=T (or more) is full BPTT, bit for bit; truncate=1 lets no gradient cross from
    one step to the one before (only h0 still gets step 1's, as s_0 shares its chunk)."""
    p = make(cell, {})
    x, h0, c0, dh, dc = inputs(p)
    _, full = run(p, x, h0, c0, dh, dc)
    for k in (T, 10 * T):
        _, same = run(p, x, h0, c0, dh, dc, truncate=k)
        for name in full.params:
            np.testing.assert_array_equal(same.params[name], full.params[name])
        np.testing.assert_array_equal(same.h, full.h)
    _, one = run(p, x, h0, c0, dh, dc, truncate=1)
    np.testing.assert_array_equal(one.h, dh)
    if dc is not None:
        np.testing.assert_array_equal(one.c, dc)


# --- PyTorch -----------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ALL_CELLS)
def test_matches_pytorch(cell):
    spec = get_cell(cell)
    p = make(cell, {})
    if not spec.torch:
        with pytest.raises(ValueError, match="no PyTorch counterpart"):
            gradlab.to_torch(p)
        pytest.skip(f"torch.nn has no {spec.label}")
    torch = pytest.importorskip("torch")
    sd = gradlab.to_torch(p)
    back = gradlab.from_torch(cell, sd)
    for k, v in p.weights.items():
        np.testing.assert_array_equal(back.weights[k], v)
    net = getattr(torch.nn, spec.label)(M, N, batch_first=True, dtype=torch.float64)
    net.load_state_dict({k: torch.tensor(v) for k, v in sd.items()})
    x, h0, c0, dh, _ = inputs(p)
    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0[None], requires_grad=True)
    c0t = None if c0 is None else torch.tensor(c0[None], requires_grad=True)
    out, _ = net(xt, h0t if c0t is None else (h0t, c0t))
    (out * torch.tensor(dh)).sum().backward()
    tr, g = run(p, x, h0, c0, dh)
    close(tr.h, out.detach().numpy(), 1e-12)
    theirs = {name: getattr(net, name).grad.numpy() for name in sd}
    for name, ours in gradlab.to_torch(g).items():
        close(ours, theirs[name], 1e-10)
    close(g.x, xt.grad.numpy(), 1e-10)
    close(g.h0, h0t.grad.numpy()[0], 1e-10)
    if c0t is not None:
        close(g.c0, c0t.grad.numpy()[0], 1e-10)


# --- float32, threads ----------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ALL_CELLS)
def test_float32_is_accepted(cell):
    assert gradlab.init_params(cell, 4, 2, dtype=np.float32).dtype == np.float32
    p64 = make(cell, {})
    p32 = p64.astype(np.float32)
    assert all(v.dtype == np.float32 for v in p32.weights.values())
    x, h0, c0, dh, dc = inputs(p64)
    tr64, g64 = run(p64, x, h0, c0, dh, dc)
    tr32, g32 = run(p32, x, h0, c0, dh, dc)
    assert tr32.h.dtype == np.float32 and g32.h.dtype == np.float32
    close(tr32.h, tr64.h, 1e-5)
    assert set(g32.params) == set(g64.params)
    for k in g64.params:
        assert g32.params[k].dtype == np.float32, k
        close(g32.params[k], g64.params[k], 1e-4)
    close(g32.x, g64.x, 1e-4)


@pytest.mark.parametrize("cell", ALL_CELLS)
def test_bits_equal_across_threading_choices(cell, monkeypatch):
    """A size big enough to be cut for two threads gives the same bits whatever
    GRADLAB_THREADS says (unset, 1 or 2)."""
    p = gradlab.init_params(cell, 96, 3, scheme="orthogonal", spectral_radius=1.0, seed=4)
    x, h0, c0, dh, dc = inputs(p, batch=1, steps=500)
    results = []
    for threads in (None, "1", "2"):
        if threads is None:
            monkeypatch.delenv("GRADLAB_THREADS", raising=False)
        else:
            monkeypatch.setenv("GRADLAB_THREADS", threads)
        tr, g = run(p, x, h0, c0, dh, dc, truncate=50)
        results.append({"h": tr.h, "c": tr.c, "gh": g.h, "gx": g.x, "gh0": g.h0,
                        **{f"d{k}": v for k, v in g.params.items()},
                        **{f"gate {k}": v for k, v in tr.gates.items()}})
    for other in results[1:]:
        for k, v in results[0].items():
            if v is None:
                assert other[k] is None
            else:
                np.testing.assert_array_equal(other[k], v, err_msg=k)
