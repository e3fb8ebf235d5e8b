import json

from django.utils import timezone

from netbox_hedgehog.api.serializers import (
    ExecutorStateSerializer,
    FabricWithoutJobSerializer,
    SchedulerJobSerializer,
    SchedulerStatusSerializer,
)
from netbox_hedgehog.formatting import relative_to_now
from netbox_hedgehog.management.base import NonWebCommand
from netbox_hedgehog.scheduler_status import scheduler_status
from netbox_hedgehog.scheduling.executor import executor_state
from netbox_hedgehog.scheduling.job_store import fabrics_without_job, list_jobs
from netbox_hedgehog.scheduling.state import scheduler_state


def stamp(when):
    return when.strftime('%Y-%m-%d %H:%M:%S %Z') if when else '-'


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
        """The REST API's representations: the scheduler status of /api/plugins/hedgehog/scheduler/, and the jobs."""
        return {
            'scheduler': SchedulerStatusSerializer(scheduler_status(state, jobs)).data,
            'executor': ExecutorStateSerializer(executor).data,
            'jobs': SchedulerJobSerializer(jobs, many=True).data,
            'fabrics_without_job': FabricWithoutJobSerializer(unscheduled, many=True).data,
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
                job.job_id,
                job.fabric_name or f'#{job.fabric_id} (deleted)',
                f'{job.interval} s' if job.interval else '-',
                stamp(job.next_run_time),
                relative_to_now(job.next_run_time, now) if job.next_run_time else 'paused',
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
