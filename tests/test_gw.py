import numpy as np
import ot
import pytest
from threadpoolctl import threadpool_limits

from dilt.gw import (
    _perm_value,
    _swap_polish,
    distance_matrix,
    gw_distance,
    gw_matrix,
    gw_pairs,
    gw_value,
)


def _reps(n=40, d=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)) @ rng.normal(size=(3, d)) + 0.1 * rng.normal(size=(n, d))


def _layers(n=40, count=6, seed=0):
    """Representations that drift gradually, like consecutive layers of a network."""
    rng = np.random.default_rng(seed)
    x = _reps(n, 12, seed)
    out = {}
    for k in range(count):
        x = np.tanh(x @ (np.eye(12) + 0.4 * rng.normal(size=(12, 12)) / np.sqrt(12)))
        out[f"p{k % 2}:layer{k // 2}"] = distance_matrix(x)
    return out


def test_distance_matrix_normalised_and_exact():
    x = _reps()
    C = distance_matrix(x)
    assert C.dtype == np.float32 and C.shape == (40, 40)
    ref = np.linalg.norm(x[:, None] - x[None], axis=-1)
    ref /= ref[~np.eye(40, dtype=bool)].mean()
    np.testing.assert_allclose(C, ref, atol=1e-5)
    assert np.array_equal(C, C.T) and not np.diag(C).any()


def test_distance_matrix_flattens_and_accepts_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).normal(size=(10, 2, 3, 3)).astype(np.float32)
    np.testing.assert_array_equal(
        distance_matrix(torch.from_numpy(x)), distance_matrix(x.reshape(10, -1))
    )


def test_distance_matrix_all_zero_reps():
    assert not distance_matrix(np.zeros((5, 4))).any()


def test_gw_distance_equals_pot():
    C1, C2 = distance_matrix(_reps(seed=1)), distance_matrix(_reps(seed=2))
    ref = ot.gromov.gromov_wasserstein2(
        C1.astype(np.float64), C2.astype(np.float64), ot.unif(40), ot.unif(40), "square_loss"
    )
    assert gw_distance(C1, C2) == pytest.approx(float(ref), rel=1e-12)


def test_gw_value_matches_pot_objective():
    C1, C2 = distance_matrix(_reps(seed=1)), distance_matrix(_reps(seed=2))
    T, log = ot.gromov.gromov_wasserstein(C1.astype(float), C2.astype(float), log=True)
    assert gw_value(C1, C2, T) == pytest.approx(float(log["gw_dist"]), rel=1e-9)


def test_gw_invariant_to_rotation_and_scale():
    x = _reps()
    rotation, _ = np.linalg.qr(np.random.default_rng(3).normal(size=(12, 12)))
    C = distance_matrix(x)
    for y in (x @ rotation, 7.5 * x):
        Cy = distance_matrix(y)
        assert gw_distance(C, Cy, G0=np.eye(40) / 40) == pytest.approx(0, abs=1e-10)
        _, D = gw_matrix({"x": C, "y": Cy})
        assert D[0, 1] == pytest.approx(0, abs=1e-10)


def test_gw_matrix_properties():
    mats = _layers()
    for solver in ("pot", "swap"):
        labels, D = gw_matrix(mats, solver=solver)
        assert labels == list(mats)
        assert np.array_equal(D, D.T) and not np.diag(D).any() and (D >= 0).all()


def test_pot_solver_is_never_worse_than_pot_alone():
    mats = _layers()
    pairs = [("p0:layer0", "p1:layer0"), ("p0:layer0", "p1:layer2"), ("p1:layer1", "p0:layer2")]
    values = gw_pairs(mats, pairs)
    with threadpool_limits(1):
        for (a, b), value in zip(pairs, values, strict=True):
            T = ot.gromov.gromov_wasserstein(mats[a], mats[b])
            assert value <= gw_value(mats[a], mats[b], T)
    swap = gw_pairs(mats, pairs, solver="swap")
    assert (values <= swap).all()


def test_swap_polish_only_improves_and_finds_a_hidden_permutation():
    C = distance_matrix(_reps(n=60))
    hidden = np.random.default_rng(4).permutation(60)
    C2 = C[hidden][:, hidden]  # same geometry, rows shuffled: GW = 0
    start = np.arange(60)
    sigma = _swap_polish(C, C2, start, rounds=200)
    assert sorted(sigma) == list(range(60))
    assert _perm_value(C, C2, sigma) < 0.5 * _perm_value(C, C2, start)
    one = _swap_polish(C, C2, start, rounds=1)
    assert _perm_value(C, C2, sigma) <= _perm_value(C, C2, one) < _perm_value(C, C2, start)


def test_gw_matrix_parallel_is_identical():
    mats = _layers()
    assert np.array_equal(gw_matrix(mats, n_jobs=1)[1], gw_matrix(mats, n_jobs=3)[1])


def test_gw_matrix_rejects_bad_input():
    C = distance_matrix(_reps())
    with pytest.raises(ValueError, match="zero diagonal"):
        gw_matrix({"a": C, "b": C + 1})
    with pytest.raises(ValueError, match="n x n"):
        gw_matrix({"a": C, "b": C[:10, :10]})
    with pytest.raises(ValueError, match="solver"):
        gw_matrix({"a": C, "b": C}, solver="fast")
