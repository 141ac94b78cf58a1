"""Test accuracy of a trained model on all classes, on each partition's classes, per class;
a mask's density summary (torch-free: the tickets job summarises numpy masks)."""


def split_accuracies(model, test_feed, manifest):
    """acc_all, acc_{part} for every partition of the manifest, per_class and chance."""
    from .train import predict

    pred, y_test = predict(model, test_feed)
    correct = pred == y_test
    result = {"acc_all": float(correct.float().mean()),
              "per_class": {str(c): float(correct[y_test == c].float().mean())
                            for c in range(manifest["num_classes"])},
              "chance": 1.0 / manifest["num_classes"]}
    for part in manifest["partitions"]:
        in_part = sum(y_test == c for c in part["classes"]).bool()
        result[f"acc_{part['name']}"] = float(correct[in_part].float().mean())
    return result


def mask_summary(mask):
    """density and empty_layers (tensors the mask keeps nothing of: a plain feed-forward
    network is disconnected there) of a mask of torch or numpy booleans; dense for None."""
    if mask is None:
        return {"density": 1.0, "empty_layers": []}
    kept = sum(int(m.sum()) for m in mask.values())
    total = sum(m.numel() if hasattr(m, "numel") else m.size for m in mask.values())
    return {"density": kept / total,
            "empty_layers": sorted(n for n, m in mask.items() if not m.any())}
