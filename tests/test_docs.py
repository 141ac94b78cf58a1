"""The docs agree with the code: defaults, keys, rule names, commands, the README's figure."""

import re
from pathlib import Path

import pytest
import yaml

from dilt import configuration

REPO = Path(__file__).resolve().parents[1]
SCHEMA = configuration.load_schema(REPO / "config" / "schema.yaml")
CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
README = (REPO / "README.md").read_text()
DOCS = {p.relative_to(REPO).as_posix(): p.read_text()
        for p in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]}


def schema_leaves(schema, prefix=""):
    """{dotted key: its schema} for every key that is not an object of keys (an object that
    may be null, such as train.resolution, is one value)."""
    leaves = {}
    for name, sub in schema["properties"].items():
        if "properties" in sub and "null" not in sub.get("type", []):
            leaves |= schema_leaves(sub, f"{prefix}{name}.")
        else:
            leaves[f"{prefix}{name}"] = sub
    return leaves


def lookup(cfg, key):
    for part in key.split("."):
        cfg = cfg[part]
    return cfg


LEAVES = schema_leaves(SCHEMA)


@pytest.mark.parametrize("key", LEAVES)
def test_config_yaml_sets_every_key_to_the_schema_default(key):
    value = lookup(CONFIG, key)
    if "default" in LEAVES[key]:
        assert value == LEAVES[key]["default"], key


def config_leaves(cfg, prefix=""):
    for name, value in cfg.items():
        if isinstance(value, dict) and f"{prefix}{name}" not in LEAVES:
            yield from config_leaves(value, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}"


def test_config_yaml_has_no_key_the_schema_lacks():
    assert set(config_leaves(CONFIG)) == set(LEAVES)


def readme_table(header):
    """Rows (lists of cells) of the README table whose header row is `header`."""
    lines = README.splitlines()
    start = lines.index(header) + 2
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


def config_table():
    """{key: default} of the README's configuration table. A row's keys are backticked and
    separated by ', ' or ' / '; `.x` is a sibling of the row's first key; the defaults are
    YAML values in the same order and with the same separators."""
    table = {}
    for keys_cell, defaults_cell, _ in readme_table("| key | default | meaning |"):
        keys = re.findall(r"`([^`]+)`", keys_cell)
        parent = keys[0].rsplit(".", 1)[0] if "." in keys[0] else ""
        keys = [f"{parent}{k}" if k.startswith(".") else k for k in keys]
        defaults = yaml.safe_load("[" + defaults_cell.replace(" / ", ", ") + "]")
        assert len(keys) == len(defaults), keys_cell
        for key, default in zip(keys, defaults, strict=True):
            assert key not in table, f"{key} twice in the README"
            table[key] = default
    return table


def test_readme_config_table_lists_every_key_with_its_default():
    table = config_table()
    assert sorted(table) == sorted(LEAVES)
    for key, default in table.items():
        assert default == LEAVES[key].get("default", lookup(CONFIG, key)), key


def rule_names():
    pattern = re.compile(r"^(?:rule|checkpoint) (\w+):|^use rule \w+ as (\w+)", re.M)
    return {name for smk in (REPO / "rules").glob("*.smk")
            for found in pattern.findall(smk.read_text()) for name in found if name}


def test_rules_named_in_the_readme_exist():
    header = "| stage | rule | output (under `results/{experiment}/`) |"
    named = {name for row in readme_table(header) for name in re.findall(r"`(\w+)`", row[1])}
    assert named and named <= rule_names(), named - rule_names()


@pytest.mark.parametrize("path", DOCS)
def test_docs_use_the_current_snakemake_spelling(path):
    text = DOCS[path].replace("`--use-conda` is its old spelling", "")
    assert "--use-conda" not in text, "--software-deployment-method conda (--sdm conda)"
    assert "--workflow-profile profiles/default" not in text, "Snakemake picks it up itself"
    assert "snakemake --report" not in text, "make report"


def test_readme_shows_a_committed_figure_and_how_to_regenerate_it():
    images = re.findall(r"!\[[^]]*\]\(([^)]+)\)", README)
    assert images and all((REPO / image).read_bytes()[:4] == b"\x89PNG" for image in images)
    assert "make readme-figure" in README
    makefile = (REPO / "Makefile").read_text()
    assert all(image in makefile for image in images)
