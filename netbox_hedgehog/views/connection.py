from django.contrib import messages
from django.shortcuts import redirect, render
from utilities.htmx import htmx_partial
from utilities.views import register_model_view

from ..kube.connection import test_connection
from ..models import HedgehogFabric
from .fabric import FabricActionView

__all__ = ('HedgehogFabricTestConnectionView', 'report_summary')


def report_summary(report):
    """The report in one sentence, for the message shown when the page is used without HTMX."""
    if report.error:
        return report.error
    listable = sum(1 for access in report.kinds if access.can_list)
    return f'Connected to Kubernetes {report.server_version}: the fabric may list {listable} Hedgehog kinds.'


@register_model_view(HedgehogFabric, 'test_connection', path='test-connection')
class HedgehogFabricTestConnectionView(FabricActionView):
    """
    Test connection: reach the fabric's Kubernetes API with its stored settings and report the server version, the
    Hedgehog kinds it serves and whether the fabric may list each. Bounded to a few seconds by the connection test.
    """

    template_name = 'netbox_hedgehog/inc/connection_report.html'

    def act(self, request, fabric):
        report = test_connection(fabric)
        if htmx_partial(request):
            return render(request, self.template_name, {'object': fabric, 'report': report})
        (messages.error if report.error else messages.success)(request, report_summary(report))
        return redirect(fabric.get_absolute_url())
