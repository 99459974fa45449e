"""Price lists: import the vendor's license-based price list file, compare two lists, look up a price.

The file keeps its real column layout (spec/commerce.md §4.1; a preview adds `EndofSaleDate`).
An upload is checked in full before anything is written: every bad row is listed with its reason
and nothing is stored. A good file is staged as CSV in the default storage (the volume the web
and worker containers share) and a job copies it into `PriceListRow` chunk by chunk with
PostgreSQL `COPY`; each chunk commits with its `JobChunk` marker, so a replayed chunk is a no-op.

Modules: `columns` (the file's layout), `checks` (one distinct value of a column), `validation`
(reading and checking a whole file), `staging` (the checked rows as COPY-ready CSV chunks), `diff`
(comparing two lists), `downloads` (a list's rows and a diff as streamed CSV) and `lookup` (the
price in force on a day). The import itself, which writes, is `commerce.services.price_lists`.
"""
