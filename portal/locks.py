"""The one row lock: services re-read the row they change under SELECT … FOR UPDATE.

Always `of=("self",)`: with `select_related`, PostgreSQL would otherwise lock the joined rows too
(the organization, the package…), serialising unrelated writers on them; and a nullable join
cannot be locked at all.
"""

from __future__ import annotations

from typing import TypeVar

from django.db import models, transaction

M = TypeVar("M", bound=models.Model)


def lock(instance: M, *related: str) -> M:
    """`instance` re-read and locked until the transaction ends (with `related` joined, unlocked).

    Call inside `transaction.atomic()`; the fresh copy is what the service must change.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock() needs a transaction: call it inside transaction.atomic().")
    queryset = type(instance)._base_manager.select_for_update(of=("self",))
    if related:
        queryset = queryset.select_related(*related)
    return queryset.get(pk=instance.pk)


def lock_many(queryset: models.QuerySet[M], *, skip_locked: bool = False) -> models.QuerySet[M]:
    """`queryset`'s rows locked (ordered by pk, so two writers take them in the same order)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_many() needs a transaction: call it inside transaction.atomic().")
    return queryset.select_for_update(of=("self",), skip_locked=skip_locked).order_by("pk")


def advisory_lock(*key: object) -> None:
    """A transaction-level lock on a name (not a row): writers of the same `key` take turns until
    their transactions end. For set-based writes that must not interleave (two imports into the same
    organization's rows)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("advisory_lock() needs a transaction: call it inside transaction.atomic().")
    name = ":".join(str(part) for part in key)
    with transaction.get_connection().cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [name])
