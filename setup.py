"""Only the optional C parts: aivj/milk's .milk tokenizer and feature counts, and the pair scorer's pooled
attention (coupling/nets/_pair_attention.c); everything else is in pyproject.toml.

``optional=True``: without a C compiler or Python headers the install still succeeds, and parser.py and
features.py run their pure-Python versions (the same results, slower: docs/benchmarks.md "Preset features"),
and the pair scorer its torch version (the same scores to float rounding: "Pair scoring").
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("aivj.milk._milkscan", ["aivj/milk/_milkscan.c"], optional=True),
        Extension("aivj.milk._milkcount", ["aivj/milk/_milkcount.c"], optional=True),
        # -fno-trapping-math lets the compiler turn the exp's clamp into a vector select (it vectorises nothing
        # otherwise); not -ffast-math, whose crtfastmath would set flush-to-zero for the whole process.
        Extension(
            "coupling.nets._pair_attention",
            ["coupling/nets/_pair_attention.c"],
            extra_compile_args=["-O3", "-fno-trapping-math"],
            optional=True,
        ),
    ]
)
