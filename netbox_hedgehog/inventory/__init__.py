"""
The fabric's NetBox inventory: NetBox's own Devices, Interfaces, Cables, VLAN groups, VRFs, prefixes and IP
addresses, built from the mirror after each sync when the fabric asks for it (docs/inventory.md).

plan.py holds what a mapping asks for (kinds/mappings.py has one mapping per kind), writer.py writes it, orphans.py
applies the fabric's orphan policy, and sync.py runs the whole step.
"""
