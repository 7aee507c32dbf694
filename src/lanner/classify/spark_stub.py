"""Import fink-science and fink-utils without PySpark.

Every fink-science 7.4.0 processor is declared as a PySpark ``pandas_udf`` / ``udf``, so
importing one imports ``pyspark.sql.functions`` and ``pyspark.sql.types``, although the plain
function (``udf.func``) runs on pandas values without a Spark session. Rather than install
PySpark (about 300 MB, and a JVM to run), :func:`install` puts a tiny stand-in for those two
modules in :data:`sys.modules` when PySpark is not installed: the decorators return an object
whose ``func`` is the undecorated function, and every type is a placeholder. A real PySpark,
when installed, is used as is.

Input: none. Output: none. Side effect: entries ``pyspark``, ``pyspark.sql``,
``pyspark.sql.functions`` and ``pyspark.sql.types`` in :data:`sys.modules` (once).
"""

from __future__ import annotations

import functools
import importlib.util
import sys
import types
from collections.abc import Callable
from typing import Any


class _Udf:
    """What ``pandas_udf``/``udf`` return here: the function, kept as ``func``."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        functools.update_wrapper(self, func)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a Spark UDF was called without Spark: call its .func on pandas data")


def _decorator(*args: Any, **kwargs: Any) -> Any:
    """``pandas_udf(type)`` / ``udf(f=..., returnType=...)`` / ``@udf``: keep the function."""
    f = kwargs.get("f")
    if f is not None:
        return _Udf(f)
    if args and callable(args[0]) and not isinstance(args[0], type):
        return _Udf(args[0])
    return _Udf


class _Placeholder:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args


def _types_getattr(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    return type(name, (_Placeholder,), {})


class _PandasUDFType:
    SCALAR = "scalar"
    GROUPED_MAP = "grouped_map"
    GROUPED_AGG = "grouped_agg"


def install() -> None:
    """Make ``import pyspark.sql.functions`` work for fink-science when PySpark is absent."""
    if "pyspark" in sys.modules or importlib.util.find_spec("pyspark") is not None:
        return
    root = types.ModuleType("pyspark")
    sql = types.ModuleType("pyspark.sql")
    functions = types.ModuleType("pyspark.sql.functions")
    functions.pandas_udf = _decorator  # type: ignore[attr-defined]
    functions.udf = _decorator  # type: ignore[attr-defined]
    functions.PandasUDFType = _PandasUDFType  # type: ignore[attr-defined]
    sql_types = types.ModuleType("pyspark.sql.types")
    sql_types.__getattr__ = _types_getattr  # type: ignore[method-assign]
    root.sql = sql  # type: ignore[attr-defined]
    sql.functions = functions  # type: ignore[attr-defined]
    sql.types = sql_types  # type: ignore[attr-defined]
    sys.modules.update(
        {
            "pyspark": root,
            "pyspark.sql": sql,
            "pyspark.sql.functions": functions,
            "pyspark.sql.types": sql_types,
        }
    )
