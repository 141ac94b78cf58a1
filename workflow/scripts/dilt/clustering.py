"""Spectral clustering of layers from their pairwise GW distances, with room for "no structure".

The number of clusters k comes from the eigengap of the normalised Laplacian; k = 1 wins
unless two structureless references both lose (``spectral_clusters``). Neither the plain gap
lambda_1 - lambda_0 nor a reference on the spectrum alone can decide k = 1: at the median
bandwidth the affinity graph is nearly complete, so three well separated blocks (within /
between distance 0.2 / 1.0) leave lambda_1 near 0.9, and lambda_1 - lambda_0 is the largest
gap with or without blocks; and the spectrum measures spread, not separation: points
uniform on a line, in a 3-D ball, or GW distances between independent random layers give
eigengaps as large as planted blocks (their leading linear modes).
"""

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


def laplacian_spectrum(W):
    """Ascending eigenvalues of the normalised Laplacian of affinity ``W``."""
    return np.linalg.eigvalsh(laplacian(W, normed=True)) if len(W) else np.zeros(0)


def largest_gap(eigenvalues, max_k):
    """(k, gap) maximising lambda_k - lambda_{k-1} over k in 2..min(max_k, n - 1), or
    (1, nan) when there is no such k."""
    ks = np.arange(2, min(max_k, len(eigenvalues) - 1) + 1)
    if not ks.size:
        return 1, float("nan")
    gaps = eigenvalues[ks] - eigenvalues[ks - 1]
    best = int(np.argmax(gaps))
    return int(ks[best]), float(gaps[best])


def shuffled_distances(D, rng):
    """Exchangeable-noise reference for ``D``: its off-diagonal distances permuted at random
    over the pairs (kept symmetric). Same values, so the same median bandwidth and affinity
    values, but no relation among the items."""
    n = len(D)
    upper = np.triu_indices(n, 1)
    out = np.zeros((n, n))
    out[upper] = np.asarray(D, dtype=np.float64)[upper][rng.permutation(len(upper[0]))]
    return out + out.T


def principal_coordinates(D):
    """Classical MDS of ``D``: (n, m) coordinates on the positive eigenvalues of
    -J D^2 J / 2 (a GW matrix need not be Euclidean; the rest is dropped)."""
    D = np.asarray(D, dtype=np.float64)
    n = len(D)
    J = np.eye(n) - 1.0 / n
    w, V = np.linalg.eigh(-0.5 * J @ (D**2) @ J)
    keep = w > 1e-9 * max(float(w.max()), 1e-300)
    return V[:, keep] * np.sqrt(w[keep])


def uniform_box_distances(X, rng):
    """One-cluster reference of Tibshirani, Walther & Hastie (2001): as many points as X,
    uniform in the box spanned by X along its principal coordinates; their distances."""
    Y = rng.uniform(X.min(axis=0), X.max(axis=0), size=X.shape)
    return np.sqrt(np.maximum(((Y[:, None, :] - Y[None, :, :]) ** 2).sum(-1), 0.0))


def _partition(W, k, seed):
    if k <= 1:
        return np.zeros(len(W), dtype=int)
    if k == len(W):
        return np.arange(len(W))
    model = SpectralClustering(n_clusters=k, affinity="precomputed", random_state=seed)
    return model.fit_predict(W)


def log_dispersion(D, labels):
    """log W_k: sum over clusters r of sum_{i,j in r} D_ij^2 / (2 n_r) (the within-cluster
    sum of squares when D is Euclidean)."""
    D = np.asarray(D, dtype=np.float64)
    total = sum((D[np.ix_(labels == c, labels == c)] ** 2).sum() / (2 * np.sum(labels == c))
                for c in np.unique(labels))
    return float(np.log(total)) if total > 0 else float("-inf")


def noise_p(D, gap, max_k, draws, rng):
    """p of an observed largest eigengap against exchangeable noise: (1 + #{largest gap of
    heat_kernel(shuffled_distances(D)) >= gap}) / (1 + draws), same k range."""
    null = np.array([
        largest_gap(laplacian_spectrum(heat_kernel(shuffled_distances(D, rng))[0]), max_k)[1]
        for _ in range(draws)])
    return (1 + int(np.sum(null >= gap - 1e-12))) / (1 + draws)


def cloud_p(D, labels, k, draws, rng, seed=0):
    """p of D's k-partition ``labels`` against one uniform cloud: how often a cloud's own
    spectral k-partition shrinks the dispersion at least as much, (1 + #{dW* <= dW}) / (1 +
    draws), dW = log W_k - log W_1 (``log_dispersion``).

    The clouds are ``uniform_box_distances`` of D's principal coordinates: the reference of
    Tibshirani, Walther & Hastie's gap statistic, used here as a Monte Carlo test at a
    stated level instead of their one-standard-error rule. The reduction dW, not log W_k,
    is compared, so a scale mismatch between D and its Euclidean part cancels.
    """
    def reduction(dist, part):
        return log_dispersion(dist, part) - log_dispersion(dist, np.zeros(len(dist), int))

    X = principal_coordinates(D)
    null = []
    for _ in range(draws):
        R = uniform_box_distances(X, rng)
        null.append(reduction(R, _partition(heat_kernel(R)[0], k, seed)))
    return (1 + int(np.sum(np.array(null) <= reduction(D, labels) + 1e-12))) / (1 + draws)


def spectral_clusters(D, n_clusters=None, seed=0, max_k=10, alpha=0.05, noise_draws=200,
                      cloud_draws=50):
    """Cluster the items of distance matrix ``D`` with scikit-learn spectral clustering.

    The affinity is ``heat_kernel(D)``. When ``n_clusters`` is None, the candidate k in
    2..max_k (and at most n - 1) maximises the eigengap lambda_k - lambda_{k-1} of the
    normalised Laplacian (eigenvalues ascending, 0-based). It is kept only if it beats two
    one-cluster references, else k = 1 (no structure):

    * exchangeable noise: the largest eigengap beats those of ``shuffled_distances(D)``,
      ``noise_p`` <= alpha (``noise_draws`` draws). Rejects noise such as iid distances,
      wrongly for a share alpha of them.
    * one uniform cloud of D's extent: the candidate partition shrinks the dispersion more
      than partitions of uniform clouds do, ``cloud_p`` <= alpha (``cloud_draws`` draws).
      Rejects smooth spread without separation (a line, a ball, GW between unrelated
      random layers), which the noise reference calls structure. Alone it is not enough:
      a non-Euclidean D (iid distances) is not matched by a cloud in its principal
      coordinates.

    All draws are seeded by ``seed``. Labels are renumbered in order of first appearance.
    Returns (labels, info), info = {"sigma", "eigenvalues", "k", "k_eigengap" (the
    candidate), "noise_p", "cloud_p"}; p-values are NaN where not computed (k given, no
    candidate, or the noise reference already chose 1).
    """
    W, sigma = heat_kernel(D)
    n = len(W)
    eigenvalues = laplacian_spectrum(W)
    k_gap, gap = largest_gap(eigenvalues, max_k)
    info = {"sigma": sigma, "eigenvalues": eigenvalues.tolist(), "k_eigengap": k_gap,
            "noise_p": float("nan"), "cloud_p": float("nan")}
    k, raw = 1, _partition(W, 1, seed)
    if n_clusters is not None:
        k = min(int(n_clusters), n)
        raw = _partition(W, k, seed)
    elif k_gap > 1:
        rng = np.random.default_rng(seed)
        info["noise_p"] = noise_p(D, gap, max_k, noise_draws, rng)
        if info["noise_p"] <= alpha:
            candidate = _partition(W, k_gap, seed)
            info["cloud_p"] = cloud_p(D, candidate, k_gap, cloud_draws, rng, seed)
            if info["cloud_p"] <= alpha:
                k, raw = k_gap, candidate
    first = {}
    labels = np.array([first.setdefault(c, len(first)) for c in raw], dtype=int)
    info["k"] = int(k)
    return labels, info
