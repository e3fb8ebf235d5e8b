"""NetBox's development server for `make run`: `runserver --insecure --noreload`, minus its migration check.

runserver loads NetBox's whole migration graph at every start just to warn about unapplied migrations, which
costs about eight seconds of CPU here. devtools.demo_objects has applied them a moment earlier, so the check
only slows down the second run.

Static files are served from NetBox's sources (`--insecure`), but NetBox reads a few of them from STATIC_ROOT
itself, as a deployment's `collectstatic` leaves them there: the cable trace drawing embeds its stylesheet. So
they are collected first, in this process, which has NetBox loaded already (unchanged files are skipped).

Usage: python -m devtools.serve HOST:PORT
"""

import os
import sys

import django


def main(address):
    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'netbox.settings')
    django.setup()
    from django.contrib.staticfiles.management.commands.runserver import Command as StaticFilesRunserver
    from django.core.management import call_command

    class DemoServer(StaticFilesRunserver):
        def check_migrations(self):
            pass

    call_command('collectstatic', interactive=False, verbosity=0)
    # Django's system checks are skipped for the same reason: `make test` is where configuration errors show.
    call_command(DemoServer(), address, insecure_serving=True, use_reloader=False, skip_checks=True)


if __name__ == '__main__':
    main(sys.argv[1])
