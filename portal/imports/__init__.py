"""The one import pipeline (design §6): a layout declared once, any table file, vectorised checks,
every problem in one pass, COPY into staging, a set-based load in a job, a result file.

    from portal.imports import Column, Importer, Layout, import_start, register
"""

from portal.imports.layout import (
    BOOLEAN,
    CHOICE,
    DATE,
    DATETIME,
    DECIMAL,
    INTEGER,
    TEXT,
    UUID,
    Column,
    Layout,
    Reference,
    Rule,
    SqlCheck,
    safe_cast,
)
from portal.imports.pipeline import (
    Importer,
    import_check_header,
    import_run,
    import_start,
    importer_for,
    register,
)
from portal.imports.staging import SqlValue, Staging

__all__ = (
    "BOOLEAN",
    "CHOICE",
    "DATE",
    "DATETIME",
    "DECIMAL",
    "INTEGER",
    "TEXT",
    "UUID",
    "Column",
    "Importer",
    "Layout",
    "Reference",
    "Rule",
    "SqlCheck",
    "SqlValue",
    "Staging",
    "import_check_header",
    "import_run",
    "import_start",
    "importer_for",
    "register",
    "safe_cast",
)
