"""Where the models of fink-science 7.4.0 live, and importing its helpers without Spark.

Input: none. Output: paths inside the installed ``fink_science`` package and its version.
Side effect: :func:`import_fink` installs the PySpark stand-in of
:mod:`lanner.classify.spark_stub` before importing fink-science modules.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
from pathlib import Path
from types import ModuleType

#: The fink-science release whose models and feeding code the classifiers follow.
FINK_SCIENCE_VERSION = "7.4.0"


def installed(*modules: str) -> bool:
    """True when every module imports (the ``lanner[ml]`` extra is installed)."""
    return all(importlib.util.find_spec(m) is not None for m in modules)


def import_fink(module: str) -> ModuleType:
    """Import a fink-science / fink-utils module, PySpark stubbed if absent."""
    from lanner.classify.spark_stub import install

    install()
    return importlib.import_module(module)


def data_dir() -> Path:
    """``fink_science/data`` of the installed package (models and catalogues)."""
    spec = importlib.util.find_spec("fink_science")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("fink-science is not installed: pip install 'lanner[ml]'")
    return Path(spec.origin).parent / "data"


def model_path(*parts: str) -> Path:
    """A file of ``fink_science/data/models``."""
    return data_dir().joinpath("models", *parts)


def version() -> str:
    """The installed fink-science version."""
    return importlib.metadata.version("fink-science")
