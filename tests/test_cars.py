"""Stanford Cars in the official layout: labels are official class ids minus one."""

import shutil

import pytest
from fake_datasets import write_stanford_cars

from dilt import partitions
from dilt.io import DiltError
from dilt.stanford_cars import open_cars


@pytest.fixture(scope="module")
def cars(tmp_path_factory):
    root = tmp_path_factory.mktemp("cars")
    return root, write_stanford_cars(root, per_class=(2, 1))


def test_labels_follow_the_annotations_and_names_the_official_order(cars):
    root, listed = cars
    train, test = open_cars(root, True), open_cars(root, False)
    assert train.targets == [c - 1 for c in listed["train"]] and len(train) == 392
    assert test.targets == [c - 1 for c in listed["test"]] and len(test) == 196
    # names sort in reverse id order in the fake copy: classes must keep the id order
    assert train.classes[0] == "Make 196 Sedan 2012" and train.classes[195] == "Make 001 Sedan 2012"
    assert train.samples[0][0].endswith("stanford_cars/cars_train/00001.jpg")
    image, label = test[3]
    assert image.size == (24, 16) and label == listed["test"][3] - 1


def test_contiguous_halves_are_official_ids_1_to_98_and_99_to_196(cars):
    root, listed = cars
    first, second = (p["classes"] for p in partitions.make_partitions(196, 2))
    train = open_cars(root, True)
    ids = {t + 1 for t in train.targets if t in first}
    assert ids == set(range(1, 99)) and {t + 1 for t in train.targets if t in second} == set(
        range(99, 197))


@pytest.mark.parametrize("remove,needle", [
    ("stanford_cars/devkit/cars_meta.mat", "cars_meta.mat: missing"),
    ("stanford_cars/devkit/cars_train_annos.mat", "cars_train_annos.mat: missing"),
    ("stanford_cars/cars_train", "cars_train: no such directory"),
    ("stanford_cars/cars_train/00007.jpg", "00007.jpg: missing (1 of the 392 images"),
])
def test_a_missing_file_is_named_in_one_line(cars, tmp_path, remove, needle):
    shutil.copytree(cars[0], tmp_path, dirs_exist_ok=True)
    target = tmp_path / remove
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    with pytest.raises(DiltError) as exc:
        open_cars(tmp_path, True)
    assert needle in str(exc.value) and "\n" not in str(exc.value)


def test_missing_test_annotations_and_corrupt_mat_files_are_named(cars, tmp_path):
    shutil.copytree(cars[0], tmp_path, dirs_exist_ok=True)
    annos = tmp_path / "stanford_cars" / "cars_test_annos_withlabels.mat"
    annos.write_bytes(b"not a mat file")
    with pytest.raises(DiltError, match="cars_test_annos_withlabels.mat.*not readable"):
        open_cars(tmp_path, False)
    annos.unlink()
    with pytest.raises(DiltError, match="cars_test_annos_withlabels.mat: missing"):
        open_cars(tmp_path, False)


def test_the_official_layout_prepares_in_annotation_order(cars, tmp_path):
    from dilt import prepared

    root, listed = cars
    test = open_cars(root, False)
    index = prepared.prepare("cars", test, tmp_path / "p", 8, log=lambda _: None)
    assert index["labels"] == [c - 1 for c in listed["test"]]
    assert index["classes"][0] == "Make 196 Sedan 2012"
    assert prepared.PreparedSplit(tmp_path / "p").sizes[0].tolist() == [16, 24]
