"""
Write one fabric's listed objects into the mirror tables: diff by uid, then bulk create, update and delete.

Only rows that differ are written: an object whose resourceVersion is unchanged costs nothing, and relations are
resolved with set-based SQL that touches only rows whose relation is wrong. Rows are deleted in bulk, without
Django's collector (models/deletion.py).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

import orjson
from django.db import connection, models
from django.utils import timezone
from psycopg.types.json import Jsonb

from ..choices import MirrorChangeActionChoices
from ..kinds import KINDS
from ..models.deletion import delete_mirror_rows

__all__ = (
    'ExistingRow',
    'KindChanges',
    'KindListingRead',
    'apply_kind',
    'existing_rows',
    'refresh_statistics',
    'resolve_references',
)

BATCH_SIZE = 500
# Stored rows read back per query when diffing updated objects column by column.
READ_BATCH_SIZE = 5000
# Rows created or deleted in one table by one run beyond which its planner statistics are refreshed at once.
# Until autovacuum gets to a freshly filled table, PostgreSQL plans the relation queries below as nested loops
# over sequential scans, which takes seconds for a few thousand rows instead of milliseconds.
STATISTICS_THRESHOLD = 200
# Fields a sync never rewrites on an existing row: its identity, its creation, the user's own data, and the
# relations, which resolve_references() keeps right.
NOT_UPDATED = {'id', 'fabric', 'created', 'custom_field_data'}


class ExistingRow(NamedTuple):
    """What a sync needs to know about a row it already holds."""

    pk: int
    resource_version: str
    name: str


@dataclass
class KindListingRead:
    """One kind's complete listing, sorted for applying."""

    # ListedObjects that are new or changed.
    rows: list = field(default_factory=list)
    # Objects whose resourceVersion the mirror already holds.
    unchanged_uids: set = field(default_factory=set)
    # Objects listed but malformed: their rows, if any, stay as they are.
    kept_uids: set = field(default_factory=set)
    kept_names: set = field(default_factory=set)


@dataclass
class KindChanges:
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    deleted: list = field(default_factory=list)
    unchanged: int = 0
    # Rows whose search-indexed values were written, for the search cache (sync/search_cache.py): every created
    # row, and the updated rows where a searched field changed.
    created_uids: list = field(default_factory=list)
    reindexed_uids: list = field(default_factory=list)
    reindexed_pks: list = field(default_factory=list)
    # Updated rows whose raw reference names changed: with the created rows, the only ones whose relations
    # resolve_references() must look at, unless objects of a target kind came or went.
    relinked_uids: list = field(default_factory=list)
    # (action, uid, name) of every row the run wrote, for the objects' sync history (sync/history.py).
    written: list = field(default_factory=list)

    @property
    def churn(self):
        return len(self.created) + len(self.deleted)

    def counts(self):
        return {
            'created': len(self.created),
            'updated': len(self.updated),
            'deleted': len(self.deleted),
            'unchanged': self.unchanged,
        }


def _updated_fields(kind):
    model = kind.model
    relations = set(kind.references)
    return [
        f.name
        for f in model._meta.concrete_fields
        if f.name not in NOT_UPDATED and f.name not in relations and not f.primary_key
    ]


def existing_rows(fabric, model):
    """{uid: ExistingRow} of the fabric's rows of one model."""
    rows = model.objects.filter(fabric=fabric).values_list('uid', 'pk', 'resource_version', 'name')
    return {uid: ExistingRow(pk, resource_version, name) for uid, pk, resource_version, name in rows}


def apply_kind(fabric, kind, existing, read):
    """Make the fabric's rows of one kind (`existing`, by uid) match one complete listing (a KindListingRead)."""
    model = kind.model
    changes = KindChanges(unchanged=len(read.unchanged_uids))
    listed = read.unchanged_uids | {row.uid for row in read.rows}
    doomed = {
        uid: row
        for uid, row in existing.items()
        if uid not in listed and uid not in read.kept_uids and row.name not in read.kept_names
    }
    if doomed:
        # Deleted before anything is created: a name can come back under a new uid in the same run.
        delete_mirror_rows(model, [row.pk for row in doomed.values()])
        changes.deleted = sorted(row.name for row in doomed.values())
        changes.written += [(MirrorChangeActionChoices.DELETED, uid, row.name) for uid, row in doomed.items()]

    to_create, to_update = [], []
    for row in read.rows:
        (to_create if row.uid not in existing else to_update).append(row)
    if to_create:
        _insert_rows(kind, fabric, to_create)
        changes.created = sorted(row.name for row in to_create)
        changes.created_uids = [row.uid for row in to_create]
        changes.written += [(MirrorChangeActionChoices.CREATED, row.uid, row.name) for row in to_create]
    if to_update:
        reindexed, relinked = _update_rows(kind, existing, to_update)
        changes.updated = sorted(row.name for row in to_update)
        changes.relinked_uids = [row.uid for row in relinked]
        changes.reindexed_uids = [row.uid for row in reindexed]
        changes.reindexed_pks = [existing[row.uid].pk for row in reindexed]
        changes.written += [(MirrorChangeActionChoices.UPDATED, row.uid, row.name) for row in to_update]
    return changes


def _insert_rows(kind, fabric, rows):
    """
    COPY new rows straight into the kind's table: no model instances, no per-batch INSERT statements. Relations are
    left empty; resolve_references() fills them in the same transaction.
    """
    model = kind.model
    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if f.name in rows[0].values]
    columns = ['fabric_id', 'created', 'last_updated', 'custom_field_data', *(f.column for f in fields)]
    defaults = {f.name: f.get_default() for f in fields}
    json_fields = {f.name for f in fields if isinstance(f, models.JSONField)}
    statement = f'COPY {_quote(model._meta.db_table)} ({", ".join(_quote(column) for column in columns)}) FROM STDIN'
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            values = row.values
            copy.write_row((
                fabric.pk, now, now, Jsonb({}),
                *(
                    Jsonb(values.get(f.name, defaults[f.name]), orjson.dumps) if f.name in json_fields
                    else values.get(f.name, defaults[f.name])
                    for f in fields
                ),
            ))


def _update_rows(kind, existing, rows):
    """
    Write only the columns of each row that differ from what the mirror holds (a live agent's heartbeat rewrites its
    status columns, not its whole row). Return (rows whose search-indexed values changed, rows whose raw references
    changed).
    """
    model = kind.model
    fields = [model._meta.get_field(name) for name in _updated_fields(kind) if name != 'last_updated']
    pks = [existing[row.uid].pk for row in rows]
    stored = {}
    for start in range(0, len(pks), READ_BATCH_SIZE):
        batch = model.objects.filter(pk__in=pks[start:start + READ_BATCH_SIZE]).values_list(
            'pk', *(f.name for f in fields)
        )
        stored.update((pk, values) for pk, *values in batch)
    indexed = {'name', *kind.search_fields}
    raw_references = set(kind.references.values())
    by_columns = defaultdict(list)
    reindexed, relinked = [], []
    for row in rows:
        pk = existing[row.uid].pk
        changed = tuple(
            f for f, old in zip(fields, stored[pk], strict=True)
            if f.name in row.values and row.values[f.name] != old
        )
        by_columns[changed].append({'id': pk, **{f.column: row.values[f.name] for f in changed}})
        names = {f.name for f in changed}
        if indexed & names:
            reindexed.append(row)
        if raw_references & names:
            relinked.append(row)
    now = timezone.now()
    for changed, staged in by_columns.items():
        _write_columns(model, changed, staged, now)
    return reindexed, relinked


def _write_columns(model, fields, staged, now):
    """
    Set `fields` of many rows in one statement: the new values travel as one JSON array of {column: value}, which
    PostgreSQL reads back into rows of the table's own type, so every value gets its column's type. Django's
    bulk_update would build a CASE expression per column and batch, which costs more to build than to run.
    """
    table = _quote(model._meta.db_table)
    assignments = ', '.join(f'{_quote(f.column)} = staged.{_quote(f.column)}' for f in fields)
    for start in range(0, len(staged), BATCH_SIZE):
        with connection.cursor() as cursor:
            cursor.execute(
                f'UPDATE {table} AS mirror SET {assignments}{", " if assignments else ""}'
                f'{_quote("last_updated")} = %s FROM jsonb_populate_recordset(NULL::{table}, %s::jsonb) AS staged '
                'WHERE mirror.id = staged.id',
                [now, orjson.dumps(staged[start:start + BATCH_SIZE]).decode()],
            )


def refresh_statistics(models, links=False):
    """
    ANALYZE the tables of models whose row count just changed a lot, or, with `links`, their many-to-many tables
    (which only resolve_references() fills, so they are analyzed after it, and the model tables only before).
    """
    with connection.cursor() as cursor:
        for model in models:
            if links:
                tables = [
                    m2m.remote_field.through._meta.db_table
                    for m2m in model._meta.many_to_many
                    if m2m.remote_field.through._meta.auto_created
                ]
            else:
                tables = [model._meta.db_table]
            for table in tables:
                cursor.execute(f'ANALYZE {_quote(table)}')


def _quote(name):
    return connection.ops.quote_name(name)


def _scope_sql(uids):
    """The SQL condition and parameters that limit a resolution to the rows of some uids (None: every row)."""
    return ('', []) if uids is None else ('AND source.uid = ANY(%s)', [list(uids)])


def _resolve_foreign_key(cursor, fabric_id, model, field_name, raw_name, uids):
    relation = model._meta.get_field(field_name)
    source = _quote(model._meta.db_table)
    target = _quote(relation.related_model._meta.db_table)
    column = _quote(relation.column)
    raw = _quote(model._meta.get_field(raw_name).column)
    condition, parameters = _scope_sql(uids)
    cursor.execute(
        f"""
        UPDATE {source} AS mirror SET {column} = resolved.target_id
        FROM (
            SELECT source.id AS source_id, target.id AS target_id
            FROM {source} AS source
            LEFT JOIN {target} AS target
                ON target.fabric_id = source.fabric_id
                AND target.namespace = source.namespace
                AND target.name = source.{raw}
            WHERE source.fabric_id = %s {condition}
        ) AS resolved
        WHERE mirror.id = resolved.source_id AND mirror.{column} IS DISTINCT FROM resolved.target_id
        """,
        [fabric_id, *parameters],
    )


def _resolve_many_to_many(cursor, fabric_id, model, field_name, raw_name, uids):
    relation = model._meta.get_field(field_name)
    through = _quote(relation.remote_field.through._meta.db_table)
    source_column = _quote(relation.m2m_column_name())
    target_column = _quote(relation.m2m_reverse_name())
    source = _quote(model._meta.db_table)
    target = _quote(relation.related_model._meta.db_table)
    raw = _quote(model._meta.get_field(raw_name).column)
    condition, parameters = _scope_sql(uids)
    wanted = f"""
        WITH wanted AS (
            SELECT DISTINCT source.id AS source_id, target.id AS target_id
            FROM {source} AS source
            CROSS JOIN LATERAL unnest(source.{raw}) AS reference(name)
            JOIN {target} AS target
                ON target.fabric_id = source.fabric_id
                AND target.namespace = source.namespace
                AND target.name = reference.name
            WHERE source.fabric_id = %s {condition}
        )
    """
    cursor.execute(
        f"""
        {wanted}
        DELETE FROM {through} AS link USING {source} AS source
        WHERE link.{source_column} = source.id AND source.fabric_id = %s {condition}
            AND NOT EXISTS (
                SELECT 1 FROM wanted
                WHERE wanted.source_id = link.{source_column} AND wanted.target_id = link.{target_column}
            )
        """,
        [fabric_id, *parameters, fabric_id, *parameters],
    )
    cursor.execute(
        f"""
        {wanted}
        INSERT INTO {through} ({source_column}, {target_column})
        SELECT wanted.source_id, wanted.target_id FROM wanted
        WHERE NOT EXISTS (
            SELECT 1 FROM {through} AS link
            WHERE link.{source_column} = wanted.source_id AND link.{target_column} = wanted.target_id
        )
        """,
        [fabric_id, *parameters],
    )


def _stale_rows(kind, relation, changes_by_kind):
    """
    The uids of the rows of a relation that can have gone wrong in this run: the rows created, or whose raw names
    changed; None (every row) when objects of its target kind were created or deleted, since a name may now resolve
    differently. An updated target keeps its name, which Kubernetes never changes.
    """
    if changes_by_kind is None:
        return None
    own = changes_by_kind.get(kind.kind)
    target = changes_by_kind.get(relation.related_model.__name__)
    if target and (target.created or target.deleted):
        return None
    return (own.created_uids + own.relinked_uids) if own else []


def resolve_references(fabric, changes_by_kind=None):
    """
    Point every relation of the fabric's mirror rows at the object its raw name refers to, or at nothing. Given the
    run's {kind: KindChanges}, only the rows the run may have made stale are resolved: a run that changed nothing
    resolves none.
    """
    with connection.cursor() as cursor:
        for kind in KINDS:
            model = kind.model
            for field_name, raw_name in kind.references.items():
                relation = model._meta.get_field(field_name)
                uids = _stale_rows(kind, relation, changes_by_kind)
                if uids is not None and not uids:
                    continue
                if relation.many_to_many:
                    _resolve_many_to_many(cursor, fabric.pk, model, field_name, raw_name, uids)
                else:
                    _resolve_foreign_key(cursor, fabric.pk, model, field_name, raw_name, uids)
