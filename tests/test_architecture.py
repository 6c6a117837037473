"""The house rules of docs/architecture.md, held against the code's imports (function-level ones included)."""

from __future__ import annotations

import sys

import pytest

from tests.helpers.import_graph import cycles, external_imports, module_graph, package_edges, package_of

RESEARCH = ("datamodules", "coupling", "callbacks")


def test_no_two_files_import_each_other_even_through_others():
    assert cycles(module_graph()) == []


def test_no_two_packages_import_each_other_even_through_others():
    assert cycles({k: set(v) for k, v in package_edges().items()}) == []


def test_the_contract_needs_nothing_heavier_than_pyarrow_and_numpy():
    allowed = set(sys.stdlib_module_names) | {"pyarrow", "numpy", "__future__"}
    outside = {m: sorted(names - allowed) for m, names in external_imports("aivj.contract").items() if names - allowed}
    assert outside == {}
    project = {
        m: sorted(i for i in imps if package_of(i) != "aivj.contract")
        for m, imps in module_graph().items()
        if package_of(m) == "aivj.contract"
    }
    assert all(not v for v in project.values()), project


@pytest.mark.parametrize("package", RESEARCH)
def test_research_packages_share_only_the_contract(package):
    others = set(RESEARCH) - {package}
    assert not package_edges().get(package, set()) & others
