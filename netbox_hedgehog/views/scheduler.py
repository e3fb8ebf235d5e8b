from django.shortcuts import render
from django.views.generic import View
from utilities.views import ContentTypePermissionRequiredMixin

from ..models import HedgehogFabric, SyncRun
from ..scheduler_status import scheduler_outage
from ..scheduling.executor import executor_state
from ..scheduling.job_store import fabrics_without_job, list_jobs
from ..scheduling.state import scheduler_state
from ..tables import SyncRunTable

__all__ = ('SchedulerView',)

RECENT_RUNS = 25


class SchedulerView(ContentTypePermissionRequiredMixin, View):
    """Who schedules, which jobs wait in the store and what ran lately, across every fabric the user may see."""

    def get_required_permission(self):
        return 'netbox_hedgehog.view_schedulerheartbeat'

    def get(self, request):
        state = scheduler_state()
        jobs = list_jobs()
        visible = set(HedgehogFabric.objects.restrict(request.user, 'view').values_list('pk', flat=True))
        runs = SyncRun.objects.restrict(request.user, 'view').select_related('fabric')[:RECENT_RUNS]
        runs_table = SyncRunTable(runs, orderable=False)
        runs_table.configure(request)
        return render(request, 'netbox_hedgehog/scheduler.html', {
            'state': state,
            'executor': executor_state(),
            'outage': scheduler_outage(state),
            # A job of a fabric the user may not see is counted but not shown.
            'jobs': [job for job in jobs if job.fabric_id in visible],
            'hidden_job_count': sum(1 for job in jobs if job.fabric_id not in visible),
            'unscheduled': [entry for entry in fabrics_without_job(jobs, state) if entry.fabric_id in visible],
            'runs_table': runs_table,
        })
