"""
The shape of what a sync run records about itself: its errors and its change actions.

Every error of a run is a SyncError: a kind and an object name when the error concerns one, and a message in words
a network engineer understands. A run keeps at most MAX_ERRORS of them plus a count of the rest, each message is
cut to MAX_MESSAGE characters, and the summary stored on the fabric stays under MAX_SUMMARY characters: a cluster
with thousands of malformed objects must not grow every run record and fabric page without bound.
"""

from dataclasses import asdict, dataclass

from .choices import MirrorChangeActionChoices

__all__ = (
    'CHANGE_ACTIONS',
    'INVENTORY_ACTIONS',
    'MAX_ERRORS',
    'MAX_MESSAGE',
    'MAX_SUMMARY',
    'SyncError',
    'error_count',
    'merge_errors',
    'summarize_errors',
)

# What a run did to mirror rows, in the order pages and summaries list them.
CHANGE_ACTIONS = tuple(MirrorChangeActionChoices.values())
# What a run's inventory step did to NetBox objects (SyncRun.inventory_counts), as the run page lists them.
# "conflicts" are objects NetBox already had, made by someone else, that the run reported and left alone.
INVENTORY_ACTIONS = ('created', 'updated', 'adopted', 'deleted', 'marked', 'released', 'unchanged', 'conflicts')

MAX_ERRORS = 100
MAX_MESSAGE = 500
MAX_SUMMARY = 1000
# Kinds are Kubernetes kinds; names are Kubernetes object names (RFC 1123, at most 253 characters).
MAX_KIND = 63
MAX_NAME = 253
# Room kept in a summary for its closing "… and N more" line.
SUMMARY_TAIL_ROOM = 40


def clean_text(value, limit):
    """
    `value` as text PostgreSQL accepts in a JSON document, at most `limit` characters: no NUL, no lone surrogate
    (both come from hostile objects, and either would fail the save of the whole run record).
    """
    text = value if isinstance(value, str) else str(value)
    text = text.encode('utf-8', 'replace').decode('utf-8').replace('\x00', '\ufffd')
    return text if len(text) <= limit else text[: limit - 1] + '…'


@dataclass(frozen=True)
class SyncError:
    message: str
    kind: str = ''
    name: str = ''
    # Set only on the last entry of a run that had more than MAX_ERRORS: how many were not kept.
    omitted: int = 0

    def __post_init__(self):
        object.__setattr__(self, 'message', clean_text(self.message, MAX_MESSAGE))
        object.__setattr__(self, 'kind', clean_text(self.kind or '', MAX_KIND))
        object.__setattr__(self, 'name', clean_text(self.name or '', MAX_NAME))

    @classmethod
    def from_dict(cls, data):
        return cls(
            message=data.get('message', ''), kind=data.get('kind', ''), name=data.get('name', ''),
            omitted=data.get('omitted', 0),
        )

    @classmethod
    def more(cls, count):
        return cls(message=f'{count:,} more errors were not kept', omitted=count)

    def as_dict(self):
        data = asdict(self)
        if not self.omitted:
            del data['omitted']
        return data

    def __str__(self):
        subject = '/'.join(part for part in (self.kind, self.name) if part)
        return f'{subject}: {self.message}' if subject else self.message


def merge_errors(stored, new):
    """
    A run's stored errors (dicts, as SyncRun.errors holds them) with `new` SyncErrors added: at most MAX_ERRORS
    entries, then one entry counting the rest.
    """
    kept = [SyncError.from_dict(data) for data in stored]
    omitted = sum(error.omitted for error in kept)
    kept = [error for error in kept if not error.omitted]
    for error in new:
        if error.omitted:
            # The count of errors another record did not keep (a skipped inventory step repeats its last one's).
            omitted += error.omitted
        elif len(kept) < MAX_ERRORS:
            kept.append(error)
        else:
            omitted += 1
    if omitted:
        kept.append(SyncError.more(omitted))
    return [error.as_dict() for error in kept]


def error_count(stored):
    """How many errors a run had, counting those that were not kept."""
    return sum(data.get('omitted') or 1 for data in stored)


def summarize_errors(stored, limit=MAX_SUMMARY):
    """One line per error, as many as fit in fewer than `limit` characters, then how many more there were."""
    total = error_count(stored)
    lines, length = [], 0
    for data in stored:
        if data.get('omitted'):
            continue
        line = str(SyncError.from_dict(data))
        # A kept error's line is at most ~820 characters, so the first always fits beside the closing line.
        if length + len(line) + 1 + SUMMARY_TAIL_ROOM >= limit:
            break
        lines.append(line)
        length += len(line) + 1
    if total > len(lines):
        lines.append(f'… and {total - len(lines):,} more')
    return '\n'.join(lines)
