"""Test accuracy of a trained model on all classes, on each partition's classes, per class."""

from .train import predict


def split_accuracies(model, test_feed, manifest):
    """acc_all, acc_{part} for every partition of the manifest, per_class and chance."""
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
