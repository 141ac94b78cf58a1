"""Spectral clustering of layers from their pairwise GW distances."""

import numpy as np
from scipy.sparse.csgraph import laplacian
from sklearn.cluster import SpectralClustering


def heat_kernel(D):
    """Similarity exp(-D^2 / (2 sigma^2)) with sigma the median off-diagonal distance.

    A zero median falls back to the mean positive distance, and to 1 when all distances
    are zero. Returns (W, sigma).
    """
    D = np.asarray(D, dtype=np.float64)
    off = D[~np.eye(len(D), dtype=bool)]
    sigma = float(np.median(off)) if off.size else 0.0
    if not sigma > 0:
        positive = off[off > 0]
        sigma = float(positive.mean()) if positive.size else 1.0
    W = np.exp(-(D**2) / (2.0 * sigma**2))
    return 0.5 * (W + W.T), sigma


def spectral_clusters(D, n_clusters=None, seed=0, max_k=10):
    """Cluster the items of distance matrix ``D`` with scikit-learn spectral clustering.

    The affinity is ``heat_kernel(D)``. When ``n_clusters`` is None, k in 2..max_k (and at
    most n - 1) maximises the eigengap lambda_k - lambda_{k-1} of the normalised Laplacian
    (eigenvalues ascending, 0-based). Labels are renumbered in order of first appearance.
    Returns (labels, info) with info = {"sigma", "eigenvalues", "k"}.
    """
    W, sigma = heat_kernel(D)
    n = len(W)
    eigenvalues = np.linalg.eigvalsh(laplacian(W, normed=True)) if n else np.zeros(0)
    if n_clusters is None:
        ks = range(2, min(max_k, n - 1) + 1)
        k = max(ks, key=lambda k: eigenvalues[k] - eigenvalues[k - 1]) if ks else 1
    else:
        k = min(int(n_clusters), n)
    if k <= 1:
        raw = np.zeros(n, dtype=int)
    elif k == n:
        raw = np.arange(n)
    else:
        model = SpectralClustering(n_clusters=k, affinity="precomputed", random_state=seed)
        raw = model.fit_predict(W)
    first = {}
    labels = np.array([first.setdefault(c, len(first)) for c in raw], dtype=int)
    info = {"sigma": sigma, "eigenvalues": eigenvalues.tolist(), "k": int(k)}
    return labels, info
