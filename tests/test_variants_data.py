"""The variant matrix in variants.json is the full product of the toggles, each once."""

import itertools

import pytest

from .conftest import FEATURES, VARIANTS


def test_the_variants_are_every_combination_of_database_and_features_once() -> None:
    combinations = {
        (variant.database, *(getattr(variant, feature) for feature in FEATURES))
        for variant in VARIANTS
    }
    expected = set(itertools.product(["postgresql", "mysql"], *[[True, False]] * len(FEATURES)))

    assert len(VARIANTS) == len(expected) == 16
    assert combinations == expected
    assert len({variant.id for variant in VARIANTS}) == len(VARIANTS)


def test_both_python_versions_meet_every_toggle_value() -> None:
    for attribute in ("database", *FEATURES):
        for value in {getattr(variant, attribute) for variant in VARIANTS}:
            pythons = {v.python_version for v in VARIANTS if getattr(v, attribute) == value}
            assert pythons == {"3.12", "3.13"}, (attribute, value)


@pytest.mark.xdist_group("one-worker")
def test_xdist_sends_a_group_to_one_worker(request: pytest.FixtureRequest) -> None:
    """A variant's tests share its render and virtualenv only if `--dist loadgroup` keeps them on
    one worker, which it does by adding the group to their ids; where it cannot (pytest 9.2 with
    pytest-xdist 3.8), every worker renders every variant again, and tiers that share a
    database by name collide."""
    if not hasattr(request.config, "workerinput"):
        pytest.skip("run without xdist workers: nothing to keep together")

    assert request.node.nodeid.endswith("@one-worker")
