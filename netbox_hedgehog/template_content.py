from django.apps import apps
from netbox.plugins import PluginTemplateExtension

from .scheduler_status import scheduler_outage

__all__ = ('template_extensions',)


class SchedulerBanner(PluginTemplateExtension):
    """Warns on every plugin object page, the fabric's first of all, when periodic sync has stopped."""

    models = [model._meta.label_lower for model in apps.get_app_config('netbox_hedgehog').get_models()]

    def alerts(self):
        return self.render('netbox_hedgehog/inc/scheduler_banner.html', {'outage': scheduler_outage()})


template_extensions = [SchedulerBanner]
