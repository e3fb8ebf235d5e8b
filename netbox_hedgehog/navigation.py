from django.utils.translation import gettext_lazy as _
from netbox.plugins import PluginMenu, PluginMenuButton, PluginMenuItem

fabric_item = PluginMenuItem(
    link='plugins:netbox_hedgehog:hedgehogfabric_list',
    link_text=_('Fabrics'),
    permissions=['netbox_hedgehog.view_hedgehogfabric'],
    buttons=(
        PluginMenuButton(
            link='plugins:netbox_hedgehog:hedgehogfabric_add',
            title=_('Add'),
            icon_class='mdi mdi-plus-thick',
            permissions=['netbox_hedgehog.add_hedgehogfabric'],
        ),
    ),
)

health_items = (
    PluginMenuItem(
        link='plugins:netbox_hedgehog:syncrun_list',
        link_text=_('Sync runs'),
        permissions=['netbox_hedgehog.view_syncrun'],
    ),
    PluginMenuItem(
        link='plugins:netbox_hedgehog:scheduler',
        link_text=_('Scheduler'),
        permissions=['netbox_hedgehog.view_schedulerheartbeat'],
    ),
)

menu = PluginMenu(
    label=_('Hedgehog'),
    groups=(
        (_('Fabrics'), (fabric_item,)),
        (_('Health'), health_items),
    ),
    icon_class='mdi mdi-hexagon-multiple-outline',
)
