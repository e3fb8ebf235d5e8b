from django.apps import apps
from netbox.plugins import PluginTemplateExtension

from .inventory.links import device_source
from .scheduler_status import scheduler_outage

__all__ = ('template_extensions',)


class SchedulerBanner(PluginTemplateExtension):
    """Warns on every plugin object page, the fabric's first of all, when periodic sync has stopped."""

    models = [model._meta.label_lower for model in apps.get_app_config('netbox_hedgehog').get_models()]

    def alerts(self):
        return self.render('netbox_hedgehog/inc/scheduler_banner.html', {'outage': scheduler_outage()})


class DeviceHedgehogPanel(PluginTemplateExtension):
    """On the page of a device a fabric's inventory owns: its fabric, its mirrored switch or server, its Agent."""

    models = ['dcim.device']

    def right_page(self):
        source = device_source(self.context['request'].user, self.context['object'])
        if source is None:
            return ''
        return self.render('netbox_hedgehog/inc/device_panel.html', {'source': source})


template_extensions = [SchedulerBanner, DeviceHedgehogPanel]
