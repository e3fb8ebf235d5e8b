"""What the kind-specific panels of mirrored object pages show, read from the object's spec and relations."""

__all__ = ('connection_endpoints', 'vpc_subnets')


def vpc_subnets(vpc):
    """A VPC's subnets as its spec declares them, with the mirrored attachments of each."""
    subnets = (vpc.spec or {}).get('subnets') or {}
    if not isinstance(subnets, dict):
        return []
    attached = {}
    for attachment in vpc.attachments.all():
        attached.setdefault(attachment.subnet_name, []).append(attachment)
    rows = []
    for name, subnet in subnets.items():
        subnet = subnet if isinstance(subnet, dict) else {}
        dhcp = subnet.get('dhcp') if isinstance(subnet.get('dhcp'), dict) else {}
        dhcp_range = dhcp.get('range') if isinstance(dhcp.get('range'), dict) else {}
        rows.append({
            'name': name,
            'subnet': subnet.get('subnet', ''),
            'gateway': subnet.get('gateway', ''),
            'vlan': subnet.get('vlan', ''),
            'dhcp': bool(dhcp.get('enable')),
            'dhcp_range': '–'.join(str(dhcp_range[end]) for end in ('start', 'end') if dhcp_range.get(end)),
            'isolated': bool(subnet.get('isolated')),
            'attachments': attached.get(name, []),
        })
    return rows


def connection_endpoints(connection):
    """A connection's link ends in spec order, each "<device>/<port>" with its mirrored device when there is one."""
    devices = {obj.name: obj for obj in (*connection.switches.all(), *connection.servers.all())}
    rows = []
    for endpoint in connection.endpoints:
        device, _sep, port = endpoint.partition('/')
        rows.append({'device_name': device, 'device': devices.get(device), 'port': port})
    return rows
