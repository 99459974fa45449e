"""Price lists: the vendor's license-based price list file, comparing two lists, looking up a price.

The file keeps its real column layout (spec/commerce.md §4.1; a preview adds `EndofSaleDate`, some
files start with `ChangeIndicator`). It is imported through the one import pipeline
(portal.imports): every row is checked against the layout, and by default a file with any problem
is not imported at all.

Modules: `columns` (the file's columns), `dates` (its ISO 8601 dates), `layout` (every check, as
the pipeline's layout), `diff` (comparing two lists: a preview or a corrected file against the
list before it), `downloads` (a list's rows and a diff as streamed CSV), `lookup` (the price of a
number of seats on a day: tiers and the "range ending first" rule), `terms` (term arithmetic) and
`impact` (a migration's charge before and after, and the total of many). The import itself, which
writes, is `commerce.services.price_lists`.
"""
