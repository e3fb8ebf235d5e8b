from django import template
from django.utils import timezone
from django.utils.html import format_html

from ..formatting import humanize_duration, humanize_seconds, relative_to_now, shorten
from ..inventory import links
from ..kinds import panels
from ..scheduler_status import scheduler_outage

register = template.Library()

register.filter('humanize_seconds', humanize_seconds)
register.filter('humanize_duration', humanize_duration)
register.filter('shorten', shorten)


@register.simple_tag
def relative_time(moment, empty='—'):
    """A moment relative to now ("3 min ago"), with the absolute time on hover."""
    if moment is None:
        return format_html('<span class="text-muted">{}</span>', empty)
    absolute = timezone.localtime(moment).strftime('%Y-%m-%d %H:%M:%S %Z')
    return format_html('<span title="{}">{}</span>', absolute, relative_to_now(moment, timezone.now()))


@register.inclusion_tag('netbox_hedgehog/inc/scheduler_banner.html', takes_context=True)
def scheduler_banner(context):
    """The warning that periodic sync has stopped; renders nothing while a scheduler leader beats."""
    return {'outage': scheduler_outage(), 'perms': context.get('perms')}


register.simple_tag(panels.vpc_subnets, name='vpc_subnets')
register.simple_tag(panels.connection_endpoints, name='connection_endpoints')


@register.simple_tag(takes_context=True)
def visible_agent(context, switch):
    """The switch's Agent, when the page's user may view it."""
    return links.visible_agent(context['request'].user, switch.fabric_id, switch.uid)


@register.simple_tag(takes_context=True)
def inventory_device(context, mirrored):
    """The NetBox device a mirrored switch or server became, when the page's user may view it."""
    return links.device_of(context['request'].user, mirrored)
