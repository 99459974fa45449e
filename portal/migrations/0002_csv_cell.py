"""The SQL twin of portal.files.neutralise, for files PostgreSQL writes with COPY.

One SQL expression, so the planner inlines it into the SELECT (no function call per cell); the
cheap test of the first character comes first, the number pattern only runs on the few cells
that start with a trigger.
"""

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION portal_csv_cell(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
        -- TAB, CR, +, -, =, @
        WHEN ascii(value) IN (9, 13, 43, 45, 61, 64)
         AND value !~ '^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$'
        THEN '''' || value
        ELSE value
    END
$$
"""

DROP = "DROP FUNCTION IF EXISTS portal_csv_cell(text)"


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, DROP)]
