import numpy as np
import ot
import pytest
from threadpoolctl import threadpool_limits

from dilt.gw import (
    SOLVERS,
    _local_search,
    _perm_value,
    distance_matrix,
    gw_coupling,
    gw_distance,
    gw_matrix,
    gw_pairs,
    gw_value,
    reference_values,
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


@pytest.mark.parametrize("solver", SOLVERS)
def test_gw_matrix_properties(solver):
    mats = _layers()
    labels, D = gw_matrix(mats, solver=solver)
    assert labels == list(mats)
    assert np.array_equal(D, D.T) and not np.diag(D).any() and (D >= 0).all()
    # each pair's value is at most that of the identity coupling's refinement start
    assert D[0, 1] <= gw_value(mats[labels[0]], mats[labels[1]], np.eye(40) / 40) + 1e-12


@pytest.mark.parametrize("solver", SOLVERS)
def test_value_is_the_exact_objective_of_the_returned_coupling(solver):
    mats = _layers()
    C1, C2 = mats["p0:layer0"], mats["p1:layer2"]
    value, T = gw_coupling(C1, C2, solver)
    np.testing.assert_allclose(T.sum(axis=0), 1 / 40)
    np.testing.assert_allclose(T.sum(axis=1), 1 / 40)
    assert value == gw_value(C1, C2, T) or value == pytest.approx(gw_value(C1, C2, T), rel=1e-12)
    assert value == gw_pairs(mats, [("p0:layer0", "p1:layer2")], solver=solver)[0]


def test_pot_solver_is_never_worse_than_pot_alone():
    mats = _layers()
    pairs = [("p0:layer0", "p1:layer0"), ("p0:layer0", "p1:layer2"), ("p1:layer1", "p0:layer2")]
    values = gw_pairs(mats, pairs, solver="pot")
    with threadpool_limits(1):
        for (a, b), value in zip(pairs, values, strict=True):
            T = ot.gromov.gromov_wasserstein(mats[a], mats[b])
            assert value <= gw_value(mats[a], mats[b], T)
    for solver in ("local", "local+ecc"):
        assert (values <= gw_pairs(mats, pairs, solver=solver)).all()
    assert (gw_pairs(mats, pairs) <= gw_pairs(mats, pairs, solver="local")).all()


def test_local_search_finds_a_hidden_permutation():
    C = distance_matrix(_reps(n=60))
    hidden = np.random.default_rng(4).permutation(60)
    C2 = C[hidden][:, hidden]  # same geometry, rows shuffled: GW = 0 at sigma = argsort(hidden)
    sigma = _local_search(C, C2, np.arange(60))
    assert sorted(sigma) == list(range(60))
    assert _perm_value(C, C2, sigma) < 0.05 * _perm_value(C, C2, np.arange(60))


def test_reference_values_are_seeded_pot_runs():
    mats = _layers()
    C1, C2 = mats["p0:layer0"], mats["p1:layer2"]
    with threadpool_limits(1):
        refs = reference_values(C1, C2, restarts=2, seed=3)
        assert list(refs) == ["pot", "pot_identity", "pot_random0", "pot_random1"]
        assert refs == reference_values(C1, C2, restarts=2, seed=3)
        T = ot.gromov.gromov_wasserstein(C1.astype(float), C2.astype(float))
        assert refs["pot"] == gw_value(C1, C2, T)
        T = ot.gromov.gromov_wasserstein(C1.astype(float), C2.astype(float), G0=np.eye(40) / 40)
        assert refs["pot_identity"] == gw_value(C1, C2, T)
    # the best known value is the minimum over the references and the engine
    engine = gw_pairs(mats, [("p0:layer0", "p1:layer2")])[0]
    best = min(*refs.values(), engine)
    assert best <= engine and all(best <= v for v in refs.values())


@pytest.mark.parametrize("solver", ["local", "local+ecc"])
def test_torch_batched_engine_matches_numpy(solver):
    pytest.importorskip("torch")
    mats = _layers(count=8)
    labels = list(mats)
    pairs = [(a, b) for i, a in enumerate(labels) for b in labels[i + 1 :]]
    ref = gw_pairs(mats, pairs, solver=solver)
    got = gw_pairs(mats, pairs, solver=solver, device="cpu")
    assert got.dtype == np.float64 and got.shape == ref.shape
    # same search in float32 on other arithmetic: same optimum on most pairs, never far
    assert np.mean(np.isclose(got, ref, rtol=1e-6, atol=1e-12)) >= 0.9
    assert (got <= 1.05 * ref + 1e-12).all() and (ref <= 1.05 * got + 1e-12).all()


def test_torch_batched_values_are_exact_and_find_a_hidden_permutation():
    torch = pytest.importorskip("torch")
    from dilt import gw_torch

    C = distance_matrix(_reps(n=60))
    hidden = np.random.default_rng(4).permutation(60)
    C1 = torch.from_numpy(np.stack([C, C]))
    C2 = torch.from_numpy(np.stack([C[hidden][:, hidden], C]))
    sigma = gw_torch.local_search(C1, C2, torch.arange(60).repeat(2, 1))
    values = gw_torch.perm_values(C1, C2, sigma)
    for k in range(2):
        assert sorted(sigma[k].tolist()) == list(range(60))
        assert values[k].item() == pytest.approx(
            _perm_value(C1[k].numpy(), C2[k].numpy(), sigma[k].numpy()), rel=1e-12)
    assert values[0] < 0.05 * _perm_value(C, C2[0].numpy(), np.arange(60))
    assert values[1] == 0


def test_gw_matrix_parallel_is_identical():
    mats = _layers()
    for solver in ("local+ecc", "pot"):
        assert np.array_equal(gw_matrix(mats, n_jobs=1, solver=solver)[1],
                              gw_matrix(mats, n_jobs=3, solver=solver)[1])


def test_gw_matrix_rejects_bad_input():
    C = distance_matrix(_reps())
    with pytest.raises(ValueError, match="zero diagonal"):
        gw_matrix({"a": C, "b": C + 1})
    with pytest.raises(ValueError, match="n x n"):
        gw_matrix({"a": C, "b": C[:10, :10]})
    with pytest.raises(ValueError, match="solver"):
        gw_matrix({"a": C, "b": C}, solver="fast")
