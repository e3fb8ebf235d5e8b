"""Human-readable renderings shared by tables, templates, commands and the scheduler's log."""

from datetime import UTC

from .run_record import CHANGE_ACTIONS

_UNITS = (('d', 86400), ('h', 3600), ('min', 60), ('s', 1))


def humanize_seconds(seconds):
    """300 -> "5 min", 5400 -> "1 h 30 min", 45 -> "45 s". At most two units, as people say it."""
    if seconds is None:
        return ''
    remaining = int(seconds)
    if remaining <= 0:
        return '0 s'
    parts = []
    for unit, size in _UNITS:
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f'{count} {unit}')
        if len(parts) == 2:
            break
    return ' '.join(parts)


def shorten(text, limit=80):
    """First line of a message, cut to a table cell's width."""
    first_line = (text or '').strip().splitlines()[0] if (text or '').strip() else ''
    return first_line if len(first_line) <= limit else first_line[: limit - 1] + '…'


def humanize_duration(seconds):
    """A run's duration: tenths of a second while short (0.4 s), whole units once past a minute."""
    if seconds is None:
        return ''
    if seconds < 60:
        return f'{seconds:.1f} s'
    return humanize_seconds(seconds)


def change_totals(counts):
    """{kind: {"created": n, ...}} -> {"created": total, "updated": total, "deleted": total} across kinds."""
    totals = dict.fromkeys(CHANGE_ACTIONS, 0)
    for per_kind in (counts or {}).values():
        for action in CHANGE_ACTIONS:
            totals[action] += per_kind.get(action, 0)
    return totals


def summarize_changes(counts):
    """"3 created, 1 updated" or "no changes": what a run did, in one cell."""
    totals = change_totals(counts)
    parts = [f'{number} {action}' for action, number in totals.items() if number]
    return ', '.join(parts) or 'no changes'


def relative_to_now(moment, now):
    """"3 min ago", "in 2 min" or "now": how far a moment lies from now, as a person says it."""
    seconds = (moment - now).total_seconds()
    if abs(seconds) < 1:
        return 'now'
    span = humanize_seconds(abs(seconds))
    return f'in {span}' if seconds > 0 else f'{span} ago'


def moment_with_distance(moment, now):
    """"now", or "at 2026-01-01 12:00:00 UTC (in 5 min)": a moment for a log line, absolute and relative."""
    if abs((moment - now).total_seconds()) < 1:
        return 'now'
    return f"at {moment.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S UTC')} ({relative_to_now(moment, now)})"
