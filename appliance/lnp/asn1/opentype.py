"""An open type (ANY) under a context tag, as pyasn1 needs it to decode next to other open types.

pyasn1 makes every `univ.Any` the catch-all ("default type") of its tag map, even when the Any
carries an explicit tag and so can only ever match that tag. Two such components in one run of
OPTIONAL components, like X.721's `oldAttributeValue [1]` / `newAttributeValue [2]`, then make the
SEQUENCE undecodable ("Duplicate default ASN.1 type"). A tagged open type matches its tag only.
"""
from pyasn1.type import tagmap, univ


class TaggedAny(univ.Any):
    @property
    def tagMap(self) -> tagmap.TagMap:
        if not self.tagSet:
            return univ.Any.tagMap.fget(self)
        try:
            return self._taggedMap
        except AttributeError:
            self._taggedMap = tagmap.TagMap({self.tagSet: self})
            return self._taggedMap
