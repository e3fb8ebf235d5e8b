import json
import sys

from django.core.management.base import CommandError

from netbox_hedgehog.choices import SyncOutcomeChoices, SyncTriggerChoices
from netbox_hedgehog.management.base import NonWebCommand
from netbox_hedgehog.models import HedgehogFabric
from netbox_hedgehog.run_record import CHANGE_ACTIONS, SyncError
from netbox_hedgehog.sync import SyncAlreadyRunning, sync_fabric

# Exit codes, so that scripts can tell a partial sync from a failed one.
EXIT_CODES = {
    SyncOutcomeChoices.SUCCESS: 0,
    SyncOutcomeChoices.FAILED: 1,
    SyncOutcomeChoices.PARTIAL: 2,
}
EXIT_ALREADY_RUNNING = 3
COUNT_COLUMNS = (*CHANGE_ACTIONS, 'unchanged')


def run_summary(run):
    return {
        'run': run.pk,
        'fabric': run.fabric.name,
        'trigger': run.trigger,
        'outcome': run.outcome,
        'started': run.started.isoformat(),
        'finished': run.finished.isoformat() if run.finished else None,
        'duration': run.duration,
        'counts': run.counts,
        'not_installed': run.not_installed,
        'changes': run.changes,
        'errors': run.errors,
    }


class Command(NonWebCommand):
    help = (
        'Sync one fabric now, in the foreground, and print the run summary. Works without the scheduler. '
        'Exit code: 0 success, 1 failed, 2 partial, 3 a sync of the fabric is already running.'
    )

    def add_arguments(self, parser):
        parser.add_argument('fabric', help='Name or numeric id of the fabric')
        parser.add_argument('--json', action='store_true', help='Print the run summary as one JSON document.')

    def handle(self, *args, **options):
        fabric = self.find_fabric(options['fabric'])
        try:
            run = sync_fabric(fabric.pk, SyncTriggerChoices.MANUAL)
        except SyncAlreadyRunning:
            message = f'A sync of fabric {fabric.name} is already running; try again when it has finished.'
            if options['json']:
                self.stdout.write(json.dumps({'fabric': fabric.name, 'outcome': 'already_running', 'errors': [
                    SyncError(message).as_dict()]}, indent=2))
            else:
                self.stderr.write(message)
            sys.exit(EXIT_ALREADY_RUNNING)
        if options['json']:
            self.stdout.write(json.dumps(run_summary(run), indent=2))
        else:
            self.write_text(run)
        sys.exit(EXIT_CODES.get(run.outcome, 1))

    def find_fabric(self, reference):
        fabrics = HedgehogFabric.objects.all()
        fabric = fabrics.filter(name=reference).first()
        if fabric is None and reference.isdigit():
            fabric = fabrics.filter(pk=int(reference)).first()
        if fabric is None:
            raise CommandError(f'No fabric is named "{reference}" or has that id.')
        return fabric

    def write_text(self, run):
        self.stdout.write(
            f'Fabric {run.fabric.name}: {run.outcome} in {run.duration:.2f} s (run {run.pk}, {run.trigger})'
        )
        if run.counts:
            width = max(len(kind) for kind in run.counts)
            self.stdout.write(f'{"Kind":<{width}}  ' + '  '.join(f'{column:>9}' for column in COUNT_COLUMNS))
            for kind, counts in run.counts.items():
                self.stdout.write(
                    f'{kind:<{width}}  ' + '  '.join(f'{counts.get(column, 0):>9}' for column in COUNT_COLUMNS)
                )
        if run.not_installed:
            self.stdout.write(f'Not installed: {", ".join(run.not_installed)}')
        if run.errors:
            self.stdout.write('Errors:')
            for error in run.errors:
                self.stdout.write(f'  {SyncError.from_dict(error)}')
