import json

from django.utils import timezone

from netbox_hedgehog.management.base import NonWebCommand
from scheduler_worker.executor_state import executor_state
from scheduler_worker.joblist import fabrics_without_job, list_jobs, scheduler_state


def relative(when, now):
    seconds = (when - now).total_seconds()
    return f'in {seconds:.0f} s' if seconds >= 0 else f'{-seconds:.0f} s ago'


def stamp(when):
    return when.strftime('%Y-%m-%d %H:%M:%S %Z') if when else '-'


def isoformat(when):
    return when.isoformat() if when else None


class Command(NonWebCommand):
    help = (
        "List the scheduler's jobs, the fabrics without one and why, and who leads. Reads the database directly, "
        'so it works whether or not the scheduler is running.'
    )

    def add_arguments(self, parser):
        parser.add_argument('--json', action='store_true', help='Print one JSON document instead of tables.')

    def handle(self, *args, **options):
        state = scheduler_state()
        jobs = list_jobs()
        unscheduled = fabrics_without_job(jobs, state)
        executor = executor_state()
        if options['json']:
            self.stdout.write(json.dumps(self.as_dict(state, executor, jobs, unscheduled), indent=2))
        else:
            self.write_text(state, executor, jobs, unscheduled)

    def as_dict(self, state, executor, jobs, unscheduled):
        def instance(item):
            return {
                'hostname': item.hostname,
                'pid': item.pid,
                'role': item.role,
                'started': isoformat(item.started),
                'last_beat': isoformat(item.last_beat),
                'heartbeat_age': round(item.heartbeat_age, 1),
                'version': item.version,
                'job_count': item.job_count,
            }

        return {
            'scheduler': {
                'healthy': state.healthy,
                'problem': state.problem,
                'leader': instance(state.leader) if state.leader else None,
                'standbys': [instance(item) for item in state.standbys],
            },
            'executor': {
                'name': executor.name,
                'queue': executor.queue or None,
                'workers': executor.workers,
                'waiting': executor.waiting,
                'problem': executor.problem,
            },
            'jobs': [
                {
                    'id': job.job_id,
                    'kind': job.kind,
                    'fabric_id': job.fabric_id,
                    'fabric': job.fabric_name,
                    'interval': job.interval,
                    'next_run_time': isoformat(job.next_run_time),
                    'seconds_until_next_run': (
                        None if job.next_run_time is None else round(job.seconds_until_next_run, 1)
                    ),
                    'restorable': job.restorable,
                    'last_run_started': isoformat(job.last_run_started),
                    'last_run_outcome': job.last_run_outcome,
                    'last_run_duration': job.last_run_duration,
                }
                for job in jobs
            ],
            'fabrics_without_job': [
                {'fabric_id': item.fabric_id, 'fabric': item.fabric_name, 'reason': item.reason} for item in unscheduled
            ],
        }

    def write_text(self, state, executor, jobs, unscheduled):
        now = timezone.now()
        if state.leader:
            leader = state.leader
            self.stdout.write(
                f'Scheduler: leader {leader.hostname}:{leader.pid} (version {leader.version}), started '
                f'{stamp(leader.started)}, last heartbeat {leader.heartbeat_age:.0f} s ago, {leader.job_count} jobs'
            )
        if state.problem:
            self.stdout.write(f'Scheduler: {state.problem}')
        for standby in state.standbys:
            self.stdout.write(
                f'Standby: {standby.hostname}:{standby.pid}, last heartbeat {standby.heartbeat_age:.0f} s ago'
            )
        if executor.workers is not None:
            self.stdout.write(
                f'Executor: {executor.name}, queue {executor.queue}: {executor.workers} live worker(s), '
                f'{executor.waiting} run(s) waiting'
            )
        else:
            self.stdout.write(f'Executor: {executor.name}')
        if executor.problem:
            self.stdout.write(f'Executor: {executor.problem}')

        self.stdout.write('')
        rows = [('JOB', 'FABRIC', 'INTERVAL', 'NEXT RUN', '', 'LAST RUN', 'OUTCOME', 'DURATION')]
        for job in jobs:
            rows.append((
                job.job_id if job.restorable else f'{job.job_id} (unrestorable)',
                job.fabric_name or f'#{job.fabric_id} (deleted)',
                f'{job.interval} s' if job.interval else '-',
                stamp(job.next_run_time),
                relative(job.next_run_time, now) if job.next_run_time else 'paused',
                stamp(job.last_run_started),
                job.last_run_outcome or '-',
                f'{job.last_run_duration:.2f} s' if job.last_run_duration is not None else '-',
            ))
        self.write_table(rows if jobs else [('No jobs in the job store.',)])

        if unscheduled:
            self.stdout.write('')
            rows = [(item.fabric_name, item.reason) for item in unscheduled]
            self.write_table([('FABRIC WITHOUT JOB', 'REASON'), *rows])

    def write_table(self, rows):
        widths = [max(len(str(row[column])) for row in rows) for column in range(len(rows[0]))]
        for row in rows:
            self.stdout.write('  '.join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())
