import logging
import os
import sys

from django.conf import settings

from netbox_hedgehog.management.base import NonWebCommand
from netbox_hedgehog.scheduling.sessions import APPLICATION_NAME
from netbox_hedgehog.scheduling.state import check_health


class Command(NonWebCommand):
    help = 'Run the Hedgehog fabric sync scheduler (one leader, any number of standbys), or check its health.'

    def add_arguments(self, parser):
        parser.add_argument(
            '--check',
            action='store_true',
            help='Exit 0 if a scheduler leader has a fresh heartbeat, otherwise print why not and exit 1.',
        )

    def handle(self, *args, **options):
        if options['check']:
            healthy, message = check_health()
            if not healthy:
                self.stderr.write(message)
                sys.exit(1)
            self.stdout.write(message)
            return

        # Label this process's Django sessions too, so every scheduler session is recognizable in pg_stat_activity.
        settings.DATABASES['default'].setdefault('OPTIONS', {}).setdefault(
            'application_name', f'{APPLICATION_NAME} django'
        )

        # The one import of the scheduler from the plugin, and a lazy one: dependencies run from the scheduler to
        # the plugin, and only a process that is about to schedule loads APScheduler.
        from scheduler_worker.config import SchedulerSettings
        from scheduler_worker.service import SchedulerService

        cut_off = SchedulerService(SchedulerSettings.from_plugin_config()).run()
        if cut_off:
            # Threads of cut-off syncs cannot be stopped, and the interpreter would wait for them at exit.
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
