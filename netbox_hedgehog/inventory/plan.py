"""
What the fabric's inventory should be: the NetBox objects each mirrored object maps to (kinds/mappings.py), as
plain records that the writer compares with NetBox and writes where they differ.
"""

from dataclasses import dataclass, field

__all__ = ('Plan', 'Ref', 'Source', 'Want')


@dataclass(frozen=True)
class Source:
    """The fabric object a NetBox object stands for: a kind and uid, and which of its NetBox objects (`part`)."""

    kind: str
    uid: str
    part: str = ''


@dataclass(frozen=True)
class Ref:
    """A NetBox object of the plan, resolved to its primary key when the writer has written (or found) it."""

    model: str  # "app_label.ModelName"
    source: Source


@dataclass
class Want:
    """
    One NetBox object as the fabric says it should be.

    `fields` are the fields the sync owns (by attname; a value may be a Ref), set back on every run. `identity` is
    how NetBox itself would call an object the same, e.g. a device's site and name: an existing object with that
    identity which the sync does not own is a conflict, never overwritten. Its last entry varies, the others scope
    the look-up.
    """

    model: str  # "app_label.ModelName"
    source: Source
    name: str
    fields: dict
    identity: tuple = ()
    # Further fields NetBox keeps unique on their own (a tag's name, beside its slug): an existing object with one
    # of them is the same conflict as one with the identity.
    also_unique: tuple = ()
    # A catalogue object (manufacturer, role, platform, device type) that users often have already: an existing
    # one with the identity is used as it is, neither owned nor changed.
    shared: bool = False
    # A component of an owned parent (an interface of the sync's own device): one the parent already has, from
    # its device type, is taken over instead of reported.
    claim: bool = False
    # Components of a parent the sync does not own (templates of a user's device type) are not written.
    parent: Ref | None = None
    # Fields set after every object of the plan is written (a device's primary IP, assigned after the address).
    late: dict = field(default_factory=dict)
    # Written before other objects of its model (a LAG before its members).
    order: int = 1
    # Refs of tags the fabric owns that the object carries beside the owner tag (a switch's group tags). Users' own
    # tags on it are theirs; a tag of the fabric's that it no longer asks for is taken off.
    tags: tuple = ()

    @property
    def ref(self):
        return Ref(self.model, self.source)


class Plan:
    """The wanted objects of one fabric, each source once, in the order they were asked for."""

    def __init__(self):
        self.wants = {}

    def add(self, want):
        """
        Add a Want. Asking again for the same source adds to its fields: a switch's port, asked for by the switch,
        gets its description and LAG from the connection that uses it.
        """
        known = self.wants.setdefault((want.model, want.source), want)
        if known is not want:
            known.fields.update(want.fields)
            known.order = min(known.order, want.order)
            known.tags = tuple(dict.fromkeys((*known.tags, *want.tags)))
        return want.ref

    def __contains__(self, ref):
        return (ref.model, ref.source) in self.wants

    def of_model(self, model):
        return sorted((w for w in self.wants.values() if w.model == model), key=lambda w: w.order)
