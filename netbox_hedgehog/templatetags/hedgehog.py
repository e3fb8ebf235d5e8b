from django import template

from ..formatting import humanize_seconds, shorten

register = template.Library()

register.filter('humanize_seconds', humanize_seconds)
register.filter('shorten', shorten)
