from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from netbox.plugins import PluginMenu, PluginMenuButton, PluginMenuItem

from .kinds import HEALTH, MENU_ORDER, VPC, WIRING

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


def kind_items(group):
    return tuple(
        PluginMenuItem(
            link=f'plugins:netbox_hedgehog:{kind.url_name}_list',
            link_text=kind.menu_label or capfirst(kind.model._meta.verbose_name_plural),
            permissions=[f'netbox_hedgehog.view_{kind.url_name}'],
        )
        for kind in MENU_ORDER
        if kind.menu_group == group
    )


health_items = (
    *kind_items(HEALTH),
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
        (WIRING, kind_items(WIRING)),
        (VPC, kind_items(VPC)),
        (HEALTH, health_items),
    ),
    icon_class='mdi mdi-hexagon-multiple-outline',
)
