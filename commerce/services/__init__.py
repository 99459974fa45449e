"""The domain operations of the Commerce workspace: the only code that changes its state.

Legacy → new commerce migrations (spec/commerce.md §3): one at a time (`migration`), in batches
(`batches`) and in the vendor-led waves (`waves`), all carried out by `engine`; and the import of
the vendor's price lists (`price_lists`). Import the operations from here.
"""

from commerce.services.batches import (
    JOB_KIND_BATCH,
    migration_batch_create,
    migration_batch_import_start,
    migration_batch_run,
    migration_batch_start,
)
from commerce.services.migration import migration_create, migration_retry
from commerce.services.price_lists import PRICE_LIST_IMPORTER, price_list_import_start
from commerce.services.waves import (
    JOB_KIND_WAVE,
    WAVES,
    migration_wave_run,
    migration_wave_warn,
    migration_waves_daily,
)

__all__ = (
    "JOB_KIND_BATCH",
    "JOB_KIND_WAVE",
    "PRICE_LIST_IMPORTER",
    "WAVES",
    "migration_batch_create",
    "migration_batch_import_start",
    "migration_batch_run",
    "migration_batch_start",
    "migration_create",
    "migration_retry",
    "migration_wave_run",
    "migration_wave_warn",
    "migration_waves_daily",
    "price_list_import_start",
)
