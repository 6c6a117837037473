"""Only the optional C parts of aivj/milk (the .milk tokenizer and the feature counts); everything else is
in pyproject.toml.

``optional=True``: without a C compiler or Python headers the install still succeeds, and parser.py and
features.py run their pure-Python versions (the same results, slower: docs/benchmarks.md "Preset features").
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("aivj.milk._milkscan", ["aivj/milk/_milkscan.c"], optional=True),
        Extension("aivj.milk._milkcount", ["aivj/milk/_milkcount.c"], optional=True),
    ]
)
