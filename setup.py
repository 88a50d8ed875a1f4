"""Packaging glue that pyproject.toml cannot say on its own.

DESIGN.md keeps the grammar and the HEP function library at the top of the repository
(`grammar/`, `stdlib/`); they must still be inside the wheel, so they are mapped to the
packages `adlc._grammar` and `adlc.stdlib` here.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["adlc", "adlc.*"]), "adlc._grammar", "adlc.stdlib"],
    package_dir={"adlc._grammar": "grammar", "adlc.stdlib": "stdlib"},
    package_data={"adlc._grammar": ["*.lark"], "adlc": ["py.typed"]},
)
