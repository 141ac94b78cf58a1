import numpy as np

from dilt.clustering import heat_kernel, spectral_clusters


def _planted(sizes=(5, 4, 6), seed=0):
    """Distances small within planted blocks and large between them (nodes shuffled)."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(len(sizes)), sizes)
    truth = truth[rng.permutation(len(truth))]
    D = np.where(truth[:, None] == truth[None, :], 0.2, 1.0)
    D = D + 0.05 * rng.random(D.shape)
    D = 0.5 * (D + D.T)
    np.fill_diagonal(D, 0)
    return D, truth


def _same_partition(a, b):
    return np.array_equal(a[:, None] == a[None, :], b[:, None] == b[None, :])


def test_recovers_planted_blocks_with_given_k():
    D, truth = _planted()
    labels, info = spectral_clusters(D, n_clusters=3)
    assert _same_partition(labels, truth) and info["k"] == 3
    assert labels[0] == 0  # renumbered by first appearance


def test_eigengap_picks_planted_k():
    for sizes in [(5, 4, 6), (6, 6), (3, 4, 3, 5)]:
        D, truth = _planted(sizes)
        labels, info = spectral_clusters(D)
        assert info["k"] == len(sizes)
        assert _same_partition(labels, truth)
        assert len(info["eigenvalues"]) == len(D)


def test_heat_kernel_bandwidth_and_zero_guard():
    D, _ = _planted()
    W, sigma = heat_kernel(D)
    assert sigma == np.median(D[~np.eye(len(D), dtype=bool)])
    assert np.allclose(np.diag(W), 1) and np.array_equal(W, W.T)
    W0, sigma0 = heat_kernel(np.zeros((4, 4)))
    assert sigma0 == 1.0 and np.all(W0 == 1)
    labels, info = spectral_clusters(np.zeros((4, 4)), n_clusters=2)
    assert info["sigma"] == 1.0 and len(labels) == 4
